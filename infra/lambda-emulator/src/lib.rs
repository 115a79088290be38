//! A local AWS Lambda emulator driven by `template.yaml`. Each function runs as AWS runs it: its
//! Lambda binary, talking to the Lambda Runtime API ([`runtime_api`]) in an execution
//! environment ([`environment`]) that is reset when an invocation overruns the function's
//! `Timeout`, at most its reserved concurrency at once ([`function`]). The template's triggers
//! feed it with AWS's semantics: HTTP API routes with payload format 2.0 ([`http_api`]), SQS
//! event source mappings with `BatchSize`, batching window, FIFO groups, visibility timeout,
//! redrive and `FunctionResponseTypes` ([`sqs_mapping`], [`batch_outcome`]), and schedules
//! ([`schedule`]). `docs/lambda-emulator.md` lists each rule, its source, and where the
//! emulator knowingly differs from AWS.
//!
//! Why our own and not cargo-lambda's `watch`: that one sends a relative deadline, answers the
//! runtime with 200 instead of 202, runs one process per function and has no event source
//! mappings or schedules; those are exactly the semantics this emulator exists to prove.

pub mod batch_outcome;
pub mod environment;
pub mod function;
pub mod http_api;
pub mod runtime_api;
pub mod schedule;
pub mod sqs_mapping;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use switchboard_local_stack::template::{EventSource, Template};
use tokio::sync::watch;

pub use environment::{Launch, Outcome};
pub use function::Function;

/// The account id moto answers for every caller.
pub const LOCAL_ACCOUNT: &str = "123456789012";

#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    #[error("{function}: {problem}")]
    Function { function: String, problem: String },
    #[error("the HTTP API cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// The code and resolved environment of one function.
#[derive(Debug, Clone)]
pub struct FunctionCode {
    pub binary: PathBuf,
    pub environment: BTreeMap<String, String>,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// Where the HTTP API listens (port 0: any free port); `None`: no HTTP API.
    pub http_listen: Option<SocketAddr>,
    /// Fire every schedule at this period instead of the template's rate.
    pub schedule_period: Option<Duration>,
    /// Delays before the retries of a failed asynchronous invocation.
    pub async_retry_delays: Vec<Duration>,
    pub region: String,
    pub account: String,
    /// One `<LogicalId>.log` per function here; `None`: the functions log to the emulator's
    /// own stdout and stderr.
    pub log_dir: Option<PathBuf>,
    /// Run the template's SQS mappings and schedules; without them, functions are invoked only
    /// through [`Emulator::invoke`] and the HTTP API.
    pub triggers: bool,
    /// API Gateway's undocumented choices (docs/lambda-emulator.md).
    pub api_gateway: http_api::Unconfirmed,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            http_listen: None,
            schedule_period: None,
            async_retry_delays: schedule::ASYNC_RETRY_DELAYS.to_vec(),
            region: std::env::var("AWS_REGION").unwrap_or_else(|_| "eu-west-1".to_owned()),
            account: LOCAL_ACCOUNT.to_owned(),
            log_dir: None,
            triggers: true,
            api_gateway: http_api::Unconfirmed::default(),
        }
    }
}

pub struct Emulator {
    pub http_addr: Option<SocketAddr>,
    functions: BTreeMap<String, Arc<Function>>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// What was started, for a person reading `make dev`'s output.
    pub summary: Vec<String>,
}

impl Emulator {
    /// Starts the functions in `code` (logical id → code) with their triggers from `template`;
    /// `queue_urls` maps each queue's logical id to its URL.
    pub async fn start(
        template: &Template,
        code: BTreeMap<String, FunctionCode>,
        queue_urls: &BTreeMap<String, String>,
        sqs: aws_sdk_sqs::Client,
        options: Options,
    ) -> Result<Emulator, EmulatorError> {
        let mut functions = BTreeMap::new();
        let mut summary = Vec::new();
        for (id, code) in code {
            let spec = template
                .functions
                .get(&id)
                .ok_or_else(|| problem(&id, "is not a function of the template"))?;
            let launch = Launch {
                name: id.clone(),
                binary: code.binary,
                environment: code.environment,
                timeout: Duration::from_secs(spec.timeout_secs_or_default().into()),
                memory_mb: spec.memory_mb.unwrap_or(128),
                region: options.region.clone(),
                account: options.account.clone(),
                log_file: options
                    .log_dir
                    .as_ref()
                    .map(|dir| dir.join(format!("{id}.log"))),
            };
            let concurrency = spec
                .reserved_concurrency
                .unwrap_or(function::DEFAULT_CONCURRENCY);
            functions.insert(id, Arc::new(Function::new(launch, concurrency)));
        }

        let (stop, stopped) = watch::channel(false);
        let mut tasks = Vec::new();
        for (id, function) in functions.iter().filter(|_| options.triggers) {
            let spec = &template.functions[id];
            for event in &spec.events {
                match &event.source {
                    EventSource::Sqs(sqs_source) if sqs_source.enabled => {
                        let timeout = function.launch.timeout;
                        if sqs_source.queue_visibility_timeout() < timeout {
                            // CreateEventSourceMapping refuses this; so does the emulator.
                            return Err(problem(
                                id,
                                &format!(
                                    "Queue visibility timeout: {} seconds is less than Function timeout: {} seconds",
                                    sqs_source.queue_visibility_timeout_secs,
                                    timeout.as_secs()
                                ),
                            ));
                        }
                        let queue_url = queue_urls.get(&sqs_source.queue).ok_or_else(|| {
                            problem(id, &format!("no URL for queue {}", sqs_source.queue))
                        })?;
                        let queue_arn = queue_arn(&sqs, queue_url).await.map_err(|err| {
                            problem(id, &format!("queue {}: {err}", sqs_source.queue))
                        })?;
                        let mapping = sqs_mapping::Mapping {
                            name: format!("{id}/{}", event.name),
                            queue_url: queue_url.clone(),
                            queue_arn,
                            batch_size: sqs_source.batch_size,
                            batching_window: sqs_source.maximum_batching_window(),
                            reports_item_failures: sqs_source.reports_batch_item_failures(),
                            pollers: sqs_source
                                .maximum_concurrency
                                .unwrap_or(sqs_mapping::DEFAULT_POLLERS),
                            region: options.region.clone(),
                        };
                        summary.push(format!(
                            "{id}: SQS {} {queue_url} (batch {}, {}ReportBatchItemFailures, at most {} batches at once)",
                            sqs_source.queue,
                            mapping.batch_size,
                            if mapping.reports_item_failures {
                                ""
                            } else {
                                "no "
                            },
                            mapping.pollers.min(function.concurrency)
                        ));
                        tasks.push(tokio::spawn(sqs_mapping::run(
                            Arc::new(mapping),
                            Arc::clone(function),
                            sqs.clone(),
                            stopped.clone(),
                        )));
                    }
                    EventSource::Schedule(source) if source.enabled => {
                        if let Some(input) = &source.input {
                            serde_json::from_str::<serde_json::Value>(input).map_err(|err| {
                                problem(id, &format!("schedule Input is not JSON: {err}"))
                            })?;
                        }
                        let period = options
                            .schedule_period
                            .or_else(|| source.rate())
                            .ok_or_else(|| {
                                problem(
                                    id,
                                    &format!(
                                        "{} is not a rate(); give the emulator a schedule period",
                                        source.expression
                                    ),
                                )
                            })?;
                        summary.push(format!(
                            "{id}: {} every {} s",
                            event.source.kind(),
                            period.as_secs_f64()
                        ));
                        let schedule = schedule::Schedule {
                            name: format!("{id}/{}", event.name),
                            rule: format!("{id}-{}", event.name),
                            source: source.clone(),
                            period,
                            region: options.region.clone(),
                            account: options.account.clone(),
                            retry_delays: options.async_retry_delays.clone(),
                        };
                        tasks.push(tokio::spawn(schedule::run(
                            Arc::new(schedule),
                            Arc::clone(function),
                            stopped.clone(),
                        )));
                    }
                    _ => {}
                }
            }
        }

        let mut http_addr = None;
        if let Some(addr) = options.http_listen {
            let routes = http_api::Routes::from_template(template, &functions)
                .map_err(|err| problem("HttpApi", &err))?;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| EmulatorError::Listen { addr, source })?;
            let bound = listener
                .local_addr()
                .map_err(|source| EmulatorError::Listen { addr, source })?;
            for route in routes.iter() {
                summary.push(format!("{}: HTTP API {}", route.function, route.key()));
            }
            http_addr = Some(bound);
            let mut stopped = stopped.clone();
            tasks.push(tokio::spawn(http_api::serve(
                routes,
                functions.clone(),
                options.account.clone(),
                options.api_gateway,
                listener,
                async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                },
            )));
        }
        Ok(Emulator {
            http_addr,
            functions,
            stop,
            tasks,
            summary,
        })
    }

    pub fn function(&self, id: &str) -> Option<&Arc<Function>> {
        self.functions.get(id)
    }

    /// A synchronous invocation (`RequestResponse`), waiting for a free slot.
    pub async fn invoke(&self, id: &str, payload: Bytes) -> Option<Outcome> {
        let function = self.functions.get(id)?;
        let slot = function.slot().await;
        Some(function.invoke(&slot, payload).await)
    }

    /// Stops the triggers, then every environment.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        for task in self.tasks {
            let _ = task.await;
        }
        for function in self.functions.values() {
            function.stop().await;
        }
    }
}

fn problem(function: &str, problem: &str) -> EmulatorError {
    EmulatorError::Function {
        function: function.to_owned(),
        problem: problem.to_owned(),
    }
}

async fn queue_arn(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Result<String, String> {
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|err| aws_sdk_sqs::Error::from(err).to_string())?;
    attributes
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .cloned()
        .ok_or_else(|| "GetQueueAttributes returned no QueueArn".to_owned())
}

//! One execution environment: a function's process and its Runtime API. It is started on the
//! first invocation that finds no idle environment (a cold start), serves one invocation at a
//! time, and is ended, as Lambda resets it, when an invocation overruns its timeout or the
//! process exits; the next invocation then starts a new one.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::process::{Child, Command};
use tokio::sync::oneshot;

use crate::runtime_api::{Answer, Delivery, Pending, RuntimeApi};

/// Lambda's limit on init (the runtime's start until its first `/next`), for on-demand
/// environments.
pub const INIT_LIMIT: Duration = Duration::from_secs(10);

/// How to start one of the function's environments.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The template's logical id, used as the function's name.
    pub name: String,
    pub binary: PathBuf,
    /// The function's environment (the template's variables, resolved).
    pub environment: BTreeMap<String, String>,
    pub timeout: Duration,
    pub memory_mb: u32,
    pub region: String,
    pub account: String,
    /// Where the process's stdout and stderr go: appended to this file, or inherited.
    pub log_file: Option<PathBuf>,
}

impl Launch {
    pub fn arn(&self) -> String {
        format!(
            "arn:aws:lambda:{}:{}:function:{}",
            self.region, self.account, self.name
        )
    }
}

/// The end of one invocation, as Lambda sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// `/response`: the function's answer.
    Response(Bytes),
    /// The invocation failed: `/error`, a timeout, a crash, a failed init, an oversized
    /// answer. `payload` is the error object Lambda reports (`errorType`, `errorMessage`).
    Failed { error_type: String, payload: Bytes },
}

impl Outcome {
    pub fn failed(error_type: &str, message: String) -> Outcome {
        Outcome::Failed {
            error_type: error_type.to_owned(),
            payload: Bytes::from(
                serde_json::json!({ "errorType": error_type, "errorMessage": message }).to_string(),
            ),
        }
    }

    pub fn is_timeout(&self) -> bool {
        matches!(self, Outcome::Failed { error_type, .. } if error_type == "Sandbox.Timedout")
    }
}

pub struct Environment {
    api: RuntimeApi,
    child: Child,
}

impl Environment {
    /// Starts the process, with Lambda's variables on top of the function's own.
    pub async fn start(launch: &Launch) -> std::io::Result<Environment> {
        let api = RuntimeApi::start().await?;
        let mut command = Command::new(&launch.binary);
        command
            .env_clear()
            .envs(inherited())
            .envs(&launch.environment)
            .envs(lambda_variables(launch, &api.addr.to_string()))
            .stdin(Stdio::null())
            .kill_on_drop(true);
        match &launch.log_file {
            Some(path) => {
                let file = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?;
                command.stdout(file.try_clone()?).stderr(file);
            }
            None => {
                command.stdout(Stdio::inherit()).stderr(Stdio::inherit());
            }
        }
        let child = command.spawn()?;
        Ok(Environment { api, child })
    }

    /// Runs one invocation to its end. `Err` carries the outcome of an invocation after which
    /// this environment cannot be used again (it has been ended).
    pub async fn invoke(
        &mut self,
        launch: &Launch,
        request_id: &str,
        payload: Bytes,
    ) -> Result<Outcome, Outcome> {
        self.wait_until_ready(request_id).await?;
        let deadline = SystemTime::now() + launch.timeout;
        let deadline_epoch_ms = deadline
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let (answer, answered) = oneshot::channel();
        let pending = Pending {
            delivery: Delivery {
                request_id: request_id.to_owned(),
                payload,
                deadline_epoch_ms,
                function_arn: launch.arn(),
                trace_id: trace_id(),
            },
            answer,
        };
        if self.api.invocations.send(pending).await.is_err() {
            return Err(self.end(exit_error(request_id, "the Runtime API stopped")));
        }
        tokio::select! {
            answer = answered => match answer {
                Ok(Answer::Response(body)) => Ok(Outcome::Response(body)),
                Ok(Answer::Error { error_type, body }) => Ok(Outcome::Failed {
                    error_type: error_type.unwrap_or_else(|| "Unhandled".to_owned()),
                    payload: body,
                }),
                Ok(Answer::TooLarge { bytes }) => Ok(Outcome::failed(
                    "Function.ResponseSizeTooLarge",
                    format!("Response payload size ({bytes} bytes) exceeded maximum allowed payload size (6291556 bytes)."),
                )),
                Err(_) => Err(self.end(exit_error(request_id, "the Runtime API stopped"))),
            },
            status = self.child.wait() => {
                let reason = match status {
                    Ok(status) => format!("Runtime exited with error: {status}"),
                    Err(err) => format!("Runtime exited: {err}"),
                };
                Err(self.end(exit_error(request_id, &reason)))
            }
            () = tokio::time::sleep(launch.timeout) => {
                let message = format!(
                    "RequestId: {request_id} Error: Task timed out after {:.2} seconds",
                    launch.timeout.as_secs_f64()
                );
                Err(self.end(Outcome::failed("Sandbox.Timedout", message)))
            }
        }
    }

    /// Waits for init to finish: the runtime's first `/next`.
    async fn wait_until_ready(&mut self, request_id: &str) -> Result<(), Outcome> {
        let mut ready = self.api.ready.clone();
        tokio::select! {
            result = ready.wait_for(|ready| *ready) => match result {
                Ok(_) => Ok(()),
                Err(_) => Err(self.end(exit_error(request_id, "the Runtime API stopped"))),
            },
            status = self.child.wait() => {
                let outcome = match self.api.init_error() {
                    Some(body) => Outcome::Failed { error_type: "Runtime.InitError".to_owned(), payload: body },
                    None => exit_error(request_id, &match status {
                        Ok(status) => format!("Runtime exited with error: {status}"),
                        Err(err) => format!("Runtime exited: {err}"),
                    }),
                };
                Err(self.end(outcome))
            }
            () = tokio::time::sleep(INIT_LIMIT) => Err(self.end(Outcome::failed(
                "Runtime.InitTimeout",
                format!("RequestId: {request_id} Error: init did not finish within {} s", INIT_LIMIT.as_secs()),
            ))),
        }
    }

    /// Ends the process (Lambda's reset), returning `outcome` for convenience.
    fn end(&mut self, outcome: Outcome) -> Outcome {
        let _ = self.child.start_kill();
        outcome
    }

    /// Stops the process (shutdown), waiting until it is gone.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

fn exit_error(request_id: &str, reason: &str) -> Outcome {
    Outcome::failed(
        "Runtime.ExitError",
        format!("RequestId: {request_id} Error: {reason}"),
    )
}

/// What a function process inherits from the emulator's own environment: what lets it run at
/// all (PATH, HOME) and talk to the local AWS and log (AWS_*, RUST_LOG), nothing more, so that
/// a function sees what the template gives it, as in Lambda.
fn inherited() -> impl Iterator<Item = (String, String)> {
    std::env::vars().filter(|(name, _)| {
        matches!(
            name.as_str(),
            "PATH" | "HOME" | "RUST_LOG" | "RUST_BACKTRACE" | "TMPDIR"
        ) || name.starts_with("AWS_")
            || name.starts_with("SWITCHBOARD_")
    })
}

/// The variables Lambda sets for every function (the reserved keys).
fn lambda_variables(launch: &Launch, runtime_api: &str) -> Vec<(String, String)> {
    let stream = format!(
        "{}/[$LATEST]{}",
        chrono::Utc::now().format("%Y/%m/%d"),
        uuid::Uuid::new_v4().simple()
    );
    [
        ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
        ("AWS_LAMBDA_FUNCTION_NAME", launch.name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            launch.memory_mb.to_string(),
        ),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", launch.name),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME", stream),
        ("AWS_REGION", launch.region.clone()),
        ("AWS_DEFAULT_REGION", launch.region.clone()),
        ("_HANDLER", "bootstrap".to_owned()),
        ("TZ", "UTC".to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn trace_id() -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!(
        "Root=1-{:08x}-{};Parent={};Sampled=0",
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
        &id[..24],
        &id[16..32]
    )
}

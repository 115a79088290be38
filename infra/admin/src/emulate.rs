//! `switchboard-admin emulate`: the template's functions under the local Lambda emulator, fed
//! by the template's own triggers (HTTP API routes on one address, SQS event source mappings,
//! schedules), against the local stack that `local-stack --env-dir` created (its environment
//! files and the queues named by its prefix). What `make dev` runs.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use switchboard_lambda_emulator::{Emulator, FunctionCode, Options};
use switchboard_local_stack::Template;
use switchboard_local_stack::local_stack::queue_name;

use crate::AdminError;
use crate::env_file::read_env_lines;

#[derive(Debug, Args)]
pub struct EmulateArgs {
    /// The SAM template: functions, their timeouts, memory, concurrency and triggers.
    #[arg(long, default_value = "template.yaml")]
    template: PathBuf,
    /// The local stack's prefix (`local-stack --prefix`): its queues are `{prefix}-{LogicalId}`.
    #[arg(long)]
    prefix: String,
    /// The directory of `<LogicalId>.env` files that `local-stack --env-dir` wrote.
    #[arg(long)]
    env_dir: PathBuf,
    /// Where the functions' binaries are (cargo's target/debug, or $CARGO_TARGET_DIR/debug).
    #[arg(long)]
    bin_dir: PathBuf,
    /// Where the HTTP API listens (port 0: a free one).
    #[arg(long, default_value = "127.0.0.1:3000")]
    http_listen: SocketAddr,
    /// Fire schedules every this many seconds instead of at the template's rate.
    #[arg(long, value_name = "SECS")]
    schedule_every: Option<f64>,
    /// Seconds before each retry of a failed asynchronous (scheduled) invocation; Lambda's are
    /// 60 and 120 (repeatable; give it once per retry).
    #[arg(long = "async-retry-delay", value_name = "SECS")]
    async_retry_delays: Vec<f64>,
    /// One `<LogicalId>.log` per function here, instead of this process's stdout and stderr.
    #[arg(long)]
    log_dir: Option<PathBuf>,
    /// Run only these functions (repeatable); default: every cargo-lambda function.
    #[arg(long = "function", value_name = "LOGICAL_ID")]
    functions: Vec<String>,
    /// API Gateway, undocumented by AWS: send empty cookies, query, path parameters and body as
    /// `null` instead of leaving them out.
    #[arg(long)]
    empty_parts_as_null: bool,
    /// API Gateway, undocumented by AWS: keep the quotes of a bare JSON string answer.
    #[arg(long)]
    keep_json_string_quotes: bool,
}

fn seconds(value: f64, what: &str) -> Result<Duration, AdminError> {
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| {
            AdminError::Emulator(format!(
                "{what} {value} is not a positive number of seconds"
            ))
        })
}

/// `switchboard-admin invoke`: one synchronous invocation of one function, as `aws lambda
/// invoke` makes it, with no trigger running.
#[derive(Debug, Args)]
pub struct InvokeArgs {
    /// The function's logical id, e.g. RetentionFunction.
    #[arg(long)]
    function: String,
    /// The event (JSON).
    #[arg(long, default_value = "{}")]
    payload: String,
    #[arg(long, default_value = "template.yaml")]
    template: PathBuf,
    /// The local stack's prefix (`local-stack --prefix`).
    #[arg(long, default_value = "switchboard-local")]
    prefix: String,
    /// The directory of `<LogicalId>.env` files that `local-stack --env-dir` wrote.
    #[arg(long, default_value = ".local/dev-stack")]
    env_dir: PathBuf,
    /// Where the function's binary is; default `$CARGO_TARGET_DIR/debug`, or `target/debug`.
    #[arg(long)]
    bin_dir: Option<PathBuf>,
}

/// Prints the function's answer; a failed invocation prints Lambda's error object and fails.
pub async fn invoke(args: InvokeArgs) -> Result<(), AdminError> {
    crate::require_local_endpoint()?;
    serde_json::from_str::<serde_json::Value>(&args.payload)
        .map_err(|err| AdminError::Emulator(format!("--payload is not JSON: {err}")))?;
    let template = Template::from_path(&args.template)?;
    let bin_dir = args.bin_dir.clone().unwrap_or_else(|| {
        std::env::var_os("CARGO_TARGET_DIR")
            .map_or_else(|| PathBuf::from("target"), PathBuf::from)
            .join("debug")
    });
    let code = function_code(
        &template,
        &args.env_dir,
        &bin_dir,
        std::slice::from_ref(&args.function),
        &args.template,
    )?;
    let sdk_config = switchboard_shared::aws::load_sdk_config().await;
    let sqs = switchboard_shared::aws::sqs_client(&sdk_config);
    let options = Options {
        triggers: false,
        ..Options::default()
    };
    let emulator = Emulator::start(&template, code, &BTreeMap::new(), sqs, options)
        .await
        .map_err(|err| AdminError::Emulator(err.to_string()))?;
    let outcome = emulator
        .invoke(&args.function, bytes::Bytes::from(args.payload.clone()))
        .await;
    emulator.stop().await;
    match outcome {
        Some(switchboard_lambda_emulator::Outcome::Response(body)) => {
            crate::print(&format!("{}\n", String::from_utf8_lossy(&body)))
        }
        Some(switchboard_lambda_emulator::Outcome::Failed { payload, .. }) => {
            Err(AdminError::Emulator(format!(
                "{} failed: {}",
                args.function,
                String::from_utf8_lossy(&payload)
            )))
        }
        None => Err(AdminError::Emulator(format!(
            "{} is not running",
            args.function
        ))),
    }
}

/// Each cargo-lambda function of `template` (or only `only`) with its binary and environment.
fn function_code(
    template: &Template,
    env_dir: &std::path::Path,
    bin_dir: &std::path::Path,
    only: &[String],
    template_path: &std::path::Path,
) -> Result<BTreeMap<String, FunctionCode>, AdminError> {
    let mut code = BTreeMap::new();
    for (id, binary, _) in template.cargo_functions() {
        if !only.is_empty() && !only.iter().any(|f| f == id) {
            continue;
        }
        let env_path = env_dir.join(format!("{id}.env"));
        let text = std::fs::read_to_string(&env_path).map_err(|err| {
            AdminError::Emulator(format!(
                "{}: {err} (run `switchboard-admin local-stack --env-dir` first)",
                env_path.display()
            ))
        })?;
        let environment = read_env_lines(&text)
            .map_err(|err| AdminError::Emulator(format!("{}: {err}", env_path.display())))?;
        let binary = bin_dir.join(binary);
        if !binary.is_file() {
            return Err(AdminError::Emulator(format!(
                "{id}: {} is not built (cargo build --bin {})",
                binary.display(),
                binary
                    .file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default()
            )));
        }
        code.insert(
            id.to_owned(),
            FunctionCode {
                binary,
                environment,
            },
        );
    }
    if let Some(unknown) = only.iter().find(|f| !code.contains_key(*f)) {
        return Err(AdminError::Emulator(format!(
            "{unknown} is not a cargo-lambda function of {}",
            template_path.display()
        )));
    }
    Ok(code)
}

pub async fn run(args: EmulateArgs) -> Result<(), AdminError> {
    crate::require_local_endpoint()?;
    let template = Template::from_path(&args.template)?;
    let code = function_code(
        &template,
        &args.env_dir,
        &args.bin_dir,
        &args.functions,
        &args.template,
    )?;

    let sdk_config = switchboard_shared::aws::load_sdk_config().await;
    let sqs = switchboard_shared::aws::sqs_client(&sdk_config);
    let mut queue_urls = BTreeMap::new();
    for (id, spec) in &template.queues {
        let name = queue_name(&args.prefix, id, spec.fifo);
        let url = crate::dlq::queue_url(&sqs, &name).await?;
        queue_urls.insert(id.clone(), url);
    }

    let mut options = Options {
        http_listen: Some(args.http_listen),
        log_dir: args.log_dir.clone(),
        api_gateway: switchboard_lambda_emulator::http_api::Unconfirmed {
            empty_parts_as_null: args.empty_parts_as_null,
            keep_json_string_quotes: args.keep_json_string_quotes,
        },
        ..Options::default()
    };
    if let Some(every) = args.schedule_every {
        options.schedule_period = Some(seconds(every, "--schedule-every")?);
    }
    if !args.async_retry_delays.is_empty() {
        options.async_retry_delays = args
            .async_retry_delays
            .iter()
            .map(|d| seconds(*d, "--async-retry-delay"))
            .collect::<Result<_, _>>()?;
    }
    if let Some(dir) = &args.log_dir {
        std::fs::create_dir_all(dir).map_err(|source| AdminError::WriteFile {
            path: dir.clone(),
            source,
        })?;
    }
    let emulator = Emulator::start(&template, code, &queue_urls, sqs, options)
        .await
        .map_err(|err| AdminError::Emulator(err.to_string()))?;
    for line in &emulator.summary {
        eprintln!("emulator: {line}");
    }
    if let Some(addr) = emulator.http_addr {
        // On stdout, for scripts and tests that need the bound address.
        crate::print(&format!("listening on http://{addr}\n"))?;
    }
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
    }
    emulator.stop().await;
    Ok(())
}

//! The retention binary. In Lambda (AWS_LAMBDA_RUNTIME_API set) it runs one sweep per
//! scheduled event; elsewhere a sweep every SWITCHBOARD_RETENTION_EVERY_SECS (default 60) for
//! `make dev`, or one with `--once`; `--dry-run` deletes nothing. Both run the same handler.

// The sweep's future nests the SDK's deeply; computing its layout needs more than the default.
#![recursion_limit = "256"]

use switchboard_retention::settings::Settings;
use switchboard_retention::{build, lambda_shell, local_runner};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    switchboard_shared::telemetry::init();
    let settings = Settings::from_env()?;
    let in_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    // Parsed before anything runs, so a wrong flag fails at once.
    let options = match in_lambda {
        true => None,
        false => Some(local_runner::Options::parse(
            std::env::args().skip(1),
            &settings,
        )?),
    };
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        stage = %settings.stage,
        quarantine_days = settings.quarantine_days,
        deadline_margin_secs = settings.deadline_margin.as_secs(),
        "retention starting"
    );
    let function = build(settings).await;
    let Some(options) = options else {
        return lambda_shell::run(function).await;
    };
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    local_runner::run(&function, options, shutdown).await?;
    Ok(())
}

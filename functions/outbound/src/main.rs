//! The outbound function's binary. In Lambda it serves SQS batches from `replies.fifo`;
//! elsewhere (`make dev`, black-box tests) the local event-source shell long-polls the queue
//! named by `SWITCHBOARD_LOCAL_SQS_*` and calls the same handler, each batch with the deadline a
//! Lambda would have (the visibility timeout is six times the function's timeout).

use switchboard_outbound::lambda_shell;
use switchboard_outbound::settings::Settings;
use switchboard_shared::deadline::Deadline;
use switchboard_shared::lambda::local_sqs::{self, LocalSqsSource};
use switchboard_shared::settings::Env;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    switchboard_shared::telemetry::init();
    let settings = Settings::from_env()?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        public_media = settings.public_media_base_url.is_some(),
        "outbound starting"
    );
    let outbound = switchboard_outbound::build(settings).await?;
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return lambda_shell::run_lambda(outbound).await;
    }
    let source = LocalSqsSource::from_env(&Env::process())?;
    let budget = (source.visibility_timeout / 6).saturating_sub(lambda_shell::DEADLINE_MARGIN);
    let sdk = switchboard_shared::aws::load_sdk_config().await;
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let outbound = &outbound;
    local_sqs::run(
        switchboard_shared::aws::sqs_client(&sdk),
        source,
        |event| async move {
            let deadline = Deadline::after(budget);
            Ok::<_, std::convert::Infallible>(
                lambda_shell::handle_batch(outbound, event, chrono::Utc::now(), deadline).await,
            )
        },
        shutdown,
    )
    .await;
    Ok(())
}

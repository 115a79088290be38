//! The inbound stage's binary. In Lambda it serves SQS batches from `ingest.fifo`; elsewhere
//! (`make dev`, black-box tests) the local event-source shell long-polls the queue named by
//! `SWITCHBOARD_LOCAL_SQS_*` and calls the same handler.

use switchboard_media::lambda_shell;
use switchboard_media::settings::Settings;
use switchboard_shared::deadline::{DEFAULT_MARGIN, Deadline};
use switchboard_shared::lambda::local_sqs::{self, LocalSqsSource};
use switchboard_shared::settings::Env;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    switchboard_shared::telemetry::init();
    let settings = Settings::from_env()?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        max_media_bytes = settings.max_media_bytes,
        "media stage starting"
    );
    let stage = switchboard_media::build(settings).await?;
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return lambda_shell::run_lambda(stage).await;
    }
    let source = LocalSqsSource::from_env(&Env::process())?;
    // As in Lambda: the queue's visibility timeout is 6 x the function's timeout.
    let budget = (source.visibility_timeout / 6).saturating_sub(DEFAULT_MARGIN);
    let sdk = switchboard_shared::aws::load_sdk_config().await;
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let stage = &stage;
    local_sqs::run(
        switchboard_shared::aws::sqs_client(&sdk),
        source,
        |event| async move {
            Ok::<_, std::convert::Infallible>(
                lambda_shell::handle_batch(stage, event, Deadline::after(budget)).await,
            )
        },
        shutdown,
    )
    .await;
    Ok(())
}

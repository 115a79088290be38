//! The webhook binary: the kit's HTTP API shell around [`AwsWebhook`]. Locally it runs under a
//! Lambda emulator through the Runtime API, as in AWS.

use switchboard_webhook::AwsWebhook;

#[tokio::main]
async fn main() -> Result<(), switchboard_shared::kit::Error> {
    switchboard_shared::kit::run::<AwsWebhook>().await
}

//! The inbound stage's binary: the kit's SQS FIFO shell around [`AwsMediaStage`]. Locally it
//! runs under a Lambda emulator through the Runtime API, as in AWS.

use switchboard_media::AwsMediaStage;

#[tokio::main]
async fn main() -> Result<(), switchboard_shared::kit::Error> {
    switchboard_shared::kit::run::<AwsMediaStage>().await
}

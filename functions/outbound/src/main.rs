//! The outbound function's binary: the kit's SQS FIFO shell around [`AwsOutbound`]. Locally it
//! runs under a Lambda emulator through the Runtime API, as in AWS.

use switchboard_outbound::AwsOutbound;

#[tokio::main]
async fn main() -> Result<(), switchboard_shared::kit::Error> {
    switchboard_shared::kit::run::<AwsOutbound>().await
}

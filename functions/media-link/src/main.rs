//! The media-link binary: the kit's HTTP API shell around [`AwsMediaLink`]. Locally it runs
//! under a Lambda emulator through the Runtime API, as in AWS.

use switchboard_media_link::AwsMediaLink;

#[tokio::main]
async fn main() -> Result<(), switchboard_shared::kit::Error> {
    switchboard_shared::kit::run::<AwsMediaLink>().await
}

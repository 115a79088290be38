//! The retention binary: the kit's schedule shell around [`AwsRetention`]. Locally it runs
//! under a Lambda emulator through the Runtime API, as in AWS, and is invoked by hand
//! (`{"dry_run": true}` lists what would go).

// The sweep's future nests the SDK's deeply; computing its layout needs more than the default.
#![recursion_limit = "256"]

use switchboard_retention::AwsRetention;

#[tokio::main]
async fn main() -> Result<(), switchboard_shared::kit::Error> {
    switchboard_shared::kit::run::<AwsRetention>().await
}

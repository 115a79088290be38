//! Helpers of the admin CLI's tests against moto.

#![allow(dead_code)] // each test file uses its own subset

use std::path::PathBuf;

use aws_config::{BehaviorVersion, SdkConfig};

pub fn template_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join("template.yaml")
}

/// The moto endpoint from the environment. Integration tests must never pass without it.
pub async fn moto_config() -> SdkConfig {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.is_empty() => {}
        _ => panic!(
            "AWS_ENDPOINT_URL is not set: this test needs moto. Run it through make test / \
             infra/scripts/with-moto.sh -- cargo test -p switchboard-admin"
        ),
    }
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// A prefix no other test (or earlier run against the same moto) uses.
pub fn unique_prefix(tag: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{tag}-{}", &id[..10])
}

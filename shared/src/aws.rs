//! AWS SDK configuration, loaded once per process.
//!
//! The SDK reads `AWS_ENDPOINT_URL` by itself, which is how local runs and tests reach moto.
//! S3 additionally needs path-style addressing there, because `bucket.127.0.0.1` does not resolve.

use aws_config::{BehaviorVersion, SdkConfig};

pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// True when an endpoint override points the SDK somewhere other than AWS (moto, a test stack).
pub fn uses_endpoint_override(config: &SdkConfig) -> bool {
    config.endpoint_url().is_some()
}

pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let builder = aws_sdk_s3::config::Builder::from(config).force_path_style(uses_endpoint_override(config));
    aws_sdk_s3::Client::from_conf(builder.build())
}

pub fn sqs_client(config: &SdkConfig) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(config)
}

pub fn dynamodb_client(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

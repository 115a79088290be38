//! AWS SDK configuration, loaded once per process.
//!
//! The SDK reads `AWS_ENDPOINT_URL` by itself, which is how local runs and tests reach moto.
//! S3 additionally needs path-style addressing there, because `bucket.127.0.0.1` does not resolve.

use aws_config::environment::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, ConnectorBuilder};

/// For tools run by people (the admin CLI, tests): the SDK's full default credentials chain
/// (environment, profiles, web identity, container and instance metadata).
pub async fn load_sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// For the Lambda functions, where start-up time counts.
///
/// - Credentials from the environment only: that is where Lambda puts the role's credentials.
///   The default chain would also build an STS client for web identity, which a function never
///   uses but whose TLS set-up it pays for at every cold start.
/// - One HTTPS client shared by every SDK client, with the SDK's default settings. Left alone,
///   each SDK client builds its own, and each build loads the system's root certificates: that
///   was most of the webhook's cold start (BENCHMARKS.md).
pub async fn load_function_sdk_config() -> SdkConfig {
    let https = Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector =
            ConnectorBuilder::default().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    });
    aws_config::defaults(BehaviorVersion::latest())
        .credentials_provider(EnvironmentVariableCredentialsProvider::new())
        .http_client(https)
        .load()
        .await
}

/// [`load_function_sdk_config`] with per-try and per-operation timeouts, so a hung AWS endpoint
/// cannot hold a function past its own deadline.
pub async fn load_function_sdk_config_with_timeouts(
    attempt: std::time::Duration,
    operation: std::time::Duration,
) -> SdkConfig {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .operation_attempt_timeout(attempt)
        .operation_timeout(operation)
        .build();
    load_function_sdk_config()
        .await
        .into_builder()
        .timeout_config(timeouts)
        .build()
}

/// True when an endpoint override points the SDK somewhere other than AWS (moto, a test stack).
pub fn uses_endpoint_override(config: &SdkConfig) -> bool {
    config.endpoint_url().is_some()
}

pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let builder =
        aws_sdk_s3::config::Builder::from(config).force_path_style(uses_endpoint_override(config));
    aws_sdk_s3::Client::from_conf(builder.build())
}

pub fn sqs_client(config: &SdkConfig) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::new(config)
}

pub fn secretsmanager_client(config: &SdkConfig) -> aws_sdk_secretsmanager::Client {
    aws_sdk_secretsmanager::Client::new(config)
}

pub fn dynamodb_client(config: &SdkConfig) -> aws_sdk_dynamodb::Client {
    aws_sdk_dynamodb::Client::new(config)
}

/// A one-line account of an AWS SDK error for logs and error values: the service's error code and
/// message, or the transport failure's chain. The SDK's own `Debug` output is avoided on purpose:
/// it carries raw responses, which do not belong in logs.
pub fn describe_error<E, R>(err: &aws_sdk_sqs::error::SdkError<E, R>) -> String
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    use std::error::Error as _;
    if let aws_sdk_sqs::error::SdkError::ServiceError(service) = err {
        let inner = service.err();
        return format!(
            "{}: {}",
            inner.code().unwrap_or("unknown error"),
            inner.message().unwrap_or("no message")
        );
    }
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

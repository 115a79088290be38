//! Structured logging. In Lambda, JSON lines (CloudWatch Logs Insights can query them);
//! locally, human-readable lines. The level comes from `RUST_LOG` (default `info`).

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let in_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    // `try_init` so a second call (tests, local server) is harmless.
    let _ = if in_lambda {
        // Lambda adds its own timestamp and request id to each line.
        builder
            .json()
            .without_time()
            .with_current_span(false)
            .with_ansi(false)
            .try_init()
    } else {
        builder.with_writer(std::io::stderr).try_init()
    };
}

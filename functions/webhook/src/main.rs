//! The webhook binary. In Lambda (AWS_LAMBDA_RUNTIME_API set) it serves API Gateway events;
//! elsewhere it serves plain HTTP on 127.0.0.1:$SWITCHBOARD_HTTP_PORT (default 3000) for
//! `make dev` and black-box tests. Both run the same handler.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use switchboard_webhook::settings::Settings;
use switchboard_webhook::{build, lambda_shell, local_server};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    switchboard_shared::telemetry::init();
    let settings = Settings::from_env()?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        stage = std::env::var("SWITCHBOARD_STAGE").unwrap_or_default(),
        signature_window_secs = settings.signature_window.as_secs(),
        max_body_bytes = settings.max_body_bytes,
        "webhook starting"
    );
    let max_body_bytes = settings.max_body_bytes;
    let webhook = build(settings).await;

    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return lambda_shell::run(webhook).await;
    }

    let port: u16 = match std::env::var("SWITCHBOARD_HTTP_PORT") {
        Ok(text) => text
            .parse()
            .map_err(|_| format!("SWITCHBOARD_HTTP_PORT '{text}' is not a port number"))?,
        Err(_) => 3000,
    };
    let listener = local_server::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
    // Printed on stdout (logs go to stderr) so a script or test can read the bound port.
    println!("listening on http://{}", listener.local_addr()?);
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    local_server::serve(Arc::new(webhook), listener, max_body_bytes, shutdown).await?;
    Ok(())
}

//! The media-link binary. In Lambda (AWS_LAMBDA_RUNTIME_API set) it serves API Gateway events;
//! elsewhere it serves plain HTTP on 127.0.0.1:$SWITCHBOARD_HTTP_PORT (default 3000) for
//! `make dev` (behind the local gateway) and black-box tests. Both run the same handler.

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use switchboard_media_link::settings::Settings;
use switchboard_media_link::{build, lambda_shell, local_server};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    switchboard_shared::telemetry::init();
    let settings = Settings::from_env()?;
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        presign_expiry_secs = settings.presign_expiry.as_secs(),
        keys_refresh_secs = settings.keys_refresh.as_secs(),
        "media link starting"
    );
    let link = build(settings).await;

    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        return lambda_shell::run(link).await;
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
    local_server::serve(Arc::new(link), listener, shutdown).await?;
    Ok(())
}

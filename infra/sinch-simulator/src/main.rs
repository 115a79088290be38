//! The `sinch-simulator` binary: serves the simulated Conversation API on
//! 127.0.0.1:$SWITCHBOARD_SINCH_PORT (default 3001) and prints `listening on http://…` on stdout
//! so scripts and tests can find a random port. Settings: README "Sinch simulator".

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use switchboard_shared::config::ConfigStore;
use switchboard_sinch_simulator::directory::Directory;
use switchboard_sinch_simulator::settings::Settings;
use switchboard_sinch_simulator::{Simulator, server};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    switchboard_shared::telemetry::init();
    let settings = Settings::from_env()?;
    let sdk = switchboard_shared::aws::load_sdk_config().await;
    let store = ConfigStore::new(
        switchboard_shared::aws::dynamodb_client(&sdk),
        settings.config_table.clone(),
    );
    let listener =
        tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, settings.port)))
            .await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    tracing::info!(address = %base_url, webhook = %settings.webhook_base_url, "sinch simulator listening");
    println!("listening on {base_url}");
    let simulator = Arc::new(Simulator::new(settings, Directory::new(store), base_url));
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    server::serve(simulator, listener, shutdown).await?;
    Ok(())
}

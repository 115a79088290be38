//! The tenants' messaging services, read from the config table on every look-up, so a tenant
//! seeded while the simulator runs works at once. Local scale: a scan of all tenants is fine.

use secrecy::{ExposeSecret, SecretString};
use switchboard_shared::channel::Channel;
use switchboard_shared::config::{ConfigStore, StoreError, TenantConfigSource};

/// What the simulator needs of one messaging service.
#[derive(Debug, Clone)]
pub struct Service {
    pub tenant: String,
    pub name: String,
    pub project_id: String,
    pub app_ids: Vec<String>,
    pub webhook_secret: SecretString,
    /// (app id, channel) of the tenant's queues on this service, in config order.
    pub app_channels: Vec<(String, Channel)>,
}

impl Service {
    pub fn serves_app(&self, app_id: &str) -> bool {
        self.app_ids.iter().any(|id| id == app_id)
    }

    /// The channel of the app's first queue, for callbacks that must name one.
    pub fn channel_of(&self, app_id: &str) -> Option<Channel> {
        self.app_channels
            .iter()
            .find(|(app, _)| app == app_id)
            .map(|(_, channel)| channel.clone())
    }
}

#[derive(Debug, Clone)]
pub struct Directory {
    store: ConfigStore,
}

impl Directory {
    pub fn new(store: ConfigStore) -> Directory {
        Directory { store }
    }

    pub async fn services(&self) -> Result<Vec<Service>, StoreError> {
        let mut ids: Vec<_> = self.store.load_tenant_ids().await?.into_iter().collect();
        ids.sort();
        let mut services = Vec::new();
        for id in ids {
            let Some(tenant) = self.store.load_tenant(&id).await? else {
                continue;
            };
            for service in &tenant.services {
                let app_channels = tenant
                    .queues
                    .iter()
                    .filter(|queue| queue.service == service.name)
                    .map(|queue| (queue.address.app_id.clone(), queue.address.channel.clone()))
                    .collect();
                services.push(Service {
                    tenant: id.to_string(),
                    name: service.name.to_string(),
                    project_id: service.project_id.clone(),
                    app_ids: service.app_ids.clone(),
                    webhook_secret: service.webhook_secret.clone(),
                    app_channels,
                });
            }
        }
        Ok(services)
    }

    /// The service whose access key this is (key id and secret both match).
    pub async fn authenticate(
        &self,
        key_id: &str,
        key_secret: &str,
    ) -> Result<Option<Service>, StoreError> {
        for service in self.services().await? {
            let tenant = switchboard_shared::config::TenantId::parse(&service.tenant)
                .map_err(|err| StoreError::Unavailable(err.to_string()))?;
            let name = switchboard_shared::config::ServiceName::parse(&service.name)
                .map_err(|err| StoreError::Unavailable(err.to_string()))?;
            if let Some(credentials) = self.store.load_credentials(&tenant, &name).await?
                && credentials.key_id == key_id
                && credentials.key_secret.expose_secret() == key_secret
            {
                return Ok(Some(service));
            }
        }
        Ok(None)
    }

    pub async fn service(&self, tenant: &str, name: &str) -> Result<Option<Service>, StoreError> {
        Ok(self
            .services()
            .await?
            .into_iter()
            .find(|s| s.tenant == tenant && s.name == name))
    }

    pub async fn service_for_app(&self, app_id: &str) -> Result<Option<Service>, StoreError> {
        Ok(self
            .services()
            .await?
            .into_iter()
            .find(|s| s.serves_app(app_id)))
    }
}

//! The webhook's one route: `POST /{tenant}/sms/sinchconversation/{service|all}`.
//!
//! The path is matched on its last four segments, so it works the same behind an API Gateway
//! stage prefix and without one (the local emulator's gateway).

use switchboard_shared::config::{ConfigError, ServiceName, TenantId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServiceSelector {
    /// `/{tenant}/sms/sinchconversation/all`: the service that owns the callback's app id.
    ByAppId,
    Named(ServiceName),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookRoute {
    pub tenant: TenantId,
    pub service: ServiceSelector,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("no such route; callbacks go to /{{tenant}}/sms/sinchconversation/{{service|all}}")]
    NoRoute,
    #[error(transparent)]
    BadName(#[from] ConfigError),
}

pub fn parse_path(path: &str) -> Result<WebhookRoute, RouteError> {
    let segments: Vec<&str> = path.trim_end_matches('/').rsplit('/').take(4).collect();
    let [service, fixed_channel, fixed_sms, tenant] = segments[..] else {
        return Err(RouteError::NoRoute);
    };
    if fixed_channel != "sinchconversation" || fixed_sms != "sms" {
        return Err(RouteError::NoRoute);
    }
    let tenant = TenantId::parse(tenant)?;
    let service = if service == switchboard_shared::config::ALL_SERVICES {
        ServiceSelector::ByAppId
    } else {
        ServiceSelector::Named(ServiceName::parse(service)?)
    };
    Ok(WebhookRoute { tenant, service })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_service_all_and_stage_prefixes() {
        let route = parse_path("/acme/sms/sinchconversation/main").unwrap();
        assert_eq!(route.tenant.as_str(), "acme");
        assert_eq!(
            route.service,
            ServiceSelector::Named(ServiceName::parse("main").unwrap())
        );
        assert_eq!(
            parse_path("/acme/sms/sinchconversation/all")
                .unwrap()
                .service,
            ServiceSelector::ByAppId
        );
        assert_eq!(
            parse_path("/prod/acme/sms/sinchconversation/all/")
                .unwrap()
                .tenant
                .as_str(),
            "acme"
        );
    }

    #[test]
    fn anything_else_is_not_a_route() {
        for path in [
            "/",
            "/acme",
            "/acme/sms/other/main",
            "/acme/mms/sinchconversation/main",
            "/sms/sinchconversation/main",
        ] {
            assert!(parse_path(path).is_err(), "{path}");
        }
        assert!(matches!(
            parse_path("/ACME!/sms/sinchconversation/main"),
            Err(RouteError::BadName(_))
        ));
    }
}

//! Where media lives in the bucket (README "Retention"): `{area}/{tenant}/{yyyy-mm-dd}/…`, and reading
//! tenants and days back from the prefixes a delimited listing returns. Anything that does not
//! have this exact shape is not touched by the sweep: it is left to the lifecycle backstop.

use chrono::NaiveDate;
use serde::Serialize;
use switchboard_shared::config::TenantId;
use switchboard_shared::media::expiry::parse_day;

/// The three top-level prefixes the retention function expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Area {
    /// Agents' attachments handed to Sinch: the tenant's public-attachment retention.
    Outbound,
    /// Customers' media kept for agents: the tenant's inbound-media retention.
    Inbound,
    /// Signed callbacks that could not be processed: one retention for every tenant.
    Quarantine,
}

impl Area {
    pub const ALL: [Area; 3] = [Area::Outbound, Area::Inbound, Area::Quarantine];

    pub fn as_str(self) -> &'static str {
        match self {
            Area::Outbound => "outbound",
            Area::Inbound => "inbound",
            Area::Quarantine => "quarantine",
        }
    }

    /// `outbound/`: what a delimited listing of tenants starts from.
    pub fn root(self) -> &'static str {
        match self {
            Area::Outbound => "outbound/",
            Area::Inbound => "inbound/",
            Area::Quarantine => "quarantine/",
        }
    }
}

/// `outbound/acme/`: the trailing `/` keeps `acme` apart from `acme-2`.
pub fn tenant_prefix(area: Area, tenant: &TenantId) -> String {
    format!("{}{}/", area.root(), tenant)
}

/// The tenant of a common prefix from a delimited listing of `area.root()`; `None` when the
/// segment is not a valid tenant id.
pub fn tenant_of(area: Area, common_prefix: &str) -> Option<TenantId> {
    let segment = common_prefix.strip_prefix(area.root())?.strip_suffix('/')?;
    TenantId::parse(segment).ok()
}

/// `outbound/acme/2026-03-01/`.
pub fn day_prefix(tenant_prefix: &str, day: NaiveDate) -> String {
    format!("{tenant_prefix}{}/", day.format("%Y-%m-%d"))
}

/// The day of a common prefix from a delimited listing of `tenant_prefix`; `None` when it is
/// not exactly `{tenant_prefix}{yyyy-mm-dd}/`.
pub fn day_of(tenant_prefix: &str, common_prefix: &str) -> Option<NaiveDate> {
    let segment = common_prefix
        .strip_prefix(tenant_prefix)?
        .strip_suffix('/')?;
    parse_day(segment)
}

/// Whether `key` is an object under `prefix` (a belt-and-braces check on every key before it
/// is deleted: S3 only lists keys under the prefix asked for, and this makes sure of it).
pub fn is_under(prefix: &str, key: &str) -> bool {
    prefix.ends_with('/') && key.len() > prefix.len() && key.starts_with(prefix)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn tenant(id: &str) -> TenantId {
        TenantId::parse(id).unwrap()
    }

    #[test]
    fn tenants_and_days_are_read_back_from_prefixes() {
        let acme = tenant("acme");
        assert_eq!(tenant_prefix(Area::Inbound, &acme), "inbound/acme/");
        assert_eq!(tenant_of(Area::Inbound, "inbound/acme/"), Some(acme));
        assert_eq!(tenant_of(Area::Outbound, "inbound/acme/"), None);
        assert_eq!(tenant_of(Area::Inbound, "inbound/Acme/"), None);
        assert_eq!(tenant_of(Area::Inbound, "inbound//"), None);
        assert_eq!(tenant_of(Area::Inbound, "inbound/acme"), None);

        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
        assert_eq!(day_prefix("inbound/acme/", day), "inbound/acme/2026-03-01/");
        assert_eq!(
            day_of("inbound/acme/", "inbound/acme/2026-03-01/"),
            Some(day)
        );
        assert_eq!(day_of("inbound/acme/", "inbound/acme-2/2026-03-01/"), None);
        assert_eq!(day_of("inbound/acme/", "inbound/acme/2026-3-1/"), None);
        assert_eq!(day_of("inbound/acme/", "inbound/acme/tmp/"), None);
    }

    #[test]
    fn keys_are_under_a_prefix_only_below_its_slash() {
        assert!(is_under(
            "inbound/acme/2026-03-01/",
            "inbound/acme/2026-03-01/e/f.jpg"
        ));
        assert!(!is_under(
            "inbound/acme/2026-03-01/",
            "inbound/acme/2026-03-01/"
        ));
        assert!(!is_under(
            "inbound/acme/2026-03-01/",
            "inbound/acme/2026-03-010/x"
        ));
        assert!(!is_under(
            "inbound/acme/2026-03-01",
            "inbound/acme/2026-03-01x"
        ));
        assert!(!is_under("inbound/acme/", "inbound/acme-2/2026-03-01/x"));
    }

    fn any_tenant() -> impl Strategy<Value = TenantId> {
        "[a-z0-9][a-z0-9_-]{0,62}".prop_map(|id| TenantId::parse(&id).unwrap())
    }

    fn any_area() -> impl Strategy<Value = Area> {
        prop::sample::select(Area::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn a_tenant_prefix_reads_back_as_its_tenant_and_area_only(
            area in any_area(), other in any_area(), id in any_tenant()
        ) {
            let prefix = tenant_prefix(area, &id);
            prop_assert_eq!(tenant_of(area, &prefix), Some(id));
            if other != area {
                prop_assert_eq!(tenant_of(other, &prefix), None);
            }
        }

        #[test]
        fn any_prefix_yields_at_most_one_valid_segment(area in any_area(), text in "\\PC{0,40}") {
            if let Some(id) = tenant_of(area, &text) {
                prop_assert_eq!(tenant_prefix(area, &id), text);
                prop_assert!(!id.as_str().contains('/'));
            }
        }

        #[test]
        fn another_tenants_days_never_read_as_ours(
            area in any_area(), a in any_tenant(), b in any_tenant(), n in 0u64..100_000
        ) {
            let day = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Days::new(n);
            let theirs = day_prefix(&tenant_prefix(area, &b), day);
            let ours = tenant_prefix(area, &a);
            prop_assert_eq!(day_of(&ours, &theirs).is_some(), a == b);
            prop_assert_eq!(is_under(&ours, &format!("{theirs}x")), a == b);
        }

        #[test]
        fn day_prefixes_read_back(area in any_area(), id in any_tenant(), n in 0u64..100_000) {
            let day = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + chrono::Days::new(n);
            let tenant = tenant_prefix(area, &id);
            prop_assert_eq!(day_of(&tenant, &day_prefix(&tenant, day)), Some(day));
        }
    }
}

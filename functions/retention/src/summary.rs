//! What a run did, per tenant and area: the one summary line in the logs, the Lambda's answer,
//! and the source of the run's metrics.

use std::collections::BTreeMap;

use serde::Serialize;
use tracing::{error, info, warn};

use crate::counting::S3Requests;
use crate::layout::Area;

/// What a skipped listing entry was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    /// An object whose key is outside the layout.
    Object,
    /// A common prefix (a tenant or day segment) outside the layout.
    Prefix,
}

impl Skipped {
    pub fn as_str(self) -> &'static str {
        match self {
            Skipped::Object => "object",
            Skipped::Prefix => "prefix",
        }
    }
}

/// At most this many error descriptions are kept (all are counted and logged as they happen).
const KEPT_ERRORS: usize = 20;

/// At most this many tenants in the summary line, so it stays far below CloudWatch Logs' 256 KB
/// per event; the per-tenant metrics cover every tenant.
const LOGGED_TENANTS: usize = 100;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AreaSummary {
    /// The retention applied, in days.
    pub retention_days: u32,
    /// Expired day prefixes worked on (emptied, or partly when the run stopped or failed).
    pub days_visited: u64,
    pub objects_deleted: u64,
    pub bytes_deleted: u64,
    /// Keys a DeleteObjects batch reported as not deleted; they are listed again next run.
    pub objects_failed: u64,
    /// Dry run: what would have been deleted.
    pub objects_would_delete: u64,
    pub bytes_would_delete: u64,
    /// Objects whose key has another shape (no day, a day in the future, no tenant), deleted
    /// (or, in a dry run, counted) by their last modification.
    pub odd_objects_expired: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TenantSummary {
    /// `false`: no longer (or never) in the config, expired at the default retention. Absent
    /// when the config was not needed (only quarantined objects).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_config: Option<bool>,
    pub areas: BTreeMap<Area, AreaSummary>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    pub dry_run: bool,
    /// The run stopped before its deadline with work left; the next run carries on.
    pub stopped_for_deadline: bool,
    pub tenants: BTreeMap<String, TenantSummary>,
    pub s3_requests: S3Requests,
    /// Failed requests, failed keys and unreadable tenant configs.
    pub error_count: u64,
    /// The first few errors, one line each.
    pub errors: Vec<String>,
    /// Prefixes and keys outside the `{area}/{tenant}/{yyyy-mm-dd}/` layout, left alone.
    pub skipped: u64,
}

impl RunSummary {
    pub fn area(&mut self, tenant: &str, area: Area) -> &mut AreaSummary {
        self.tenants
            .entry(tenant.to_owned())
            .or_default()
            .areas
            .entry(area)
            .or_default()
    }

    pub fn error(&mut self, description: String) {
        error!(error = %description, "retention error");
        self.error_count += 1;
        if self.errors.len() < KEPT_ERRORS {
            self.errors.push(description);
        }
    }

    /// Something listed that is not in the layout. Logged by its area, tenant (when the key
    /// names a valid one) and kind, never by its key: keys carry customers' file names.
    pub fn skip(&mut self, area: Area, tenant: Option<&str>, kind: Skipped) {
        warn!(
            area = area.root(),
            tenant = tenant.unwrap_or("-"),
            kind = kind.as_str(),
            "not in the {{area}}/{{tenant}}/{{yyyy-mm-dd}}/ layout; left to the bucket's lifecycle backstop"
        );
        self.skipped += 1;
    }

    fn sum(&self, field: impl Fn(&AreaSummary) -> u64) -> u64 {
        self.tenants
            .values()
            .flat_map(|tenant| tenant.areas.values())
            .map(field)
            .sum()
    }

    pub fn objects_deleted(&self) -> u64 {
        self.sum(|a| a.objects_deleted)
    }
    pub fn bytes_deleted(&self) -> u64 {
        self.sum(|a| a.bytes_deleted)
    }
    pub fn objects_failed(&self) -> u64 {
        self.sum(|a| a.objects_failed)
    }
    pub fn days_visited(&self) -> u64 {
        self.sum(|a| a.days_visited)
    }
    pub fn objects_would_delete(&self) -> u64 {
        self.sum(|a| a.objects_would_delete)
    }

    /// The run's one summary line. Its `tenants` are those the run did something for.
    pub fn log(&self) {
        let has_work = |tenant: &&TenantSummary| {
            tenant
                .areas
                .values()
                .any(|a| a.days_visited > 0 || a.objects_failed > 0 || a.objects_would_delete > 0)
        };
        let with_work = self.tenants.values().filter(has_work).count();
        let active: BTreeMap<&String, &TenantSummary> = self
            .tenants
            .iter()
            .filter(|(_, tenant)| has_work(tenant))
            .take(LOGGED_TENANTS)
            .collect();
        let tenants = serde_json::to_string(&active).unwrap_or_default();
        info!(
            dry_run = self.dry_run,
            stopped_for_deadline = self.stopped_for_deadline,
            objects_deleted = self.objects_deleted(),
            bytes_deleted = self.bytes_deleted(),
            objects_failed = self.objects_failed(),
            objects_would_delete = self.objects_would_delete(),
            days_visited = self.days_visited(),
            tenants_seen = self.tenants.len(),
            tenants_with_work = with_work,
            errors = self.error_count,
            skipped = self.skipped,
            s3_list_requests = self.s3_requests.list,
            s3_delete_requests = self.s3_requests.delete,
            tenants = %tenants,
            "retention run"
        );
    }
}

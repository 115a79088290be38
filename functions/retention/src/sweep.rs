//! The sweep: for every tenant found in the bucket, under each area, delete the day prefixes
//! that are past the tenant's retention, oldest first, and stop at the first day that is not.
//!
//! Cost follows what expires. Per run: one delimited listing per area to find the tenants
//! (1,000 tenants a page), one delimited listing per tenant and area to read its days in date
//! order (where it stops at the first day still kept), then per expired day one listing and one
//! DeleteObjects per 1,000 objects. Objects that are kept are never listed.
//!
//! No cursor. Emptying an expired day makes it disappear from the next listing (S3 has no
//! folders), so every run starts where the previous one stopped, whether it finished, ran out
//! of time or failed: keys that were not deleted are simply listed again. Nothing is missed
//! (every expired day is listed until it is empty) and nothing is repeated (deleted keys are
//! gone). A cursor in the state table would save one listing per tenant and area and could go
//! stale; this needs no state that can disagree with the bucket.
//!
//! Tenants come from the bucket, not from the config, so a tenant removed from the config is
//! still found and expired at the default retention. The config only says how long.
//!
//! **Keys of another shape under `outbound/`.** Contact centers write there themselves, and
//! everything there is public through CloudFront, so nothing may outlive the tenant's retention
//! by being named oddly: a key whose day is in the future (`outbound/acme/2099-01-01/…`), a
//! segment that is no day (`outbound/acme/tmp/…`), an object right under the tenant or under
//! `outbound/` itself, a segment that is no tenant. Those are aged by their last modification
//! instead of their key, and deleted once past the tenant's public retention (the default
//! retention when no tenant is named). To find them, the listing of a tenant's outbound days is
//! read to its end rather than stopping at the first kept day: one more page at most for a
//! tenant (a page holds 1,000 days). Elsewhere (`inbound/`, `quarantine/`, written only by the
//! functions) keys of another shape are left to the bucket's lifecycle backstop.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};
use switchboard_shared::config::{Retention, TenantId};
use switchboard_shared::deadline::Deadline;
use switchboard_shared::kit::Invocation;
use switchboard_shared::media::expiry::is_expired;

/// The summary's name for objects under `outbound/` that name no tenant.
const NO_TENANT: &str = "(no tenant)";
use tracing::info;

use crate::bucket::{Bucket, StoredObject};
use crate::budget::RequestBudget;
use crate::counting::Counting;
use crate::layout::{Area, day_of, is_under, tenant_of, tenant_prefix};
use crate::summary::RunSummary;
use crate::summary::Skipped;
use crate::tenants::RetentionSource;

/// What a run applies besides the tenants' own retention.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Retention of `quarantine/`, for every tenant.
    pub quarantine_days: u32,
    /// List what would be deleted; delete nothing.
    pub dry_run: bool,
}

pub async fn sweep<C: RetentionSource, B: Bucket>(
    config: &C,
    bucket: &B,
    plan: &Plan,
    invocation: &Invocation,
    budget: &RequestBudget,
) -> RunSummary {
    let bucket = Counting::new(bucket);
    let mut run = Sweep {
        config,
        bucket: &bucket,
        plan,
        now: invocation.now,
        deadline: &invocation.deadline,
        budget,
        configs: HashMap::new(),
        summary: RunSummary {
            dry_run: plan.dry_run,
            ..RunSummary::default()
        },
    };
    run.run().await;
    let mut summary = run.summary;
    summary.s3_requests = bucket.requests();
    summary
}

/// Whether the run goes on.
enum Flow {
    Go,
    Stop,
}

/// How emptying one day ended.
enum Day {
    Done,
    /// A request failed: leave this tenant's area for the next run.
    Abandon,
    Stop,
}

struct Sweep<'a, C, B: Bucket> {
    config: &'a C,
    bucket: &'a Counting<&'a B>,
    plan: &'a Plan,
    now: DateTime<Utc>,
    deadline: &'a Deadline,
    budget: &'a RequestBudget,
    /// Each tenant's retention, read once per run: `None` when the config could not be read.
    configs: HashMap<TenantId, Option<Option<Retention>>>,
    summary: RunSummary,
}

impl<C: RetentionSource, B: Bucket> Sweep<'_, C, B> {
    /// Asked before every S3 request.
    fn may_request(&mut self) -> bool {
        // The deadline first: a request it refuses is not taken from the budget.
        let allowed = !self.deadline.is_past() && self.budget.take();
        if !allowed && !self.summary.stopped_for_deadline {
            info!("retention run stops for its deadline; the next run carries on");
            self.summary.stopped_for_deadline = true;
        }
        allowed
    }

    async fn run(&mut self) {
        let mut work = Vec::new();
        let mut odd = Odd::default();
        for area in Area::ALL {
            match self.tenants_in(area, &mut odd).await {
                Some(tenants) => work.extend(tenants.into_iter().map(|tenant| (area, tenant))),
                None => return,
            }
        }
        // A run that cannot finish starts the next hour's run at another tenant, so a tenant
        // with a large backlog does not keep the others waiting run after run.
        if !work.is_empty() {
            let turn = self
                .now
                .timestamp()
                .div_euclid(3600)
                .rem_euclid(work.len() as i64);
            work.rotate_left(turn as usize);
        }
        for (area, tenant) in work {
            let Some(days) = self.retention_days(area, &tenant).await else {
                continue;
            };
            if let Flow::Stop = self.sweep_days(area, &tenant, days).await {
                return;
            }
        }
        // Under outbound/ but naming no tenant: the default public retention.
        let days = Retention::default().public_attachment_days;
        if !odd.objects.is_empty()
            && let Day::Stop = self
                .expire_by_age(Area::Outbound, NO_TENANT, &odd.objects, days)
                .await
        {
            return;
        }
        for prefix in odd.prefixes {
            if let Day::Stop = self
                .expire_prefix_by_age(Area::Outbound, NO_TENANT, &prefix, days)
                .await
            {
                return;
            }
        }
    }

    /// The tenants with objects under `area`; `None` when the deadline came first. Under
    /// `outbound/`, what names no tenant goes to `odd`.
    async fn tenants_in(&mut self, area: Area, odd: &mut Odd) -> Option<Vec<TenantId>> {
        let mut tenants = Vec::new();
        let mut next: Option<String> = None;
        loop {
            if !self.may_request() {
                return None;
            }
            let page = match self.bucket.list(area.root(), true, next.as_deref()).await {
                Ok(page) => page,
                Err(err) => {
                    self.summary
                        .error(format!("listing tenants under {}: {err}", area.root()));
                    return Some(tenants);
                }
            };
            for prefix in &page.prefixes {
                match tenant_of(area, prefix) {
                    Some(tenant) => tenants.push(tenant),
                    None if area == Area::Outbound => odd.prefixes.push(prefix.clone()),
                    None => self.summary.skip(area, None, Skipped::Prefix),
                }
            }
            for object in page.objects {
                match area {
                    Area::Outbound => odd.objects.push(object),
                    _ => self.summary.skip(area, None, Skipped::Object),
                }
            }
            match page.next {
                Some(token) => next = Some(token),
                None => return Some(tenants),
            }
        }
    }

    /// The retention that applies to `tenant` under `area`; `None` when its config could not be
    /// read (it is skipped this run rather than expired at a default it may not have).
    async fn retention_days(&mut self, area: Area, tenant: &TenantId) -> Option<u32> {
        if area == Area::Quarantine {
            return Some(self.plan.quarantine_days);
        }
        if !self.configs.contains_key(tenant) {
            let found = match self.config.retention(tenant).await {
                Ok(found) => Some(found),
                Err(err) => {
                    self.summary.error(format!(
                        "tenant '{tenant}': {err}; its outbound and inbound media wait for the next run"
                    ));
                    None
                }
            };
            self.configs.insert(tenant.clone(), found);
        }
        let found = self.configs.get(tenant).copied().flatten()?;
        self.summary
            .tenants
            .entry(tenant.to_string())
            .or_default()
            .in_config = Some(found.is_some());
        let retention = found.unwrap_or_default();
        Some(match area {
            Area::Outbound => retention.public_attachment_days,
            _ => retention.inbound_media_days,
        })
    }

    /// The tenant's days under `area`, oldest first, up to the first day still kept.
    async fn sweep_days(&mut self, area: Area, tenant: &TenantId, days: u32) -> Flow {
        let tenant_prefix = tenant_prefix(area, tenant);
        self.summary.area(tenant.as_str(), area).retention_days = days;
        let mut next: Option<String> = None;
        loop {
            if !self.may_request() {
                return Flow::Stop;
            }
            let page = match self
                .bucket
                .list(&tenant_prefix, true, next.as_deref())
                .await
            {
                Ok(page) => page,
                Err(err) => {
                    self.summary
                        .error(format!("listing the days under {tenant_prefix}: {err}"));
                    return Flow::Go;
                }
            };
            let outbound = area == Area::Outbound;
            if outbound && !page.objects.is_empty() {
                // Right under the tenant: no day in the key.
                match self
                    .expire_by_age(area, tenant.as_str(), &page.objects, days)
                    .await
                {
                    Day::Done => {}
                    Day::Abandon => return Flow::Go,
                    Day::Stop => return Flow::Stop,
                }
            } else {
                for _ in &page.objects {
                    self.summary
                        .skip(area, Some(tenant.as_str()), Skipped::Object);
                }
            }
            for prefix in &page.prefixes {
                let outcome = match day_of(&tenant_prefix, prefix) {
                    Some(day) if is_expired(day, days, self.now) => {
                        self.empty_day(area, tenant, prefix).await
                    }
                    // Dated in the future, or no day at all: aged by last modification.
                    Some(day) if outbound && is_future(day, self.now) => {
                        self.expire_prefix_by_age(area, tenant.as_str(), prefix, days)
                            .await
                    }
                    None if outbound => {
                        self.expire_prefix_by_age(area, tenant.as_str(), prefix, days)
                            .await
                    }
                    // A kept day: under outbound/, read on for keys of another shape.
                    Some(_) if outbound => Day::Done,
                    // Day prefixes sort by date: this day and every later one are kept.
                    Some(_) => return Flow::Go,
                    None => {
                        self.summary
                            .skip(area, Some(tenant.as_str()), Skipped::Prefix);
                        Day::Done
                    }
                };
                match outcome {
                    Day::Done => {}
                    Day::Abandon => return Flow::Go,
                    Day::Stop => return Flow::Stop,
                }
            }
            match page.next {
                Some(token) => next = Some(token),
                None => return Flow::Go,
            }
        }
    }

    /// Every object under one expired day prefix, 1,000 keys a request.
    async fn empty_day(&mut self, area: Area, tenant: &TenantId, day_prefix: &str) -> Day {
        self.summary.area(tenant.as_str(), area).days_visited += 1;
        let mut next: Option<String> = None;
        loop {
            if !self.may_request() {
                return Day::Stop;
            }
            let page = match self.bucket.list(day_prefix, false, next.as_deref()).await {
                Ok(page) => page,
                Err(err) => {
                    self.summary
                        .error(format!("listing the objects under {day_prefix}: {err}"));
                    return Day::Abandon;
                }
            };
            let mut batch: Vec<StoredObject> = Vec::with_capacity(page.objects.len());
            for object in page.objects {
                if is_under(day_prefix, &object.key) {
                    batch.push(object);
                } else {
                    self.summary
                        .skip(area, Some(tenant.as_str()), Skipped::Object);
                }
            }
            if !batch.is_empty() {
                let outcome = if self.plan.dry_run {
                    self.count_dry_run(area, tenant.as_str(), day_prefix, &batch);
                    Day::Done
                } else {
                    self.delete(area, tenant.as_str(), day_prefix, &batch).await
                };
                if !matches!(outcome, Day::Done) {
                    return outcome;
                }
            }
            match page.next {
                Some(token) => next = Some(token),
                None => return Day::Done,
            }
        }
    }

    /// Every object under `prefix` (a segment of another shape, or a day in the future) whose
    /// last modification is past `days`.
    async fn expire_prefix_by_age(
        &mut self,
        area: Area,
        tenant: &str,
        prefix: &str,
        days: u32,
    ) -> Day {
        let mut next: Option<String> = None;
        loop {
            if !self.may_request() {
                return Day::Stop;
            }
            let page = match self.bucket.list(prefix, false, next.as_deref()).await {
                Ok(page) => page,
                Err(err) => {
                    self.summary.error(format!(
                        "listing {} keys of another shape for tenant {tenant}: {err}",
                        area.root()
                    ));
                    return Day::Abandon;
                }
            };
            let objects: Vec<StoredObject> = page
                .objects
                .into_iter()
                .filter(|object| is_under(prefix, &object.key))
                .collect();
            let outcome = self.expire_by_age(area, tenant, &objects, days).await;
            if !matches!(outcome, Day::Done) {
                return outcome;
            }
            match page.next {
                Some(token) => next = Some(token),
                None => return Day::Done,
            }
        }
    }

    /// Deletes the `objects` whose last modification is past `days`; one without a
    /// modification time is left (counted as skipped).
    async fn expire_by_age(
        &mut self,
        area: Area,
        tenant: &str,
        objects: &[StoredObject],
        days: u32,
    ) -> Day {
        let mut batch = Vec::new();
        for object in objects {
            match object.last_modified {
                Some(modified) if is_expired(modified.date_naive(), days, self.now) => {
                    batch.push(object.clone());
                }
                Some(_) => {}
                None => self.summary.skip(area, Some(tenant), Skipped::Object),
            }
        }
        if batch.is_empty() {
            return Day::Done;
        }
        self.summary.area(tenant, area).odd_objects_expired += batch.len() as u64;
        // Named by area and tenant only: such keys were chosen by whoever wrote them.
        let label = format!("{}{tenant}/ (keys of another shape)", area.root());
        if self.plan.dry_run {
            self.count_dry_run(area, tenant, &label, &batch);
            return Day::Done;
        }
        self.delete(area, tenant, &label, &batch).await
    }

    fn count_dry_run(
        &mut self,
        area: Area,
        tenant: &str,
        day_prefix: &str,
        batch: &[StoredObject],
    ) {
        // Counted, never listed key by key: keys carry customers' file names.
        let bytes: u64 = batch.iter().map(|object| object.size).sum();
        info!(
            prefix = day_prefix,
            objects = batch.len(),
            bytes,
            "dry run: would delete"
        );
        let summary = self.summary.area(tenant, area);
        summary.objects_would_delete += batch.len() as u64;
        summary.bytes_would_delete += bytes;
    }

    async fn delete(
        &mut self,
        area: Area,
        tenant: &str,
        day_prefix: &str,
        batch: &[StoredObject],
    ) -> Day {
        if !self.may_request() {
            return Day::Stop;
        }
        let keys: Vec<String> = batch.iter().map(|object| object.key.clone()).collect();
        match self.bucket.delete(&keys).await {
            Err(err) => {
                self.summary.area(tenant, area).objects_failed += keys.len() as u64;
                self.summary.error(format!(
                    "deleting {} objects under {day_prefix}: {err}; they are retried next run",
                    keys.len()
                ));
                Day::Abandon
            }
            Ok(failures) => {
                let failed: HashSet<&str> = failures.iter().map(|f| f.key.as_str()).collect();
                let (mut objects, mut bytes) = (0u64, 0u64);
                for object in batch.iter().filter(|o| !failed.contains(o.key.as_str())) {
                    objects += 1;
                    bytes += object.size;
                }
                let summary = self.summary.area(tenant, area);
                summary.objects_deleted += objects;
                summary.bytes_deleted += bytes;
                if !failures.is_empty() {
                    summary.objects_failed += failures.len() as u64;
                    let mut codes: BTreeMap<&str, usize> = BTreeMap::new();
                    for failure in &failures {
                        *codes.entry(failure.code.as_str()).or_default() += 1;
                    }
                    // The count and S3's error codes, never the keys (customers' file names).
                    self.summary.error(format!(
                        "DeleteObjects under {day_prefix}: {} of {} keys not deleted ({codes:?}); they are retried next run",
                        failures.len(),
                        keys.len()
                    ));
                }
                Day::Done
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use chrono::TimeZone;
    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata, Subscriber};

    use super::*;
    use crate::memory_bucket::MemoryBucket;
    use crate::tenants::FixedRetention;

    /// Every field of every event, as text: what a log line would hold.
    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<String>>>);

    struct Fields<'a>(&'a mut String);

    impl Visit for Fields<'_> {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }

    impl Subscriber for Lines {
        fn enabled(&self, _: &Metadata<'_>) -> bool {
            true
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            let mut line = String::new();
            event.record(&mut Fields(&mut line));
            self.0.lock().unwrap().push(line);
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    async fn run(bucket: &MemoryBucket, dry_run: bool, lines: &Lines) -> RunSummary {
        let now = Utc.with_ymd_and_hms(2026, 12, 20, 10, 0, 0).unwrap();
        let config = FixedRetention(
            [(
                TenantId::parse("acme").unwrap(),
                Retention {
                    public_attachment_days: 1,
                    inbound_media_days: 1,
                },
            )]
            .into(),
        );
        let plan = Plan {
            quarantine_days: 1,
            dry_run,
        };
        let _guard = tracing::subscriber::set_default(lines.clone());
        sweep(
            &config,
            bucket,
            &plan,
            &Invocation::new(now, Deadline::never()),
            &RequestBudget::unlimited(),
        )
        .await
    }

    #[tokio::test]
    async fn no_log_line_or_error_names_a_customers_file() {
        let bucket = MemoryBucket::default();
        let stubborn = "inbound/acme/2026-12-01/01EVENT/0-passport-anna.jpg";
        bucket.put(stubborn, 10);
        bucket.put("inbound/acme/2026-12-01/01EVENT/1-contract-anna.pdf", 10);
        bucket.put("inbound/acme/2026-12-01/01EVENT/2-bank-anna.pdf", 10);
        // Outside the layout: an object at the area's root, under a tenant, and a bad day.
        bucket.put("inbound/stray-anna.jpg", 1);
        bucket.put("inbound/acme/loose-anna.jpg", 1);
        bucket.put("inbound/acme/someday-anna/x.jpg", 1);
        bucket.put("outbound/Not A Tenant anna/2026-12-01/x.jpg", 1);
        bucket.fail_deletes_of(stubborn, 1);

        let lines = Lines::default();
        let dry = run(&bucket, true, &lines).await;
        assert_eq!(
            dry.tenants["acme"].areas[&Area::Inbound].objects_would_delete,
            3
        );
        let real = run(&bucket, false, &lines).await;
        assert_eq!(real.error_count, 1, "{:?}", real.errors);
        assert!(
            real.errors[0].contains("1 of 3 keys not deleted"),
            "{:?}",
            real.errors
        );
        assert!(real.skipped >= 4, "{}", real.skipped);

        let lines = lines.0.lock().unwrap().clone();
        assert!(
            lines.iter().any(|l| l.contains("kind=\"object\"")),
            "{lines:?}"
        );
        for text in lines.iter().chain(&real.errors).chain(&dry.errors) {
            assert!(
                !text.contains("anna"),
                "a customer's file name was logged: {text}"
            );
        }
    }
}

/// What a listing of `outbound/` found that names no tenant.
#[derive(Debug, Default)]
struct Odd {
    prefixes: Vec<String>,
    objects: Vec<StoredObject>,
}

/// A key's day after tomorrow (UTC): no writer following the layout dates an object so.
fn is_future(day: chrono::NaiveDate, now: DateTime<Utc>) -> bool {
    now.date_naive()
        .succ_opt()
        .is_some_and(|tomorrow| day > tomorrow)
}

//! The sweep's decisions on the in-memory bucket (milliseconds): what goes and what stays for
//! every tenant, area and retention; dry runs; partly failed batches; runs cut short by their
//! deadline; and what a run costs in requests. The same scenarios against moto are in
//! `sweep_moto.rs`.

use std::collections::BTreeSet;

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use proptest::prelude::*;
use switchboard_retention::bucket::Bucket;
use switchboard_retention::budget::RequestBudget;
use switchboard_retention::layout::Area;
use switchboard_retention::memory_bucket::MemoryBucket;
use switchboard_retention::sweep::{Plan, sweep};
use switchboard_retention::tenants::{FixedRetention, RetentionSource};
use switchboard_shared::config::{Retention, StoreError, TenantId};
use switchboard_shared::deadline::Deadline;
use switchboard_shared::kit::Invocation;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 0).unwrap()
}

fn day(days_ago: u64) -> NaiveDate {
    now()
        .date_naive()
        .checked_sub_days(Days::new(days_ago))
        .unwrap()
}

fn key(area: &str, tenant: &str, days_ago: u64, name: &str) -> String {
    format!(
        "{area}/{tenant}/{}/{name}",
        day(days_ago).format("%Y-%m-%d")
    )
}

fn tenant(id: &str) -> TenantId {
    TenantId::parse(id).unwrap()
}

fn retention(public_attachment_days: u32, inbound_media_days: u32) -> Retention {
    Retention {
        public_attachment_days,
        inbound_media_days,
    }
}

fn config(tenants: &[(&str, Retention)]) -> FixedRetention {
    FixedRetention(tenants.iter().map(|(id, r)| (tenant(id), *r)).collect())
}

const PLAN: Plan = Plan {
    quarantine_days: 30,
    dry_run: false,
};

const AGES: [u64; 14] = [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 29, 30, 31];

/// Objects of every age under every area of `tenant`, three per day; returns them with the
/// retention that applies to each.
fn fill(
    bucket: &MemoryBucket,
    tenant: &str,
    retention: Retention,
    quarantine: u32,
) -> Vec<(String, u32)> {
    let mut keys = Vec::new();
    for (area, days) in [
        ("outbound", retention.public_attachment_days),
        ("inbound", retention.inbound_media_days),
        ("quarantine", quarantine),
    ] {
        for age in AGES {
            for n in 0..3 {
                let key = key(area, tenant, age, &format!("01EVENT{n}/file-{n}.jpg"));
                bucket.put(&key, 100 + n);
                keys.push((key, days));
            }
        }
    }
    keys
}

/// The keys that must remain: those whose day is within the retention.
fn kept(keys: &[(String, u32)]) -> BTreeSet<String> {
    keys.iter()
        .filter(|(key, days)| {
            let age = AGES
                .iter()
                .find(|age| key.contains(&day(**age).format("/%Y-%m-%d/").to_string()))
                .unwrap();
            // A retention of 0 days keeps nothing, today's objects included.
            *days > 0 && *age <= u64::from(*days)
        })
        .map(|(key, _)| key.clone())
        .collect()
}

fn remaining(bucket: &MemoryBucket) -> BTreeSet<String> {
    bucket.keys().into_iter().collect()
}

#[tokio::test]
async fn each_tenant_and_area_keeps_exactly_its_retention() {
    let bucket = MemoryBucket::default();
    let acme = retention(3, 10);
    let beta = retention(0, 1);
    let mut keys = fill(&bucket, "acme", acme, 30);
    keys.extend(fill(&bucket, "beta", beta, 30));
    // Not in the config (removed): the defaults, 7 and 30 days.
    keys.extend(fill(&bucket, "gone", Retention::default(), 30));
    // A tenant whose id extends another's is another tenant.
    keys.extend(fill(&bucket, "acme-2", Retention::default(), 30));
    // Outside the layout: never touched.
    let strays = [
        "outbound/acme/notes.txt",
        "outbound/acme/tmp/old.bin",
        "inbound/Not A Tenant/2020-01-01/x",
        "inbound/acme/2020-1-1/x",
        "elsewhere/acme/2020-01-01/x",
        "outbound/stray.bin",
    ];
    for stray in strays {
        bucket.put(stray, 1);
    }
    let config = config(&[("acme", acme), ("beta", beta)]);

    let summary = sweep(
        &config,
        &bucket,
        &PLAN,
        &Invocation::new(now(), Deadline::never()),
        &RequestBudget::unlimited(),
    )
    .await;

    let mut expected = kept(&keys);
    expected.extend(strays.iter().map(|s| s.to_string()));
    assert_eq!(remaining(&bucket), expected);
    let deleted = keys.len() + strays.len() - expected.len();
    assert_eq!(summary.objects_deleted(), deleted as u64);
    assert_eq!(summary.error_count, 0, "{:?}", summary.errors);
    assert!(!summary.stopped_for_deadline);
    // Under outbound/, keys of another shape are aged by their last modification, which these
    // (put without one) do not have: notes.txt, tmp/old.bin and stray.bin are seen and left
    // alone, as are inbound's Not A Tenant and 2020-1-1; `elsewhere/` is no area, not listed.
    assert_eq!(summary.skipped, 5);
    assert_eq!(summary.tenants["gone"].in_config, Some(false));
    assert_eq!(summary.tenants["acme"].in_config, Some(true));
    assert_eq!(
        summary.tenants["acme"].areas[&Area::Outbound].retention_days,
        3
    );
    assert_eq!(
        summary.tenants["gone"].areas[&Area::Inbound].retention_days,
        30
    );
    // acme outbound: ages 4..=31 of AGES are past 3 days: 10 days, 3 objects each (100+101+102 bytes).
    let acme_outbound = &summary.tenants["acme"].areas[&Area::Outbound];
    assert_eq!(acme_outbound.days_visited, 10);
    assert_eq!(acme_outbound.objects_deleted, 30);
    assert_eq!(acme_outbound.bytes_deleted, 10 * 303);
}

#[tokio::test]
async fn a_zero_day_retention_removes_everything() {
    let bucket = MemoryBucket::default();
    let keys = fill(&bucket, "zero", retention(0, 0), 0);
    let plan = Plan {
        quarantine_days: 0,
        ..PLAN
    };
    let summary = sweep(
        &config(&[("zero", retention(0, 0))]),
        &bucket,
        &plan,
        &Invocation::new(now(), Deadline::never()),
        &RequestBudget::unlimited(),
    )
    .await;
    let left = remaining(&bucket);
    assert_eq!(left, kept(&keys));
    // Nothing stays, today's objects included.
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(summary.objects_deleted() as usize, keys.len());
}

#[tokio::test]
async fn a_dry_run_deletes_nothing_and_counts_what_would_go() {
    let bucket = MemoryBucket::default();
    let keys = fill(&bucket, "acme", retention(3, 10), 30);
    let config = config(&[("acme", retention(3, 10))]);
    let dry = Plan {
        dry_run: true,
        ..PLAN
    };
    let summary = sweep(
        &config,
        &bucket,
        &dry,
        &Invocation::new(now(), Deadline::never()),
        &RequestBudget::unlimited(),
    )
    .await;
    assert_eq!(bucket.keys().len(), keys.len(), "nothing deleted");
    assert!(summary.dry_run);
    assert_eq!(summary.objects_deleted(), 0);
    assert_eq!(summary.s3_requests.delete, 0);
    let would = summary.objects_would_delete();

    let real = sweep(
        &config,
        &bucket,
        &PLAN,
        &Invocation::new(now(), Deadline::never()),
        &RequestBudget::unlimited(),
    )
    .await;
    assert_eq!(real.objects_deleted(), would);
    assert_eq!(would as usize, keys.len() - kept(&keys).len());
}

#[tokio::test]
async fn a_partly_failed_batch_is_reported_and_its_keys_retried_next_run() {
    let bucket = MemoryBucket::default();
    let keys = fill(&bucket, "acme", retention(3, 10), 30);
    let stubborn = key("inbound", "acme", 11, "01EVENT1/file-1.jpg");
    bucket.fail_deletes_of(&stubborn, 1);
    let config = config(&[("acme", retention(3, 10))]);

    let first = sweep(
        &config,
        &bucket,
        &PLAN,
        &Invocation::new(now(), Deadline::never()),
        &RequestBudget::unlimited(),
    )
    .await;
    assert_eq!(
        first.error_count, 1,
        "one partly failed batch: {:?}",
        first.errors
    );
    assert!(
        first.errors[0].contains("1 of 3 keys not deleted"),
        "{}",
        first.errors[0]
    );
    assert_eq!(
        first.tenants["acme"].areas[&Area::Inbound].objects_failed,
        1
    );
    let mut expected = kept(&keys);
    expected.insert(stubborn.clone());
    assert_eq!(
        remaining(&bucket),
        expected,
        "only the failed key is left over"
    );

    let second = sweep(
        &config,
        &bucket,
        &PLAN,
        &Invocation::new(now(), Deadline::never()),
        &RequestBudget::unlimited(),
    )
    .await;
    assert_eq!(second.error_count, 0);
    assert_eq!(second.objects_deleted(), 1);
    assert_eq!(remaining(&bucket), kept(&keys));
}

/// A config that cannot be read for one tenant.
struct Unreadable(FixedRetention, TenantId);

impl RetentionSource for Unreadable {
    async fn retention(&self, tenant: &TenantId) -> Result<Option<Retention>, StoreError> {
        if *tenant == self.1 {
            return Err(StoreError::Unavailable("throttled".into()));
        }
        self.0.retention(tenant).await
    }
}

#[tokio::test]
async fn an_unreadable_config_skips_that_tenants_media_but_not_its_quarantine_or_others() {
    let bucket = MemoryBucket::default();
    let acme = fill(&bucket, "acme", retention(3, 10), 30);
    let beta = fill(&bucket, "beta", retention(1, 1), 30);
    let config = Unreadable(
        config(&[("acme", retention(3, 10)), ("beta", retention(1, 1))]),
        tenant("acme"),
    );
    let summary = sweep(
        &config,
        &bucket,
        &PLAN,
        &Invocation::new(now(), Deadline::never()),
        &RequestBudget::unlimited(),
    )
    .await;
    assert_eq!(summary.error_count, 1, "{:?}", summary.errors);
    let left = remaining(&bucket);
    // acme: outbound and inbound untouched (it might keep them longer than the defaults), its
    // quarantine expired as usual; beta: as configured.
    for (key, _) in &acme {
        if !key.starts_with("quarantine/") {
            assert!(left.contains(key), "{key}");
        }
    }
    let quarantine: Vec<_> = acme
        .iter()
        .filter(|(k, _)| k.starts_with("quarantine/"))
        .cloned()
        .collect();
    assert!(kept(&quarantine).iter().all(|k| left.contains(k)));
    assert!(
        quarantine
            .iter()
            .filter(|(k, _)| !kept(&quarantine).contains(k))
            .all(|(k, _)| !left.contains(k))
    );
    assert!(kept(&beta).iter().all(|k| left.contains(k)));
    assert_eq!(
        left.iter().filter(|k| k.contains("/beta/")).count(),
        kept(&beta).len()
    );
}

#[tokio::test]
async fn a_run_cut_short_stops_cleanly_and_the_next_finishes_it() {
    let bucket = MemoryBucket::with_page_size(2);
    let mut keys = fill(&bucket, "acme", retention(3, 10), 30);
    keys.extend(fill(&bucket, "beta", retention(0, 2), 30));
    let config = config(&[("acme", retention(3, 10)), ("beta", retention(0, 2))]);
    let before = remaining(&bucket);

    let first = sweep(
        &config,
        &bucket,
        &PLAN,
        &Invocation::new(now(), Deadline::never()),
        &RequestBudget::requests(25),
    )
    .await;
    assert!(first.stopped_for_deadline);
    assert_eq!(
        first.s3_requests.total(),
        25,
        "no request after the deadline"
    );
    let after_first = remaining(&bucket);
    assert!(
        after_first.len() < before.len(),
        "the first run made progress"
    );
    assert!(
        kept(&keys).is_subset(&after_first),
        "nothing kept was deleted"
    );
    assert!(
        after_first.len() > kept(&keys).len(),
        "work was left for the next run"
    );

    let second = sweep(
        &config,
        &bucket,
        &PLAN,
        &Invocation::new(now(), Deadline::never()),
        &RequestBudget::unlimited(),
    )
    .await;
    assert!(!second.stopped_for_deadline);
    assert_eq!(remaining(&bucket), kept(&keys));
    assert_eq!(
        first.objects_deleted() + second.objects_deleted(),
        (keys.len() - kept(&keys).len()) as u64,
        "every object deleted exactly once over the two runs"
    );
}

/// Requests of a run, with `kept_per_day` objects on each day still within retention.
async fn requests_with(kept_per_day: usize) -> (u64, u64) {
    let bucket = MemoryBucket::default();
    for tenant in ["acme", "beta"] {
        // 3 expired days of 1,500 objects (two pages each), in both media areas.
        for area in ["outbound", "inbound"] {
            for age in [40, 41, 42] {
                for n in 0..1500 {
                    bucket.put(key(area, tenant, age, &format!("e/{n:05}")), 1);
                }
            }
            for age in 0..3 {
                for n in 0..kept_per_day {
                    bucket.put(key(area, tenant, age, &format!("k/{n:05}")), 1);
                }
            }
        }
    }
    let config = config(&[("acme", retention(7, 30)), ("beta", retention(7, 30))]);
    let summary = sweep(
        &config,
        &bucket,
        &PLAN,
        &Invocation::new(now(), Deadline::never()),
        &RequestBudget::unlimited(),
    )
    .await;
    assert_eq!(summary.objects_deleted(), 2 * 2 * 3 * 1500);
    (summary.s3_requests.list, summary.s3_requests.delete)
}

#[tokio::test]
async fn requests_follow_expired_days_and_objects_not_what_is_kept() {
    let small = requests_with(1).await;
    let large = requests_with(3000).await;
    assert_eq!(small, large, "kept objects cost no request");
    // Lists: 3 areas for tenants (quarantine is empty) + 2 tenants x 2 areas of days + per expired
    // day 2 pages (12 days). Deletes: 2 batches per expired day.
    assert_eq!(small, (3 + 4 + 12 * 2, 12 * 2));
}

/// Days of objects as (area, tenant, age in days, objects that day); each tenant's retention
/// (outbound, inbound); the quarantine retention; the bucket's page size.
type Scenario = (Vec<(u8, u8, u64, u8)>, [(u32, u32); 3], u32, usize);

fn any_bucket() -> impl Strategy<Value = Scenario> {
    (
        prop::collection::vec((0u8..3, 0u8..3, 0u64..12, 1u8..4), 0..40),
        prop::array::uniform3((0u32..8, 0u32..8)),
        0u32..8,
        1usize..4,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// However early a run is stopped, it deletes only expired objects, and one more run leaves
    /// exactly what a single uninterrupted run leaves.
    #[test]
    fn any_run_cut_short_then_finished_equals_one_full_run(
        (days, retentions, quarantine, page) in any_bucket(), budget in 0u64..60
    ) {
        let tenants = ["a", "b", "c"];
        let areas = ["outbound", "inbound", "quarantine"];
        let fill = |bucket: &MemoryBucket| {
            for (area, t, age, count) in &days {
                for n in 0..*count {
                    bucket.put(key(areas[*area as usize], tenants[*t as usize], *age, &format!("{n}")), 1);
                }
            }
        };
        // Tenant "c" is not in the config.
        let config = config(&[
            ("a", retention(retentions[0].0, retentions[0].1)),
            ("b", retention(retentions[1].0, retentions[1].1)),
        ]);
        let plan = Plan { quarantine_days: quarantine, dry_run: false };
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();

        let reference = MemoryBucket::with_page_size(page);
        fill(&reference);
        runtime.block_on(sweep(&config, &reference, &plan, &Invocation::new(now(), Deadline::never()), &RequestBudget::unlimited()));
        let expected = remaining(&reference);

        let bucket = MemoryBucket::with_page_size(page);
        fill(&bucket);
        let first = runtime.block_on(sweep(&config, &bucket, &plan, &Invocation::new(now(), Deadline::never()), &RequestBudget::requests(budget)));
        prop_assert!(first.s3_requests.total() <= budget);
        prop_assert!(expected.is_subset(&remaining(&bucket)), "deleted something kept");
        runtime.block_on(sweep(&config, &bucket, &plan, &Invocation::new(now(), Deadline::never()), &RequestBudget::unlimited()));
        prop_assert_eq!(remaining(&bucket), expected);
    }
}

#[tokio::test]
async fn the_in_memory_bucket_lists_like_the_sweep_expects() {
    // Sanity of the test double itself on the sweep's three listings.
    let bucket = MemoryBucket::default();
    bucket.put(key("inbound", "acme", 1, "e/f"), 1);
    let tenants = bucket.list("inbound/", true, None).await.unwrap();
    assert_eq!(tenants.prefixes, ["inbound/acme/"]);
    let days = bucket.list("inbound/acme/", true, None).await.unwrap();
    assert_eq!(days.prefixes, [format!("inbound/acme/{}/", day(1))]);
}

#[tokio::test]
async fn outbound_keys_of_another_shape_go_once_their_last_write_is_past_the_retention() {
    let bucket = MemoryBucket::default();
    let acme = Retention {
        public_attachment_days: 3,
        inbound_media_days: 30,
    };
    let old = now() - chrono::Duration::days(10);
    let recent = now() - chrono::Duration::hours(2);
    // Written ten days ago under names that would escape a key-dated retention.
    let escaped = [
        "outbound/acme/2099-01-01/ab12/invoice.pdf", // a day in the future
        "outbound/acme/tmp/ab12/f.pdf",              // no day
        "outbound/acme/loose.pdf",                   // right under the tenant
        "outbound/Not A Tenant/f.pdf",               // no tenant: the default retention (7)
        "outbound/loose.pdf",                        // right under outbound/
    ];
    for key in escaped {
        bucket.put_at(key, 10, old);
    }
    // The same shapes written two hours ago: within the retention, kept.
    let fresh = [
        "outbound/acme/2099-01-02/cd34/invoice.pdf",
        "outbound/acme/tmp/cd34/f.pdf",
        "outbound/Not A Tenant/g.pdf",
    ];
    for key in fresh {
        bucket.put_at(key, 10, recent);
    }
    // A kept day of the layout (tomorrow is allowed for clock skew): kept whatever its age.
    let tomorrow = key("outbound", "acme", 0, "x/y.pdf").replace(
        &day(0).format("%Y-%m-%d").to_string(),
        &(day(0) + chrono::Days::new(1))
            .format("%Y-%m-%d")
            .to_string(),
    );
    bucket.put_at(&tomorrow, 10, old);
    let today = key("outbound", "acme", 0, "ab12/z.pdf");
    bucket.put_at(&today, 10, old);
    // Inbound keys of another shape are the functions' own: left to the lifecycle backstop.
    bucket.put_at("inbound/acme/tmp/x.jpg", 10, old);

    let summary = sweep(
        &config(&[("acme", acme)]),
        &bucket,
        &PLAN,
        &Invocation::new(now(), Deadline::never()),
        &RequestBudget::unlimited(),
    )
    .await;

    let mut expected: BTreeSet<String> = fresh.iter().map(|k| k.to_string()).collect();
    expected.insert(tomorrow);
    expected.insert(today);
    expected.insert("inbound/acme/tmp/x.jpg".into());
    assert_eq!(remaining(&bucket), expected);
    assert_eq!(summary.error_count, 0, "{:?}", summary.errors);
    let acme_outbound = &summary.tenants["acme"].areas[&Area::Outbound];
    assert_eq!(acme_outbound.odd_objects_expired, 3);
    assert_eq!(
        summary.tenants["(no tenant)"].areas[&Area::Outbound].odd_objects_expired,
        2
    );
    assert_eq!(summary.objects_deleted(), escaped.len() as u64);
}

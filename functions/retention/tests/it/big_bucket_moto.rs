//! What a run costs, counted in S3 requests (never timed): a bucket of ten thousand objects of
//! which few expire costs exactly what a nearly empty bucket with the same expired objects
//! costs, and the count grows with the expired days and objects only.
//!
//! The requests are counted by an interceptor on the S3 client (what the SDK really sends to
//! moto), and checked against the sweep's own count and against the formula
//!
//!   ListObjectsV2 = areas + (tenant, area) pairs + Σ over expired days ⌈objects / 1000⌉
//!   DeleteObjects =                                Σ over expired days ⌈objects / 1000⌉
//!
//! moto stores about 200 objects a second on the build machine, so the kept objects are 10,000
//! by default (SWITCHBOARD_BIG_BUCKET_OBJECTS sets another number; the counts do not change).
//! `cargo test … --test it big_bucket_moto:: -- --nocapture` prints the table in BENCHMARKS.md.

use crate::common;

use common::{Stack, key, now};
use switchboard_retention::budget::RequestBudget;
use switchboard_retention::metrics::MetricsOutput;
use switchboard_retention::s3_bucket::S3Bucket;
use switchboard_retention::{RetentionFunction, RunRequest};
use switchboard_shared::deadline::Deadline;
use switchboard_shared::kit::Invocation;

const TENANTS: [&str; 5] = ["t0", "t1", "t2", "t3", "t4"];

/// An expired day: (area, tenant, age in days, objects). Retention: 7 days outbound, 30 days
/// inbound and quarantine.
type ExpiredDay = (&'static str, &'static str, u64, u64);

fn expired() -> Vec<ExpiredDay> {
    vec![
        // Two DeleteObjects batches.
        ("outbound", "t0", 8, 1200),
        ("outbound", "t0", 20, 30),
        ("inbound", "t0", 45, 50),
        ("outbound", "t1", 9, 30),
        ("inbound", "t1", 31, 50),
        ("quarantine", "t0", 31, 10),
    ]
}

/// More expired days, for the third run.
fn more_expired() -> Vec<ExpiredDay> {
    let mut days = expired();
    for tenant in ["t2", "t3"] {
        days.push(("outbound", tenant, 10, 25));
        days.push(("inbound", tenant, 40, 25));
    }
    days
}

/// `total` kept objects over every tenant's outbound (days 0..=7) and inbound (days 0..=30)
/// days, and one in t0's quarantine; at least one per tenant and area, so every run lists the
/// same tenants.
fn kept(total: u64, tag: &str) -> Vec<String> {
    let mut keys = vec![key("quarantine", "t0", 0, &format!("kept-{tag}"))];
    let per_area = (total / (TENANTS.len() as u64 * 2)).max(1);
    for tenant in TENANTS {
        for (area, days) in [("outbound", 8), ("inbound", 31)] {
            for n in 0..per_area {
                keys.push(key(area, tenant, n % days, &format!("k-{tag}/{n:06}")));
            }
        }
    }
    keys
}

fn expired_keys(days: &[ExpiredDay]) -> Vec<String> {
    days.iter()
        .flat_map(|(area, tenant, age, count)| {
            (0..*count).map(move |n| key(area, tenant, *age, &format!("e/{n:06}")))
        })
        .collect()
}

fn formula(days: &[ExpiredDay]) -> (u64, u64) {
    let areas = 3;
    let tenant_areas = TENANTS.len() as u64 * 2 + 1;
    let batches: u64 = days.iter().map(|(.., n)| n.div_ceil(1000)).sum();
    (areas + tenant_areas + batches, batches)
}

struct Row {
    name: &'static str,
    stored: usize,
    expired: usize,
    days: usize,
    lists: u64,
    deletes: u64,
}

/// Adds `kept` and the expired days to the bucket, runs once, and counts.
async fn run(stack: &Stack, name: &'static str, kept: Vec<String>, days: Vec<ExpiredDay>) -> Row {
    let doomed = expired_keys(&days);
    let mut keys = kept;
    keys.extend(doomed.iter().cloned());
    stack.put_all(keys, 1, 16).await;
    let stored = stack.keys().await.len();
    stack.counter.take();

    let function = RetentionFunction::new(
        stack.config.clone(),
        S3Bucket::new(stack.counted_s3.clone(), &stack.bucket),
        stack.settings.clone(),
    )
    .with_metrics(MetricsOutput::Off);
    let summary = function
        .run_within(
            RunRequest::default(),
            &Invocation::new(now(), Deadline::never()),
            &RequestBudget::unlimited(),
        )
        .await;
    assert_eq!(summary.error_count, 0, "{:?}", summary.errors);
    assert_eq!(summary.objects_deleted() as usize, doomed.len(), "{name}");
    assert_eq!(stack.keys().await.len(), stored - doomed.len(), "{name}");

    let sent = stack.counter.take();
    let lists = sent.get("ListObjectsV2").copied().unwrap_or(0);
    let deletes = sent.get("DeleteObjects").copied().unwrap_or(0);
    assert_eq!(sent.values().sum::<u64>(), lists + deletes, "{sent:?}");
    assert_eq!(
        (lists, deletes),
        (summary.s3_requests.list, summary.s3_requests.delete)
    );
    assert_eq!((lists, deletes), formula(&days), "{name}");
    Row {
        name,
        stored,
        expired: doomed.len(),
        days: days.len(),
        lists,
        deletes,
    }
}

#[tokio::test]
async fn requests_follow_expired_days_and_objects_not_the_buckets_size() {
    let many: u64 = std::env::var("SWITCHBOARD_BIG_BUCKET_OBJECTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000);
    // One bucket, growing: each run finds what the previous left plus what was added.
    let stack = Stack::create("ret-big").await;
    stack
        .seed(&TENANTS.iter().map(|t| (*t, 7, 30)).collect::<Vec<_>>())
        .await;
    let rows = [
        run(&stack, "few kept", kept(0, "a"), expired()).await,
        run(&stack, "many kept", kept(many, "b"), expired()).await,
        run(
            &stack,
            "many kept, more expired days",
            Vec::new(),
            more_expired(),
        )
        .await,
    ];
    assert!(rows[1].stored >= rows[0].stored + many as usize);
    assert_eq!(
        (rows[0].lists, rows[0].deletes),
        (rows[1].lists, rows[1].deletes),
        "{many} more kept objects cost no request"
    );
    assert!(rows[2].lists + rows[2].deletes > rows[1].lists + rows[1].deletes);

    println!(
        "| bucket | objects stored | expired objects | expired days | ListObjectsV2 | DeleteObjects | requests |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            row.name,
            row.stored,
            row.expired,
            row.days,
            row.lists,
            row.deletes,
            row.lists + row.deletes
        );
    }
}

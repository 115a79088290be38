//! The retention function against moto (AWS_ENDPOINT_URL; run through make test or
//! `infra/scripts/with-moto.sh -- cargo test -p switchboard-retention`): the real S3 adapter,
//! the real config store, on the bucket and table that template.yaml declares.

use crate::common;

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;
use common::{Stack, age, key, now};
use switchboard_retention::bucket::{Bucket, KeyFailure};
use switchboard_retention::budget::RequestBudget;
use switchboard_retention::layout::Area;
use switchboard_retention::metrics::MetricsOutput;
use switchboard_retention::s3_bucket::S3Bucket;
use switchboard_retention::{RetentionFunction, RunRequest};
use switchboard_shared::config::{ConfigStore, Retention, StoreError, TenantId};
use switchboard_shared::deadline::Deadline;
use switchboard_shared::error::AwsError;
use switchboard_shared::kit::Invocation;

const AGES: [u64; 9] = [0, 1, 2, 3, 6, 7, 8, 30, 31];

/// Two objects a day at every age of [`AGES`], under every area of each tenant.
fn objects(tenants: &[&str]) -> Vec<String> {
    let mut keys = Vec::new();
    for tenant in tenants {
        for area in ["outbound", "inbound", "quarantine"] {
            for age in AGES {
                for n in 0..2 {
                    keys.push(key(area, tenant, age, &format!("01EV{n}/f{n}.bin")));
                }
            }
        }
    }
    keys
}

/// Retention by (tenant, area) in this file's scenario; quarantine: 30 days for everyone.
fn retention_of(key: &str) -> u64 {
    let mut parts = key.split('/');
    let (area, tenant) = (parts.next().unwrap(), parts.next().unwrap());
    match (area, tenant) {
        ("quarantine", _) => 30,
        ("outbound", "acme") => 2,
        ("inbound", "acme") => 7,
        (_, "zero") => 0,
        // `gone` is not in the config: the defaults.
        ("outbound", _) => 7,
        _ => 30,
    }
}

fn expected_kept(keys: &[String]) -> BTreeSet<String> {
    keys.iter()
        // A retention of 0 days keeps nothing, today's objects included.
        .filter(|k| retention_of(k) > 0 && age(k) <= retention_of(k))
        .cloned()
        .collect()
}

async fn scenario(tag: &str) -> (Stack, Vec<String>) {
    let stack = Stack::create(tag).await;
    stack.seed(&[("acme", 2, 7), ("zero", 0, 0)]).await;
    let keys = objects(&["acme", "zero", "gone"]);
    stack.put_all(keys.clone(), 10, 8).await;
    (stack, keys)
}

fn function(stack: &Stack) -> RetentionFunction<ConfigStore, S3Bucket> {
    RetentionFunction::new(
        stack.config.clone(),
        S3Bucket::new(stack.counted_s3.clone(), &stack.bucket),
        stack.settings.clone(),
    )
    .with_metrics(MetricsOutput::Off)
}

#[tokio::test]
async fn past_retention_goes_and_everything_else_stays_for_every_tenant_and_area() {
    let (stack, keys) = scenario("ret-all").await;
    let summary = function(&stack)
        .run_within(
            RunRequest::default(),
            &Invocation::new(now(), Deadline::never()),
            &RequestBudget::unlimited(),
        )
        .await;
    assert_eq!(summary.error_count, 0, "{:?}", summary.errors);
    let kept = expected_kept(&keys);
    assert_eq!(stack.keys().await, kept);
    assert_eq!(summary.objects_deleted() as usize, keys.len() - kept.len());
    assert_eq!(summary.bytes_deleted(), summary.objects_deleted() * 10);
    // Retention 0: nothing of that tenant's outbound and inbound media is left.
    assert!(
        !kept
            .iter()
            .any(|k| k.contains("/zero/") && !k.starts_with("quarantine/"))
    );
    assert_eq!(summary.tenants["gone"].in_config, Some(false));
    assert_eq!(
        summary.tenants["gone"].areas[&Area::Outbound].retention_days,
        7
    );
    assert_eq!(summary.tenants["zero"].in_config, Some(true));
    // The counting client saw what the run reports.
    let sent = stack.counter.take();
    assert_eq!(
        sent.get("ListObjectsV2").copied().unwrap_or(0),
        summary.s3_requests.list
    );
    assert_eq!(
        sent.get("DeleteObjects").copied().unwrap_or(0),
        summary.s3_requests.delete
    );

    // A second run finds nothing more to do.
    let again = function(&stack)
        .run_within(
            RunRequest::default(),
            &Invocation::new(now(), Deadline::never()),
            &RequestBudget::unlimited(),
        )
        .await;
    assert_eq!(again.objects_deleted(), 0);
    assert_eq!(again.s3_requests.delete, 0);
    assert_eq!(stack.keys().await, kept);
}

#[tokio::test]
async fn a_run_cut_short_by_its_deadline_is_finished_by_the_next() {
    let (stack, keys) = scenario("ret-cut").await;
    let kept = expected_kept(&keys);
    let function = function(&stack);

    let first = function
        .run_within(
            RunRequest::default(),
            &Invocation::new(now(), Deadline::never()),
            &RequestBudget::requests(12),
        )
        .await;
    assert!(first.stopped_for_deadline);
    assert_eq!(first.error_count, 0, "{:?}", first.errors);
    let sent: u64 = stack.counter.take().values().sum();
    assert_eq!(sent, 12, "not one request after the deadline");
    let between = stack.keys().await;
    assert!(kept.is_subset(&between), "nothing kept was deleted");
    assert!(between.len() > kept.len(), "work was left over");
    assert!(between.len() < keys.len(), "the first run made progress");

    let second = function
        .run_within(
            RunRequest::default(),
            &Invocation::new(now(), Deadline::never()),
            &RequestBudget::unlimited(),
        )
        .await;
    assert!(!second.stopped_for_deadline);
    assert_eq!(stack.keys().await, kept);
    assert_eq!(
        (first.objects_deleted() + second.objects_deleted()) as usize,
        keys.len() - kept.len(),
        "each expired object deleted once over the two runs"
    );
}

#[tokio::test]
async fn a_dry_run_lists_what_would_go_and_deletes_nothing() {
    let (stack, keys) = scenario("ret-dry").await;
    let summary = function(&stack)
        .run_within(
            RunRequest { dry_run: true },
            &Invocation::new(now(), Deadline::never()),
            &RequestBudget::unlimited(),
        )
        .await;
    assert!(summary.dry_run);
    assert_eq!(stack.keys().await.len(), keys.len());
    assert_eq!(stack.counter.take().get("DeleteObjects"), None);
    assert_eq!(
        summary.objects_would_delete() as usize,
        keys.len() - expected_kept(&keys).len()
    );
    assert_eq!(summary.objects_deleted(), 0);
}

/// S3 for real, except that the first deletion of some keys is reported failed as S3 reports a
/// failed key in a DeleteObjects answer (moto has no way to make a single key fail).
struct FailFirst<'a> {
    s3: S3Bucket,
    failing: std::sync::Mutex<BTreeSet<&'a str>>,
}

impl Bucket for FailFirst<'_> {
    async fn list(
        &self,
        prefix: &str,
        delimited: bool,
        continuation: Option<&str>,
    ) -> Result<switchboard_retention::bucket::Page, AwsError> {
        self.s3.list(prefix, delimited, continuation).await
    }

    async fn delete(&self, keys: &[String]) -> Result<Vec<KeyFailure>, AwsError> {
        let (fail, send): (Vec<&String>, Vec<&String>) = {
            let mut failing = self.failing.lock().unwrap();
            keys.iter().partition(|k| failing.remove(k.as_str()))
        };
        let send: Vec<String> = send.into_iter().cloned().collect();
        let mut failures = if send.is_empty() {
            Vec::new()
        } else {
            self.s3.delete(&send).await?
        };
        failures.extend(fail.into_iter().map(|key| KeyFailure {
            key: key.clone(),
            code: "InternalError".into(),
        }));
        Ok(failures)
    }
}

#[tokio::test]
async fn a_partly_failed_batch_is_reported_and_retried_next_run() {
    let (stack, keys) = scenario("ret-fail").await;
    let stubborn = key("inbound", "gone", 31, "01EV1/f1.bin");
    let bucket = FailFirst {
        s3: S3Bucket::new(stack.s3.clone(), &stack.bucket),
        failing: std::sync::Mutex::new(BTreeSet::from([stubborn.as_str()])),
    };
    let function = RetentionFunction::new(stack.config.clone(), bucket, stack.settings.clone())
        .with_metrics(MetricsOutput::Off);
    let kept = expected_kept(&keys);

    let first = function
        .run_within(
            RunRequest::default(),
            &Invocation::new(now(), Deadline::never()),
            &RequestBudget::unlimited(),
        )
        .await;
    assert_eq!(first.error_count, 1, "{:?}", first.errors);
    assert_eq!(
        first.tenants["gone"].areas[&Area::Inbound].objects_failed,
        1
    );
    let mut left = kept.clone();
    left.insert(stubborn.clone());
    assert_eq!(stack.keys().await, left);

    let second = function
        .run_within(
            RunRequest::default(),
            &Invocation::new(now(), Deadline::never()),
            &RequestBudget::unlimited(),
        )
        .await;
    assert_eq!(second.error_count, 0);
    assert_eq!(second.objects_deleted(), 1);
    assert_eq!(stack.keys().await, kept);
}

#[tokio::test]
async fn the_store_reads_only_a_tenants_retention_and_checks_it() {
    let stack = Stack::create("ret-store").await;
    stack.seed(&[("acme", 3, 14)]).await;
    let id = |s: &str| TenantId::parse(s).unwrap();
    assert_eq!(
        stack.config.load_retention(&id("acme")).await.unwrap(),
        Some(Retention {
            public_attachment_days: 3,
            inbound_media_days: 14
        })
    );
    assert_eq!(
        stack.config.load_retention(&id("nobody")).await.unwrap(),
        None
    );

    // Items written by hand: no retention attributes means the defaults; one beyond the
    // maximum is refused, naming the field.
    let dynamodb = aws_sdk_dynamodb::Client::new(&stack.sdk);
    let put = |tenant: &str, days: Option<&str>| {
        let mut item = dynamodb
            .put_item()
            .table_name(&stack.settings.config_table)
            .item("pk", AttributeValue::S(format!("TENANT#{tenant}")))
            .item("sk", AttributeValue::S("TENANT".into()));
        if let Some(days) = days {
            item = item.item("inbound_media_days", AttributeValue::N(days.into()));
        }
        item.send()
    };
    put("bare", None).await.unwrap();
    put("huge", Some("400")).await.unwrap();
    assert_eq!(
        stack.config.load_retention(&id("bare")).await.unwrap(),
        Some(Retention::default())
    );
    match stack.config.load_retention(&id("huge")).await {
        Err(err @ StoreError::Corrupt { .. }) => {
            assert!(
                err.to_string().contains("retention.inbound_media_days"),
                "{err}"
            )
        }
        other => panic!("expected a corrupt config, got {other:?}"),
    }
}

/// The real binary, run as Lambda runs it: under the emulator's execution environment, through
/// the Runtime API, with the template's environment; invoked by hand, as an operator would.
#[tokio::test]
async fn the_binary_sweeps_when_invoked_with_the_templates_environment() {
    use switchboard_lambda_emulator::environment::{Environment, Launch, Outcome};
    let (stack, keys) = scenario("ret-bin").await;
    let log = std::env::temp_dir().join(format!("retention-{}.log", uuid::Uuid::new_v4()));
    let launch = Launch {
        name: "RetentionFunction".into(),
        binary: env!("CARGO_BIN_EXE_retention").into(),
        environment: stack.environment.clone(),
        timeout: std::time::Duration::from_secs(300),
        memory_mb: 256,
        region: std::env::var("AWS_REGION").unwrap_or_else(|_| "eu-west-1".into()),
        account: "123456789012".into(),
        log_file: Some(log.clone()),
    };
    let mut environment = Environment::start(&launch).await.unwrap();
    let mut invoke = async |payload: &str| -> serde_json::Value {
        let outcome = environment
            .invoke(
                &launch,
                &uuid::Uuid::new_v4().to_string(),
                payload.to_owned().into(),
            )
            .await
            .unwrap_or_else(|ended| panic!("the environment ended: {ended:?}"));
        match outcome {
            Outcome::Response(body) => serde_json::from_slice(&body).unwrap(),
            failed => panic!("{payload}: {failed:?}"),
        }
    };
    // The binary's clock is the real one: every scenario day lies in the past.
    let dry = invoke(r#"{"dry_run": true}"#).await;
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["s3_requests"]["delete"], 0);
    assert_eq!(
        stack.keys().await.len(),
        keys.len(),
        "a dry run deletes nothing"
    );
    // Stdout: the EMF documents, one JSON line each (in the function's log, with stderr's).
    let logged = std::fs::read_to_string(&log).unwrap();
    let run_metrics: serde_json::Value = logged
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|doc| doc.get("DryRun").is_some())
        .expect("an EMF line");
    assert_eq!(run_metrics["DryRun"], true);
    assert_eq!(run_metrics["Stage"], stack.settings.stage);
    assert!(run_metrics["ObjectsWouldDelete"].as_u64().unwrap() > 0);

    let real = invoke("{}").await;
    assert_eq!(real["dry_run"], false);
    let left = stack.keys().await;
    assert!(left.len() < keys.len());
    assert!(
        left.iter()
            .all(|k| retention_of(k) > 0 && age(k) <= retention_of(k))
    );

    // A misspelt field fails the invocation, deleting nothing.
    let misspelt = environment
        .invoke(&launch, "misspelt", r#"{"dryrun": true}"#.into())
        .await;
    assert!(
        matches!(&misspelt, Ok(Outcome::Failed { payload, .. }) if String::from_utf8_lossy(payload).contains("dryrun")),
        "{misspelt:?}"
    );
    environment.stop().await;
    let _ = std::fs::remove_file(log);
}

//! The run's numbers as CloudWatch metrics, in the embedded metric format (EMF): JSON lines on
//! stdout that CloudWatch Logs turns into metrics, with no PutMetricData call and no extra
//! permission. One document for the run (dimension `Stage`), one per tenant that had work
//! (dimensions `Stage`, `Tenant`).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::summary::RunSummary;

pub const NAMESPACE: &str = "Switchboard/Retention";

fn document(
    at: DateTime<Utc>,
    dimensions: &[(&str, &str)],
    metrics: &[(&str, &str, u64)],
    extra: Value,
) -> Value {
    let mut document = json!({
        "_aws": {
            "Timestamp": at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dimensions.iter().map(|(name, _)| *name).collect::<Vec<_>>()],
                "Metrics": metrics.iter().map(|(name, unit, _)| json!({ "Name": name, "Unit": unit })).collect::<Vec<_>>(),
            }],
        },
    });
    if let (Some(fields), Value::Object(extra)) = (document.as_object_mut(), extra) {
        for (name, value) in dimensions {
            fields.insert((*name).to_owned(), json!(value));
        }
        for (name, _, value) in metrics {
            fields.insert((*name).to_owned(), json!(value));
        }
        fields.extend(extra);
    }
    document
}

/// The EMF documents of a run.
pub fn documents(summary: &RunSummary, stage: &str, at: DateTime<Utc>) -> Vec<Value> {
    let run = document(
        at,
        &[("Stage", stage)],
        &[
            ("ObjectsDeleted", "Count", summary.objects_deleted()),
            ("BytesDeleted", "Bytes", summary.bytes_deleted()),
            ("ObjectsNotDeleted", "Count", summary.objects_failed()),
            (
                "ObjectsWouldDelete",
                "Count",
                summary.objects_would_delete(),
            ),
            ("ExpiredDaysVisited", "Count", summary.days_visited()),
            ("Errors", "Count", summary.error_count),
            (
                "StoppedForDeadline",
                "Count",
                u64::from(summary.stopped_for_deadline),
            ),
            ("S3ListRequests", "Count", summary.s3_requests.list),
            ("S3DeleteRequests", "Count", summary.s3_requests.delete),
        ],
        json!({ "DryRun": summary.dry_run }),
    );
    let mut documents = vec![run];
    for (tenant, areas) in &summary.tenants {
        let sum = |field: fn(&crate::summary::AreaSummary) -> u64| -> u64 {
            areas.areas.values().map(field).sum()
        };
        let (deleted, failed, would) = (
            sum(|a| a.objects_deleted),
            sum(|a| a.objects_failed),
            sum(|a| a.objects_would_delete),
        );
        // Tenants with nothing to do cost no metric.
        if deleted == 0 && failed == 0 && would == 0 {
            continue;
        }
        documents.push(document(
            at,
            &[("Stage", stage), ("Tenant", tenant)],
            &[
                ("ObjectsDeleted", "Count", deleted),
                ("BytesDeleted", "Bytes", sum(|a| a.bytes_deleted)),
                ("ObjectsNotDeleted", "Count", failed),
                ("ObjectsWouldDelete", "Count", would),
            ],
            json!({ "DryRun": summary.dry_run }),
        ));
    }
    documents
}

/// Where a run's metrics go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MetricsOutput {
    /// One JSON line per document on stdout: the Lambda log stream, where CloudWatch reads EMF.
    #[default]
    Stdout,
    /// Nowhere (tests that run the handler in-process; the summary holds the same numbers).
    Off,
}

/// Prints the documents, one JSON line each, on stdout (the Lambda log stream).
pub fn emit(output: MetricsOutput, summary: &RunSummary, stage: &str, at: DateTime<Utc>) {
    use std::io::Write;
    if output == MetricsOutput::Off {
        return;
    }
    let mut out = std::io::stdout().lock();
    for document in documents(summary, stage, at) {
        // A closed stdout must not fail the run; the summary line is in the logs anyway.
        let _ = writeln!(out, "{document}");
    }
    let _ = out.flush();
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::layout::Area;

    #[test]
    fn documents_follow_the_embedded_metric_format() {
        let mut summary = RunSummary {
            stopped_for_deadline: true,
            ..RunSummary::default()
        };
        let area = summary.area("acme", Area::Inbound);
        area.objects_deleted = 3;
        area.bytes_deleted = 300;
        summary.area("idle", Area::Outbound);
        summary.s3_requests.list = 7;
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();

        let documents = documents(&summary, "prod", at);
        assert_eq!(documents.len(), 2, "the run, and the one tenant with work");
        for document in &documents {
            let spec = &document["_aws"]["CloudWatchMetrics"][0];
            assert_eq!(document["_aws"]["Timestamp"], at.timestamp_millis());
            assert_eq!(spec["Namespace"], NAMESPACE);
            // Every dimension and every metric named in the spec is a top-level member.
            for name in spec["Dimensions"][0].as_array().unwrap() {
                assert!(document[name.as_str().unwrap()].is_string(), "{name}");
            }
            for metric in spec["Metrics"].as_array().unwrap() {
                let name = metric["Name"].as_str().unwrap();
                assert!(document[name].is_u64(), "{name}");
                assert!(["Count", "Bytes"].contains(&metric["Unit"].as_str().unwrap()));
            }
        }
        assert_eq!(documents[0]["StoppedForDeadline"], 1);
        assert_eq!(documents[0]["ObjectsDeleted"], 3);
        assert_eq!(documents[0]["S3ListRequests"], 7);
        assert_eq!(documents[1]["Tenant"], "acme");
        assert_eq!(documents[1]["BytesDeleted"], 300);
        assert_eq!(
            documents[1]["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["Stage", "Tenant"]])
        );
    }
}

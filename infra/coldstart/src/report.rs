//! Markdown and JSON output.

use serde_json::{Value, json};

use crate::harness::{Sample, Target, shorten};
use crate::stats::{Summary, summarize};

pub struct Row {
    pub label: String,
    pub runs: usize,
    /// Milliseconds.
    pub ready: Summary,
    /// Milliseconds.
    pub first_answer: Summary,
    /// KiB.
    pub peak_rss: Summary,
}

impl Row {
    pub fn new(label: &str, samples: &[Sample]) -> Option<Self> {
        let ms = |f: fn(&Sample) -> std::time::Duration| -> Vec<f64> {
            samples
                .iter()
                .map(|s| f(s).as_secs_f64() * 1000.0)
                .collect()
        };
        let rss: Vec<f64> = samples.iter().map(|s| s.peak_rss_kib as f64).collect();
        Some(Self {
            label: label.to_owned(),
            runs: samples.len(),
            ready: summarize(&ms(|s| s.ready))?,
            first_answer: summarize(&ms(|s| s.first_answer))?,
            peak_rss: summarize(&rss)?,
        })
    }
}

pub const TABLE_HEADER: &str = "\
| label | runs | ready median (ms) | ready p90 (ms) | ready min (ms) | first answer median (ms) | first answer p90 (ms) | first answer min (ms) | peak RSS max (MiB) |
|---|---:|---:|---:|---:|---:|---:|---:|---:|";

pub fn markdown_row(row: &Row) -> String {
    format!(
        "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
        row.label.replace('|', "\\|"),
        row.runs,
        row.ready.median,
        row.ready.p90,
        row.ready.min,
        row.first_answer.median,
        row.first_answer.p90,
        row.first_answer.min,
        row.peak_rss.max / 1024.0,
    )
}

pub struct Ratios {
    pub ready_median: f64,
    pub first_answer_median: f64,
    pub peak_rss_max: f64,
}

/// candidate / baseline; above 1 means the candidate is slower or bigger.
pub fn ratios(baseline: &Row, candidate: &Row) -> Ratios {
    Ratios {
        ready_median: candidate.ready.median / baseline.ready.median,
        first_answer_median: candidate.first_answer.median / baseline.first_answer.median,
        peak_rss_max: candidate.peak_rss.max / baseline.peak_rss.max,
    }
}

pub fn ratio_table(baseline: &Row, candidate: &Row, r: &Ratios) -> String {
    format!(
        "\
| candidate / baseline | {b} | {c} | ratio |
|---|---:|---:|---:|
| ready median (ms) | {:.2} | {:.2} | {:.2}x |
| first answer median (ms) | {:.2} | {:.2} | {:.2}x |
| peak RSS max (MiB) | {:.2} | {:.2} | {:.2}x |",
        baseline.ready.median,
        candidate.ready.median,
        r.ready_median,
        baseline.first_answer.median,
        candidate.first_answer.median,
        r.first_answer_median,
        baseline.peak_rss.max / 1024.0,
        candidate.peak_rss.max / 1024.0,
        r.peak_rss_max,
        b = baseline.label.replace('|', "\\|"),
        c = candidate.label.replace('|', "\\|"),
    )
}

fn summary_json(s: &Summary) -> Value {
    json!({ "median": s.median, "p90": s.p90, "min": s.min, "max": s.max })
}

pub fn row_json(target: &Target, row: &Row, samples: &[Sample], warmup: usize) -> Value {
    let body = samples
        .first()
        .map(|s| shorten(&String::from_utf8_lossy(&s.body), 4096))
        .unwrap_or_default();
    json!({
        "label": row.label,
        "binary": target.binary,
        "binary_bytes": target.binary_bytes,
        "event": target.event_path,
        "expect": target.expect,
        "runs": row.runs,
        "warmup_runs": warmup,
        "ready_ms": summary_json(&row.ready),
        "first_answer_ms": summary_json(&row.first_answer),
        "peak_rss_kib": summary_json(&row.peak_rss),
        "first_response_body": body,
        "samples": samples.iter().map(|s| json!({
            "ready_ms": s.ready.as_secs_f64() * 1000.0,
            "first_answer_ms": s.first_answer.as_secs_f64() * 1000.0,
            "peak_rss_kib": s.peak_rss_kib,
            "rss_at_kill_kib": s.rss_at_kill_kib,
            "parked_before_kill": s.parked,
            "response_bytes": s.body.len(),
        })).collect::<Vec<_>>(),
    })
}

pub fn ratios_json(r: &Ratios) -> Value {
    json!({
        "ready_median": r.ready_median,
        "first_answer_median": r.first_answer_median,
        "peak_rss_max": r.peak_rss_max,
    })
}

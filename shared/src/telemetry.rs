//! Structured logging. In Lambda, JSON lines (CloudWatch Logs Insights can query them, and the
//! template's metric filter counts refusals from them); locally, human-readable lines.
//!
//! The level comes from `RUST_LOG` and applies to Switchboard's own code only: error, warn,
//! info or debug. Dependencies stay at info or quieter whatever it says, because at debug and
//! trace the Lambda runtime logs raw events (headers with signatures, customers' text) and the
//! HTTP stacks log requests. `trace` is read as `debug`. Our own code logs no secret at any level.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::EnvFilter;

/// Switchboard's crates (`switchboard_shared`, `switchboard_webhook`, …) share this prefix.
const OWN_TARGETS: &str = "switchboard";

/// The level for our own code, from `RUST_LOG`'s text: a plain level only.
pub fn own_level(text: Option<&str>) -> LevelFilter {
    match text.map(|t| t.trim().to_ascii_lowercase()).as_deref() {
        Some("error") => LevelFilter::ERROR,
        Some("warn") => LevelFilter::WARN,
        Some("debug") | Some("trace") => LevelFilter::DEBUG,
        Some("off") => LevelFilter::OFF,
        _ => LevelFilter::INFO,
    }
}

/// The filter's directives: dependencies at most at info, our code at `own`.
pub fn directives(own: LevelFilter) -> String {
    let dependencies = own.min(LevelFilter::INFO);
    format!("{dependencies},{OWN_TARGETS}={own}")
}

pub fn init() {
    let own = own_level(std::env::var("RUST_LOG").ok().as_deref());
    let in_lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::new(directives(own)))
        .with_target(false);
    // `try_init` so a second call (tests) is harmless.
    let _ = if in_lambda {
        // Lambda adds its own timestamp and request id to each line.
        builder
            .json()
            .without_time()
            .with_current_span(false)
            .with_ansi(false)
            .try_init()
    } else {
        builder.with_writer(std::io::stderr).try_init()
    };
}

/// What went wrong parsing JSON, without a byte of the JSON: serde_json's messages echo what
/// they refused (`invalid value: string "+46…"`, ``unknown variant `…` ``, ``unknown field
/// `…` ``), which is customer content in a callback or an event. Log this instead: the error's
/// category and where it is (`data error at line 1, column 57`).
pub fn json_problem(err: &serde_json::Error) -> String {
    let category = match err.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "syntax error",
        serde_json::error::Category::Data => "data error (a value or field the type does not take)",
        serde_json::error::Category::Eof => "unexpected end of input",
    };
    format!("{category} at line {}, column {}", err.line(), err.column())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_problem_never_echoes_the_input() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        enum Channel {
            Whatsapp,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        #[serde(deny_unknown_fields)]
        struct Event {
            channel: Channel,
            count: u8,
        }
        for (input, serde_echoes) in [
            (r#"{"channel": "+46701234567", "count": 1}"#, true),
            (r#"{"channel": "Whatsapp", "count": "+46701234567"}"#, true),
            (
                r#"{"channel": "Whatsapp", "count": 1, "+46701234567": 1}"#,
                true,
            ),
            (r#"{"channel": "Whatsapp", "count": 46701234567}"#, true),
            (r#"{"channel": "Whatsapp", "count": 1} +46701234567"#, false),
            (r#"{"channel": "+46701234567"#, false),
        ] {
            let err = serde_json::from_str::<Event>(input).unwrap_err();
            assert_eq!(
                err.to_string().contains("4670123456"),
                serde_echoes,
                "{err}"
            );
            let problem = json_problem(&err);
            assert!(!problem.contains("4670123456"), "{problem}");
            assert!(problem.contains("line 1, column"), "{problem}");
        }
    }

    #[test]
    fn no_setting_lets_dependencies_log_below_info() {
        for text in [
            "trace",
            "debug",
            "info",
            "TRACE",
            "lambda_runtime=trace",
            "",
            "garbage",
        ] {
            let filter = directives(own_level(Some(text)));
            assert!(!filter.contains("trace"), "{text}: {filter}");
            let dependencies = filter.split(',').next().unwrap_or_default();
            assert!(
                ["info", "warn", "error", "off"].contains(&dependencies),
                "{text}: {filter}"
            );
        }
    }

    #[test]
    fn our_own_code_follows_the_setting_up_to_debug() {
        assert_eq!(own_level(Some("debug")), LevelFilter::DEBUG);
        assert_eq!(own_level(Some("trace")), LevelFilter::DEBUG);
        assert_eq!(own_level(Some("warn")), LevelFilter::WARN);
        assert_eq!(own_level(None), LevelFilter::INFO);
        assert_eq!(directives(LevelFilter::DEBUG), "info,switchboard=debug");
        assert_eq!(directives(LevelFilter::WARN), "warn,switchboard=warn");
    }
}

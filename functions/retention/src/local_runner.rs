//! Outside Lambda (`make dev`, by hand): a sweep every `SWITCHBOARD_RETENTION_EVERY_SECS`, as
//! the schedule does in AWS, until Ctrl-C; or one sweep with `--once`. `--dry-run` (or
//! `SWITCHBOARD_RETENTION_DRY_RUN=1`) lists what would go and deletes nothing.

use std::time::Duration;

use chrono::Utc;
use tokio::time::{Instant, MissedTickBehavior};

use crate::bucket::Bucket;
use crate::deadline::Deadline;
use crate::handler::{RetentionFunction, RunRequest};
use crate::settings::Settings;
use crate::tenants::RetentionSource;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    pub once: bool,
    pub dry_run: bool,
    pub every: Duration,
}

#[derive(Debug, thiserror::Error)]
pub enum LocalRunError {
    #[error("unknown argument '{0}'; usage: retention [--once] [--dry-run]")]
    Usage(String),
    #[error("the sweep had {0} error(s); see the summary line")]
    SweepErrors(u64),
}

impl Options {
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        settings: &Settings,
    ) -> Result<Options, LocalRunError> {
        let mut options = Options {
            once: false,
            dry_run: settings.dry_run,
            every: settings.every,
        };
        for arg in args {
            match arg.as_str() {
                "--once" => options.once = true,
                "--dry-run" => options.dry_run = true,
                other => return Err(LocalRunError::Usage(other.to_owned())),
            }
        }
        Ok(options)
    }
}

/// Runs until `shutdown` completes (or after one sweep with `--once`). A sweep that had errors
/// makes `--once` fail.
pub async fn run<C: RetentionSource, B: Bucket>(
    function: &RetentionFunction<C, B>,
    options: Options,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), LocalRunError> {
    let request = RunRequest {
        dry_run: options.dry_run,
    };
    if options.once {
        let summary = function.run(request, Utc::now(), &Deadline::never()).await;
        return match summary.error_count {
            0 => Ok(()),
            n => Err(LocalRunError::SweepErrors(n)),
        };
    }
    tokio::pin!(shutdown);
    let mut ticks = tokio::time::interval(options.every);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = &mut shutdown => return Ok(()),
        }
        // A sweep ends before the next one is due, as in Lambda before the function's timeout.
        let deadline = Deadline::at(Instant::now() + options.every);
        tokio::select! {
            _ = function.run(request, Utc::now(), &deadline) => {}
            () = &mut shutdown => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(dry_run: bool) -> Settings {
        let mut settings = Settings::from_lookup(|name| match name {
            "SWITCHBOARD_CONFIG_TABLE" | "SWITCHBOARD_MEDIA_BUCKET" => Some("x".into()),
            _ => None,
        })
        .unwrap();
        settings.dry_run = dry_run;
        settings
    }

    #[test]
    fn flags_and_environment_combine() {
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let options = Options::parse(args(&[]), &settings(false)).unwrap();
        assert!(!options.once && !options.dry_run);
        assert_eq!(options.every, Duration::from_secs(60));
        assert!(
            Options::parse(args(&["--dry-run"]), &settings(false))
                .unwrap()
                .dry_run
        );
        assert!(Options::parse(args(&[]), &settings(true)).unwrap().dry_run);
        assert!(
            Options::parse(args(&["--once"]), &settings(false))
                .unwrap()
                .once
        );
        assert!(Options::parse(args(&["--dryrun"]), &settings(false)).is_err());
    }
}

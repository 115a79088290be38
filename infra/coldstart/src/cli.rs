//! Command-line parsing, by hand: a dozen flags do not justify a parser dependency.

use std::time::Duration;

pub const USAGE: &str = "\
Usage:
  coldstart --binary BIN --event FILE [--label NAME] [--env KEY=VALUE]... [--expect TEXT]
            [COMMON]
  coldstart compare --baseline BIN --baseline-event FILE
                    --candidate BIN [--candidate-event FILE]
                    [--baseline-label NAME] [--candidate-label NAME]
                    [--baseline-env KEY=VALUE]... [--candidate-env KEY=VALUE]...
                    [--baseline-expect TEXT] [--candidate-expect TEXT]
                    [--env KEY=VALUE]... [--expect TEXT] [COMMON]

Starts BIN once per run against a stand-in Lambda Runtime API on 127.0.0.1, hands it the
event in FILE, and measures exec -> first GET /next (ready), exec -> first response POST
(first answer) and the child's peak resident memory (VmHWM), then kills it.
`compare` alternates baseline and candidate runs (ABBA) and prints candidate/baseline ratios.

COMMON:
  --runs N           measured runs per binary (default 20)
  --warmup N         unmeasured runs per binary first, to settle the page cache (default 1)
  --json FILE        also write the results as JSON
  --timeout-secs S   a run fails if the function has not answered by then (default 30)
  --show-output      let the function write to this terminal instead of a temp log
  --inherit-env      pass this process's environment to the function (default: a clean,
                     Lambda-like environment plus --env)

--env/--*-env may repeat and override the defaults (e.g. AWS_REGION, AWS_LAMBDA_FUNCTION_MEMORY_SIZE).
--expect TEXT: every response body must contain TEXT, or the benchmark stops with an error;
in `compare` it applies to both binaries unless --baseline-expect/--candidate-expect is given.
";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetArgs {
    pub label: String,
    pub binary: String,
    pub event: String,
    pub env: Vec<(String, String)>,
    pub expect: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Common {
    pub runs: usize,
    pub warmup: usize,
    pub json: Option<String>,
    pub timeout: Duration,
    pub show_output: bool,
    pub inherit_env: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Help,
    Single {
        target: TargetArgs,
        common: Common,
    },
    Compare {
        baseline: TargetArgs,
        candidate: TargetArgs,
        common: Common,
    },
}

#[derive(Default)]
struct Raw {
    values: Vec<(String, String)>,
    show_output: bool,
    inherit_env: bool,
}

impl Raw {
    fn last(&self, key: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn all(&self, key: &str) -> impl Iterator<Item = &str> {
        self.values
            .iter()
            .filter(move |(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    fn required(&self, key: &str) -> Result<String, String> {
        self.last(key)
            .map(str::to_owned)
            .ok_or_else(|| format!("missing --{key}"))
    }

    fn env(&self, keys: &[&str]) -> Result<Vec<(String, String)>, String> {
        let mut env = Vec::new();
        for key in keys {
            for pair in self.all(key) {
                match pair.split_once('=') {
                    Some((k, v)) if !k.is_empty() => env.push((k.to_owned(), v.to_owned())),
                    _ => return Err(format!("--{key} wants KEY=VALUE, got {pair:?}")),
                }
            }
        }
        Ok(env)
    }
}

pub fn parse(args: &[String]) -> Result<Command, String> {
    let (compare, rest) = match args.first().map(String::as_str) {
        Some("compare") => (true, &args[1..]),
        _ => (false, args),
    };
    let value_flags: &[&str] = if compare {
        &[
            "baseline",
            "baseline-event",
            "baseline-label",
            "baseline-env",
            "baseline-expect",
            "candidate",
            "candidate-event",
            "candidate-label",
            "candidate-env",
            "candidate-expect",
            "env",
            "expect",
            "runs",
            "warmup",
            "json",
            "timeout-secs",
        ]
    } else {
        &[
            "binary",
            "event",
            "label",
            "env",
            "expect",
            "runs",
            "warmup",
            "json",
            "timeout-secs",
        ]
    };

    let mut raw = Raw::default();
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        let Some(flag) = arg.strip_prefix("--") else {
            if arg == "-h" {
                return Ok(Command::Help);
            }
            return Err(format!("unexpected argument {arg:?}"));
        };
        let (name, inline) = match flag.split_once('=') {
            Some((name, value)) => (name, Some(value.to_owned())),
            None => (flag, None),
        };
        match name {
            "help" => return Ok(Command::Help),
            "show-output" => raw.show_output = true,
            "inherit-env" => raw.inherit_env = true,
            _ if value_flags.contains(&name) => {
                let value = match inline {
                    Some(v) => v,
                    None => it
                        .next()
                        .cloned()
                        .ok_or_else(|| format!("--{name} needs a value"))?,
                };
                raw.values.push((name.to_owned(), value));
            }
            _ => return Err(format!("unknown option --{name}")),
        }
    }

    let common = Common {
        runs: number(&raw, "runs", 20)?,
        warmup: number(&raw, "warmup", 1)?,
        json: raw.last("json").map(str::to_owned),
        timeout: match raw.last("timeout-secs") {
            None => Duration::from_secs(30),
            Some(s) => s
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v > 0.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| format!("--timeout-secs wants a positive number, got {s:?}"))?,
        },
        show_output: raw.show_output,
        inherit_env: raw.inherit_env,
    };
    if common.runs == 0 {
        return Err("--runs must be at least 1".to_owned());
    }

    if !compare {
        let binary = raw.required("binary")?;
        let target = TargetArgs {
            label: raw
                .last("label")
                .map(str::to_owned)
                .unwrap_or_else(|| file_name(&binary)),
            event: raw.required("event")?,
            env: raw.env(&["env"])?,
            expect: raw.last("expect").map(str::to_owned),
            binary,
        };
        return Ok(Command::Single { target, common });
    }

    let baseline_event = raw.required("baseline-event")?;
    let baseline = TargetArgs {
        label: raw.last("baseline-label").unwrap_or("baseline").to_owned(),
        binary: raw.required("baseline")?,
        event: baseline_event.clone(),
        env: raw.env(&["env", "baseline-env"])?,
        expect: raw
            .last("baseline-expect")
            .or(raw.last("expect"))
            .map(str::to_owned),
    };
    let candidate = TargetArgs {
        label: raw
            .last("candidate-label")
            .unwrap_or("candidate")
            .to_owned(),
        binary: raw.required("candidate")?,
        event: raw
            .last("candidate-event")
            .map(str::to_owned)
            .unwrap_or(baseline_event),
        env: raw.env(&["env", "candidate-env"])?,
        expect: raw
            .last("candidate-expect")
            .or(raw.last("expect"))
            .map(str::to_owned),
    };
    if baseline.label == candidate.label {
        return Err("--baseline-label and --candidate-label must differ".to_owned());
    }
    Ok(Command::Compare {
        baseline,
        candidate,
        common,
    })
}

fn number(raw: &Raw, key: &str, default: usize) -> Result<usize, String> {
    match raw.last(key) {
        None => Ok(default),
        Some(s) => s
            .parse()
            .map_err(|_| format!("--{key} wants a whole number, got {s:?}")),
    }
}

fn file_name(path: &str) -> String {
    std::path::Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &[&str]) -> Vec<String> {
        s.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn single_run_with_defaults() {
        let cmd = parse(&args(&[
            "--binary",
            "target/release/hello-lambda",
            "--event=events/hello.json",
            "--env",
            "A=1=2",
        ]))
        .unwrap();
        let Command::Single { target, common } = cmd else {
            panic!("not single: {cmd:?}")
        };
        assert_eq!(target.label, "hello-lambda");
        assert_eq!(target.env, vec![("A".to_owned(), "1=2".to_owned())]);
        assert_eq!((common.runs, common.warmup), (20, 1));
        assert_eq!(common.timeout, Duration::from_secs(30));
    }

    #[test]
    fn compare_shares_env_and_expect_unless_overridden() {
        let cmd = parse(&args(&[
            "compare",
            "--baseline",
            "a",
            "--baseline-event",
            "e.json",
            "--candidate",
            "b",
            "--candidate-env",
            "X=2",
            "--env",
            "Y=1",
            "--expect",
            "ok",
            "--candidate-expect",
            "\"statusCode\":200",
            "--runs",
            "4",
        ]))
        .unwrap();
        let Command::Compare {
            baseline,
            candidate,
            common,
        } = cmd
        else {
            panic!("not compare: {cmd:?}")
        };
        assert_eq!(candidate.event, "e.json");
        assert_eq!(baseline.env, vec![("Y".to_owned(), "1".to_owned())]);
        assert_eq!(
            candidate.env,
            vec![
                ("Y".to_owned(), "1".to_owned()),
                ("X".to_owned(), "2".to_owned())
            ]
        );
        assert_eq!(baseline.expect.as_deref(), Some("ok"));
        assert_eq!(candidate.expect.as_deref(), Some("\"statusCode\":200"));
        assert_eq!(common.runs, 4);
    }

    #[test]
    fn reports_mistakes() {
        assert!(
            parse(&args(&["--event", "e"]))
                .unwrap_err()
                .contains("--binary")
        );
        assert!(
            parse(&args(&[
                "--binary", "b", "--event", "e", "--env", "NOEQUALS"
            ]))
            .is_err()
        );
        assert!(parse(&args(&["--binary", "b", "--event", "e", "--runs", "0"])).is_err());
        assert!(parse(&args(&["--binary", "b", "--event", "e", "--baseline", "x"])).is_err());
        assert!(parse(&args(&["--binary", "b", "--event"])).is_err());
    }
}

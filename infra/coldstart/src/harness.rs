//! One measured cold start: spawn the function binary against the stand-in Runtime API, wait
//! for it to ask for work, answer its one event and ask again, read its peak memory, kill it.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use crate::Result;
use crate::cli::{Common, TargetArgs};
use crate::proc_status;
use crate::runtime_api::{Invocation, Observation, RuntimeApi};

/// How long to wait, after the answer, for the function to ask for its next event. Peak memory
/// is read once it does, so the figure covers the complete first invocation.
const PARK_WAIT: Duration = Duration::from_secs(2);
/// The child's exit is noticed by polling `try_wait`; timings come from the server instead,
/// so this only bounds how late a crash is reported.
const EXIT_POLL: Duration = Duration::from_millis(5);

pub struct Target {
    pub label: String,
    /// As given on the command line, so reports don't leak machine paths.
    pub binary: String,
    pub binary_bytes: u64,
    pub event_path: String,
    pub event: Bytes,
    pub env: Vec<(String, String)>,
    pub expect: Option<String>,
}

impl Target {
    pub fn load(args: TargetArgs) -> Result<Self> {
        let meta = std::fs::metadata(&args.binary).map_err(|e| {
            format!(
                "{}: {e} (build it first, e.g. cargo build --release -p <package>)",
                args.binary
            )
        })?;
        if !meta.is_file() {
            return Err(format!("{} is not a file", args.binary).into());
        }
        let event = std::fs::read(&args.event).map_err(|e| format!("{}: {e}", args.event))?;
        // Lambda only delivers JSON; catching a broken fixture here beats a confusing
        // deserialization error inside the function.
        serde_json::from_slice::<serde_json::Value>(&event)
            .map_err(|e| format!("{} is not valid JSON: {e}", args.event))?;
        Ok(Self {
            label: args.label,
            binary: args.binary,
            binary_bytes: meta.len(),
            event_path: args.event,
            event: Bytes::from(event),
            env: args.env,
            expect: args.expect,
        })
    }

    /// Sanitized so it is always a valid header value and ARN part.
    fn function_name(&self) -> String {
        let name: String = self
            .label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '-'
                }
            })
            .take(64)
            .collect();
        if name.is_empty() {
            "coldstart".to_owned()
        } else {
            name
        }
    }

    /// Lambda's own variables for a `provided.al2023` function, then the user's `--env`,
    /// so the user's win (later `Command::env` calls replace earlier ones).
    fn environment(&self, runtime_api: &str, run: u64) -> Vec<(String, String)> {
        let name = self.function_name();
        let mut env: Vec<(String, String)> = [
            ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
            ("AWS_LAMBDA_FUNCTION_NAME", name.clone()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128".to_owned()),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".to_owned()),
            (
                "AWS_LAMBDA_LOG_STREAM_NAME",
                format!("coldstart/[$LATEST]{run:032x}"),
            ),
            ("AWS_LAMBDA_LOG_GROUP_NAME", format!("/aws/lambda/{name}")),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
            ("_HANDLER", "bootstrap".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
            ("TZ", ":UTC".to_owned()),
            ("LANG", "en_US.UTF-8".to_owned()),
            ("PATH", "/usr/local/bin:/usr/bin:/bin".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        env.extend(self.env.iter().cloned());
        env
    }

    fn region(&self) -> String {
        self.env
            .iter()
            .rev()
            .find(|(k, _)| k == "AWS_REGION")
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| "us-east-1".to_owned())
    }
}

pub struct Settings {
    pub timeout: Duration,
    pub show_output: bool,
    pub inherit_env: bool,
    /// Where the child's stdout and stderr go unless `show_output`; rewritten every run.
    pub log_path: PathBuf,
}

impl Settings {
    pub fn new(common: &Common) -> Self {
        Self {
            timeout: common.timeout,
            show_output: common.show_output,
            inherit_env: common.inherit_env,
            log_path: std::env::temp_dir().join(format!("coldstart-{}.log", std::process::id())),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Sample {
    /// exec -> first `GET /next` received.
    pub ready: Duration,
    /// exec -> first response POST fully received.
    pub first_answer: Duration,
    /// `VmHWM` just before the kill.
    pub peak_rss_kib: u64,
    /// `VmRSS` at the same moment.
    pub rss_at_kill_kib: u64,
    /// Whether the function had asked for its next event when memory was read; if not, it
    /// was still busy after answering for `PARK_WAIT`, and the peak may be understated.
    pub parked: bool,
    pub body: Bytes,
}

static RUN_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Runs the target once. Errors carry the tail of the function's output.
pub async fn run_once(
    api: &mut RuntimeApi,
    target: &Target,
    settings: &Settings,
) -> Result<Sample> {
    let run = RUN_COUNTER.fetch_add(1, Ordering::Relaxed);
    let invocation = new_invocation(target, run, settings.timeout);
    let request_id = invocation.request_id.clone();
    api.arm(invocation);
    let outcome = drive(api, target, settings, run, &request_id).await;
    api.disarm();
    let sample = outcome.map_err(|e| with_output_tail(e, settings))?;
    if let Some(expect) = &target.expect {
        let body = String::from_utf8_lossy(&sample.body);
        if !body.contains(expect.as_str()) {
            return Err(format!(
                "{}: the response does not contain {expect:?}; the function answered:\n{}",
                target.label,
                shorten(&body, 2000)
            )
            .into());
        }
    }
    Ok(sample)
}

async fn drive(
    api: &mut RuntimeApi,
    target: &Target,
    settings: &Settings,
    run: u64,
    request_id: &str,
) -> Result<Sample> {
    let mut command = Command::new(program(&target.binary));
    if !settings.inherit_env {
        command.env_clear();
    }
    command
        .envs(target.environment(&api.addr().to_string(), run))
        .stdin(Stdio::null());
    if !settings.show_output {
        // A file, not pipes: nothing in the harness has to run while the child starts.
        let log = File::create(&settings.log_path)
            .map_err(|e| format!("{}: {e}", settings.log_path.display()))?;
        command.stdout(log.try_clone()?).stderr(log);
    }

    // `spawn` returns once `exec` has succeeded, so `started` is taken just before the exec.
    let started = Instant::now();
    let child = command
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", target.binary))?;
    let mut child = KillOnDrop(child);
    let pid = child.0.id();

    let deadline = tokio::time::Instant::from_std(started + settings.timeout);
    let mut exit_poll = tokio::time::interval(EXIT_POLL);
    exit_poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ready: Option<Duration> = None;
    let mut answer: Option<(Duration, Bytes)> = None;
    let mut park_deadline: Option<tokio::time::Instant> = None;
    let mut parked = false;

    loop {
        tokio::select! {
            observation = api.next_observation() => {
                let Some(observation) = observation else {
                    return Err("the runtime API server stopped".into());
                };
                match observation {
                    Observation::Next { at } => {
                        if ready.is_none() {
                            ready = Some(at.saturating_duration_since(started));
                        } else if answer.is_some() {
                            parked = true;
                            break;
                        }
                    }
                    Observation::Response { at, request_id: id, body } => {
                        if id != request_id {
                            return Err(format!(
                                "{}: response posted for request id {id:?}, but the event had {request_id:?}",
                                target.label
                            ).into());
                        }
                        if answer.is_none() {
                            answer = Some((at.saturating_duration_since(started), body));
                            park_deadline = Some(tokio::time::Instant::now() + PARK_WAIT);
                        }
                    }
                    Observation::InvocationError { error_type, body, .. } => {
                        return Err(format!(
                            "{}: the function reported an invocation error ({}):\n{}",
                            target.label,
                            error_type.as_deref().unwrap_or("no Lambda-Runtime-Function-Error-Type"),
                            shorten(&String::from_utf8_lossy(&body), 2000)
                        ).into());
                    }
                    Observation::InitError { error_type, body, .. } => {
                        return Err(format!(
                            "{}: the function reported an init error ({}):\n{}",
                            target.label,
                            error_type.as_deref().unwrap_or("no Lambda-Runtime-Function-Error-Type"),
                            shorten(&String::from_utf8_lossy(&body), 2000)
                        ).into());
                    }
                    Observation::Unexpected { method, path, .. } => {
                        // Unknown calls mean the stand-in is missing something the function
                        // relies on, and its timings would not be comparable.
                        return Err(format!(
                            "{}: the function called {method} {path}, which the stand-in Runtime API does not serve",
                            target.label
                        ).into());
                    }
                }
            }
            _ = exit_poll.tick() => {
                if let Some(status) = child.0.try_wait()? {
                    let phase = match (ready, &answer) {
                        (None, _) => "before asking for an event",
                        (Some(_), None) => "after receiving the event, without answering",
                        (Some(_), Some(_)) => "after answering (its memory could not be read)",
                    };
                    return Err(format!("{}: the function exited {phase}: {}", target.label, describe(status)).into());
                }
            }
            _ = tokio::time::sleep_until(park_deadline.unwrap_or(deadline)) => {
                if answer.is_some() {
                    break;
                }
                let phase = if ready.is_none() { "ask for an event" } else { "answer" };
                return Err(format!(
                    "{}: the function did not {phase} within {:?}",
                    target.label, settings.timeout
                ).into());
            }
        }
    }

    let memory = proc_status::read(pid)
        .map_err(|e| format!("{}: cannot read peak memory: {e}", target.label))?;
    child.kill_and_wait()?;

    // The loop only exits with both set.
    let (Some(ready), Some((first_answer, body))) = (ready, answer) else {
        return Err("internal error: run finished without a ready time and an answer".into());
    };
    Ok(Sample {
        ready,
        first_answer,
        peak_rss_kib: memory.vm_hwm_kib,
        rss_at_kill_kib: memory.vm_rss_kib,
        parked,
        body,
    })
}

fn new_invocation(target: &Target, run: u64, timeout: Duration) -> Invocation {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let nanos = now.as_nanos();
    let salt = u64::from(std::process::id()) << 32 | (run & 0xffff_ffff);
    // UUID-shaped like Lambda's; unique per run so late calls from a killed child can't match.
    let request_id = format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        (nanos >> 32) as u32,
        (nanos >> 16) as u16,
        (run >> 12) as u16 & 0xfff,
        run as u16 & 0xfff,
        salt & 0xffff_ffff_ffff
    );
    let region = target.region();
    let name = target.function_name();
    Invocation {
        request_id,
        event: target.event.clone(),
        deadline_epoch_ms: (now + timeout).as_millis() as u64,
        function_arn: format!("arn:aws:lambda:{region}:123456789012:function:{name}"),
        trace_id: format!(
            "Root=1-{:08x}-{:024x};Parent={:016x};Sampled=0",
            now.as_secs() as u32,
            nanos & ((1u128 << 96) - 1),
            salt
        ),
    }
}

/// `Command::new("foo")` would search PATH; a benchmark must run exactly the file given.
fn program(binary: &str) -> PathBuf {
    let path = Path::new(binary);
    if path.components().count() == 1 && !path.is_absolute() {
        Path::new(".").join(path)
    } else {
        path.to_path_buf()
    }
}

struct KillOnDrop(Child);

impl KillOnDrop {
    fn kill_and_wait(&mut self) -> std::io::Result<()> {
        if self.0.try_wait()?.is_none() {
            self.0.kill()?;
        }
        self.0.wait().map(drop)
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        // Errors or early returns must not leave a function process behind.
        let _ = self.kill_and_wait();
    }
}

fn describe(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        _ => status.to_string(),
    }
}

fn with_output_tail(error: crate::Error, settings: &Settings) -> crate::Error {
    if settings.show_output {
        return error;
    }
    match tail(&settings.log_path, 4096) {
        Ok(text) if !text.trim().is_empty() => format!(
            "{error}\n--- last output of the function ---\n{}",
            text.trim_end()
        )
        .into(),
        _ => format!("{error}\n(the function wrote nothing to stdout/stderr)").into(),
    }
}

fn tail(path: &Path, max: u64) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(max)))?;
    let mut buf = Vec::new();
    file.read_to_end(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

pub fn shorten(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}… ({} bytes in all)", &text[..cut], text.len()),
        None => text.to_owned(),
    }
}

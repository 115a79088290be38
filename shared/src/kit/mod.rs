//! The function kit: what every Switchboard Lambda function is made of, written once.
//!
//! A function is a [`Function`] (its settings, read from the environment and validated at
//! start-up; `build`, once per container, for the clients and caches every invocation reuses;
//! how long before Lambda's deadline an invocation must stop) and a handler for its trigger:
//!
//! | trigger | handler trait | input | output |
//! |---|---|---|---|
//! | API Gateway HTTP API (payload v2) | [`http::HttpHandler`] | [`http::HttpRequest`] | [`http::HttpResponse`] |
//! | SQS FIFO, partial batch responses | [`fifo::FifoHandler`] | one [`fifo::Record`] | done, or a [`fifo::RecordError`] (transient or permanent) |
//! | EventBridge schedule (or a manual invoke) | [`schedule::ScheduleHandler`] | [`schedule::ScheduleInput`] | a summary, or an error |
//!
//! Each handler is called with an [`Invocation`]: the one clock reading and the one
//! [`Deadline`](crate::deadline::Deadline) of that invocation. Handlers know nothing of Lambda;
//! the shells here convert `lambda_http` / `aws_lambda_events` types into those inputs and the
//! outputs back. [`run`] is a function's whole `main`: logging, settings, build, then the shell
//! its [`Function::Trigger`] names. There is no local mode: locally, the binaries run under a
//! Lambda emulator through the real Runtime API (`AWS_LAMBDA_RUNTIME_API`), exactly as in AWS.
//!
//! A module of the shared crate rather than a crate of its own: the functions already depend on
//! `switchboard-shared`, and one crate keeps one dependency graph (one `lambda_runtime`, one
//! `aws_lambda_events`, one `tokio` feature set) and one compilation unit for the build to share.

pub mod fifo;
pub mod http;
mod invocation;
pub mod schedule;

use std::future::Future;
use std::time::Duration;

pub use invocation::Invocation;

use crate::deadline::DEFAULT_MARGIN;
use crate::settings::{Env, SettingsError};

/// What start-up and the shells fail with; the runtime reports it to Lambda.
pub type Error = lambda_runtime::Error;

/// One Lambda function: how it is configured and built. Its work is in the handler trait of its
/// [`Trigger`](Function::Trigger) (the same type, so tests can drive it with in-memory ports).
pub trait Function: Sized + Send + Sync + 'static {
    /// The function's name in the start-up line (`webhook`, `media`, …).
    const NAME: &'static str;
    /// The function crate's version, for the start-up line (`env!("CARGO_PKG_VERSION")`).
    const VERSION: &'static str;
    type Settings;
    /// [`Http`], [`Fifo`] or [`Schedule`]: which shell [`run`] starts.
    type Trigger;

    /// The settings, read and validated from `env` (the process environment in [`run`]).
    fn settings<L: Fn(&str) -> Option<String>>(
        env: &Env<L>,
    ) -> Result<Self::Settings, SettingsError>;

    /// Once per container: the clients, pools and caches every invocation of it reuses.
    fn build(settings: Self::Settings) -> impl Future<Output = Result<Self, Error>>;

    /// How long before Lambda's deadline the invocation's own [`Deadline`] falls: see
    /// [`DEFAULT_MARGIN`] for why 0.5 s is the default, and the functions that keep more.
    ///
    /// [`Deadline`]: crate::deadline::Deadline
    fn deadline_margin(&self) -> Duration {
        DEFAULT_MARGIN
    }
}

/// A trigger's shell: serves invocations of `F` until the runtime stops.
pub trait Shell<F> {
    fn serve(function: F) -> impl Future<Output = Result<(), Error>>;
}

/// API Gateway HTTP API (payload v2): [`http::HttpHandler`].
pub struct Http;
/// An SQS FIFO event source with partial batch responses: [`fifo::FifoHandler`].
pub struct Fifo;
/// An EventBridge schedule, or a manual invoke: [`schedule::ScheduleHandler`].
pub struct Schedule;

/// A function's whole `main`: logging, settings (a misconfiguration fails here, naming the
/// variable), build, then its trigger's shell.
pub async fn run<F>() -> Result<(), Error>
where
    F: Function,
    F::Trigger: Shell<F>,
{
    crate::telemetry::init();
    let settings = F::settings(&Env::process())?;
    tracing::info!(function = F::NAME, version = F::VERSION, "starting");
    let function = F::build(settings).await?;
    tracing::info!(
        function = F::NAME,
        deadline_margin_ms = function.deadline_margin().as_millis() as u64,
        "built; serving invocations"
    );
    F::Trigger::serve(function).await
}

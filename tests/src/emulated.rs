//! Functions of a test's stack under the local Lambda emulator, as `make dev` runs them: each
//! its Lambda binary behind the Runtime API, fed by the template's triggers. The emulator runs
//! on a thread and runtime of its own, so a test may block (the tests' HTTP helpers do) without
//! stopping the functions it talks to. Dropping it stops the emulator and its processes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use switchboard_lambda_emulator::{Emulator, FunctionCode, Options};
use switchboard_local_stack::local_stack::{LocalStack, PhysicalResource};
use switchboard_local_stack::template::Template;

use crate::function_binary;

/// One function to run: its logical id and variables set on top of its template environment.
pub struct Run<'a> {
    pub function: &'a str,
    pub extra_env: &'a [(&'a str, &'a str)],
}

pub struct Emulated {
    /// `http://127.0.0.1:PORT` of the HTTP API, when the functions have HTTP routes.
    pub base_url: Option<String>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Emulated {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The cargo binary of a function of the template.
fn binary_of(template: &Template, function: &str) -> &'static str {
    let binary = template
        .functions
        .get(function)
        .and_then(|f| f.cargo_binary())
        .unwrap_or_else(|| panic!("{function} is not a cargo-lambda function"));
    // function_binary builds each binary once per process and wants a 'static name.
    Box::leak(binary.to_owned().into_boxed_str())
}

/// Queue logical id → URL for the stack's queues.
pub fn queue_urls(stack: &LocalStack) -> BTreeMap<String, String> {
    stack
        .resources()
        .iter()
        .filter(|(_, resource)| matches!(resource, PhysicalResource::Queue { .. }))
        .map(|(id, resource)| (id.clone(), resource.ref_value().to_owned()))
        .collect()
}

impl Emulated {
    /// Runs `runs` of `stack` under `template` (the stack's own, or a changed copy), logging
    /// each to `<log_dir>/<LogicalId>.log`.
    pub fn start(
        stack: &LocalStack,
        template: &Template,
        runs: &[Run],
        log_dir: &Path,
        options: Options,
    ) -> Emulated {
        let mut code = BTreeMap::new();
        for run in runs {
            let mut environment = stack
                .function_environment(run.function)
                .unwrap_or_else(|err| panic!("{}: {err}", run.function));
            environment.insert("RUST_LOG".into(), "info".into());
            for (name, value) in run.extra_env {
                environment.insert((*name).to_owned(), (*value).to_owned());
            }
            code.insert(
                run.function.to_owned(),
                FunctionCode {
                    binary: function_binary(binary_of(template, run.function)),
                    environment,
                },
            );
        }
        std::fs::create_dir_all(log_dir).expect("log folder");
        let options = Options {
            log_dir: Some(PathBuf::from(log_dir)),
            ..options
        };
        let template = template.clone();
        let queue_urls = queue_urls(stack);
        let (ready, started) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("emulator runtime");
            runtime.block_on(async move {
                let sdk = switchboard_shared::aws::load_sdk_config().await;
                let sqs = switchboard_shared::aws::sqs_client(&sdk);
                match Emulator::start(&template, code, &queue_urls, sqs, options).await {
                    Ok(emulator) => {
                        let _ = ready.send(Ok(emulator.http_addr));
                        let _ = stopped.await;
                        emulator.stop().await;
                    }
                    Err(err) => {
                        let _ = ready.send(Err(err.to_string()));
                    }
                }
            });
        });
        let addr = started
            .recv()
            .expect("the emulator thread answers")
            .unwrap_or_else(|err| panic!("the emulator did not start: {err}"));
        Emulated {
            base_url: addr.map(|addr| format!("http://{addr}")),
            stop: Some(stop),
            thread: Some(thread),
        }
    }
}

/// Options for a test: the HTTP API on a free port when asked for.
pub fn options(http: bool) -> Options {
    Options {
        http_listen: http.then(|| ([127, 0, 0, 1], 0).into()),
        ..Options::default()
    }
}

//! A function: its environments, at most its concurrency of them busy at once. An invocation
//! takes an idle environment or starts one (a cold start); a synchronous invocation beyond the
//! concurrency is throttled, as Lambda throttles it, while an event source waits for a slot
//! (it never asks for more than it may have).

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::environment::{Environment, Launch, Outcome};

/// Concurrency when the template reserves none: the account's unreserved pool is far larger,
/// but a laptop is not; enough for every local event source to run at once.
pub const DEFAULT_CONCURRENCY: u32 = 10;

pub struct Function {
    pub launch: Launch,
    pub concurrency: u32,
    idle: Mutex<Vec<Environment>>,
    slots: Arc<Semaphore>,
}

/// A slot of the function's concurrency, held for one invocation.
pub struct Slot(#[allow(dead_code)] OwnedSemaphorePermit);

impl Function {
    pub fn new(launch: Launch, concurrency: u32) -> Function {
        let concurrency = concurrency.max(1);
        Function {
            launch,
            concurrency,
            idle: Mutex::new(Vec::new()),
            slots: Arc::new(Semaphore::new(concurrency as usize)),
        }
    }

    pub fn name(&self) -> &str {
        &self.launch.name
    }

    /// A slot now, or `None` when every one is taken (Lambda's throttle).
    pub fn try_slot(&self) -> Option<Slot> {
        Arc::clone(&self.slots).try_acquire_owned().ok().map(Slot)
    }

    /// A slot once one is free.
    pub async fn slot(&self) -> Slot {
        // The semaphore is never closed.
        Slot(
            Arc::clone(&self.slots)
                .acquire_owned()
                .await
                .expect("semaphore is never closed"),
        )
    }

    /// One invocation in the slot the caller holds.
    pub async fn invoke(&self, _slot: &Slot, payload: Bytes) -> Outcome {
        let request_id = uuid::Uuid::new_v4().to_string();
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut environment = match idle {
            Some(environment) => environment,
            None => match Environment::start(&self.launch).await {
                Ok(environment) => environment,
                Err(err) => {
                    return Outcome::failed(
                        "Runtime.ExitError",
                        format!(
                            "RequestId: {request_id} Error: cannot start {}: {err}",
                            self.launch.binary.display()
                        ),
                    );
                }
            },
        };
        tracing::debug!(function = %self.launch.name, %request_id, "START");
        match environment.invoke(&self.launch, &request_id, payload).await {
            Ok(outcome) => {
                self.idle
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(environment);
                log_end(&self.launch.name, &request_id, &outcome);
                outcome
            }
            Err(outcome) => {
                log_end(&self.launch.name, &request_id, &outcome);
                // The environment was reset; it goes away in the background.
                tokio::spawn(environment.stop());
                outcome
            }
        }
    }

    /// Ends every idle environment.
    pub async fn stop(&self) {
        let idle: Vec<Environment> =
            std::mem::take(&mut *self.idle.lock().unwrap_or_else(|p| p.into_inner()));
        for environment in idle {
            environment.stop().await;
        }
    }
}

fn log_end(function: &str, request_id: &str, outcome: &Outcome) {
    match outcome {
        Outcome::Response(_) => tracing::debug!(%function, %request_id, "END"),
        Outcome::Failed { error_type, .. } => {
            tracing::warn!(%function, %request_id, %error_type, "END Status: error")
        }
    }
}

//! A local stand-in for the Sinch Conversation API, for `make dev` and tests: it speaks Sinch's
//! wire format (OAuth2 tokens against the access keys in the config table, `messages:send`,
//! `events:send`, contacts, webhooks), validates requests as Sinch does as far as the reference
//! tells, records every request for inspection, injects faults on demand, and posts correctly
//! signed callbacks (delivery reports, customer messages) to the webhook. See README "Sinch
//! simulator" for the endpoints.

use directory::Directory;
use settings::Settings;
use state::State;

mod api;
pub mod callbacks;
mod control;
pub mod directory;
pub mod ids;
pub mod reply;
pub mod server;
pub mod settings;
pub mod state;
pub mod validate;

pub struct Simulator {
    pub settings: Settings,
    pub state: State,
    pub directory: Directory,
    /// The simulator's own address (`http://127.0.0.1:{port}`), for media it hosts.
    pub base_url: String,
    /// Posts callbacks to the webhook.
    pub http: reqwest::Client,
}

impl Simulator {
    pub fn new(settings: Settings, directory: Directory, base_url: String) -> Simulator {
        Simulator {
            settings,
            state: State::default(),
            directory,
            base_url,
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(15))
                .build()
                .unwrap_or_default(),
        }
    }
}

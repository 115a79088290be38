//! End-to-end test support: a private stack on moto, built from template.yaml, the functions'
//! real Lambda binaries under the local Lambda emulator ([`emulated`]) fed by the template's
//! triggers, and the Sinch simulator ([`simulator`]). The tests themselves are in `tests/`.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use aws_config::SdkConfig;
use switchboard_local_stack::local_stack::LocalStack;
use switchboard_shared::config::{ConfigStore, SeedFile};
use switchboard_shared::sinch::signature;

pub mod emulated;
pub mod simulator;

use emulated::{Emulated, Run};
use switchboard_local_stack::template::Template;

pub const SECRET: &str = "e2e-current-secret";
pub const PREVIOUS_SECRET: &str = "e2e-previous-secret";
pub const OTHER_TENANT_SECRET: &str = "e2e-other-tenant-secret";
pub const APP: &str = "01EB37HMH1M6SV18ABNS3G135H";
pub const OTHER_APP: &str = "01OTHERAPP0000000000000000";

/// The checkout these tests run in, found at run time (not a path fixed when the test binary
/// was compiled, which would point at another checkout if the binary were reused): the nearest
/// folder, from the working directory up, that holds `template.yaml`.
pub fn workspace_root() -> PathBuf {
    let start = std::env::current_dir().expect("working directory");
    start
        .ancestors()
        .find(|dir| dir.join("template.yaml").is_file() && dir.join("Cargo.toml").is_file())
        .unwrap_or_else(|| panic!("no template.yaml above {}", start.display()))
        .to_path_buf()
}

/// template.yaml as YAML, for a test to change before reading it with `Template::from_value`.
pub fn template_yaml() -> serde_yaml::Value {
    let text =
        std::fs::read_to_string(workspace_root().join("template.yaml")).expect("template.yaml");
    serde_yaml::from_str(&text).expect("template.yaml is YAML")
}

/// A function binary (`webhook`, `media`, …) built from the current sources, once per test
/// process and binary.
pub fn function_binary(name: &'static str) -> PathBuf {
    static BUILT: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
    let mut built = BUILT.lock().unwrap_or_else(|p| p.into_inner());
    if !built.contains(&name) {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--quiet", "--bin", name])
            .current_dir(workspace_root())
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building {name} failed");
        built.push(name);
    }
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target profile dir");
    let binary = dir.join(name);
    assert!(binary.exists(), "{} is missing", binary.display());
    binary
}

pub async fn sdk() -> SdkConfig {
    assert!(
        std::env::var_os("AWS_ENDPOINT_URL").is_some(),
        "AWS_ENDPOINT_URL is not set: these tests need moto; run them through `make test` \
         or `infra/scripts/with-moto.sh -- cargo test`"
    );
    switchboard_shared::aws::load_sdk_config().await
}

pub fn unique_prefix(test: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!(
        "e2e-{}-{}-{}",
        test,
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    )
}

/// Two tenants: `acme` (secrets SECRET and PREVIOUS_SECRET, apps APP and OTHER_APP on two
/// services; its contact center is moto's one sender, so commands put through moto are its)
/// and `globex` (OTHER_TENANT_SECRET; its contact center is another principal, so a command
/// for globex put through moto comes from a stranger).
pub fn seed_json() -> String {
    serde_json::json!({ "tenants": [
        { "id": "acme",
          "services": [
            { "name": "main", "region": "eu", "project_id": "p-acme", "app_ids": [APP],
              "access_key_id": "k", "access_key_secret": "ks",
              "webhook_secret": SECRET, "previous_webhook_secret": PREVIOUS_SECRET },
            { "name": "us", "region": "us", "project_id": "p-acme-us", "app_ids": [OTHER_APP],
              "access_key_id": "k2", "access_key_secret": "ks2", "webhook_secret": "e2e-us-secret" }
          ],
          "contact_center": { "sender_ids": [switchboard_shared::config::contact_center::MOTO_SENDER_ID] },
          "queues": [ { "address": format!("{APP}@whatsapp.sinchconversation.com"), "service": "main" } ] },
        { "id": "globex",
          "contact_center": { "sender_ids": ["AROAGLOBEXCONTACTCENTER"] },
          "services": [ { "name": "main", "region": "eu", "project_id": "p-globex", "app_ids": ["01GLOBEXAPP000000000000000"],
              "access_key_id": "k3", "access_key_secret": "ks3", "webhook_secret": OTHER_TENANT_SECRET } ] }
    ]})
    .to_string()
}

pub struct Running {
    pub stack: LocalStack,
    /// The webhook's environment (resolved from the template).
    pub env: Vec<(String, String)>,
    /// The HTTP API (the emulator's API Gateway) serving the webhook's route.
    pub base_url: String,
    pub sqs: aws_sdk_sqs::Client,
    pub s3: aws_sdk_s3::Client,
    /// The webhook's log (stderr, at `info`), for tests that check what is logged.
    pub log_path: PathBuf,
    /// Each function's log: `<LogicalId>.log`.
    pub log_dir: PathBuf,
    /// Functions under the emulator; dropped (stopped) with this `Running`.
    emulators: Vec<Emulated>,
}

impl Running {
    pub fn env(&self, name: &str) -> String {
        self.env
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{name} not in env"))
    }

    /// Starts a private stack, seeds it and runs the webhook's Lambda binary against it behind
    /// the emulator's HTTP API.
    pub async fn start(test: &str) -> Running {
        Running::start_with(test, &[]).await
    }

    pub async fn start_with(test: &str, extra_env: &[(&str, &str)]) -> Running {
        let template =
            Template::from_path(workspace_root().join("template.yaml")).expect("template.yaml");
        Running::start_with_template(test, template, extra_env).await
    }

    /// As [`Running::start_with`], with the stack and triggers of `template` (a changed copy of
    /// template.yaml, say), so that a test can show the functions follow the template.
    pub async fn start_with_template(
        test: &str,
        template: Template,
        extra_env: &[(&str, &str)],
    ) -> Running {
        let sdk = sdk().await;
        let prefix = unique_prefix(test);
        let stack = LocalStack::create_from_template(&sdk, &prefix, template)
            .await
            .expect("local stack");
        let env: Vec<(String, String)> = stack
            .function_environment("WebhookFunction")
            .expect("webhook env")
            .into_iter()
            .collect();
        let table = env
            .iter()
            .find(|(k, _)| k == "SWITCHBOARD_CONFIG_TABLE")
            .expect("config table")
            .1
            .clone();
        let store = ConfigStore::new(switchboard_shared::aws::dynamodb_client(&sdk), table);
        for tenant in SeedFile::parse(&seed_json()).expect("seed").tenants {
            store.put_tenant(&tenant).await.expect("seed tenant");
        }

        let log_dir = workspace_root().join(".local/e2e-logs").join(&prefix);
        let template = stack.template().clone();
        let webhook = Emulated::start(
            &stack,
            &template,
            &[Run {
                function: "WebhookFunction",
                extra_env,
            }],
            &log_dir,
            emulated::options(true),
        );
        let base_url = webhook
            .base_url
            .clone()
            .expect("the webhook has an HTTP route");
        Running {
            stack,
            env,
            base_url,
            sqs: switchboard_shared::aws::sqs_client(&sdk),
            s3: switchboard_shared::aws::s3_client(&sdk),
            log_path: log_dir.join("WebhookFunction.log"),
            log_dir,
            emulators: vec![webhook],
        }
    }

    /// Runs `function` of `template` (this stack's own, or a changed copy) under the emulator
    /// with `extra_env`, until this `Running` is dropped; returns its HTTP API's base URL when
    /// it has routes.
    pub fn start_function(
        &mut self,
        template: &Template,
        function: &str,
        extra_env: &[(&str, &str)],
    ) -> Option<String> {
        let emulated = Emulated::start(
            &self.stack,
            template,
            &[Run {
                function,
                extra_env,
            }],
            &self.log_dir,
            emulated::options(true),
        );
        let base_url = emulated.base_url.clone();
        self.emulators.push(emulated);
        base_url
    }

    /// POSTs a body signed with `secret` (timestamp offset in seconds from now).
    pub fn post_signed(
        &self,
        path: &str,
        body: &[u8],
        secret: &str,
        skew_seconds: i64,
    ) -> (u16, String) {
        let nonce = format!("01NONCE{}", uuid::Uuid::new_v4().simple());
        let timestamp = (chrono::Utc::now().timestamp() + skew_seconds).to_string();
        let signature = signature::sign(secret.as_bytes(), body, &nonce, &timestamp);
        self.post(
            path,
            body,
            &[
                ("x-sinch-webhook-signature", signature.as_str()),
                ("x-sinch-webhook-signature-nonce", nonce.as_str()),
                ("x-sinch-webhook-signature-timestamp", timestamp.as_str()),
                ("x-sinch-webhook-signature-algorithm", "HmacSHA256"),
            ],
        )
    }

    pub fn post(&self, path: &str, body: &[u8], headers: &[(&str, &str)]) -> (u16, String) {
        http_post(&format!("{}{}", self.base_url, path), body, headers)
    }

    /// Runs the inbound stage (MediaFunction, fed by its SQS event source mapping on this
    /// stack's ingest queue) with `extra_env`; it stops with this `Running`.
    pub fn start_media(&mut self, extra_env: &[(&str, &str)]) {
        let template = self.stack.template().clone();
        self.start_function(&template, "MediaFunction", extra_env);
    }

    /// Runs the media link function behind its HTTP API route; returns the API's base URL.
    pub fn start_media_link(&mut self) -> String {
        let template = self.stack.template().clone();
        self.start_function(&template, "MediaLinkFunction", &[])
            .expect("the media link function has an HTTP route")
    }

    /// Events on the events queue, waiting up to `timeout` for at least `count`.
    pub async fn wait_for_events(
        &self,
        count: usize,
        timeout: std::time::Duration,
    ) -> Vec<(serde_json::Value, String)> {
        let queue = self
            .stack
            .function_environment("MediaFunction")
            .expect("media env")["SWITCHBOARD_EVENTS_QUEUE_URL"]
            .clone();
        let started = std::time::Instant::now();
        let mut events = Vec::new();
        while events.len() < count && started.elapsed() < timeout {
            events.extend(drain(&self.sqs, &queue).await);
        }
        events
    }

    /// What the webhook logged so far.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Everything on the ingest queue now (drained).
    pub async fn drain_ingest(&self) -> Vec<(serde_json::Value, String)> {
        drain(&self.sqs, &self.env("SWITCHBOARD_INGEST_QUEUE_URL")).await
    }
}

pub async fn drain(sqs: &aws_sdk_sqs::Client, queue_url: &str) -> Vec<(serde_json::Value, String)> {
    let mut messages = Vec::new();
    loop {
        let received = sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .message_system_attribute_names(
                aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId,
            )
            .send()
            .await
            .expect("receive");
        let batch = received.messages.unwrap_or_default();
        if batch.is_empty() {
            return messages;
        }
        for message in batch {
            let body: serde_json::Value =
                serde_json::from_str(message.body().unwrap_or("")).expect("JSON event");
            let group = message
                .attributes()
                .and_then(|a| {
                    a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId)
                })
                .cloned()
                .unwrap_or_default();
            sqs.delete_message()
                .queue_url(queue_url)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .send()
                .await
                .expect("delete");
            messages.push((body, group));
        }
    }
}

/// A JSON POST: (status, body as text). See [`simulator::http_call`].
pub fn http_post(url: &str, body: &[u8], headers: &[(&str, &str)]) -> (u16, String) {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    let (status, body, _) = simulator::http_call("POST", url, body, &all);
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// One answer of a [`media_server`]: status line text, content type and body.
pub struct MediaAnswer {
    pub status: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

/// A blocking loopback HTTP server on a thread of its own (the tests block while the functions
/// fetch from it): the `n`th request (from 0) gets `answer(n)`. Returns its `host:port`.
pub fn media_server(answer: impl Fn(usize) -> MediaAnswer + Send + 'static) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address").to_string();
    std::thread::spawn(move || {
        for (n, mut stream) in listener.incoming().flatten().enumerate() {
            // The whole request head first: closing with unread bytes would reset the
            // connection and lose the answer.
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(k) => request.extend_from_slice(&buffer[..k]),
                }
            }
            let MediaAnswer {
                status,
                content_type,
                body,
            } = answer(n);
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(body);
            let _ = stream.shutdown(std::net::Shutdown::Write);
        }
    });
    address
}

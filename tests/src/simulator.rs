//! The real `sinch-simulator` binary on a random loopback port, reading the tenants of a stack's
//! config table, for black-box tests of the simulator and of the Sinch client against it.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use switchboard_local_stack::local_stack::LocalStack;
use switchboard_shared::config::{ConfigStore, SeedFile};

use crate::{sdk, seed_json, unique_prefix, workspace_root};

/// The simulator binary next to this test binary, built from the current sources first (as
/// for the webhook: `cargo test -p switchboard-e2e` does not rebuild other packages' binaries).
fn simulator_binary() -> PathBuf {
    static BUILT: std::sync::Once = std::sync::Once::new();
    BUILT.call_once(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "-p",
                "switchboard-sinch-simulator",
                "--bin",
                "sinch-simulator",
            ])
            .current_dir(workspace_root())
            .status()
            .expect("run cargo build");
        assert!(status.success(), "building the simulator failed");
    });
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target profile dir");
    let binary = dir.join("sinch-simulator");
    assert!(binary.exists(), "{} is missing", binary.display());
    binary
}

pub struct SimulatorProcess {
    pub base_url: String,
    pub log_path: PathBuf,
    child: Child,
}

impl Drop for SimulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl SimulatorProcess {
    /// Starts the simulator on the config table `table`; `env` adds or overrides settings
    /// (e.g. `SWITCHBOARD_SINCH_WEBHOOK_BASE_URL`). AWS settings come from this process.
    pub fn start(test: &str, table: &str, env: &[(&str, &str)]) -> SimulatorProcess {
        let dir = workspace_root().join(".local/e2e-logs");
        std::fs::create_dir_all(&dir).expect("log folder");
        let log_path = dir.join(format!("sinch-{}.log", unique_prefix(test)));
        let log = std::fs::File::create(&log_path).expect("log file");
        let mut command = Command::new(simulator_binary());
        command
            .env("SWITCHBOARD_CONFIG_TABLE", table)
            .env("SWITCHBOARD_SINCH_PORT", "0")
            .env("RUST_LOG", "info");
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start sinch-simulator");
        let stdout = child.stdout.take().expect("stdout");
        let mut first_line = String::new();
        BufReader::new(stdout)
            .read_line(&mut first_line)
            .expect("the simulator announces its address");
        let base_url = first_line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("no listening line: {first_line:?}"))
            .to_owned();
        SimulatorProcess {
            base_url,
            log_path,
            child,
        }
    }

    /// A call to the simulator: (status, JSON answer or `null`).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> (u16, serde_json::Value) {
        let text = body.map(|b| b.to_string()).unwrap_or_default();
        let (status, answer, _) = http_call(
            method,
            &format!("{}{path}", self.base_url),
            text.as_bytes(),
            &[],
        );
        (
            status,
            serde_json::from_slice(&answer).unwrap_or(serde_json::Value::Null),
        )
    }

    /// `GET /_simulator/requests`.
    pub fn requests(&self) -> Vec<serde_json::Value> {
        let (status, answer) = self.call("GET", "/_simulator/requests", None);
        assert_eq!(status, 200);
        answer.as_array().cloned().expect("an array")
    }

    /// How many recorded requests have a path ending with `suffix`.
    pub fn count(&self, suffix: &str) -> usize {
        self.requests()
            .iter()
            .filter(|r| r["path"].as_str().is_some_and(|p| p.ends_with(suffix)))
            .count()
    }

    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }
}

/// A private stack seeded with [`seed_json`] and a simulator on its config table.
pub struct SimulatorStack {
    pub stack: LocalStack,
    pub table: String,
    pub store: ConfigStore,
    pub simulator: SimulatorProcess,
}

impl SimulatorStack {
    pub async fn start(test: &str, env: &[(&str, &str)]) -> SimulatorStack {
        let sdk = sdk().await;
        let stack = LocalStack::create(
            &sdk,
            &unique_prefix(test),
            &workspace_root().join("template.yaml"),
        )
        .await
        .expect("local stack");
        let table = stack
            .function_environment("WebhookFunction")
            .expect("webhook env")
            .get("SWITCHBOARD_CONFIG_TABLE")
            .cloned()
            .expect("config table");
        let store = ConfigStore::new(
            switchboard_shared::aws::dynamodb_client(&sdk),
            table.clone(),
        );
        for tenant in SeedFile::parse(&seed_json()).expect("seed").tenants {
            store.put_tenant(&tenant).await.expect("seed tenant");
        }
        let simulator = SimulatorProcess::start(test, &table, env);
        SimulatorStack {
            stack,
            table,
            store,
            simulator,
        }
    }
}

/// A minimal blocking HTTP/1.1 call: (status, body, lower-case headers).
pub fn http_call(
    method: &str,
    url: &str,
    body: &[u8],
    headers: &[(&str, &str)],
) -> (u16, Vec<u8>, Vec<(String, String)>) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http url");
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    // A server that hangs fails the test instead of hanging it.
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("read timeout");
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("write head");
    // A server may answer (413) and close before reading a large body; that is not an error here.
    let _ = stream.write_all(body);
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete answer");
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, response[split + 4..].to_vec(), headers)
}

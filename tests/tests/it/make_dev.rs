//! `make dev` as a user runs it, checked from outside: `infra/scripts/dev.sh` on free ports, a
//! file server of the test's own let through `SWITCHBOARD_MEDIA_ALLOW_LOCAL`, signed callbacks
//! posted to the emulator's HTTP API, every function a Lambda binary under the emulator, agent commands put on `replies.fifo`, and what arrives on
//! `events.fifo`, at the simulator and behind the links. These are the "Done means" of the
//! inbound stage and the reply path, run the way an outside check runs them.
//!
//! One session serves every test of this file (started by the first, stopped when the test
//! process ends, also on a panic: the session's watchdog kills its whole process group once
//! the test process's end of a pipe closes). One collector drains `events.fifo`; each test
//! picks its own events out of what was collected (its own conversation or reply ids).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard_e2e::simulator::http_call;
use switchboard_e2e::{http_post, workspace_root};
use switchboard_shared::sinch::signature;

const APP: &str = "01DEMOAPP00000000000000001";
const PROJECT: &str = "00000000-0000-4000-8000-00000000demo";
const SECRET: &str = "demo-webhook-secret";
const WEBHOOK: &str = "/demo/sms/sinchconversation/main";
/// What the log of the session says once dev.sh has ended, followed by its exit status.
const EXITED: &str = "make-dev test: infra/scripts/dev.sh exited with status";
/// Waits for what the session should produce; generous, as builds may share the machine.
const WAIT: Duration = Duration::from_secs(120);

/// The tests that use the simulator's faults or count its requests run one at a time.
static SIMULATOR: Mutex<()> = Mutex::new(());

// --- the session --------------------------------------------------------------------------

struct Dev {
    rt: tokio::runtime::Runtime,
    http_port: u16,
    sinch_port: u16,
    public_media_port: u16,
    files: FileServer,
    replies_queue: String,
    ingest_queue: String,
    bucket: String,
    sqs: aws_sdk_sqs::Client,
    s3: aws_sdk_s3::Client,
    events: Arc<Mutex<Vec<Value>>>,
    log: PathBuf,
    dev_dir: PathBuf,
    /// Closing it (the test process ending) makes the watchdog stop the session.
    _watchdog: Mutex<(Child, ChildStdin)>,
}

fn dev() -> &'static Dev {
    static DEV: OnceLock<Dev> = OnceLock::new();
    DEV.get_or_init(Dev::start)
}

/// A port nothing listens on now (the listener is held until all are chosen).
fn free_ports(count: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..count)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("a free port"))
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().expect("address").port())
        .collect()
}

fn env_file(dev_dir: &std::path::Path, name: &str) -> BTreeMap<String, String> {
    let path = dev_dir.join(format!("dev-stack/{name}.env"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

impl Dev {
    fn start() -> Dev {
        let root = workspace_root();
        let files = FileServer::start();
        let ports = free_ports(4);
        let (http_port, sinch_port, public_media_port, moto_port) =
            (ports[0], ports[1], ports[2], ports[3]);
        let log_dir = root.join(".local/e2e-logs");
        std::fs::create_dir_all(&log_dir).expect("log folder");
        let log = log_dir.join(format!("make-dev-{}.log", std::process::id()));
        // Its own environments, not those of a `make dev` the user may be running here.
        let dev_dir = root.join(format!(".local/make-dev-test-{}", std::process::id()));
        // dev.sh in a process group of its own, under a watchdog that stops the whole group when
        // its stdin closes, i.e. when this test process ends however it ends. The watchdog
        // ignores TERM only after dev.sh is started: an ignored signal would be inherited. The
        // log says when dev.sh ends, so a session that cannot start fails the test at once.
        let watchdog = r#"
            ("$0" < /dev/null; echo "$EXITED $?") > "$1" 2>&1 &
            trap '' TERM
            cat > /dev/null
            kill -TERM 0 2>/dev/null
            sleep 3
            rm -rf "$2"
            kill -KILL 0
        "#;
        let mut child = Command::new("bash")
            .arg("-c")
            .arg(watchdog)
            .arg(root.join("infra/scripts/dev.sh"))
            .arg(&log)
            .arg(&dev_dir)
            .current_dir(&root)
            .env("EXITED", EXITED)
            .env_remove("SWITCHBOARD_SEED")
            .env("SWITCHBOARD_HTTP_PORT", http_port.to_string())
            .env("SWITCHBOARD_SINCH_PORT", sinch_port.to_string())
            .env(
                "SWITCHBOARD_PUBLIC_MEDIA_PORT",
                public_media_port.to_string(),
            )
            // Schedules (retention) fire every few seconds, so the test sees one.
            .env("SWITCHBOARD_SCHEDULE_EVERY_SECS", "3")
            .env("SWITCHBOARD_MOTO_PORT", moto_port.to_string())
            .env("SWITCHBOARD_MEDIA_ALLOW_LOCAL", &files.address)
            .env("SWITCHBOARD_DEV_DIR", &dev_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("start infra/scripts/dev.sh");
        let stdin = child.stdin.take().expect("the watchdog's stdin");
        let watchdog = Mutex::new((child, stdin));

        // Ready once it printed its banner (after building, on a cold machine minutes) and
        // everything it announced answers.
        let started = Instant::now();
        let read_log = || std::fs::read_to_string(&log).unwrap_or_default();
        while !read_log().contains("Ctrl-C stops everything.") {
            assert!(
                !read_log().contains(EXITED),
                "make dev stopped before it was ready; its output:\n{}",
                tail(&read_log())
            );
            assert!(
                started.elapsed() < Duration::from_secs(1200),
                "make dev did not start within 20 minutes; its output:\n{}",
                tail(&read_log())
            );
            std::thread::sleep(Duration::from_millis(500));
        }
        let banner = read_log();
        let mut addresses: Vec<String> = banner
            .split("http://127.0.0.1:")
            .skip(1)
            .filter_map(|rest| {
                let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                (!port.is_empty()).then(|| format!("127.0.0.1:{port}"))
            })
            .collect();
        addresses.sort();
        addresses.dedup();
        for port in [http_port, sinch_port, public_media_port, moto_port] {
            assert!(
                addresses.contains(&format!("127.0.0.1:{port}")),
                "make dev does not announce port {port} that it was given:\n{banner}"
            );
        }
        for address in &addresses {
            while std::net::TcpStream::connect(address).is_err() {
                assert!(
                    started.elapsed() < Duration::from_secs(1260),
                    "{address}, announced by make dev, does not answer:\n{}",
                    tail(&read_log())
                );
                std::thread::sleep(Duration::from_millis(200));
            }
        }

        let media = env_file(&dev_dir, "MediaFunction");
        let events_queue = media["SWITCHBOARD_EVENTS_QUEUE_URL"].clone();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "eu-west-1".into());
        let sdk = rt.block_on(
            aws_config::defaults(aws_config::BehaviorVersion::latest())
                .endpoint_url(format!("http://127.0.0.1:{moto_port}"))
                .region(aws_sdk_sqs::config::Region::new(region))
                .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                    "testing", "testing", None, None, "make-dev",
                ))
                .load(),
        );
        let sqs = switchboard_shared::aws::sqs_client(&sdk);
        let s3 = switchboard_shared::aws::s3_client(&sdk);
        let queue_url = |logical_id: &str| {
            let name = format!("switchboard-local-{logical_id}.fifo");
            rt.block_on(sqs.get_queue_url().queue_name(&name).send())
                .unwrap_or_else(|err| panic!("queue {name}: {err}"))
                .queue_url
                .unwrap_or_default()
        };
        let (replies_queue, ingest_queue) = (queue_url("RepliesQueue"), queue_url("IngestQueue"));
        let events = Arc::new(Mutex::new(Vec::new()));
        rt.spawn(collect(sqs.clone(), events_queue, Arc::clone(&events)));
        Dev {
            rt,
            http_port,
            sinch_port,
            public_media_port,
            files,
            replies_queue,
            ingest_queue,
            dev_dir,
            bucket: media["SWITCHBOARD_MEDIA_BUCKET"].clone(),
            sqs,
            s3,
            events,
            log,
            _watchdog: watchdog,
        }
    }

    fn logs(&self) -> String {
        tail(&std::fs::read_to_string(&self.log).unwrap_or_default())
    }

    /// Waits until `found` finds what it looks for in the events collected so far.
    fn wait_for<T>(&self, what: &str, found: impl Fn(&[Value]) -> Option<T>) -> T {
        let started = Instant::now();
        loop {
            let events = self.events.lock().unwrap().clone();
            if let Some(result) = found(&events) {
                return result;
            }
            if started.elapsed() > WAIT {
                let kinds: Vec<String> = events.iter().map(short).collect();
                panic!(
                    "waited {WAIT:?} for {what} on events.fifo; collected:\n{}\nmake dev's log:\n{}",
                    kinds.join("\n"),
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }

    fn events_where(&self, keep: impl Fn(&Value) -> bool) -> Vec<Value> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| keep(e))
            .cloned()
            .collect()
    }

    /// POSTs `body` to the webhook, signed as Sinch signs.
    fn post_signed(&self, body: &Value) {
        self.post_signed_to(WEBHOOK, body);
    }

    /// As [`Dev::post_signed`], to another of the webhook's paths.
    fn post_signed_to(&self, path: &str, body: &Value) {
        let body = body.to_string();
        let nonce = format!("01NONCE{}", uuid::Uuid::new_v4().simple());
        let timestamp = chrono::Utc::now().timestamp().to_string();
        let signature = signature::sign(SECRET.as_bytes(), body.as_bytes(), &nonce, &timestamp);
        let (status, answer) = http_post(
            &format!("http://127.0.0.1:{}{path}", self.http_port),
            body.as_bytes(),
            &[
                ("x-sinch-webhook-signature", signature.as_str()),
                ("x-sinch-webhook-signature-nonce", nonce.as_str()),
                ("x-sinch-webhook-signature-timestamp", timestamp.as_str()),
                ("x-sinch-webhook-signature-algorithm", "HmacSHA256"),
            ],
        );
        assert_eq!(
            status, 200,
            "the webhook refused a signed callback: {answer}"
        );
    }

    fn sinch(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let text = body.map(|b| b.to_string()).unwrap_or_default();
        let (status, answer, _) = http_call(
            method,
            &format!("http://127.0.0.1:{}{path}", self.sinch_port),
            text.as_bytes(),
            &[("Content-Type", "application/json")],
        );
        assert_eq!(
            status,
            200,
            "simulator {method} {path}: {}",
            String::from_utf8_lossy(&answer)
        );
        serde_json::from_slice(&answer).unwrap_or(Value::Null)
    }

    /// Every request the simulator received in this session (never cleared: the session's
    /// token requests are counted), oldest first.
    fn requests(&self) -> Vec<Value> {
        self.sinch("GET", "/_simulator/requests", None)
            .as_array()
            .cloned()
            .expect("an array of requests")
    }

    /// The sends (`messages:send`, `events:send`, faulted ones too) after the first `mark`
    /// requests.
    fn sends_since(&self, mark: usize) -> Vec<Value> {
        self.requests()
            .into_iter()
            .skip(mark)
            .filter(|r| {
                let path = r["path"].as_str().unwrap_or_default();
                path.ends_with("/messages:send") || path.ends_with("/events:send")
            })
            .collect()
    }

    /// Tokens are cached per container, not fetched per send: one per service per warm
    /// container (execution environment) of the outbound function and of the inbound stage
    /// (display names), and the emulator runs as many of each as their concurrency needs, as
    /// Lambda does. A token request that the client timed out and retried under load is recorded
    /// twice by the simulator, hence the factor of two.
    fn assert_token_requests(&self) {
        let requests = self.requests();
        let tokens = requests
            .iter()
            .filter(|r| r["path"] == "/oauth2/token")
            .count();
        let sends = requests
            .iter()
            .filter(|r| {
                let path = r["path"].as_str().unwrap_or_default();
                path.ends_with("/messages:send") || path.ends_with("/events:send")
            })
            .count();
        let containers = function_processes(self)
            .iter()
            .filter(|p| p.binary == "outbound" || p.binary == "media")
            .count();
        assert!(
            tokens >= 1 && tokens <= 2 * containers && tokens < sends,
            "{tokens} token requests for {sends} sends in the session: at most one per container \
             ({containers} outbound and inbound-stage containers ran, retries aside) expected"
        );
    }

    fn put_command(&self, command: &Value, group: &str, dedup: &str) {
        self.rt
            .block_on(
                self.sqs
                    .send_message()
                    .queue_url(&self.replies_queue)
                    .message_body(command.to_string())
                    .message_group_id(group)
                    .message_deduplication_id(dedup)
                    .send(),
            )
            .expect("put a command on replies.fifo");
    }
}

fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

/// One line per event, for failure messages.
fn short(event: &Value) -> String {
    format!(
        "{} conv={} msg={} reply={} status={} outcome={}",
        event["kind"],
        event["conversation_id"],
        event["message"]["message_id"],
        event["reply_id"],
        event["delivery"]["status"],
        event["send_result"]["outcome"]
    )
}

/// Drains `events.fifo` for the whole session, as a contact center would.
async fn collect(sqs: aws_sdk_sqs::Client, queue: String, events: Arc<Mutex<Vec<Value>>>) {
    loop {
        let received = sqs
            .receive_message()
            .queue_url(&queue)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await;
        let Ok(received) = received else {
            tokio::time::sleep(Duration::from_secs(1)).await;
            continue;
        };
        for message in received.messages.unwrap_or_default() {
            let body: Value = serde_json::from_str(message.body().unwrap_or_default())
                .unwrap_or_else(|_| json!({"unparsable": message.body()}));
            events.lock().unwrap().push(body);
            let _ = sqs
                .delete_message()
                .queue_url(&queue)
                .receipt_handle(message.receipt_handle().unwrap_or_default())
                .send()
                .await;
        }
    }
}

// --- the test's own file server and listeners that must never be reached -----------------

struct FileServer {
    /// `127.0.0.1:port`, the one endpoint in `SWITCHBOARD_MEDIA_ALLOW_LOCAL`.
    address: String,
    png: Vec<u8>,
    pdf: Vec<u8>,
    ogg: Vec<u8>,
}

fn noise(seed: u8, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

impl FileServer {
    fn start() -> FileServer {
        let mut png =
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89"
                .to_vec();
        png.extend(noise(1, 3000));
        let mut pdf = b"%PDF-1.7\n".to_vec();
        pdf.extend(noise(2, 5000));
        pdf.extend(b"\n%%EOF\n");
        let mut ogg = b"OggS\0\x02\0\0\0\0\0\0\0\0".to_vec();
        ogg.extend(noise(3, 7000));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        let files: Vec<(&'static str, &'static str, Vec<u8>)> = vec![
            ("/photo.png", "image/png", png.clone()),
            ("/invoice.pdf", "application/pdf", pdf.clone()),
            ("/voice.ogg", "audio/ogg", ogg.clone()),
        ];
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let path = read_request_path(&mut stream);
                let head = match files.iter().find(|(p, _, _)| *p == path) {
                    Some((_, content_type, body)) => {
                        let head = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        );
                        let _ = stream.write_all(head.as_bytes());
                        let _ = stream.write_all(body);
                        None
                    }
                    None if path == "/to-metadata-https" => Some(
                        "HTTP/1.1 302 Found\r\nLocation: https://169.254.169.254/latest/meta-data/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    ),
                    None if path == "/to-metadata" => Some(
                        "HTTP/1.1 302 Found\r\nLocation: http://169.254.169.254/latest/meta-data/\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    ),
                    None => Some(
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    ),
                };
                if let Some(head) = head {
                    let _ = stream.write_all(head.as_bytes());
                }
                let _ = stream.shutdown(std::net::Shutdown::Write);
            }
        });
        FileServer {
            address,
            png,
            pdf,
            ogg,
        }
    }
}

/// Reads a request head whole (closing with unread bytes would reset the connection).
fn read_request_path(stream: &mut std::net::TcpStream) -> String {
    let mut request = Vec::new();
    let mut buffer = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
    }
    String::from_utf8_lossy(&request)
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned()
}

/// A listener that counts connections: an address media must never be fetched from.
fn trap(bind: &str) -> Option<(u16, Arc<Mutex<usize>>)> {
    let listener = TcpListener::bind(bind).ok()?;
    let port = listener.local_addr().ok()?.port();
    let hits = Arc::new(Mutex::new(0));
    let counted = Arc::clone(&hits);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            *counted.lock().unwrap() += 1;
            drop(stream);
        }
    });
    Some((port, hits))
}

// --- callbacks, as Sinch sends them ---------------------------------------------------------

fn run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..12].to_uppercase()
}

fn inbound(conversation: &str, id: &str, contact_message: Value) -> Value {
    json!({
        "app_id": APP, "project_id": PROJECT,
        "accepted_time": chrono::Utc::now().to_rfc3339(), "event_time": chrono::Utc::now().to_rfc3339(),
        "message": {
            "id": id, "direction": "TO_APP", "conversation_id": conversation,
            "contact_id": format!("01CONTACT{conversation}"),
            "channel_identity": {"channel": "WHATSAPP", "identity": "46712312312", "app_id": APP},
            "contact_message": contact_message, "metadata": ""
        },
        "message_metadata": ""
    })
}

fn media(url: String) -> Value {
    json!({"media_message": {"url": url}})
}

fn delivery(conversation: &str, message_id: &str, status: &str) -> Value {
    let mut report = json!({
        "message_id": message_id, "conversation_id": conversation, "status": status,
        "channel_identity": {"channel": "WHATSAPP", "identity": "46712312312", "app_id": ""},
        "contact_id": format!("01CONTACT{conversation}"), "metadata": "", "processing_mode": "CONVERSATION"
    });
    if status == "FAILED" {
        report["reason"] = json!({"code": "RECIPIENT_NOT_REACHABLE", "description": "test", "sub_code": "UNSPECIFIED_SUB_CODE"});
    }
    json!({
        "app_id": APP, "project_id": PROJECT,
        "accepted_time": chrono::Utc::now().to_rfc3339(), "event_time": chrono::Utc::now().to_rfc3339(),
        "message_delivery_report": report, "message_metadata": ""
    })
}

fn messages_of(dev: &Dev, conversation: &str) -> Vec<Value> {
    dev.events_where(|e| e["kind"] == "message" && e["conversation_id"] == conversation)
}

/// Follows an agent's link: the gateway's 302 to a presigned S3 URL, which gives the bytes.
fn follow_link(item: &Value) -> Vec<u8> {
    let url = item["url"]
        .as_str()
        .unwrap_or_else(|| panic!("no url: {item}"));
    let (status, _, headers) = http_call("GET", url, b"", &[]);
    assert_eq!(status, 302, "the link {url} answered {status}");
    let location = headers
        .iter()
        .find(|(n, _)| n == "location")
        .map(|(_, v)| v.clone())
        .expect("a Location");
    let (status, body, _) = http_call("GET", &location, b"", &[]);
    assert_eq!(status, 200, "the presigned URL answered {status}");
    body
}

// --- the inbound stage's "Done means" ------------------------------------------------------

#[test]
fn image_pdf_voice_note_and_location_arrive_in_order_stored_and_linked() {
    let dev = dev();
    let run = run_id();
    let conversation = format!("01CONVMEDIA{run}");
    let base = format!("http://{}", dev.files.address);
    let posted = [
        (format!("01IMG{run}"), media(format!("{base}/photo.png"))),
        (
            format!("01TXT{run}"),
            json!({"text_message": {"text": "right after the image"}}),
        ),
        (format!("01PDF{run}"), media(format!("{base}/invoice.pdf"))),
        (format!("01OGG{run}"), media(format!("{base}/voice.ogg"))),
        (
            format!("01LOC{run}"),
            json!({"location_message": {"coordinates": {"latitude": 55.7278, "longitude": 13.1750}, "title": "ICA", "label": "Lund"}}),
        ),
    ];
    // The last through the path that serves all of the tenant's services, as README's example.
    for (n, (id, content)) in posted.iter().enumerate() {
        let callback = inbound(&conversation, id, content.clone());
        if n + 1 == posted.len() {
            dev.post_signed_to("/demo/sms/sinchconversation/all", &callback);
        } else {
            dev.post_signed(&callback);
        }
    }
    let events = dev.wait_for("the five messages of the media conversation", |_| {
        let events = messages_of(dev, &conversation);
        (events.len() >= posted.len()).then_some(events)
    });
    let ids: Vec<&str> = events
        .iter()
        .map(|e| e["message"]["message_id"].as_str().unwrap_or_default())
        .collect();
    let expected: Vec<&str> = posted.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, expected, "in the order posted, each once");
    assert_eq!(
        events[4]["message"]["content_kind"], "location_message",
        "{}",
        events[4]
    );

    for (event, (bytes, content_type)) in [&events[0], &events[2], &events[3]].into_iter().zip([
        (&dev.files.png, "image/png"),
        (&dev.files.pdf, "application/pdf"),
        (&dev.files.ogg, "audio/ogg"),
    ]) {
        let item = &event["message"]["media"][0];
        assert_eq!(item["status"], "stored", "{item}");
        assert_eq!(item["content_type"], content_type, "{item}");
        assert_eq!(item["size_bytes"], bytes.len(), "{item}");
        let key = item["s3_key"].as_str().expect("s3_key");
        let stored = dev
            .rt
            .block_on(async {
                let object = dev
                    .s3
                    .get_object()
                    .bucket(&dev.bucket)
                    .key(key)
                    .send()
                    .await?;
                Ok::<_, Box<dyn std::error::Error>>(object.body.collect().await?.into_bytes())
            })
            .unwrap_or_else(|e| panic!("{key} is not in the bucket: {e}"));
        assert_eq!(stored.as_ref(), bytes.as_slice(), "{key}: the exact bytes");
        assert!(
            item["url"].as_str().is_some_and(
                |u| u.starts_with(&format!("http://127.0.0.1:{}/demo/media/", dev.http_port))
            ),
            "the link is the gateway's: {item}"
        );
        assert_eq!(
            &follow_link(item),
            bytes,
            "{content_type}: the link's bytes"
        );
    }
}

#[test]
fn the_same_callback_three_times_is_one_event_and_reports_never_go_backwards() {
    let dev = dev();
    let run = run_id();
    let conversation = format!("01CONVREPEAT{run}");
    let id = format!("01REPEAT{run}");
    let callback = inbound(
        &conversation,
        &id,
        json!({"text_message": {"text": "said three times"}}),
    );
    dev.post_signed(&callback);
    dev.post_signed(&callback);
    let first = dev.wait_for("the repeated callback's event", |_| {
        messages_of(dev, &conversation).into_iter().next()
    });
    // Later, beyond SQS's de-duplication: posted again, and the event queued on ingest.fifo
    // again under a new de-duplication id, as the webhook would queue it minutes later.
    dev.post_signed(&callback);
    dev.rt
        .block_on(
            dev.sqs
                .send_message()
                .queue_url(&dev.ingest_queue)
                .message_body(first.to_string())
                .message_group_id(format!("demo/c/{conversation}"))
                .message_deduplication_id(format!("later-{run}"))
                .send(),
        )
        .expect("the event on ingest.fifo again");

    // Delivery reports of one message, out of order: READ first, then the earlier statuses
    // (dropped), then FAILED (always forwarded), which also shows the others were handled.
    let message_id = format!("01SENT{run}");
    for status in ["READ", "QUEUED_ON_CHANNEL", "DELIVERED", "FAILED"] {
        dev.post_signed(&delivery(&conversation, &message_id, status));
    }
    dev.wait_for("the FAILED report", |events| {
        events
            .iter()
            .any(|e| {
                e["delivery"]["message_id"] == message_id.as_str()
                    && e["delivery"]["status"] == "FAILED"
            })
            .then_some(())
    });
    // A text after everything in the same conversation: once it is out, the repeats are too.
    dev.post_signed(&inbound(
        &conversation,
        &format!("01MARK{run}"),
        json!({"text_message": {"text": "marker"}}),
    ));
    dev.wait_for("the marker after the repeats", |_| {
        (messages_of(dev, &conversation).len() >= 2).then_some(())
    });
    std::thread::sleep(Duration::from_secs(3));
    let ids: Vec<Value> = messages_of(dev, &conversation)
        .iter()
        .map(|e| e["message"]["message_id"].clone())
        .collect();
    assert_eq!(
        ids,
        [json!(id), json!(format!("01MARK{run}"))],
        "one event for the callback posted three times and queued again"
    );
    let statuses: Vec<Value> = dev
        .events_where(|e| e["delivery"]["message_id"] == message_id.as_str())
        .iter()
        .map(|e| e["delivery"]["status"].clone())
        .collect();
    assert_eq!(
        statuses,
        [json!("READ"), json!("FAILED")],
        "no status moves backwards"
    );
}

#[test]
fn media_at_forbidden_addresses_is_never_fetched_and_arrives_failed_with_why() {
    let dev = dev();
    let run = run_id();
    let conversation = format!("01CONVSSRF{run}");
    let (loopback_port, loopback_hits) = trap("127.0.0.1:0").expect("a loopback listener");
    let ipv6 = trap("[::1]:0");
    let ipv6_port = ipv6.as_ref().map_or(443, |(port, _)| *port);
    // (URL, how the failure reason starts): refused before any connection, for the address
    // (also behind a name or a redirect) or for plain http outside the local allow-list.
    // An explicit port other than 443 may be refused for its port before its address is
    // looked at: either reason refuses it without a connection (the trap counts).
    const BLOCKED: &str = "blocked address: ";
    const HTTP: &str = "plain http is not allowed";
    const BLOCKED_OR_PORT: &str = "blocked address: |port ";
    let cases = [
        (format!("http://127.0.0.1:{loopback_port}/x.png"), HTTP),
        (
            format!("https://127.0.0.1:{loopback_port}/x.png"),
            BLOCKED_OR_PORT,
        ),
        (
            format!("https://localhost:{loopback_port}/x.png"),
            BLOCKED_OR_PORT,
        ),
        ("https://10.0.0.1/x.png".to_owned(), BLOCKED),
        ("http://10.0.0.1/x.png".to_owned(), HTTP),
        (
            "https://169.254.169.254/latest/meta-data/".to_owned(),
            BLOCKED,
        ),
        ("http://169.254.169.254/latest/meta-data/".to_owned(), HTTP),
        (format!("https://[::1]:{ipv6_port}/x.png"), BLOCKED_OR_PORT),
        (format!("http://[::1]:{ipv6_port}/x.png"), HTTP),
        (format!("http://{}/to-metadata", dev.files.address), HTTP),
        (
            format!("http://{}/to-metadata-https", dev.files.address),
            "blocked address: instance metadata",
        ),
    ];
    let urls: Vec<&String> = cases.iter().map(|(url, _)| url).collect();
    for (n, url) in urls.iter().enumerate() {
        dev.post_signed(&inbound(
            &conversation,
            &format!("01SSRF{n}{run}"),
            media((*url).clone()),
        ));
    }
    let events = dev.wait_for("an event per forbidden media URL", |_| {
        let events = messages_of(dev, &conversation);
        (events.len() >= urls.len()).then_some(events)
    });
    assert_eq!(events.len(), urls.len());
    for (event, (url, reason)) in events.iter().zip(&cases) {
        let item = &event["message"]["media"][0];
        assert_eq!(item["status"], "failed", "{url}: {item}");
        assert!(
            item["failure_reason"]
                .as_str()
                .is_some_and(|r| reason.split('|').any(|start| r.starts_with(start))),
            "{url}: the failure_reason should start with {reason:?}: {item}"
        );
        assert!(
            item["s3_key"].is_null() && item["url"].is_null(),
            "{url}: {item}"
        );
    }
    assert_eq!(
        *loopback_hits.lock().unwrap(),
        0,
        "127.0.0.1 was connected to"
    );
    if let Some((_, hits)) = ipv6 {
        assert_eq!(*hits.lock().unwrap(), 0, "[::1] was connected to");
    }
}

// --- the reply path's "Done means" ---------------------------------------------------------

/// An agent's attachment put into the bucket: (S3 key, bytes, content type).
type Attachment = (String, Vec<u8>, String);

/// Every golden agent command, with fresh reply ids and, for attachments by S3 key, fresh
/// objects of today in the stack's bucket: (file name, command), and the objects put.
fn golden_commands(dev: &Dev, run: &str) -> (Vec<(String, Value)>, Vec<Attachment>) {
    let dir = workspace_root().join("schemas/examples");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .expect("schemas/examples")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("agent-command-") && n.ends_with(".json"))
        .collect();
    names.sort();
    let today = chrono::Utc::now().format("%Y-%m-%d");
    let mut objects = Vec::new();
    let commands = names
        .into_iter()
        .enumerate()
        .map(|(n, name)| {
            let text = std::fs::read_to_string(dir.join(&name)).expect("the example");
            let mut command: Value = serde_json::from_str(&text).expect("JSON");
            command["reply_id"] = json!(format!("mkdev-{run}-{n}"));
            rekey(&mut command, &mut |old| {
                let file = old.rsplit('/').next().unwrap_or("file");
                let key = format!(
                    "outbound/demo/{today}/{}/{file}",
                    uuid::Uuid::new_v4().simple()
                );
                let content_type = if file.ends_with(".png") {
                    "image/png"
                } else {
                    "application/pdf"
                };
                objects.push((
                    key.clone(),
                    noise(n as u8, 2048 + n),
                    content_type.to_owned(),
                ));
                key
            });
            (name, command)
        })
        .collect();
    for (key, bytes, content_type) in &objects {
        dev.rt
            .block_on(
                dev.s3
                    .put_object()
                    .bucket(&dev.bucket)
                    .key(key)
                    .content_type(content_type)
                    .body(bytes.clone().into())
                    .send(),
            )
            .expect("an agent's attachment in the bucket");
    }
    (commands, objects)
}

fn rekey(value: &mut Value, fresh: &mut impl FnMut(&str) -> String) {
    match value {
        Value::Object(map) => {
            for (name, field) in map.iter_mut() {
                if name == "s3_key"
                    && let Some(old) = field.as_str()
                {
                    *field = json!(fresh(old));
                } else {
                    rekey(field, fresh);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| rekey(item, fresh)),
        _ => {}
    }
}

fn send_results(dev: &Dev, reply_id: &str) -> Vec<Value> {
    dev.events_where(|e| e["kind"] == "send_result" && e["reply_id"] == reply_id)
}

/// Runs `.tools/sinch/bin/sinch-check-requests` on the simulator's recorded requests.
fn sdk_check(requests: &[Value]) -> String {
    let checker = workspace_root().join(".tools/sinch/bin/sinch-check-requests");
    assert!(
        checker.exists(),
        "{} is missing: run `infra/scripts/install-tools.sh sinch` (make test does)",
        checker.display()
    );
    let file = std::env::temp_dir().join(format!("make-dev-requests-{}.json", run_id()));
    std::fs::write(&file, serde_json::to_vec(requests).unwrap()).unwrap();
    let output = Command::new(&checker)
        .arg(&file)
        .current_dir(workspace_root())
        .output()
        .expect("run sinch-check-requests");
    let _ = std::fs::remove_file(&file);
    let printed = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "Sinch's SDK models refuse what make dev sent:\n{printed}"
    );
    printed
}

#[test]
fn every_agent_command_reaches_the_simulator_and_its_result_and_reports_come_back() {
    let dev = dev();
    let _one_at_a_time = SIMULATOR.lock().unwrap_or_else(|p| p.into_inner());
    let mark = dev.requests().len();
    let run = run_id();
    let (commands, objects) = golden_commands(dev, &run);
    assert!(commands.len() >= 13, "{commands:?}");
    for (n, (_, command)) in commands.iter().enumerate() {
        dev.put_command(
            command,
            &format!("demo/mkdev-{run}-{n}"),
            &format!("{run}-{n}"),
        );
    }
    let mut accepted = BTreeMap::new();
    for (name, command) in &commands {
        let reply_id = command["reply_id"].as_str().unwrap();
        let result = dev.wait_for(&format!("the send_result of {name}"), |_| {
            send_results(dev, reply_id).into_iter().next()
        });
        assert_eq!(
            result["send_result"]["outcome"], "accepted",
            "{name}: {result}"
        );
        let id = result["send_result"]["sinch_message_id"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no Sinch id: {result}"))
            .to_owned();
        accepted.insert(name.clone(), (reply_id.to_owned(), id));
    }

    let sends = dev.sends_since(mark);
    let messages = commands
        .iter()
        .filter(|(_, c)| c.get("message").is_some())
        .count();
    let events = commands.len() - messages;
    assert_eq!(
        sends.len(),
        commands.len(),
        "one request per command: {sends:#?}"
    );
    let printed = sdk_check(&dev.requests()[mark..]);
    assert!(
        printed.contains(&format!(
            "valid: {messages} messages:send, {events} events:send"
        )),
        "{printed}"
    );

    // The attachments by S3 key: given to Sinch as the local stand-in's public URL, which
    // answers 200 with the file itself.
    let bodies: Vec<String> = sends
        .iter()
        .map(|r| r["body"].as_str().unwrap_or_default().to_owned())
        .collect();
    for (key, bytes, content_type) in &objects {
        let url = format!("http://127.0.0.1:{}/{key}", dev.public_media_port);
        assert!(
            bodies.iter().any(|b| b.contains(&format!("\"{url}\""))),
            "no request gives Sinch {url}: {bodies:#?}"
        );
        let (status, body, headers) = http_call("GET", &url, b"", &[]);
        assert_eq!(status, 200, "{url}");
        assert_eq!(&body, bytes, "{url}: the exact bytes");
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(
            header("content-length"),
            Some(bytes.len().to_string()),
            "{url}"
        );
        assert_eq!(
            header("content-type").as_deref(),
            Some(content_type.as_str()),
            "{url}"
        );
    }
    // Once retention (here: the test) removes the object, its URL stops working.
    let (key, _, _) = &objects[0];
    dev.rt
        .block_on(dev.s3.delete_object().bucket(&dev.bucket).key(key).send())
        .expect("delete the attachment");
    let url = format!("http://127.0.0.1:{}/{key}", dev.public_media_port);
    let (status, _, _) = http_call("GET", &url, b"", &[]);
    assert!(
        status == 404 || status == 410,
        "{url} answers {status} after its object is gone"
    );

    // The simulator's delivery reports of each message come back with the command's reply_id,
    // after its send_result.
    for (name, command) in &commands {
        if command.get("message").is_none() {
            continue;
        }
        let (reply_id, message_id) = &accepted[name];
        let statuses = dev.wait_for(&format!("the delivery reports of {name}"), |events| {
            let reports: Vec<&Value> = events
                .iter()
                .filter(|e| {
                    e["kind"] == "delivery" && e["delivery"]["message_id"] == message_id.as_str()
                })
                .collect();
            (reports.len() >= 3).then(|| {
                let result_at = events
                    .iter()
                    .position(|e| e["kind"] == "send_result" && e["reply_id"] == reply_id.as_str());
                let first_report = events.iter().position(|e| {
                    e["kind"] == "delivery" && e["delivery"]["message_id"] == message_id.as_str()
                });
                assert!(
                    result_at < first_report,
                    "{name}: a report before the send_result"
                );
                for report in &reports {
                    assert_eq!(report["reply_id"], reply_id.as_str(), "{name}: {report}");
                }
                reports
                    .iter()
                    .map(|r| r["delivery"]["status"].clone())
                    .collect::<Vec<_>>()
            })
        });
        assert_eq!(
            statuses,
            [
                json!("QUEUED_ON_CHANNEL"),
                json!("DELIVERED"),
                json!("READ")
            ],
            "{name}"
        );
    }
    dev.assert_token_requests();
}

fn text_command(reply_id: &str, identity: &str) -> Value {
    json!({
        "schema_version": 1, "reply_id": reply_id, "tenant": "demo",
        "queue_address": format!("{APP}@whatsapp.sinchconversation.com"),
        "recipient": {"channel": "WHATSAPP", "identity": identity},
        "message": {"text_message": {"text": format!("reply {reply_id}")}}
    })
}

#[test]
fn with_429s_503s_a_400_and_a_command_put_twice_each_command_is_sent_once() {
    let dev = dev();
    let _one_at_a_time = SIMULATOR.lock().unwrap_or_else(|p| p.into_inner());
    let run = run_id();

    // 429 and 503 for a while: sent exactly once in the end.
    let mark = dev.requests().len();
    dev.sinch(
        "POST",
        "/_simulator/faults",
        Some(json!({"status": 429, "count": 2, "path_contains": "messages:send"})),
    );
    dev.sinch(
        "POST",
        "/_simulator/faults",
        Some(json!({"status": 503, "count": 2, "path_contains": "messages:send"})),
    );
    let retried: Vec<String> = (0..2).map(|n| format!("mkdev-{run}-retry-{n}")).collect();
    for (n, reply_id) in retried.iter().enumerate() {
        dev.put_command(
            &text_command(reply_id, &format!("4673200{n}")),
            &format!("demo/{reply_id}"),
            reply_id,
        );
    }
    for reply_id in &retried {
        let result = dev.wait_for(
            &format!("the send_result of {reply_id} after 429s and 503s"),
            |_| send_results(dev, reply_id).into_iter().next(),
        );
        assert_eq!(result["send_result"]["outcome"], "accepted", "{result}");
    }
    std::thread::sleep(Duration::from_secs(3));
    let sends = dev.sends_since(mark);
    assert_eq!(
        sends.len(),
        6,
        "4 refused and 2 accepted sends, no more: {sends:#?}"
    );
    for reply_id in &retried {
        assert_eq!(
            send_results(dev, reply_id).len(),
            1,
            "{reply_id}: one send_result"
        );
    }

    // A 400: a failed send_result, and no retry.
    let mark = dev.requests().len();
    dev.sinch(
        "POST",
        "/_simulator/faults",
        Some(json!({"status": 400, "count": 1, "path_contains": "messages:send"})),
    );
    let refused = format!("mkdev-{run}-refused");
    dev.put_command(
        &text_command(&refused, "46732000009"),
        &format!("demo/{refused}"),
        &refused,
    );
    let result = dev.wait_for("the failed send_result after a 400", |_| {
        send_results(dev, &refused).into_iter().next()
    });
    assert_eq!(result["send_result"]["outcome"], "failed", "{result}");
    assert_eq!(
        result["send_result"]["error"]["http_status"], 400,
        "{result}"
    );
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(dev.sends_since(mark).len(), 1, "a 400 is not retried");
    assert_eq!(send_results(dev, &refused).len(), 1);

    // A command put twice (two SQS de-duplication ids, as minutes apart): sent once, its
    // send_result given again.
    let mark = dev.requests().len();
    let twice = format!("mkdev-{run}-twice");
    let command = text_command(&twice, "46732000010");
    dev.put_command(&command, &format!("demo/{twice}"), &format!("{twice}-a"));
    let first = dev.wait_for("the first send_result of the command put twice", |_| {
        send_results(dev, &twice).into_iter().next()
    });
    assert_eq!(first["send_result"]["outcome"], "accepted", "{first}");
    dev.put_command(&command, &format!("demo/{twice}"), &format!("{twice}-b"));
    let results = dev.wait_for("the second send_result of the command put twice", |_| {
        let results = send_results(dev, &twice);
        (results.len() >= 2).then_some(results)
    });
    assert_eq!(
        results[1]["send_result"], first["send_result"],
        "the same result again"
    );
    assert_eq!(
        dev.sends_since(mark).len(),
        1,
        "the command put twice is sent once"
    );
    dev.assert_token_requests();
}

// --- the emulator's "Done means" ----------------------------------------------------------

/// The functions' binaries, as the template names them.
const FUNCTION_BINARIES: [&str; 5] = ["webhook", "media", "media-link", "outbound", "retention"];

/// A process of this session's functions: its binary, and its environment.
struct FunctionProcess {
    binary: String,
    pid: u32,
    environment: Vec<String>,
}

/// Every live process of one of the functions' binaries that belongs to this session (its
/// environment names the session's SWITCHBOARD_DEV_DIR, which dev.sh passes on).
fn function_processes(dev: &Dev) -> Vec<FunctionProcess> {
    let marker = format!("SWITCHBOARD_DEV_DIR={}", dev.dev_dir.display());
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(exe) = std::fs::read_link(entry.path().join("exe")) else {
            continue;
        };
        let binary = exe
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if !FUNCTION_BINARIES.contains(&binary.as_str()) {
            continue;
        }
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        let environment: Vec<String> = environ
            .split(|b| *b == 0)
            .map(|v| String::from_utf8_lossy(v).into_owned())
            .collect();
        if environment.contains(&marker) {
            found.push(FunctionProcess {
                binary,
                pid,
                environment,
            });
        }
    }
    found
}

/// The socket inodes in the LISTEN state on this machine.
fn listening_inodes() -> Vec<String> {
    let mut inodes = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = std::fs::read_to_string(table).unwrap_or_default();
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            if let (Some(&"0A"), Some(inode)) = (fields.get(3), fields.get(9)) {
                inodes.push((*inode).to_owned());
            }
        }
    }
    inodes
}

#[test]
fn every_function_runs_as_its_lambda_binary_under_the_emulator_and_none_listens() {
    let dev = dev();
    // It sends a command: not while another test counts the simulator's requests.
    let _one_at_a_time = SIMULATOR.lock().unwrap_or_else(|p| p.into_inner());
    let run = run_id();
    // Something for each trigger: a callback (webhook, then the inbound stage), a command
    // (outbound), a media link (its 404 still invokes the function); the schedule fires by
    // itself every few seconds.
    dev.post_signed(&json!({"app_id": APP, "project_id": PROJECT, "message": {
        "id": format!("01MSGLAMBDA{run}"), "conversation_id": format!("01CONVLAMBDA{run}"),
        "contact_id": "01CONTACTLAMBDA", "direction": "TO_APP",
        "channel_identity": {"channel": "WHATSAPP", "identity": "46700000042", "app_id": APP},
        "contact_message": {"text_message": {"text": "hello"}}}}));
    let reply_id = format!("mkdev-{run}-lambda");
    dev.put_command(
        &text_command(&reply_id, "46700000042"),
        &format!("demo/{reply_id}"),
        &reply_id,
    );
    let (status, _, _) = http_call(
        "GET",
        &format!("http://127.0.0.1:{}/demo/media/not-a-token", dev.http_port),
        b"",
        &[],
    );
    assert!(status == 404 || status == 410 || status == 400, "{status}");

    let started = Instant::now();
    let processes = loop {
        let processes = function_processes(dev);
        let mut running: Vec<&str> = processes.iter().map(|p| p.binary.as_str()).collect();
        running.sort();
        running.dedup();
        if running.len() == FUNCTION_BINARIES.len() {
            break processes;
        }
        assert!(
            started.elapsed() < WAIT,
            "only {running:?} of {FUNCTION_BINARIES:?} ever ran; make dev's log:\n{}",
            dev.logs()
        );
        std::thread::sleep(Duration::from_millis(250));
    };
    let listening = listening_inodes();
    for process in &processes {
        assert!(
            process
                .environment
                .iter()
                .any(|v| v.starts_with("AWS_LAMBDA_RUNTIME_API=127.0.0.1:")),
            "{} (pid {}) is not fed through the Lambda Runtime API",
            process.binary,
            process.pid
        );
        let fds = std::fs::read_dir(format!("/proc/{}/fd", process.pid))
            .map(|dir| dir.flatten().collect::<Vec<_>>())
            .unwrap_or_default();
        for fd in fds {
            let Ok(target) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let target = target.to_string_lossy().into_owned();
            if let Some(inode) = target
                .strip_prefix("socket:[")
                .and_then(|t| t.strip_suffix(']'))
            {
                assert!(
                    !listening.iter().any(|l| l == inode),
                    "{} (pid {}) listens on a port of its own",
                    process.binary,
                    process.pid
                );
            }
        }
    }
}

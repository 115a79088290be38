//! Cross-check with Sinch's official Python SDK: it signs fresh random vectors, Switchboard must
//! accept exactly those signatures (and the SDK must accept Switchboard's), and callbacks it
//! signs are accepted by the running webhook.

use std::io::Write;
use std::process::{Command, Stdio};

use secrecy::SecretString;
use switchboard_e2e::*;
use switchboard_shared::sinch::signature::{self, SignatureHeaders};

fn sdk_python() -> std::path::PathBuf {
    let python = workspace_root().join(".tools/sinch/bin/python");
    assert!(
        python.exists(),
        "the Sinch SDK is not installed: run `infra/scripts/install-tools.sh sinch` (make test does)"
    );
    python
}

/// Small deterministic generator: enough variety without a `rand` dependency.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() as usize) % from.len()]
    }
}

struct Vector {
    secret: String,
    body: String,
    nonce: String,
    timestamp: String,
}

fn vectors(count: usize, seed: u64) -> Vec<Vector> {
    let mut rng = Lcg(seed);
    let words = [
        "Hej",
        "Jägaren",
        "🔥",
        "\"quoted\"",
        "line\nbreak",
        "тест",
        "\\",
        "{}",
        "ok",
        "مرحبا",
    ];
    let secrets = [
        "foo_secret1234",
        "c2VjcmV0LWxvb2tzLWxpa2UtYmFzZTY0",
        "ünïcødé-secret",
        "s p a c e s",
        "x",
    ];
    (0..count)
        .map(|i| {
            let text: Vec<&str> = (0..(rng.next() % 12 + 1))
                .map(|_| rng.pick(&words))
                .collect();
            Vector {
                secret: format!("{}{}", rng.pick(&secrets), rng.next()),
                body: serde_json::json!({ "app_id": APP, "project_id": "p", "message": {
                    "id": format!("01SDKVECTOR{i:015}"),
                    "contact_message": { "text_message": { "text": text.join(" ") } },
                    "channel_identity": { "channel": "WHATSAPP", "identity": "46712312312" } } })
                .to_string(),
                nonce: format!("01FJA8B4A7BM43YGWSG9G{:05}", rng.next() % 100_000),
                timestamp: (chrono::Utc::now().timestamp() - (rng.next() % 200) as i64).to_string(),
            }
        })
        .collect()
}

fn sdk_answers(vectors: &[Vector]) -> Vec<(String, bool)> {
    let input: Vec<serde_json::Value> = vectors
        .iter()
        .map(|v| {
            serde_json::json!({ "secret": v.secret, "body": v.body, "nonce": v.nonce, "timestamp": v.timestamp,
                "signature": signature::sign(v.secret.as_bytes(), v.body.as_bytes(), &v.nonce, &v.timestamp) })
        })
        .collect();
    let mut child = Command::new(sdk_python())
        .arg(workspace_root().join("tests/sinch_sdk/sign.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run the SDK");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(serde_json::to_string(&input).unwrap().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "the SDK script failed");
    let answers: Vec<serde_json::Value> = serde_json::from_slice(&output.stdout).unwrap();
    answers
        .iter()
        .map(|a| {
            (
                a["sdk_signature"].as_str().unwrap().to_owned(),
                a["sdk_accepts_given"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
fn switchboard_and_the_official_sdk_agree_on_fresh_random_vectors() {
    let vectors = vectors(64, chrono::Utc::now().timestamp_micros() as u64);
    let answers = sdk_answers(&vectors);
    assert_eq!(answers.len(), vectors.len());
    for (vector, (sdk_signature, sdk_accepts_ours)) in vectors.iter().zip(answers) {
        assert!(
            sdk_accepts_ours,
            "the SDK refused Switchboard's signature of {:?}",
            vector.body
        );
        let headers = SignatureHeaders {
            signature: sdk_signature.clone(),
            nonce: vector.nonce.clone(),
            timestamp: vector.timestamp.clone(),
            algorithm: Some("HmacSHA256".into()),
        };
        let secret = SecretString::from(vector.secret.clone());
        let window = std::time::Duration::from_secs(300);
        assert!(
            signature::verify(
                &headers,
                vector.body.as_bytes(),
                &[&secret],
                chrono::Utc::now(),
                window
            )
            .is_ok()
        );
        // One changed byte anywhere and the SDK's signature no longer verifies.
        let mut tampered = vector.body.clone().into_bytes();
        let at = tampered.len() / 2;
        tampered[at] ^= 0x20;
        assert!(
            signature::verify(&headers, &tampered, &[&secret], chrono::Utc::now(), window).is_err()
        );
        let other = SecretString::from(format!("{}!", vector.secret));
        assert!(
            signature::verify(
                &headers,
                vector.body.as_bytes(),
                &[&other],
                chrono::Utc::now(),
                window
            )
            .is_err()
        );
    }
}

#[tokio::test]
async fn callbacks_signed_by_the_official_sdk_reach_the_ingest_queue() {
    let running = Running::start("sdk").await;
    let vectors: Vec<Vector> = vectors(8, 7)
        .into_iter()
        .map(|v| Vector {
            secret: SECRET.into(),
            ..v
        })
        .collect();
    let answers = sdk_answers(&vectors);
    for (vector, (sdk_signature, _)) in vectors.iter().zip(&answers) {
        let (status, answer) = running.post(
            "/acme/sms/sinchconversation/main",
            vector.body.as_bytes(),
            &[
                ("X-Sinch-Webhook-Signature", sdk_signature),
                ("X-Sinch-Webhook-Signature-Nonce", &vector.nonce),
                ("X-Sinch-Webhook-Signature-Timestamp", &vector.timestamp),
                ("X-Sinch-Webhook-Signature-Algorithm", "HmacSHA256"),
            ],
        );
        assert_eq!(status, 200, "{answer}");
    }
    assert_eq!(running.drain_ingest().await.len(), vectors.len());
}

//! `switchboard-admin public-media` against moto, run as `make dev` runs it: an agent's
//! attachment under outbound/ answers 200 with its exact bytes, Content-Length and stored
//! Content-Type, without a redirect or chunking; once the object is deleted (as retention
//! deletes it) the URL answers 404; nothing outside outbound/ is served, even when it exists.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use aws_sdk_s3::primitives::ByteStream;

struct Server {
    child: Child,
    base_url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(bucket: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_switchboard-admin"))
        .args(["public-media", "--bucket", bucket, "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("switchboard-admin runs");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the first line");
    let base_url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_owned();
    Server { child, base_url }
}

fn client() -> reqwest::Client {
    // A redirect must show as one, not be followed.
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Not compressible and not repetitive, larger than one read: the bytes must come back as stored.
fn file_bytes(len: usize) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

#[tokio::test]
async fn outbound_objects_are_served_as_stored_until_deleted_and_nothing_else_is() {
    let sdk = switchboard_testkit::moto_config().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(true)
            .build(),
    );
    let bucket = switchboard_testkit::unique_prefix("public-media");
    s3.create_bucket()
        .bucket(&bucket)
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                    sdk.region().unwrap().as_ref(),
                ))
                .build(),
        )
        .send()
        .await
        .unwrap();
    let put = |key: &str, body: Vec<u8>, content_type: &str| {
        s3.put_object()
            .bucket(&bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
    };
    let photo_key = "outbound/acme/2026-12-01/01JD3Q8Y7K2M4N6P8R0T2V4X6Z/photo.jpg";
    let photo = file_bytes(3 * 1024 * 1024 + 17);
    put(photo_key, photo.clone(), "image/jpeg").await.unwrap();
    let spaced_key = "outbound/acme/2026-12-01/01JD3Q8Y7K2M4N6P8R0T2V4X70/offer ä.pdf";
    put(spaced_key, b"%PDF-1.4 offer".to_vec(), "application/pdf")
        .await
        .unwrap();
    let inbound_key = "inbound/acme/2026-12-01/e1/0-secret.png";
    put(inbound_key, b"customer's photo".to_vec(), "image/png")
        .await
        .unwrap();

    let server = start(&bucket);
    let http = client();
    let url = format!("{}/{photo_key}", server.base_url);

    let response = http.get(&url).send().await.unwrap();
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(headers["content-length"], photo.len().to_string().as_str());
    assert!(headers.get("transfer-encoding").is_none(), "{headers:?}");
    assert!(headers.get("location").is_none(), "{headers:?}");
    let body = response.bytes().await.unwrap();
    assert_eq!(body.len(), photo.len());
    assert!(body.as_ref() == photo.as_slice(), "the bytes differ");

    // HEAD: the same headers, no body. A query string changes nothing.
    let head = http.head(format!("{url}?v=2")).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-type"], "image/jpeg");
    assert_eq!(
        head.headers()["content-length"],
        photo.len().to_string().as_str()
    );

    // A key with a space and a non-ASCII letter, percent-encoded in the URL.
    let spaced = http
        .get(format!(
            "{}/outbound/acme/2026-12-01/01JD3Q8Y7K2M4N6P8R0T2V4X70/offer%20%C3%A4.pdf",
            server.base_url
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(spaced.status(), 200);
    assert_eq!(spaced.headers()["content-type"], "application/pdf");
    assert_eq!(spaced.bytes().await.unwrap().as_ref(), b"%PDF-1.4 offer");

    // Outside outbound/: 404, although the object exists.
    for path in [
        format!("/{inbound_key}"),
        format!("/outbound/../{inbound_key}"),
        format!("/outbound/%2E%2E/{inbound_key}"),
        "/".to_owned(),
        "/outbound/".to_owned(),
        "/outbound/acme/2026-12-01/no-such-object.jpg".to_owned(),
    ] {
        let answer = http
            .get(format!("{}{path}", server.base_url))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 404, "{path}");
        assert!(!answer.text().await.unwrap().contains("customer"), "{path}");
    }
    let post = http.post(&url).body("x").send().await.unwrap();
    assert_eq!(post.status(), 405);

    // Retention deletes the object: the URL stops working.
    s3.delete_object()
        .bucket(&bucket)
        .key(photo_key)
        .send()
        .await
        .unwrap();
    assert_eq!(http.get(&url).send().await.unwrap().status(), 404);
    assert_eq!(http.head(&url).send().await.unwrap().status(), 404);
}

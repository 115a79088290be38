//! Streaming into S3 against moto: a small file is one PutObject, a file over one part is a
//! multipart upload whose bytes, type and checksum come back exactly; an aborted upload leaves
//! no object. And a download whose body fails after its first part is in S3 (a Content-Length
//! that lies, a body cut off by the deadline) leaves no object and no open multipart upload.

use bytes::Bytes;
use sha2::{Digest, Sha256};
use switchboard_media::store::{MediaStore, PART_SIZE, S3MediaStore, Upload};

async fn bucket() -> (aws_sdk_s3::Client, String) {
    let sdk = switchboard_testkit::moto_config().await;
    let client = switchboard_shared::aws::s3_client(&sdk);
    let name = switchboard_testkit::unique_prefix("media-store");
    let mut create = client.create_bucket().bucket(&name);
    if let Some(region) = sdk
        .region()
        .map(|r| r.to_string())
        .filter(|r| r != "us-east-1")
    {
        create = create.create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(
                    region.as_str(),
                ))
                .build(),
        );
    }
    create.send().await.expect("create bucket");
    (client, name)
}

async fn read(client: &aws_sdk_s3::Client, bucket: &str, key: &str) -> (String, Vec<u8>) {
    let object = client
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .expect("object");
    let content_type = object.content_type.clone().unwrap_or_default();
    let bytes = object
        .body
        .collect()
        .await
        .expect("body")
        .into_bytes()
        .to_vec();
    (content_type, bytes)
}

#[tokio::test]
async fn small_and_multipart_files_come_back_exactly() {
    let (client, bucket) = bucket().await;
    let store = S3MediaStore::new(client.clone(), &bucket);
    for (key, size) in [
        ("inbound/acme/small.bin", 1000usize),
        ("inbound/acme/large.bin", 2 * PART_SIZE + 12345),
    ] {
        let data: Vec<u8> = (0..size).map(|i| (i * 7 % 251) as u8).collect();
        let mut upload = store.begin(key, "application/pdf", "large.bin");
        // Arrives in uneven chunks, as a network would deliver it.
        for chunk in data.chunks(300_001) {
            upload
                .write(Bytes::copy_from_slice(chunk))
                .await
                .expect("write");
        }
        let stored = upload.finish().await.expect("finish");
        assert_eq!(stored.size_bytes, size as u64);
        assert_eq!(stored.sha256_hex, hex::encode(Sha256::digest(&data)));
        let (content_type, bytes) = read(&client, &bucket, key).await;
        assert_eq!(content_type, "application/pdf");
        assert!(bytes == data, "{key}: bytes differ");
    }
    let uploads = client
        .list_multipart_uploads()
        .bucket(&bucket)
        .send()
        .await
        .expect("list");
    assert!(
        uploads.uploads.unwrap_or_default().is_empty(),
        "no upload left open"
    );
}

#[tokio::test]
async fn an_aborted_upload_leaves_nothing() {
    let (client, bucket) = bucket().await;
    let store = S3MediaStore::new(client.clone(), &bucket);
    let mut upload = store.begin("inbound/acme/aborted.bin", "video/mp4", "aborted.bin");
    upload
        .write(Bytes::from(vec![1u8; PART_SIZE + 1]))
        .await
        .expect("write");
    upload.abort().await;
    let listed = client
        .list_objects_v2()
        .bucket(&bucket)
        .send()
        .await
        .expect("list");
    assert!(listed.contents.unwrap_or_default().is_empty());
    let uploads = client
        .list_multipart_uploads()
        .bucket(&bucket)
        .send()
        .await
        .expect("list");
    assert!(uploads.uploads.unwrap_or_default().is_empty());
}

/// Serves a PDF that promises two parts and sends one and a bit: `/short` then closes,
/// `/drip` goes on a byte at a time for ever.
async fn failing_server() -> std::net::SocketAddr {
    use tokio::io::AsyncWriteExt;
    switchboard_testkit::raw_loopback(|path, mut stream| async move {
        let drip = path == "/drip";
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/pdf\r\ncontent-length: {}\r\n\r\n",
            2 * PART_SIZE
        );
        let mut body = b"%PDF-1.4\n".to_vec();
        body.resize(PART_SIZE + 1000, b'x');
        if stream.write_all(head.as_bytes()).await.is_err()
            || stream.write_all(&body).await.is_err()
        {
            return;
        }
        if !drip {
            return;
        }
        loop {
            if stream.write_all(b"x").await.is_err() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    })
    .await
}

#[tokio::test]
async fn a_download_that_fails_after_its_first_part_leaves_no_object_and_no_open_upload() {
    use switchboard_shared::config::MediaSettings;
    use switchboard_shared::deadline::Deadline;
    use switchboard_shared::media::address_policy::AddressPolicy;
    use switchboard_shared::media::download::{Limits, OUT_OF_TIME, download};
    use switchboard_shared::media::fetch::{FetchError, SafeFetcher};
    let (client, bucket) = bucket().await;
    let store = S3MediaStore::new(client.clone(), &bucket);
    let addr = failing_server().await;
    let fetcher =
        SafeFetcher::new(AddressPolicy::with_allowed_local(&addr.to_string()).unwrap()).unwrap();
    let media = MediaSettings::default();
    let limits = Limits {
        max_bytes: media.max_bytes,
        media: &media,
    };
    // The lie: the body ends at half its Content-Length.
    let short = download(
        &fetcher,
        &store,
        &limits,
        &format!("http://{addr}/short"),
        "inbound/acme/short.pdf",
        "short.pdf",
        &Deadline::after(std::time::Duration::from_secs(60)),
    )
    .await;
    assert!(matches!(short, Err(FetchError::Transient(_))), "{short:?}");
    // Never idle, never done: the deadline stops it (after the first part went to S3).
    let cut = download(
        &fetcher,
        &store,
        &limits,
        &format!("http://{addr}/drip"),
        "inbound/acme/drip.pdf",
        "drip.pdf",
        &Deadline::after(std::time::Duration::from_secs(5)),
    )
    .await;
    assert_eq!(cut, Err(FetchError::Transient(OUT_OF_TIME.into())));
    let listed = client
        .list_objects_v2()
        .bucket(&bucket)
        .send()
        .await
        .expect("list");
    assert!(
        listed.contents.unwrap_or_default().is_empty(),
        "no object, not even a partial one"
    );
    let uploads = client
        .list_multipart_uploads()
        .bucket(&bucket)
        .send()
        .await
        .expect("list");
    assert!(
        uploads.uploads.unwrap_or_default().is_empty(),
        "the multipart uploads were aborted"
    );
}

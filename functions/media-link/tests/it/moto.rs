//! Against moto: the link keys read from Secrets Manager (and a rotation by put-secret-value
//! that keeps older links working), and a link followed to its presigned URL, whose bytes are
//! the stored ones.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use http::{Method, StatusCode};
use switchboard_media_link::objects::S3Objects;
use switchboard_media_link::settings::Settings;
use switchboard_media_link::{LinkRequest, MediaLink};
use switchboard_shared::media::link::LinkError;
use switchboard_shared::media::link_keys::{LinkKeyCache, LinkKeysError, VerifyError};

const REFRESH: Duration = Duration::from_secs(300);

use switchboard_testkit::{moto_config as sdk, unique_prefix as unique};

fn random_secret() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

async fn secret(client: &aws_sdk_secretsmanager::Client) -> String {
    client
        .create_secret()
        .name(unique("media-link"))
        .secret_string(random_secret())
        .send()
        .await
        .expect("create secret")
        .arn()
        .expect("arn")
        .to_owned()
}

async fn rotate(client: &aws_sdk_secretsmanager::Client, arn: &str) {
    client
        .put_secret_value()
        .secret_id(arn)
        .secret_string(random_secret())
        .send()
        .await
        .expect("put secret value");
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
}

fn at(seconds: i64) -> DateTime<Utc> {
    t0() + chrono::Duration::seconds(seconds)
}

const KEY: &str = "inbound/acme/2026-12-01/ev/0-photo.png";

#[tokio::test]
async fn a_rotation_takes_effect_on_refresh_and_older_links_keep_working() {
    let sdk = sdk().await;
    let client = switchboard_shared::aws::secretsmanager_client(&sdk);
    let arn = secret(&client).await;
    let cache = LinkKeyCache::secrets_manager(client.clone(), &arn, REFRESH);
    let expires = at(86_400);

    let first = cache.keys(t0()).await.unwrap();
    assert!(
        first.previous.is_none(),
        "a new secret has no previous version"
    );
    let before = cache.issue("acme", KEY, expires, t0()).await.unwrap();

    rotate(&client, &arn).await;
    // Still cached: the same key signs until the refresh.
    assert_eq!(
        cache.keys(at(60)).await.unwrap().current.id,
        first.current.id
    );
    let after_refresh = cache.keys(at(301)).await.unwrap();
    assert_ne!(after_refresh.current.id, first.current.id);
    assert_eq!(
        after_refresh.previous.as_ref().map(|k| k.id.clone()),
        Some(first.current.id.clone())
    );
    let after = cache.issue("acme", KEY, expires, at(301)).await.unwrap();
    assert_eq!(
        cache.verify("acme", &before, at(302)).await.unwrap().s3_key,
        KEY
    );
    assert_eq!(
        cache.verify("acme", &after, at(302)).await.unwrap().s3_key,
        KEY
    );

    // A second rotation retires the first key: its links stop working.
    rotate(&client, &arn).await;
    assert!(
        cache
            .keys(at(700))
            .await
            .unwrap()
            .knows(&after_refresh.current.id)
    );
    assert_eq!(
        cache.verify("acme", &before, at(701)).await,
        Err(VerifyError::Link(LinkError::BadSignature))
    );
    assert_eq!(
        cache.verify("acme", &after, at(701)).await.unwrap().s3_key,
        KEY
    );
}

#[tokio::test]
async fn a_verifier_that_cached_keys_before_a_rotation_reads_them_again_for_a_newer_link() {
    let sdk = sdk().await;
    let client = switchboard_shared::aws::secretsmanager_client(&sdk);
    let arn = secret(&client).await;
    let verifier = LinkKeyCache::secrets_manager(client.clone(), &arn, REFRESH);
    verifier.keys(t0()).await.unwrap();
    rotate(&client, &arn).await;
    let signer = LinkKeyCache::secrets_manager(client.clone(), &arn, REFRESH);
    let token = signer.issue("acme", KEY, at(86_400), at(40)).await.unwrap();
    // Long before the verifier's refresh, a token naming a key it has not seen makes it read
    // the keys again.
    assert_eq!(
        verifier
            .verify("acme", &token, at(40))
            .await
            .unwrap()
            .s3_key,
        KEY
    );
}

#[tokio::test]
async fn a_missing_or_weak_secret_is_an_error_and_never_shows_its_value() {
    let sdk = sdk().await;
    let client = switchboard_shared::aws::secretsmanager_client(&sdk);
    let missing = LinkKeyCache::secrets_manager(client.clone(), unique("no-such-secret"), REFRESH);
    assert!(matches!(
        missing.keys(t0()).await,
        Err(LinkKeysError::Aws(_))
    ));

    let weak = client
        .create_secret()
        .name(unique("weak"))
        .secret_string("short-and-weak")
        .send()
        .await
        .unwrap();
    let cache = LinkKeyCache::secrets_manager(client.clone(), weak.arn().unwrap(), REFRESH);
    let err = cache.keys(t0()).await.unwrap_err();
    assert!(matches!(err, LinkKeysError::Unusable { .. }), "{err}");
    assert!(!err.to_string().contains("short-and-weak"), "{err}");
}

#[tokio::test]
async fn a_link_followed_returns_the_stored_bytes() {
    let sdk = sdk().await;
    let s3 = switchboard_shared::aws::s3_client(&sdk);
    let bucket = unique("media-link");
    let mut create = s3.create_bucket().bucket(&bucket);
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
    let bytes: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    s3.put_object()
        .bucket(&bucket)
        .key(KEY)
        .content_type("image/png")
        .content_disposition("attachment; filename=\"photo.png\"")
        .body(bytes.clone().into())
        .send()
        .await
        .expect("put object");

    let secrets = switchboard_shared::aws::secretsmanager_client(&sdk);
    let arn = secret(&secrets).await;
    let settings = Settings::from_lookup(|name| match name {
        "SWITCHBOARD_MEDIA_BUCKET" => Some(bucket.clone()),
        "SWITCHBOARD_MEDIA_LINK_SECRET_ARN" => Some(arn.clone()),
        _ => None,
    })
    .unwrap();
    let link = MediaLink::new(
        LinkKeyCache::secrets_manager(secrets.clone(), &arn, REFRESH),
        S3Objects::new(s3.clone(), &bucket),
        settings,
    );
    let now = Utc::now();
    let signer = LinkKeyCache::secrets_manager(secrets, &arn, REFRESH);
    let token = signer
        .issue("acme", KEY, now + chrono::Duration::days(30), now)
        .await
        .unwrap();
    let path = format!("/acme/media/{token}");
    let answer = link
        .handle(
            LinkRequest {
                method: &Method::GET,
                path: &path,
            },
            now,
        )
        .await;
    assert_eq!(answer.status, StatusCode::FOUND);
    let location = answer.location.expect("a redirect");
    let endpoint = std::env::var("AWS_ENDPOINT_URL").unwrap();
    assert!(
        location.starts_with(&endpoint),
        "presigned against moto: {location}"
    );
    assert!(location.contains("X-Amz-Expires=300"), "{location}");

    let response = reqwest::get(&location)
        .await
        .expect("GET the presigned URL");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("image/png")
    );
    assert_eq!(
        response
            .headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok()),
        Some("inline; filename=\"photo.png\"")
    );
    assert_eq!(response.bytes().await.unwrap().to_vec(), bytes);

    // Once retention deleted the object, the same link is not found.
    s3.delete_object()
        .bucket(&bucket)
        .key(KEY)
        .send()
        .await
        .unwrap();
    let answer = link
        .handle(
            LinkRequest {
                method: &Method::GET,
                path: &path,
            },
            now,
        )
        .await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
}

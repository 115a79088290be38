//! The link handler's decision table on in-memory objects and fixed keys: every answer of
//! README "Media links", and a rotation.

use chrono::{DateTime, Duration, TimeZone, Utc};
use http::{Method, StatusCode};
use secrecy::SecretSlice;
use switchboard_media_link::handler::{GONE_BODY, NOT_FOUND_BODY, UNAVAILABLE_BODY};
use switchboard_media_link::objects::MemoryObjects;
use switchboard_media_link::settings::Settings;
use switchboard_media_link::{LinkRequest, LinkResponse, MediaLink};
use switchboard_shared::media::link::{LinkKey, LinkKeys};
use switchboard_shared::media::link_keys::LinkKeyCache;

const KEY: &str = "inbound/acme/2026-12-01/ev1/0-photo.png";

fn key(id: &str, secret: &str) -> LinkKey {
    LinkKey {
        id: id.into(),
        secret: SecretSlice::from(secret.as_bytes().to_vec()),
    }
}

fn keys(current: (&str, &str), previous: Option<(&str, &str)>) -> LinkKeys {
    LinkKeys {
        current: key(current.0, current.1),
        previous: previous.map(|(id, secret)| key(id, secret)),
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 12, 0, 0).unwrap()
}

fn settings() -> Settings {
    Settings::from_lookup(|name| match name {
        "SWITCHBOARD_MEDIA_BUCKET" => Some("media".into()),
        "SWITCHBOARD_MEDIA_LINK_SECRET_ARN" => Some("arn:secret".into()),
        _ => None,
    })
    .unwrap()
}

fn handler(link_keys: LinkKeys) -> MediaLink<MemoryObjects> {
    let objects = MemoryObjects::default();
    objects.put(KEY, "image/png");
    objects.put("inbound/acme/2026-12-01/ev1/1-doc.pdf", "application/pdf");
    MediaLink::new(LinkKeyCache::fixed(link_keys), objects, settings())
}

fn signer() -> LinkKeys {
    keys(
        ("k2", "the current secret"),
        Some(("k1", "the previous secret")),
    )
}

async fn get(link: &MediaLink<MemoryObjects>, path: &str, at: DateTime<Utc>) -> LinkResponse {
    link.handle(
        LinkRequest {
            method: &Method::GET,
            path,
        },
        at,
    )
    .await
}

fn path(tenant: &str, token: &str) -> String {
    format!("/{tenant}/media/{token}")
}

#[tokio::test]
async fn a_valid_link_redirects_to_a_short_presigned_url_of_the_stored_type() {
    let link = handler(signer());
    let token = signer().issue("acme", KEY, now() + Duration::days(30));
    let answer = get(&link, &path("acme", &token), now()).await;
    assert_eq!(answer.status, StatusCode::FOUND);
    let location = answer.location.unwrap();
    assert!(
        location.starts_with(&format!("https://bucket.memory/{KEY}?")),
        "{location}"
    );
    assert!(location.contains("expires=300"), "{location}");
    assert!(
        location.contains(&format!("start={}", now().timestamp())),
        "{location}"
    );
    assert!(location.contains("type=image/png"), "{location}");
    assert!(
        location.contains("disposition=inline; filename=\"photo.png\""),
        "{location}"
    );
    // The response headers every answer carries (no-store among them).
    assert!(
        switchboard_media_link::handler::RESPONSE_HEADERS
            .contains(&("cache-control", "private, no-store"))
    );
}

#[tokio::test]
async fn a_document_is_downloaded_not_shown() {
    let link = handler(signer());
    let token = signer().issue(
        "acme",
        "inbound/acme/2026-12-01/ev1/1-doc.pdf",
        now() + Duration::days(30),
    );
    let location = get(&link, &path("acme", &token), now())
        .await
        .location
        .unwrap();
    assert!(location.contains("type=application/pdf"), "{location}");
    assert!(
        location.contains("disposition=attachment; filename=\"doc.pdf\""),
        "{location}"
    );
}

#[tokio::test]
async fn the_presigned_url_never_outlives_the_link() {
    let link = handler(signer());
    let token = signer().issue("acme", KEY, now() + Duration::seconds(42));
    let location = get(&link, &path("acme", &token), now())
        .await
        .location
        .unwrap();
    assert!(location.contains("expires=42"), "{location}");
}

#[tokio::test]
async fn an_expired_link_is_gone() {
    let link = handler(signer());
    let token = signer().issue("acme", KEY, now() + Duration::days(30));
    let answer = get(&link, &path("acme", &token), now() + Duration::days(30)).await;
    assert_eq!(
        answer,
        LinkResponse {
            status: StatusCode::GONE,
            location: None,
            body: GONE_BODY
        }
    );
}

#[tokio::test]
async fn altered_foreign_and_unknown_key_links_are_all_the_same_404() {
    let link = handler(signer());
    let token = signer().issue("acme", KEY, now() + Duration::days(30));
    let mut altered = token.clone().into_bytes();
    let at = token.find('.').unwrap() + 5;
    altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).unwrap();
    let other_key =
        keys(("k9", "a key nobody has"), None).issue("acme", KEY, now() + Duration::days(30));
    // An expired token signed with another key is not told that it expired.
    let expired_forgery =
        keys(("k2", "a guessed secret"), None).issue("acme", KEY, now() - Duration::days(1));
    let not_found = LinkResponse {
        status: StatusCode::NOT_FOUND,
        location: None,
        body: NOT_FOUND_BODY,
    };
    for probe in [
        path("acme", &altered),
        path("globex", &token),
        path("acme", &other_key),
        path("acme", &expired_forgery),
        path("acme", "v1.e30.AAAA"),
        path("acme", "not-a-token"),
        path("ACME!", &token),
        "/acme/media/".to_owned(),
        "/acme/other/x".to_owned(),
    ] {
        assert_eq!(get(&link, &probe, now()).await, not_found, "{probe}");
    }
}

#[tokio::test]
async fn a_token_for_another_tenants_key_is_refused_even_when_signed() {
    // Only a signing bug could make one; the handler still never follows it.
    let link = handler(signer());
    let token = signer().issue(
        "acme",
        "inbound/globex/2026-12-01/ev/0-x.png",
        now() + Duration::days(1),
    );
    assert_eq!(
        get(&link, &path("acme", &token), now()).await.status,
        StatusCode::NOT_FOUND
    );
    let token = signer().issue(
        "acme",
        "quarantine/acme/2026-12-01/x",
        now() + Duration::days(1),
    );
    assert_eq!(
        get(&link, &path("acme", &token), now()).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_deleted_object_is_not_found() {
    let link = handler(signer());
    let token = signer().issue("acme", KEY, now() + Duration::days(30));
    link.objects().delete(KEY);
    let answer = get(&link, &path("acme", &token), now()).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.body, NOT_FOUND_BODY);
}

#[tokio::test]
async fn s3_unavailable_is_503() {
    let link = handler(signer());
    let token = signer().issue("acme", KEY, now() + Duration::days(30));
    link.objects().set_unavailable(true);
    let answer = get(&link, &path("acme", &token), now()).await;
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.body, UNAVAILABLE_BODY);
}

#[tokio::test]
async fn after_a_rotation_links_of_the_previous_key_still_work() {
    let before = keys(("k1", "the previous secret"), None);
    let token = before.issue("acme", KEY, now() + Duration::days(30));
    let link = handler(signer());
    assert_eq!(
        get(&link, &path("acme", &token), now()).await.status,
        StatusCode::FOUND
    );
    // One more rotation and the key is gone.
    let link = handler(keys(("k3", "newest"), Some(("k2", "the current secret"))));
    assert_eq!(
        get(&link, &path("acme", &token), now()).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn only_get_is_served() {
    let link = handler(signer());
    let token = signer().issue("acme", KEY, now() + Duration::days(30));
    let answer = link
        .handle(
            LinkRequest {
                method: &Method::POST,
                path: &path("acme", &token),
            },
            now(),
        )
        .await;
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
}

/// The kit's HTTP shell around the handler: an API Gateway HTTP API (payload 2.0) GET, as `lambda_http` turns it into a
/// request, answered with the redirect and its headers.
#[tokio::test]
async fn the_kits_http_shell_answers_api_gateway_with_the_redirect_and_its_headers() {
    let link = handler(signer());
    let token = signer().issue("acme", KEY, Utc::now() + Duration::days(30));
    let path = path("acme", &token);
    let event = format!(
        r#"{{"version":"2.0","routeKey":"GET /{{tenant}}/media/{{token}}","rawPath":"{path}",
        "rawQueryString":"","headers":{{"host":"api.example"}},
        "requestContext":{{"accountId":"123456789012","apiId":"api","domainName":"api.example",
          "domainPrefix":"api","http":{{"method":"GET","path":"{path}","protocol":"HTTP/1.1",
          "sourceIp":"203.0.113.1","userAgent":"agent"}},"requestId":"req",
          "routeKey":"GET /{{tenant}}/media/{{token}}","stage":"$default",
          "time":"01/Dec/2026:00:00:00 +0000","timeEpoch":1796083200000}},
        "pathParameters":{{"tenant":"acme","token":"{token}"}},"isBase64Encoded":false}}"#
    );
    let request = lambda_http::request::from_str(&event).unwrap();
    let response = switchboard_shared::kit::http::handle_request(
        &link,
        request,
        switchboard_shared::deadline::DEFAULT_MARGIN,
    )
    .await
    .unwrap();
    assert_eq!(response.status(), StatusCode::FOUND);
    let headers = response.headers();
    assert!(
        headers["location"]
            .to_str()
            .unwrap()
            .starts_with(&format!("https://bucket.memory/{KEY}?"))
    );
    assert_eq!(headers["cache-control"], "private, no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
}

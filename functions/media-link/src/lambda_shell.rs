//! API Gateway (HTTP API, payload v2) → the handler → a redirect or an error.

use lambda_http::{Body, Error, Request, Response};

use crate::handler::{LinkRequest, MediaLink, RESPONSE_HEADERS};
use crate::objects::MediaObjects;

pub async fn handle<O: MediaObjects>(
    link: &MediaLink<O>,
    request: Request,
) -> Result<Response<Body>, Error> {
    let answer = link
        .handle(
            LinkRequest {
                method: request.method(),
                path: request.uri().path(),
            },
            chrono::Utc::now(),
        )
        .await;
    let mut response = Response::builder().status(answer.status);
    for (name, value) in RESPONSE_HEADERS {
        response = response.header(name, value);
    }
    if let Some(location) = answer.location {
        response = response.header("location", location);
    } else {
        response = response.header("content-type", "application/json");
    }
    Ok(response.body(Body::Text(answer.body.to_owned()))?)
}

pub async fn run<O: MediaObjects>(link: MediaLink<O>) -> Result<(), Error> {
    let link = &link;
    lambda_http::run(lambda_http::service_fn(move |request: Request| {
        handle(link, request)
    }))
    .await
}

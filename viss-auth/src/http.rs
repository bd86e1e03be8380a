//! The HTTP(S) face of both servers: `POST /agts` and `POST /ats` on one listener.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::json;

use crate::service::{Answer, Service};

/// Requests are small JSON objects; a token is a few KiB.
const MAX_BODY_BYTES: usize = 16 * 1024;

pub fn router(service: Arc<Service>) -> Router {
    Router::new()
        .route("/agts", post(agts))
        .route("/ats", post(ats))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(service)
}

async fn agts(State(service): State<Arc<Service>>, body: Bytes) -> Response {
    respond(match parse(&body, "agt-request") {
        Ok(request) => service.grant(&request, Timestamp::now()),
        Err(refused) => refused,
    })
}

async fn ats(State(service): State<Arc<Service>>, body: Bytes) -> Response {
    respond(match parse(&body, "at-request") {
        Ok(request) => service.token(&request, Timestamp::now()),
        Err(refused) => refused,
    })
}

/// The body as `T`, or a 400 that says it is not one.
fn parse<T: DeserializeOwned>(body: &[u8], action: &str) -> Result<T, Answer> {
    serde_json::from_slice(body).map_err(|_| {
        (
            400,
            json!({"action": action, "error": "the request is not a JSON object of this server"}),
        )
    })
}

fn respond((status, body): Answer) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

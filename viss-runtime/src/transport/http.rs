//! HTTPS transport (TRANSPORT §5.2): `GET /<path>?filter=<json>` is a get, `POST /<path>`
//! with `{"value": ...}` is a set, `Authorization: Bearer <token>` becomes the request's
//! `authorization`. The HTTP status is the VISS error number (200 on success) and bodies
//! are the primary payload without `action` and `requestId`. No subscribe over HTTP.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::value::RawValue;

use super::write_transport_error;
use crate::json::write_json_str;
use crate::protocol::Version;
use crate::subscription::Session;
use crate::{Engine, VissTree};

/// Filter variants that only make sense for subscriptions.
const SUBSCRIBE_ONLY: [&str; 4] = ["timebased", "range", "change", "curvelog"];

const NO_SUBSCRIBE: &str = "Subscribe and unsubscribe are not supported over HTTP: use the \
                            WebSocket transport (wss://<host>:6443, sub-protocol VISSv3)";

/// What every HTTP request shares.
pub(crate) struct HttpState<T: VissTree> {
    pub engine: Arc<Engine<T>>,
}

/// `GET` and `POST` on any path (the root path too).
pub(crate) fn router<T: VissTree + 'static>(state: Arc<HttpState<T>>, max_body: usize) -> Router {
    Router::new()
        .route(
            "/{*path}",
            get(read::<T>).post(update::<T>).fallback(unsupported),
        )
        .route("/", get(read_root).fallback(unsupported))
        .layer(axum::extract::DefaultBodyLimit::max(max_body))
        .with_state(state)
}

async fn read<T: VissTree + 'static>(
    State(state): State<Arc<HttpState<T>>>,
    Path(path): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let filter = query.get("filter").map(String::as_str);
    if let Some(refusal) = filter.and_then(refuse_subscribe_filter) {
        return refusal;
    }
    let mut request = Vec::with_capacity(128 + path.len());
    request.extend_from_slice(b"{\"action\":\"get\",\"path\":");
    write_json_str(&mut request, &path);
    if let Some(filter) = filter {
        // The engine validates the filter; it must be JSON to be embedded at all.
        if serde_json::from_str::<&RawValue>(filter).is_err() {
            return error(
                StatusCode::BAD_REQUEST,
                "400",
                "bad_request",
                "The filter query parameter is not valid JSON",
            );
        }
        request.extend_from_slice(b",\"filter\":");
        request.extend_from_slice(filter.as_bytes());
    }
    add_authorization(&mut request, &headers);
    request.push(b'}');
    answer(&state.engine, &request)
}

async fn read_root() -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "400",
        "bad_request",
        "Missing path: GET /Vehicle/Speed (slash or dot delimited), optionally ?filter=<json>",
    )
}

async fn update<T: VissTree + 'static>(
    State(state): State<Arc<HttpState<T>>>,
    Path(path): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    #[derive(serde::Deserialize)]
    struct SetBody<'a> {
        #[serde(borrow)]
        value: &'a RawValue,
    }
    let Ok(body) = serde_json::from_slice::<SetBody<'_>>(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "400",
            "bad_request",
            "The body must be a JSON object {\"value\": ...}",
        );
    };
    let mut request = Vec::with_capacity(128 + path.len());
    request.extend_from_slice(b"{\"action\":\"set\",\"path\":");
    write_json_str(&mut request, &path);
    request.extend_from_slice(b",\"value\":");
    request.extend_from_slice(body.value.get().as_bytes());
    add_authorization(&mut request, &headers);
    request.push(b'}');
    answer(&state.engine, &request)
}

/// Methods other than GET and POST: a malformed request in the table's terms (400, the
/// status equal to the body's number; 405 is no VISS error), with `Allow` saying what works.
async fn unsupported() -> Response {
    let mut response = error(StatusCode::BAD_REQUEST, "400", "bad_request", NO_SUBSCRIBE);
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static("GET, POST"));
    response
}

/// A subscribe-only filter gets a clear refusal instead of the engine's generic one.
fn refuse_subscribe_filter(filter: &str) -> Option<Response> {
    #[derive(serde::Deserialize)]
    struct Variant<'a> {
        #[serde(borrow)]
        variant: Option<&'a str>,
    }
    let variants: Vec<Variant<'_>> = match serde_json::from_str::<Variant<'_>>(filter) {
        Ok(single) => vec![single],
        Err(_) => serde_json::from_str(filter).unwrap_or_default(),
    };
    variants
        .iter()
        .filter_map(|variant| variant.variant)
        .any(|variant| SUBSCRIBE_ONLY.contains(&variant))
        .then(|| error(StatusCode::BAD_REQUEST, "400", "bad_request", NO_SUBSCRIBE))
}

/// `Authorization: Bearer <token>` becomes `"authorization":"<token>"`.
fn add_authorization(request: &mut Vec<u8>, headers: &HeaderMap) {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(crate::access::bearer_token);
    if let Some(token) = token {
        request.extend_from_slice(b",\"authorization\":");
        write_json_str(request, token);
    }
}

/// Runs the request through the engine and maps the answer onto HTTP.
fn answer<T: VissTree>(engine: &Engine<T>, request: &[u8]) -> Response {
    // HTTP has no subscriptions: a one-slot session is enough.
    // HTTP carries no version marker: answers are v3, filters may be written either way.
    let mut session = Session::new(1, Version::V3)
        .accepting_v2_filters()
        .without_token_cache();
    let mut out = Vec::with_capacity(256);
    engine.handle(&mut session, request, &mut out);
    match http_body(&out) {
        Some((status, body)) => json_response(status, body),
        None => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "503",
            "service_unavailable",
            "The server is temporarily unable to handle the request",
        ),
    }
}

/// The engine's response without `action` (HTTP requests carry no `requestId`), and the
/// status its error number (or 200) gives.
fn http_body(engine_response: &[u8]) -> Option<(StatusCode, Vec<u8>)> {
    #[derive(serde::Deserialize)]
    struct Number<'a> {
        #[serde(borrow)]
        number: &'a str,
    }
    #[derive(serde::Deserialize)]
    struct Message<'a> {
        #[serde(borrow)]
        error: Option<Number<'a>>,
    }
    let message: Message<'_> = serde_json::from_slice(engine_response).ok()?;
    let status = match message.error {
        Some(error) => error
            .number
            .parse::<u16>()
            .ok()
            .and_then(|number| StatusCode::from_u16(number).ok())
            .unwrap_or(StatusCode::BAD_REQUEST),
        None => StatusCode::OK,
    };
    Some((status, strip_action(engine_response)))
}

/// `{"action":"get","data":..}` → `{"data":..}`: the engine always writes `action` first.
fn strip_action(engine_response: &[u8]) -> Vec<u8> {
    for action in [&b"{\"action\":\"get\","[..], b"{\"action\":\"set\","] {
        if let Some(rest) = engine_response.strip_prefix(action) {
            let mut body = Vec::with_capacity(rest.len() + 1);
            body.push(b'{');
            body.extend_from_slice(rest);
            return body;
        }
    }
    engine_response.to_vec()
}

fn error(status: StatusCode, number: &str, reason: &str, description: &str) -> Response {
    let mut out = Vec::with_capacity(256);
    write_transport_error(&mut out, None, number, reason, description);
    json_response(status, out)
}

fn json_response(status: StatusCode, body: Vec<u8>) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_is_the_error_number_and_envelope_members_go() {
        let (status, body) = http_body(
            br#"{"action":"get","error":{"number":"404","reason":"unavailable_data","description":"x"},"ts":"t"}"#,
        )
        .unwrap();
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"error":{"number":"404","reason":"unavailable_data","description":"x"},"ts":"t"}"#
        );
        let (status, body) = http_body(br#"{"action":"set","ts":"t"}"#).unwrap();
        assert_eq!(
            (status, body.as_slice()),
            (StatusCode::OK, &br#"{"ts":"t"}"#[..])
        );
    }

    #[test]
    fn subscribe_only_filters_are_refused_clearly() {
        let refused =
            refuse_subscribe_filter(r#"{"variant":"timebased","parameter":{"period":"100"}}"#);
        assert_eq!(refused.map(|r| r.status()), Some(StatusCode::BAD_REQUEST));
        assert!(refuse_subscribe_filter(r#"{"variant":"paths","parameter":"*"}"#).is_none());
    }
}

//! The signal explorer: a static page served beside the HTTP transport at `/explorer/`
//! (`viss-runtime/explorer/`: browse the tree's metadata, search, live values by
//! subscription, set actuators with inputs checked before sending). It is built on the
//! TypeScript SDK's client core (`templates/sdk/typescript/static/`), compiled by `tsc`
//! into `explorer/dist/` (checked in and compared with a fresh build by the SDK tests), and
//! knows no tree of its own: it reads the served trees' metadata, so every server has it.
//!
//! Turned off with `--no-explorer` (`[listen] explorer = false`).

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// One file of the page: its path below `/explorer/`, MIME type and contents.
struct Asset {
    path: &'static str,
    mime: &'static str,
    body: &'static str,
}

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// Every file the page loads (the compiled SDK core keeps its repository layout below
/// `dist/`, so the relative imports tsc leaves in place resolve as they are).
const ASSETS: [Asset; 8] = [
    Asset {
        path: "index.html",
        mime: HTML,
        body: include_str!("../../explorer/index.html"),
    },
    Asset {
        path: "explorer.css",
        mime: CSS,
        body: include_str!("../../explorer/explorer.css"),
    },
    Asset {
        path: "viss-runtime/explorer/src/explorer.js",
        mime: JS,
        body: include_str!("../../explorer/dist/viss-runtime/explorer/src/explorer.js"),
    },
    Asset {
        path: "templates/sdk/typescript/static/client.js",
        mime: JS,
        body: include_str!("../../explorer/dist/templates/sdk/typescript/static/client.js"),
    },
    Asset {
        path: "templates/sdk/typescript/static/codec.js",
        mime: JS,
        body: include_str!("../../explorer/dist/templates/sdk/typescript/static/codec.js"),
    },
    Asset {
        path: "templates/sdk/typescript/static/filter.js",
        mime: JS,
        body: include_str!("../../explorer/dist/templates/sdk/typescript/static/filter.js"),
    },
    Asset {
        path: "templates/sdk/typescript/static/leaf.js",
        mime: JS,
        body: include_str!("../../explorer/dist/templates/sdk/typescript/static/leaf.js"),
    },
    Asset {
        // Imported by the client core for mqtt:// URLs, which a browser never uses.
        path: "templates/sdk/typescript/static/mqtt.js",
        mime: JS,
        body: include_str!("../../explorer/dist/templates/sdk/typescript/static/mqtt.js"),
    },
];

/// Where the page finds the transports: the WebSocket address (none when not served),
/// whether both speak TLS, and the roots of the trees served.
#[derive(Debug, Clone)]
pub(crate) struct Endpoints {
    pub ws: Option<SocketAddr>,
    pub tls: bool,
    pub roots: Vec<String>,
}

/// The explorer's routes, to be merged into the HTTP transport's router (static segments
/// win over its `/{*path}` wildcard, so no VISS path is shadowed but `explorer/...`).
pub(crate) fn router(endpoints: Endpoints) -> Router {
    Router::new()
        .route("/explorer", get(redirect))
        .route("/explorer/", get(index))
        .route("/explorer/endpoints.json", get(endpoints_json))
        .route("/explorer/{*file}", get(asset))
        .with_state(endpoints)
}

/// `/explorer` → `/explorer/`, so the page's relative paths resolve below it.
async fn redirect() -> Response {
    (
        StatusCode::PERMANENT_REDIRECT,
        [(header::LOCATION, HeaderValue::from_static("/explorer/"))],
    )
        .into_response()
}

async fn index() -> Response {
    serve("index.html")
}

async fn asset(Path(file): Path<String>) -> Response {
    serve(&file)
}

fn serve(file: &str) -> Response {
    match ASSETS.iter().find(|asset| asset.path == file) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(asset.mime)),
                // The page is code: it must not be framed or sniffed into something else.
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
                (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            ],
            asset.body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such explorer file").into_response(),
    }
}

/// `{"ws": "wss://<host>:<port>" | null, "http": "https://<host>", "roots": [...]}`, the
/// host as the page was asked for (the name its certificate was accepted for): the `Host`
/// header, or over HTTP/2 the request's `:authority`.
async fn endpoints_json(
    State(endpoints): State<Endpoints>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let authority = uri
        .authority()
        .map(|authority| authority.as_str().to_owned());
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .or(authority.as_deref())
        .filter(|host| {
            host.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    // The host without its port (an IPv6 literal keeps its brackets).
    let name = match host.rfind(':') {
        Some(colon) if !host[colon..].contains(']') => &host[..colon],
        _ => host,
    };
    let (ws, http) = if endpoints.tls {
        ("wss", "https")
    } else {
        ("ws", "http")
    };
    let ws_url = endpoints
        .ws
        .map(|address| format!("\"{ws}://{name}:{}\"", address.port()))
        .unwrap_or_else(|| "null".to_owned());
    let roots = serde_json::to_string(&endpoints.roots).unwrap_or_else(|_| "[]".to_owned());
    let body = format!("{{\"ws\":{ws_url},\"http\":\"{http}://{host}\",\"roots\":{roots}}}");
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_the_page_names_is_served() {
        let html = ASSETS[0].body;
        for asset in &ASSETS[1..3] {
            assert!(html.contains(asset.path), "index.html loads {}", asset.path);
        }
        // Every module the compiled explorer imports is one of the assets.
        for asset in ASSETS.iter().filter(|asset| asset.mime == JS) {
            for import in asset.body.split("from \"").skip(1) {
                let Some(target) = import.split('"').next() else {
                    continue;
                };
                let base = asset.path.rsplit_once('/').map_or("", |(dir, _)| dir);
                let resolved = resolve(base, target);
                assert!(
                    ASSETS.iter().any(|served| served.path == resolved),
                    "{} imports {target} ({resolved}), which is not served",
                    asset.path
                );
            }
        }
    }

    /// `base` + a relative import, `..` and `.` resolved.
    fn resolve(base: &str, relative: &str) -> String {
        let mut parts: Vec<&str> = base.split('/').filter(|part| !part.is_empty()).collect();
        for part in relative.split('/') {
            match part {
                "." => {}
                ".." => {
                    parts.pop();
                }
                other => parts.push(other),
            }
        }
        parts.join("/")
    }
}

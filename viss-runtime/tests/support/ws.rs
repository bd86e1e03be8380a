//! A plain-ws server on 127.0.0.1 over a one-signal tree, and a `VISSv3` client for it, for
//! the socket tests.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use viss_runtime::server::{self, Limits, ServerConfig};
use viss_runtime::{DynamicTree, Engine, EngineConfig, NodeKind, NodeSpec};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Upper bound for anything a socket test waits for.
pub const LIMIT: Duration = Duration::from_secs(5);

/// Serves `Vehicle.Speed` (float sensor) over plain ws on an ephemeral 127.0.0.1 port, with
/// the limits `configure` sets.
pub async fn start_server(configure: impl FnOnce(&mut Limits)) -> server::Listening {
    let mut builder = DynamicTree::builder();
    builder
        .insert_path(
            "Vehicle.Speed",
            NodeSpec::leaf("Speed", NodeKind::Sensor, "float"),
        )
        .expect("a fresh tree takes the path");
    let engine = Arc::new(Engine::new(builder.build(), EngineConfig::default()));
    let mut config = ServerConfig::default();
    config.listen.address = [127, 0, 0, 1].into();
    config.listen.ws_port = 0;
    config.listen.http = false;
    config.listen.grpc = false;
    config.tls.insecure = true;
    configure(&mut config.limits);
    server::start(engine, &config)
        .await
        .expect("the server starts")
}

/// A WebSocket connection offering the `VISSv3` sub-protocol.
pub async fn connect(address: SocketAddr) -> Socket {
    let mut request = format!("ws://{address}/")
        .into_client_request()
        .expect("a valid URL");
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("VISSv3"));
    let (socket, _) = tokio::time::timeout(LIMIT, tokio_tungstenite::connect_async(request))
        .await
        .expect("connected in time")
        .expect("the handshake succeeds");
    socket
}

//! The broker connection behind a small seam of our own ([`LinkClient`], [`LinkEvents`]),
//! so the MQTT client library can be swapped without touching the VISS side. The one
//! implementation is rumqttc (the maintained `rumqttc-v4-next` fork, MQTT 3.1.1).

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rumqttc::{
    AsyncClient, Broker, ClientError, ConnectionError, Event, EventLoop, MqttOptions, Packet,
    PublishOptions, QoS, SubscribeReasonCode, TlsConfiguration, Transport,
};

use crate::transport::config::MqttConfig;

/// What the broker connection reports.
#[derive(Debug)]
pub(crate) enum LinkEvent {
    /// Connected (again); `session_present`: the broker kept our subscriptions.
    Connected { session_present: bool },
    /// A message on a subscribed topic; `retained`: a retained message the broker replays
    /// on (re)subscription, not one just published.
    Message {
        topic: String,
        payload: Vec<u8>,
        retained: bool,
    },
    /// The broker answered a subscription: `granted` unless it refused a topic (its ACL).
    /// Until then a message published to the topic is not routed to us: the library may
    /// send a publish queued after the subscription before it.
    Subscribed { granted: bool },
    /// The connection failed or was lost; the next [`LinkEvents::next`] reconnects.
    Lost(String),
}

/// Sends to the broker; cheap to clone, usable from any task.
pub(crate) trait LinkClient: Clone + Send + Sync + 'static {
    /// Subscribes `topic` (sent when connected; kept across reconnects by the library).
    fn subscribe(&self, topic: &str) -> impl Future<Output = Result<(), String>> + Send;
    /// Publishes `payload`; waits while the library's own queue is full.
    fn publish(
        &self,
        topic: &str,
        payload: Vec<u8>,
    ) -> impl Future<Output = Result<(), String>> + Send;
    /// Publishes without waiting: the payload comes back when the library's queue is full.
    /// Other failures (the connection task is gone) lose it, as `publish` would.
    fn try_publish(&self, topic: &str, payload: Vec<u8>) -> Result<(), Vec<u8>>;
    /// Says goodbye to the broker (MQTT DISCONNECT).
    fn disconnect(&self) -> impl Future<Output = ()> + Send;
}

/// Drives the connection: each call waits for the next thing to report.
pub(crate) trait LinkEvents: Send + 'static {
    fn next(&mut self) -> impl Future<Output = LinkEvent> + Send;
}

/// Where and how to connect, resolved from [`MqttConfig`] (files read, URL parsed).
#[derive(Debug, Clone)]
pub(crate) struct LinkOptions {
    pub host: String,
    pub port: u16,
    pub tls: Option<Arc<rustls::ClientConfig>>,
    pub client_id: String,
    pub credentials: Option<(String, String)>,
    pub keep_alive_secs: u16,
    pub qos: u8,
    pub clean_session: bool,
    pub max_packet_bytes: usize,
}

impl LinkOptions {
    /// Resolves `config`; errors name the setting at fault.
    pub(crate) fn from_config(config: &MqttConfig, insecure: bool) -> Result<Self, String> {
        let broker = config.broker.as_deref().ok_or("mqtt.broker is not set")?;
        let vid = config
            .vid
            .as_deref()
            .filter(|vid| !vid.is_empty())
            .ok_or("mqtt.vid is required with mqtt.broker: the vehicle id of its topics")?;
        if vid.contains(['#', '+', '/', '\0']) {
            return Err(format!(
                "mqtt.vid {vid:?} may not contain `/`, `#`, `+` or NUL (it names the topic \
                 `<vid>/Vehicle`)"
            ));
        }
        let (tls, host, port) = parse_broker_url(broker)?;
        let plain_chosen = config.insecure || insecure;
        if !tls && !plain_chosen {
            return Err(format!(
                "mqtt.broker {broker}: plain mqtt:// sends every request in clear; use \
                 mqtts://, or choose plain text explicitly (mqtt.insecure = true, \
                 --mqtt-insecure or VISS_MQTT_INSECURE=true)"
            ));
        }
        let tls = if tls {
            Some(Arc::new(client_tls(config)?))
        } else {
            None
        };
        if config.qos > 1 {
            return Err(format!(
                "mqtt.qos {} is not served: 0 (at most once) or 1 (at least once)",
                config.qos
            ));
        }
        let password = match &config.password_file {
            Some(path) => Some(read_password(path)?),
            None => std::env::var("VISS_MQTT_PASSWORD").ok(),
        };
        let credentials = match (&config.username, password) {
            (Some(user), password) => Some((user.clone(), password.unwrap_or_default())),
            (None, Some(_)) => {
                return Err("an MQTT password is set but mqtt.username is not".into());
            }
            (None, None) => None,
        };
        Ok(Self {
            host,
            port,
            tls,
            client_id: config
                .client_id
                .clone()
                .unwrap_or_else(|| format!("viss-{vid}")),
            credentials,
            keep_alive_secs: config.keep_alive_secs.max(5),
            qos: config.qos,
            clean_session: !config.persistent_session,
            max_packet_bytes: config.max_packet_bytes.max(1024),
        })
    }
}

/// `mqtts://host[:port]` (TLS, port 8883) or `mqtt://host[:port]` (1883): (tls, host, port).
pub fn parse_broker_url(url: &str) -> Result<(bool, String, u16), String> {
    let (tls, rest) = if let Some(rest) = url.strip_prefix("mqtts://") {
        (true, rest)
    } else if let Some(rest) = url.strip_prefix("mqtt://") {
        (false, rest)
    } else {
        return Err(format!(
            "mqtt.broker {url:?}: expected mqtts://host[:port] (or mqtt://host[:port])"
        ));
    };
    let rest = rest.trim_end_matches('/');
    let default_port = if tls { 8883 } else { 1883 };
    // `[::1]:8883`, `host:8883` or `host`.
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && !port.contains(']') => {
            let port = port
                .parse::<u16>()
                .map_err(|_| format!("mqtt.broker {url:?}: {port:?} is not a port"))?;
            (host, port)
        }
        _ => (rest, default_port),
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() || host.contains(['/', '@', '?']) {
        return Err(format!("mqtt.broker {url:?}: no host name"));
    }
    Ok((tls, host.to_owned(), port))
}

fn read_password(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|error| format!("mqtt.password_file {}: {error}", path.display()))?;
    Ok(text.lines().next().unwrap_or_default().to_owned())
}

/// The rustls client configuration: the configured CA file or the system's roots, and a
/// client certificate when configured.
fn client_tls(config: &MqttConfig) -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let roots = crate::client_tls::roots(config.ca_file.as_deref(), "mqtt.ca_file")?;
    let builder = crate::client_tls::builder(roots)?;
    match (&config.client_cert, &config.client_key) {
        (Some(cert), Some(key)) => {
            let chain = CertificateDer::pem_file_iter(cert)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|error| format!("mqtt.client_cert {}: {error}", cert.display()))?;
            let key = PrivateKeyDer::from_pem_file(key)
                .map_err(|error| format!("mqtt.client_key {}: {error}", key.display()))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|error| format!("MQTT client certificate: {error}"))
        }
        (None, None) => Ok(builder.with_no_client_auth()),
        _ => Err("mqtt.client_cert and mqtt.client_key go together".into()),
    }
}

/// Requests the client library queues before it writes them (see [`open`]).
const LIBRARY_QUEUE: usize = 8;

/// TCP_NODELAY: an answer is one small write, and Nagle's algorithm against the broker's
/// delayed ACK held each one ~40 ms (measured: 88 ms get round trips through mosquitto).
pub fn network_options() -> rumqttc::NetworkOptions {
    let mut options = rumqttc::NetworkOptions::new();
    options.set_tcp_nodelay(true);
    options
}

fn qos(level: u8) -> QoS {
    match level {
        0 => QoS::AtMostOnce,
        _ => QoS::AtLeastOnce,
    }
}

/// Connects lazily: nothing happens on the network until [`LinkEvents::next`] is called.
pub(crate) fn open(options: &LinkOptions) -> (RumqttClient, RumqttEvents) {
    let mut mqtt = MqttOptions::new(
        options.client_id.clone(),
        Broker::tcp(options.host.clone(), options.port),
    );
    mqtt.set_keep_alive(options.keep_alive_secs)
        .set_clean_session(options.clean_session)
        .set_max_packet_size(options.max_packet_bytes, options.max_packet_bytes)
        // Small: what sits in the library's queue when the connection drops is lost with
        // it (its session state is cleared on a clean reconnect), uncounted; the backlog
        // belongs in our outbox, which counts and logs what it drops.
        .set_request_channel_capacity(LIBRARY_QUEUE);
    if let Some((user, password)) = &options.credentials {
        mqtt.set_credentials(user.clone(), password.clone().into_bytes());
    }
    if let Some(tls) = &options.tls {
        mqtt.set_transport(Transport::Tls(TlsConfiguration::Rustls(Arc::clone(tls))));
    }
    let (client, mut events) = AsyncClient::builder(mqtt).capacity(LIBRARY_QUEUE).build();
    events.set_network_options(network_options());
    (
        RumqttClient {
            client,
            qos: qos(options.qos),
        },
        RumqttEvents { events },
    )
}

/// [`LinkClient`] over rumqttc.
#[derive(Clone)]
pub(crate) struct RumqttClient {
    client: AsyncClient,
    qos: QoS,
}

impl std::fmt::Debug for RumqttClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RumqttClient")
            .field("qos", &self.qos)
            .finish()
    }
}

impl LinkClient for RumqttClient {
    async fn subscribe(&self, topic: &str) -> Result<(), String> {
        self.client
            .subscribe(topic.to_owned(), self.qos)
            .await
            .map_err(|error| error.to_string())
    }

    async fn publish(&self, topic: &str, payload: Vec<u8>) -> Result<(), String> {
        self.client
            .publish(topic, payload, PublishOptions::new(self.qos))
            .await
            .map_err(|error| error.to_string())
    }

    fn try_publish(&self, topic: &str, payload: Vec<u8>) -> Result<(), Vec<u8>> {
        match self
            .client
            .try_publish(topic, payload, PublishOptions::new(self.qos))
        {
            Ok(()) => Ok(()),
            Err(ClientError::RequestChannelFull(request)) => match *request {
                rumqttc::Request::Publish(publish) => Err(Vec::from(publish.payload)),
                _ => Ok(()),
            },
            Err(error) => {
                tracing::debug!(%error, "MQTT publish failed");
                Ok(())
            }
        }
    }

    async fn disconnect(&self) {
        let _ = self
            .client
            .disconnect_with_timeout(Duration::from_secs(2))
            .await;
    }
}

/// [`LinkEvents`] over rumqttc's event loop.
pub(crate) struct RumqttEvents {
    events: EventLoop,
}

impl std::fmt::Debug for RumqttEvents {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RumqttEvents")
    }
}

impl LinkEvents for RumqttEvents {
    async fn next(&mut self) -> LinkEvent {
        loop {
            match self.events.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(ack))) => {
                    return LinkEvent::Connected {
                        session_present: ack.session_present,
                    };
                }
                Ok(Event::Incoming(Packet::SubAck(ack))) => {
                    let granted = ack
                        .return_codes
                        .iter()
                        .all(|code| matches!(code, SubscribeReasonCode::Success(_)));
                    return LinkEvent::Subscribed { granted };
                }
                Ok(Event::Incoming(Packet::Publish(publish))) => {
                    let Ok(topic) = std::str::from_utf8(&publish.topic) else {
                        continue;
                    };
                    return LinkEvent::Message {
                        topic: topic.to_owned(),
                        payload: Vec::from(publish.payload),
                        retained: publish.retain,
                    };
                }
                Ok(_) => {}
                Err(error) => return LinkEvent::Lost(describe(&error)),
            }
        }
    }
}

fn describe(error: &ConnectionError) -> String {
    match error {
        ConnectionError::ConnectionRefused(code) => {
            format!("the broker refused the connection ({code:?}): check the credentials")
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls() {
        assert_eq!(
            parse_broker_url("mqtts://broker.example").unwrap(),
            (true, "broker.example".into(), 8883)
        );
        assert_eq!(
            parse_broker_url("mqtt://127.0.0.1:1999/").unwrap(),
            (false, "127.0.0.1".into(), 1999)
        );
        assert_eq!(
            parse_broker_url("mqtts://[::1]:9000").unwrap(),
            (true, "::1".into(), 9000)
        );
        for bad in [
            "tcp://x",
            "mqtt://",
            "mqtts://host:port",
            "broker:1883",
            "mqtt://u@h",
        ] {
            assert!(parse_broker_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn plain_text_and_a_missing_vid_are_refused_with_the_way_out() {
        let mut config = MqttConfig {
            broker: Some("mqtt://127.0.0.1:1883".into()),
            vid: Some("VIN1".into()),
            ..MqttConfig::default()
        };
        let error = LinkOptions::from_config(&config, false).unwrap_err();
        assert!(error.contains("mqtt.insecure = true"), "{error}");
        assert!(LinkOptions::from_config(&config, true).is_ok());
        config.insecure = true;
        let options = LinkOptions::from_config(&config, false).unwrap();
        assert_eq!(options.client_id, "viss-VIN1");
        assert!(options.tls.is_none() && options.clean_session);
        config.vid = None;
        assert!(
            LinkOptions::from_config(&config, false)
                .unwrap_err()
                .contains("mqtt.vid")
        );
        config.vid = Some("a/b".into());
        assert!(LinkOptions::from_config(&config, false).is_err());
        config.vid = Some("VIN1".into());
        config.qos = 2;
        assert!(LinkOptions::from_config(&config, false).is_err());
    }

    #[test]
    fn tls_reads_the_configured_ca() {
        let dir = std::env::temp_dir().join(format!("viss-mqtt-ca-{}", std::process::id()));
        let files = crate::transport::tls::ensure_self_signed(&dir).unwrap();
        let config = MqttConfig {
            broker: Some("mqtts://localhost".into()),
            vid: Some("VIN1".into()),
            ca_file: Some(files.cert.clone()),
            ..MqttConfig::default()
        };
        let options = LinkOptions::from_config(&config, false).unwrap();
        assert!(options.tls.is_some());
        let missing = MqttConfig {
            ca_file: Some(dir.join("missing.pem")),
            ..config
        };
        let error = LinkOptions::from_config(&missing, false).unwrap_err();
        assert!(error.contains("mqtt.ca_file"), "{error}");
        let _ = std::fs::remove_dir_all(dir);
    }
}

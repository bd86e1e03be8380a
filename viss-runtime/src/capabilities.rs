//! The `Server` capabilities tree (CORE App. B): what this build and configuration really
//! serve, as a tree of attributes read with plain `get`.
//!
//! [`Capabilities::of_engine`] fills in what the engine decides (filters, data compression,
//! limits, in-line errors); a transport adds its protocols, ports and TLS. Nothing here is
//! typed in by hand for one deployment: every value comes from the build's features and the
//! configuration in force. Lists that would be empty are left out, as a VISS value may not
//! be an empty array (so no `Server.Support.Security` without access control).
//!
//! Nodes beyond App. B's example are extensions, declared here as the spec asks:
//! `Server.Support.SubProtocol`, `Server.Config.Tls`, `Server.Config.InlineErrors`,
//! `Server.Config.Limits.*` and `Server.Config.Deviations` (the deviations from v3.0 in
//! force, e.g. serving VISSv2 clients that name no sub-protocol).

use crate::engine::EngineConfig;
use crate::tree::{DynamicTree, Lit, LitKind, Literal, NodeKind, NodeSpec};

/// The root name CORE App. B fixes.
pub const ROOT: &str = "Server";

/// One transport protocol served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Protocol {
    /// The App. B feature name: `ws`, `http`, `mqtt`, `grpc`.
    pub name: &'static str,
    /// The port it listens on (0 until bound; [`port_path`] names the node to update).
    pub port: u16,
}

/// Engine limits a client may want to know before it subscribes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Limits {
    pub max_message_bytes: u64,
    pub event_queue: u64,
    pub max_subscriptions_per_connection: u64,
    /// 0 = no limit.
    pub subscription_duration_ms: u64,
    pub curvelog_max_buffer: u64,
    /// Samples kept per signal for `history`; 0 = no history.
    pub history_samples: u64,
}

/// File transfer (CORE App. C) as served: directions and the data channel's parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FileTransfer {
    /// `download`, `upload`.
    pub directions: Vec<&'static str>,
    /// The WebSocket data channel's port (0 until bound: [`port_path`]`("filetransfer")`).
    pub port: u16,
    /// Chunk size of uploads.
    pub chunk_bytes: u64,
    /// Largest download accepted.
    pub max_file_bytes: u64,
}

/// Everything the `Server` tree says.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Capabilities {
    pub protocols: Vec<Protocol>,
    pub filters: Vec<&'static str>,
    pub data_compression: Vec<&'static str>,
    pub encodings: Vec<&'static str>,
    pub security: Vec<&'static str>,
    /// WebSocket sub-protocols served (when `ws` is).
    pub subprotocols: Vec<&'static str>,
    /// The WebSocket sub-protocol of protobuf payloads, when served (PAYLOAD ENCODING: the
    /// capabilities SHALL say how a client asks for them).
    pub protobuf_subprotocol: Option<&'static str>,
    /// The MQTT request topic (`<VID>/Vehicle`), when MQTT is served.
    pub mqtt_topic: Option<String>,
    /// The MQTT topic of protobuf payloads (`<VID>/Vehicle/protobuf`), when served.
    pub mqtt_protobuf_topic: Option<String>,
    /// File transfer, when served.
    pub file_transfer: Option<FileTransfer>,
    pub tls: bool,
    pub inline_errors: bool,
    pub limits: Limits,
    pub deviations: Vec<String>,
}

impl Capabilities {
    /// What the engine serves under `config`; protocols, TLS and the transport limits are
    /// the transport's to add.
    pub fn of_engine(config: &EngineConfig) -> Self {
        let history_samples = config.history.map_or(0, |history| history.max_samples);
        let mut filters = vec!["timebased", "change", "paths", "range", "curvelog"];
        if history_samples > 0 {
            filters.push("history");
        }
        filters.push("metadata");
        Self {
            filters,
            data_compression: crate::dc::SUPPORTED_NAMES.to_vec(),
            encodings: vec!["json"],
            inline_errors: config.inline_errors,
            tls: true,
            limits: Limits {
                event_queue: config.queue_capacity as u64,
                max_subscriptions_per_connection: config.max_subscriptions_per_session as u64,
                subscription_duration_ms: config
                    .max_subscription_duration
                    .map_or(0, |limit| limit.as_millis().max(0) as u64),
                curvelog_max_buffer: config.max_curvelog_buffer as u64,
                history_samples: history_samples as u64,
                ..Limits::default()
            },
            ..Self::default()
        }
    }

    /// The `Server` tree: branches `Server`, `Server.Support`, `Server.Config` and an
    /// attribute per fact, its value its `default`.
    pub fn tree(&self) -> DynamicTree {
        let mut nodes = Nodes(DynamicTree::builder());
        nodes.branch(ROOT, "Root for the server capabilities.");
        nodes.branch("Server.Support", "The features this server supports.");
        let protocols: Vec<&str> = self.protocols.iter().map(|p| p.name).collect();
        nodes.list(
            "Server.Support.Protocol",
            "Transport protocols served.",
            &protocols,
        );
        nodes.list(
            "Server.Support.Filter",
            "Filter variants served.",
            &self.filters,
        );
        nodes.list(
            "Server.Support.DataCompression",
            "Data compression schemes served (`dc`).",
            &self.data_compression,
        );
        nodes.list(
            "Server.Support.Encoding",
            "Payload encodings served.",
            &self.encodings,
        );
        nodes.list(
            "Server.Support.Security",
            "Security features.",
            &self.security,
        );
        if let Some(files) = &self.file_transfer {
            nodes.list(
                "Server.Support.Filetransfer",
                "File transfer directions served (CORE App. C).",
                &files.directions,
            );
        }
        if protocols.contains(&"ws") {
            nodes.list(
                "Server.Support.SubProtocol",
                "WebSocket sub-protocols served (extension).",
                &self.subprotocols,
            );
        }
        nodes.branch("Server.Config", "How to use the supported features.");
        for protocol in &self.protocols {
            if let Some(path) = port_path(protocol.name) {
                nodes.number(
                    path,
                    "Port the protocol listens on.",
                    "uint32",
                    protocol.port.into(),
                );
            }
        }
        if let Some(subprotocol) = self.protobuf_subprotocol {
            nodes.text(
                "Server.Config.Protocol.Websocket.Protobuf.SubProtocol",
                "WebSocket sub-protocol of protobuf payloads (binary frames).",
                subprotocol,
            );
        }
        if let Some(files) = &self.file_transfer {
            self.file_transfer_config(&mut nodes, files);
        }
        if let Some(topic) = &self.mqtt_topic {
            nodes.text(
                "Server.Config.Protocol.Mqtt.Primary.Topic",
                "MQTT topic of requests with JSON payloads.",
                topic,
            );
        }
        if let Some(topic) = &self.mqtt_protobuf_topic {
            nodes.text(
                "Server.Config.Protocol.Mqtt.Protobuf.Topic",
                "MQTT topic of requests with protobuf payloads (MqttRequest envelope).",
                topic,
            );
        }
        nodes.flag(
            "Server.Config.Tls",
            "Transports are TLS protected (extension).",
            self.tls,
        );
        nodes.flag(
            "Server.Config.InlineErrors",
            "Missing values of multi-signal reads are reported in-line (extension).",
            self.inline_errors,
        );
        let limits = self.limits;
        for (name, description, value) in [
            (
                "MaxMessageBytes",
                "Largest request accepted, in bytes.",
                limits.max_message_bytes,
            ),
            (
                "EventQueue",
                "Events queued per connection before the oldest is dropped.",
                limits.event_queue,
            ),
            (
                "MaxSubscriptionsPerConnection",
                "Subscriptions one connection may hold.",
                limits.max_subscriptions_per_connection,
            ),
            (
                "SubscriptionDurationMs",
                "Subscriptions end with 408 after this long; 0 = never.",
                limits.subscription_duration_ms,
            ),
            (
                "CurvelogMaxBuffer",
                "Largest curvelog bufsize accepted.",
                limits.curvelog_max_buffer,
            ),
            (
                "HistorySamples",
                "Samples kept per signal for history; 0 = none.",
                limits.history_samples,
            ),
        ] {
            let path = format!("Server.Config.Limits.{name}");
            nodes.number(&path, description, "uint64", value);
        }
        let deviations: Vec<&str> = self.deviations.iter().map(String::as_str).collect();
        nodes.list(
            "Server.Config.Deviations",
            "Deviations from VISS v3.0 in force (extension).",
            &deviations,
        );
        nodes.0.build()
    }
}

impl Capabilities {
    /// `Server.Config.Protocol.Websocket.FileTransfer.*`: where the data channel is (the
    /// node names VISSR uses) and the rules CORE App. C leaves open (extensions).
    fn file_transfer_config(&self, nodes: &mut Nodes, files: &FileTransfer) {
        const BRANCH: &str = "Server.Config.Protocol.Websocket.FileTransfer";
        nodes.number(
            &format!("{BRANCH}.PortNum"),
            "Port of the WebSocket data channel (binary messages, TLS as the other transports).",
            "uint32",
            files.port.into(),
        );
        nodes.number(
            &format!("{BRANCH}.ChunkBytes"),
            "Chunk size of uploads, in bytes (extension).",
            "uint64",
            files.chunk_bytes,
        );
        nodes.number(
            &format!("{BRANCH}.MaxFileBytes"),
            "Largest file a download may bring, in bytes (extension).",
            "uint64",
            files.max_file_bytes,
        );
        nodes.text(
            &format!("{BRANCH}.ByteOrder"),
            "Byte order of the binary messages' integers (extension; App. C is silent).",
            "big-endian",
        );
        nodes.text(
            &format!("{BRANCH}.LargeFiles"),
            "How files of more than 255 chunks are numbered (extension; App. C is silent).",
            "messageNo = chunk index modulo 255 (0..254, then 0 again); stop-and-wait",
        );
    }
}

/// The `PortNum` node of a protocol's primary payload format (`filetransfer`: the file
/// transfer data channel's).
pub fn port_path(protocol: &str) -> Option<&'static str> {
    match protocol {
        "filetransfer" => Some("Server.Config.Protocol.Websocket.FileTransfer.PortNum"),
        "ws" => Some("Server.Config.Protocol.Websocket.Primary.PortNum"),
        "http" => Some("Server.Config.Protocol.Http.Primary.PortNum"),
        "grpc" => Some("Server.Config.Protocol.Grpc.Protobuf.PortNum"),
        "mqtt" => Some("Server.Config.Protocol.Mqtt.PortNum"),
        _ => None,
    }
}

/// Adds the `Server` tree's nodes (its paths are fixed here, so insertion cannot fail).
struct Nodes(crate::tree::DynamicTreeBuilder);

impl Nodes {
    fn add(&mut self, path: &str, spec: NodeSpec) {
        let inserted = self.0.insert_path(path, spec);
        debug_assert!(inserted.is_ok(), "{path}: {inserted:?}");
    }

    fn branch(&mut self, path: &str, description: &str) {
        let name = leaf_name(path);
        self.add(path, NodeSpec::branch(name).description(description));
    }

    /// A `string[]` attribute; left out when `items` is empty.
    fn list(&mut self, path: &str, description: &str, items: &[&str]) {
        if items.is_empty() {
            return;
        }
        let value = items
            .iter()
            .map(|item| Lit::owned(LitKind::String, *item))
            .collect::<Vec<_>>();
        let spec = NodeSpec::leaf(leaf_name(path), NodeKind::Attribute, "string[]")
            .description(description)
            .default_value(Literal::Array(value.into()));
        self.add(path, spec);
    }

    fn number(&mut self, path: &str, description: &str, datatype: &str, value: u64) {
        let spec = NodeSpec::leaf(leaf_name(path), NodeKind::Attribute, datatype)
            .description(description)
            .default_value(Literal::Scalar(Lit::owned(
                LitKind::Number,
                value.to_string(),
            )));
        self.add(path, spec);
    }

    fn text(&mut self, path: &str, description: &str, value: &str) {
        let spec = NodeSpec::leaf(leaf_name(path), NodeKind::Attribute, "string")
            .description(description)
            .default_value(Literal::Scalar(Lit::owned(LitKind::String, value)));
        self.add(path, spec);
    }

    fn flag(&mut self, path: &str, description: &str, value: bool) {
        let spec = NodeSpec::leaf(leaf_name(path), NodeKind::Attribute, "boolean")
            .description(description)
            .default_value(Literal::Scalar(Lit::owned(
                LitKind::Bool,
                value.to_string(),
            )));
        self.add(path, spec);
    }
}

fn leaf_name(path: &str) -> &str {
    path.rsplit('.').next().unwrap_or(path)
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::tree::VissTree;

    #[test]
    fn the_tree_holds_what_the_capabilities_say_and_leaves_out_empty_lists() {
        let mut capabilities = Capabilities::of_engine(&EngineConfig::default());
        capabilities.protocols = vec![Protocol {
            name: "ws",
            port: 6443,
        }];
        capabilities.subprotocols = vec!["VISSv3", "VISSv2"];
        let tree = capabilities.tree();
        assert_eq!(
            tree.node(tree.lookup("Server").unwrap()).kind,
            NodeKind::Branch
        );
        let protocol = tree.node(tree.lookup("Server.Support.Protocol").unwrap());
        assert_eq!(
            protocol.default,
            Some(Literal::Array(
                vec![Lit::owned(LitKind::String, "ws")].into()
            ))
        );
        assert!(
            tree.lookup("Server.Config.Protocol.Websocket.Primary.PortNum")
                .is_some()
        );
        assert!(
            tree.lookup("Server.Config.Protocol.Http.Primary.PortNum")
                .is_none()
        );
        assert!(tree.lookup("Server.Support.Security").is_none());
        let filters = tree.node(tree.lookup("Server.Support.Filter").unwrap());
        let Some(Literal::Array(filters)) = &filters.default else {
            panic!("a list")
        };
        let names: Vec<&str> = filters.iter().map(Lit::as_str).collect();
        assert!(names.contains(&"timebased") && names.contains(&"history"));
        let without_history = Capabilities::of_engine(&EngineConfig {
            history: None,
            ..EngineConfig::default()
        });
        assert!(!without_history.filters.contains(&"history"));
    }
}

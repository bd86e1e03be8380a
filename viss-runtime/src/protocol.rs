//! The VISS version a session speaks: VISSv3, or VISSv2 for the v2-era clients still in the
//! field (`docs/conformance.md`, "VISSv2 clients"). Parsing is shared; what differs is
//! which forms a request may use and how responses, events and errors are written.

/// A protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Version {
    /// VISSv2: filter key `type`, integer error numbers with `message`, subscribe without
    /// filter, `subscriptionId` in unsubscribe responses, no in-line errors or `dc`.
    V2,
    /// VISS v3.0, strict.
    #[default]
    V3,
}

impl Version {
    /// The WebSocket sub-protocol naming this version.
    pub const fn subprotocol(self) -> &'static str {
        match self {
            Self::V2 => "VISSv2",
            Self::V3 => "VISSv3",
        }
    }
}

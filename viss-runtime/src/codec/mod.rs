//! The codec seam: how a transport's payloads map onto the engine's primary JSON format
//! (CORE §1: another encoding must be reversible to JSON). The engine reads and writes only
//! JSON; a transport decodes each incoming payload with its session's codec, hands the JSON
//! to [`crate::Engine::handle`], and encodes what the engine wrote (responses and events)
//! back. [`Json`] is the identity; [`protobuf::Protobuf`] (feature `protobuf`) is the
//! `VISS-protoenc` encoding, added without touching the engine.

#[cfg(feature = "protobuf")]
pub mod protobuf;

/// How a payload travels in a frame-based transport (WebSocket).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    Text,
    Binary,
}

/// Why a payload could not be decoded (answered with `400 bad_request`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl std::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

/// One payload encoding.
pub trait Codec: Send + Sync {
    /// The encoding's name (its WebSocket sub-protocol family, `Server.Support.Encoding`).
    fn name(&self) -> &'static str;

    /// The frame type its payloads travel in.
    fn frame(&self) -> Frame;

    /// The JSON request a payload carries: the payload itself for JSON, else written into
    /// `scratch`.
    fn decode<'a>(
        &self,
        payload: &'a [u8],
        scratch: &'a mut Vec<u8>,
    ) -> Result<&'a [u8], DecodeError>;

    /// Replaces the engine's JSON output in `message` by its encoding (in place: JSON
    /// leaves it as it is).
    fn encode(&self, message: &mut Vec<u8>);
}

/// The primary payload format: JSON text, unchanged.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json;

impl Codec for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn frame(&self) -> Frame {
        Frame::Text
    }

    fn decode<'a>(
        &self,
        payload: &'a [u8],
        _scratch: &'a mut Vec<u8>,
    ) -> Result<&'a [u8], DecodeError> {
        Ok(payload)
    }

    fn encode(&self, _message: &mut Vec<u8>) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_the_identity_in_text_frames() {
        let mut scratch = Vec::new();
        let payload = br#"{"action":"get"}"#;
        assert_eq!(Json.decode(payload, &mut scratch), Ok(&payload[..]));
        let mut message = payload.to_vec();
        Json.encode(&mut message);
        assert_eq!(message, payload);
        assert_eq!((Json.name(), Json.frame()), ("json", Frame::Text));
    }
}

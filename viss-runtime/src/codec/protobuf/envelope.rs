//! Protobuf payloads outside gRPC: one [`ProtobufMessage`] per WebSocket binary frame
//! (sub-protocol `VISS-protoenc`), and the [`Protobuf`] codec a WebSocket session uses.

use prost::Message as _;

use super::protoenc::{
    GetMessage, MessageMethod, MessageType, ProtobufMessage, SetMessage, SubscribeMessage,
    UnsubscribeMessage,
};
use super::{Request, Response, proto};
use crate::codec::{Codec, DecodeError, Frame};
use crate::error::ErrorKind;

/// The WebSocket sub-protocol of protobuf payloads (PAYLOAD ENCODING's recommended name).
pub const SUBPROTOCOL: &str = "VISS-protoenc";

impl Request {
    /// The request a frame carries; a response or a frame without its method's member is
    /// not a request.
    pub fn from_envelope(envelope: ProtobufMessage) -> Result<Self, DecodeError> {
        let is_request = |m_type: i32| m_type == MessageType::Request as i32;
        let method = MessageMethod::try_from(envelope.method)
            .map_err(|_| DecodeError(format!("unknown Method {}", envelope.method)))?;
        let request = match method {
            MessageMethod::Get => envelope
                .get
                .filter(|get| is_request(get.m_type))
                .and_then(|get| get.request)
                .map(Self::Get),
            MessageMethod::Set => envelope
                .set
                .filter(|set| is_request(set.m_type))
                .and_then(|set| set.request)
                .map(Self::Set),
            MessageMethod::Subscribe => envelope
                .subscribe
                .filter(|subscribe| is_request(subscribe.m_type))
                .and_then(|subscribe| subscribe.request)
                .map(Self::Subscribe),
            MessageMethod::Unsubscribe => envelope
                .unsubscribe
                .filter(|unsubscribe| is_request(unsubscribe.m_type))
                .and_then(|unsubscribe| unsubscribe.request)
                .map(Self::Unsubscribe),
        };
        request.ok_or_else(|| {
            DecodeError(format!(
                "a {} request needs MType REQUEST and its Request member",
                method.as_str_name()
            ))
        })
    }

    /// The frame carrying this request.
    pub fn into_envelope(self) -> ProtobufMessage {
        let request = MessageType::Request as i32;
        let mut envelope = ProtobufMessage::default();
        match self {
            Self::Get(get) => {
                envelope.method = MessageMethod::Get as i32;
                envelope.get = Some(GetMessage {
                    m_type: request,
                    request: Some(get),
                    response: None,
                });
            }
            Self::Set(set) => {
                envelope.method = MessageMethod::Set as i32;
                envelope.set = Some(SetMessage {
                    m_type: request,
                    request: Some(set),
                    response: None,
                });
            }
            Self::Subscribe(subscribe) => {
                envelope.method = MessageMethod::Subscribe as i32;
                envelope.subscribe = Some(SubscribeMessage {
                    m_type: request,
                    request: Some(subscribe),
                    stream: None,
                });
            }
            Self::Unsubscribe(unsubscribe) => {
                envelope.method = MessageMethod::Unsubscribe as i32;
                envelope.unsubscribe = Some(UnsubscribeMessage {
                    m_type: request,
                    request: Some(unsubscribe),
                    response: None,
                });
            }
        }
        envelope
    }
}

impl Response {
    /// The frame carrying this response (subscribe responses and events are `STREAM`).
    pub fn into_envelope(self) -> ProtobufMessage {
        let response = MessageType::Response as i32;
        let mut envelope = ProtobufMessage::default();
        match self {
            Self::Get(get) => {
                envelope.method = MessageMethod::Get as i32;
                envelope.get = Some(GetMessage {
                    m_type: response,
                    request: None,
                    response: Some(get),
                });
            }
            Self::Set(set) => {
                envelope.method = MessageMethod::Set as i32;
                envelope.set = Some(SetMessage {
                    m_type: response,
                    request: None,
                    response: Some(set),
                });
            }
            Self::Subscribe(stream) => {
                envelope.method = MessageMethod::Subscribe as i32;
                envelope.subscribe = Some(SubscribeMessage {
                    m_type: MessageType::Stream as i32,
                    request: None,
                    stream: Some(stream),
                });
            }
            Self::Unsubscribe(unsubscribe) => {
                envelope.method = MessageMethod::Unsubscribe as i32;
                envelope.unsubscribe = Some(UnsubscribeMessage {
                    m_type: response,
                    request: None,
                    response: Some(unsubscribe),
                });
            }
        }
        envelope
    }

    /// The response a frame carries, if it carries one.
    pub fn from_envelope(envelope: ProtobufMessage) -> Option<Self> {
        match MessageMethod::try_from(envelope.method).ok()? {
            MessageMethod::Get => envelope.get?.response.map(Self::Get),
            MessageMethod::Set => envelope.set?.response.map(Self::Set),
            MessageMethod::Subscribe => envelope.subscribe?.stream.map(Self::Subscribe),
            MessageMethod::Unsubscribe => envelope.unsubscribe?.response.map(Self::Unsubscribe),
        }
    }
}

/// The `VISS-protoenc` codec: binary frames, each one [`ProtobufMessage`].
///
/// Decoding and encoding go through the JSON form the engine reads and writes, so a
/// protobuf session behaves exactly as a JSON one (same parser, same errors, same
/// subscriptions); the translation allocates, the JSON path does not pay for it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Protobuf;

impl Codec for Protobuf {
    fn name(&self) -> &'static str {
        "protobuf"
    }

    fn frame(&self) -> Frame {
        Frame::Binary
    }

    fn decode<'a>(
        &self,
        payload: &'a [u8],
        scratch: &'a mut Vec<u8>,
    ) -> Result<&'a [u8], DecodeError> {
        let envelope = ProtobufMessage::decode(payload)
            .map_err(|error| DecodeError(format!("not a ProtobufMessage ({error})")))?;
        let json = Request::from_envelope(envelope)?.to_json();
        scratch.clear();
        serde_json::to_writer(&mut *scratch, &json)
            .map_err(|error| DecodeError(error.to_string()))?;
        Ok(scratch)
    }

    fn encode(&self, message: &mut Vec<u8>) {
        let response = serde_json::from_slice(message)
            .map_err(|error| super::EncodeError(error.to_string()))
            .and_then(|json| Response::from_json(&json))
            .unwrap_or_else(|_| unencodable());
        message.clear();
        response.into_envelope().encode_raw(message);
    }
}

/// What a client gets if the engine's output had no protobuf form (it always has one; the
/// corpus test checks every message): a get error, `503`, rather than a lost answer.
fn unencodable() -> Response {
    let kind = ErrorKind::ServiceUnavailable;
    Response::Get(proto::GetResponseMessage {
        status: proto::ResponseStatus::Error as i32,
        error_response: Some(proto::ErrorResponseMessage {
            number: kind.number().to_owned(),
            reason: kind.reason().to_owned(),
            description: kind.default_description().to_owned(),
        }),
        ts: format!("{:.3}", jiff::Timestamp::now()),
        ..Default::default()
    })
}

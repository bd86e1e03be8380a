//! The VISS protobuf payload encoding (PAYLOAD ENCODING; `schemas/viss_v3_0.proto`): every
//! VISS message translated between the primary JSON format and its protobuf message, the
//! WebSocket codec of sub-protocol `VISS-protoenc` (one [`protoenc::ProtobufMessage`] per
//! binary frame, `schemas/viss_protoenc.proto`), and what the gRPC transport translates with.
//!
//! The proto cannot say everything JSON can (viss-core §14). The rules, one per gap, in
//! both directions (`docs/protobuf.md` lists them for users; the corpus test checks each):
//! - **Values are strings.** A JSON string value travels as itself. An array or object
//!   value (arrays, structs) travels as its compact JSON text and is read back as JSON when
//!   the text is a JSON array or object. So a *string* value whose text is itself a JSON
//!   array or object (`"[1]"`) reads back as that array or object. Numbers, booleans and
//!   `null` are not VISS v3 values and are refused when encoding ([`EncodeError`]).
//! - **`data`, `dp`, `filter` and a range's boundaries are repeated fields.** One element
//!   is written back as an object, several as an array: `[x]` becomes `x`. The `paths`
//!   parameter is always an array (the schema's form), so `"A"` becomes `["A"]`.
//! - **No `combination-op`.** Two range boundaries are ANDed, the spec's default: an
//!   explicit `"AND"` is dropped, and `"OR"` cannot be encoded ([`EncodeError`]).
//! - **Metadata is a string**: the JSON text of the `metadata` object, parsed back.
//! - **Status instead of presence**: responses carry `Status` SUCCESS/ERROR; empty
//!   non-optional strings (`Ts`, an event's `SubscriptionId`) mean "absent".
//! - **An error that answers no known action** (a frame that is no VISS message) is a
//!   `GetResponseMessage` with status ERROR: the proto has no action-less error.

mod decode;
mod encode;
mod envelope;

pub use encode::EncodeError;
pub use envelope::{Protobuf, SUBPROTOCOL};

/// The messages of `schemas/viss_v3_0.proto` (package `grpcProtobufMessages`), with the
/// gRPC service under [`proto::viss_server`] (feature `grpc`).
#[allow(clippy::all, missing_debug_implementations, missing_docs)]
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/grpc_protobuf_messages.rs"));

    /// The envelope of protobuf payloads outside gRPC (`schemas/viss_protoenc.proto`,
    /// package `grpcProtobufMessages.protoenc`).
    pub mod protoenc {
        include!(concat!(
            env!("OUT_DIR"),
            "/grpc_protobuf_messages.protoenc.rs"
        ));
    }
}

pub use proto::protoenc;

/// A VISS request in its protobuf form.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    Get(proto::GetRequestMessage),
    Set(proto::SetRequestMessage),
    Subscribe(proto::SubscribeRequestMessage),
    Unsubscribe(proto::UnsubscribeRequestMessage),
}

/// A VISS response or subscription event in its protobuf form.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    Get(proto::GetResponseMessage),
    Set(proto::SetResponseMessage),
    /// A subscribe response (`MType` RESPONSE) or an event (`MType` EVENT).
    Subscribe(proto::SubscribeStreamMessage),
    Unsubscribe(proto::UnsubscribeResponseMessage),
}

impl Request {
    /// The protobuf form of a JSON request (see the module's rules).
    pub fn from_json(json: &serde_json::Value) -> Result<Self, EncodeError> {
        encode::request(json)
    }

    /// The JSON request this message carries.
    pub fn to_json(&self) -> serde_json::Value {
        decode::request(self)
    }
}

impl Response {
    /// The protobuf form of a JSON response or event (see the module's rules).
    pub fn from_json(json: &serde_json::Value) -> Result<Self, EncodeError> {
        encode::response(json)
    }

    /// The JSON response or event this message carries.
    pub fn to_json(&self) -> serde_json::Value {
        decode::response(self)
    }
}

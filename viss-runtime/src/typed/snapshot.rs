//! Per-tree protobuf snapshots: a derived tree's current values as one message of the
//! tree's own `.proto` (`vssgen generate` writes `proto/<root>.proto` and, in
//! `src/snapshot.rs`, a [`ProtoBranch`] impl per branch type in terms of this module).
//!
//! ```text
//! let mut buf = Vec::new();
//! snapshot::encode(&Vehicle::TREE, &engine, &mut buf);          // whole tree
//! snapshot::encode(&Vehicle::TREE.cabin, &engine, &mut buf);    // one branch: a `Cabin`
//! let report = snapshot::decode(&Vehicle::TREE, &engine, &bytes, ts)?;  // typed feeds
//! ```
//!
//! Encoding reads every value borrowed from the store into a reused buffer: no allocation
//! once the buffer has grown to the snapshot's size. A nested message is written in place
//! behind a one-byte length that is widened (its body moved up) only when the body turns
//! out longer than 127 bytes, so values are read once, never twice (a length pass and a
//! write pass could see a value change between them). Branches without any value are left
//! out; a signal without a value is an absent field.
//!
//! Decoding checks the whole message first (framing, wire types, UTF-8) and writes
//! nothing when any of it is malformed; then every present field is fed like a feeder
//! write ([`crate::Engine::update`]: limits, `allowed` values and struct members checked,
//! subscriptions triggered). A value the engine refuses (out of its limits, an enum number
//! this tree does not know) is counted in the [`FeedReport`] and the rest is still written.
//! Scalars and enums decode and feed without allocating; strings, arrays and structs
//! allocate their values. Unknown fields (a newer tree's signals) are skipped.
//!
//! Lossy edges: an empty array of a numeric or enum type travels as an empty packed field
//! and reads back empty, but an empty array of strings or structs has no protobuf form
//! and is absent; all values decoded from one message share the timestamp given to
//! [`decode`].

use std::borrow::Cow;

use jiff::Timestamp;
// `prost::encoding` is public but doc-hidden: it is what prost's own generated code is
// written in. prost is pinned by the workspace lock, so these primitives cannot move under
// us; writing the same varint and key code again here would only be a second copy.
use prost::encoding::{self, WireType};

use crate::codec::DecodeError;
use crate::engine::Engine;
use crate::error::VissError;
use crate::tree::{NodeId, VissTree};
use crate::typed::TreeView;
use crate::value::Value;

/// Where a snapshot reads current values and where decoded values are fed.
pub trait SnapshotStore {
    /// Calls `read` with the current value of `node` (`None`: no value yet).
    fn read_value<R>(&self, node: NodeId, read: impl FnOnce(Option<&Value>) -> R) -> R;

    /// Feeds `value` to `node` at `ts`, as a feeder would.
    fn write_value(&self, node: NodeId, value: Value, ts: Timestamp) -> Result<(), VissError>;
}

impl<T: VissTree> SnapshotStore for Engine<T> {
    fn read_value<R>(&self, node: NodeId, read: impl FnOnce(Option<&Value>) -> R) -> R {
        self.store()
            .read(node, |sample| read(sample.map(|sample| &sample.value)))
    }

    fn write_value(&self, node: NodeId, value: Value, ts: Timestamp) -> Result<(), VissError> {
        self.update(node, value, ts)
    }
}

/// A tree mounted beside the primary one: its handles' ids are offset into the forest.
impl<T: VissTree> SnapshotStore for TreeView<'_, T> {
    fn read_value<R>(&self, node: NodeId, read: impl FnOnce(Option<&Value>) -> R) -> R {
        match self.global(node) {
            Ok(node) => self.engine.read_value(node, read),
            Err(_) => read(None),
        }
    }

    fn write_value(&self, node: NodeId, value: Value, ts: Timestamp) -> Result<(), VissError> {
        self.engine.write_value(self.global(node)?, value, ts)
    }
}

/// A field's protobuf type (the per-tree `.proto`'s mapping of a VSS datatype).
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    Bool,
    String,
    Float,
    Double,
    /// `uint8`, `uint16`, `uint32`.
    Uint32,
    Uint64,
    /// `int8`, `int16`, `int32` (zig-zag).
    Sint32,
    /// `int64` (zig-zag).
    Sint64,
    /// A string leaf with an `allowed` list.
    Enum(&'static EnumCodec),
    /// A VSS struct type.
    Struct(&'static StructCodec),
}

impl Kind {
    /// Whether a repeated field of this kind is packed (scalars and enums).
    const fn packed(self) -> bool {
        !matches!(self, Self::String | Self::Struct(_))
    }

    /// The wire type of one element.
    const fn wire_type(self) -> WireType {
        match self {
            Self::Bool
            | Self::Uint32
            | Self::Uint64
            | Self::Sint32
            | Self::Sint64
            | Self::Enum(_) => WireType::Varint,
            Self::Float => WireType::ThirtyTwoBit,
            Self::Double => WireType::SixtyFourBit,
            Self::String | Self::Struct(_) => WireType::LengthDelimited,
        }
    }
}

/// A `.proto` enum: its numbers and the VSS strings they stand for.
#[derive(Debug)]
pub struct EnumCodec {
    values: &'static [(i32, &'static str)],
}

impl EnumCodec {
    pub const fn new(values: &'static [(i32, &'static str)]) -> Self {
        Self { values }
    }

    fn number(&self, vss: &str) -> Option<i32> {
        self.values
            .iter()
            .find(|(_, name)| *name == vss)
            .map(|(number, _)| *number)
    }

    fn name(&self, number: i32) -> Option<&'static str> {
        self.values
            .iter()
            .find(|(known, _)| *known == number)
            .map(|(_, name)| *name)
    }
}

/// A `.proto` message of a VSS struct type: one field per member.
#[derive(Debug)]
pub struct StructCodec {
    members: &'static [Member],
}

impl StructCodec {
    pub const fn new(members: &'static [Member]) -> Self {
        Self { members }
    }
}

/// One member of a struct message.
#[derive(Debug)]
pub struct Member {
    number: u32,
    name: &'static str,
    kind: Kind,
    repeated: bool,
}

impl Member {
    pub const fn new(number: u32, name: &'static str, kind: Kind, repeated: bool) -> Self {
        Self {
            number,
            name,
            kind,
            repeated,
        }
    }
}

/// What the generated codec implements for every branch type: its message's fields.
pub trait ProtoBranch {
    /// Writes the fields of this branch's message (not its key or length).
    fn encode_fields<S: SnapshotStore>(&self, store: &S, out: &mut Encoder<'_>);

    /// Feeds one field of this branch's message; unknown numbers are skipped (`Ok`).
    fn decode_field<S: SnapshotStore>(
        &self,
        field: &mut FieldInput<'_, '_, S>,
    ) -> Result<(), DecodeError>;
}

/// Encodes the current values below `branch` as its message into `buf` (cleared first).
pub fn encode<B: ProtoBranch, S: SnapshotStore>(branch: &B, store: &S, buf: &mut Vec<u8>) {
    buf.clear();
    branch.encode_fields(store, &mut Encoder { buf });
}

/// What [`decode`] fed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FeedReport {
    /// Values the engine accepted.
    pub written: usize,
    /// Values the engine refused (or this tree cannot hold: an unknown enum number).
    pub refused: usize,
    /// The first refused value's node and why.
    pub first_refusal: Option<(NodeId, VissError)>,
}

/// Feeds every value of `bytes`, a message of `branch`'s type, at `ts`. A malformed
/// message is an error and feeds nothing.
pub fn decode<B: ProtoBranch, S: SnapshotStore>(
    branch: &B,
    store: &S,
    bytes: &[u8],
    ts: Timestamp,
) -> Result<FeedReport, DecodeError> {
    let mut context = Context {
        store,
        ts,
        write: false,
        report: FeedReport::default(),
    };
    decode_message(branch, bytes, &mut context)?;
    // The check pass feeds nothing, so the report is still empty for the feeding pass.
    context.write = true;
    decode_message(branch, bytes, &mut context)?;
    Ok(context.report)
}

/// Writes fields into a snapshot buffer.
#[derive(Debug)]
pub struct Encoder<'b> {
    buf: &'b mut Vec<u8>,
}

impl Encoder<'_> {
    /// A scalar, enum or struct leaf.
    pub fn leaf<S: SnapshotStore>(&mut self, store: &S, field: u32, node: NodeId, kind: Kind) {
        store.read_value(node, |value| {
            if let Some(value) = value {
                self.value(field, kind, value);
            }
        });
    }

    /// An array leaf.
    pub fn repeated<S: SnapshotStore>(&mut self, store: &S, field: u32, node: NodeId, kind: Kind) {
        store.read_value(node, |value| {
            if let Some(Value::Array(items)) = value {
                self.items(field, kind, items);
            }
        });
    }

    /// A nested branch (left out when nothing below it has a value).
    pub fn branch<S: SnapshotStore, B: ProtoBranch>(&mut self, store: &S, field: u32, branch: &B) {
        self.message(field, false, |out| branch.encode_fields(store, out));
    }

    fn value(&mut self, field: u32, kind: Kind, value: &Value) {
        if let (Kind::Struct(codec), Value::Struct(members)) = (kind, value) {
            self.message(field, true, |out| out.members(codec, members));
        } else if Self::fits(kind, value) {
            encoding::encode_key(field, kind.wire_type(), self.buf);
            self.payload(kind, value);
        }
    }

    fn items(&mut self, field: u32, kind: Kind, items: &[Value]) {
        if kind.packed() {
            self.message(field, true, |out| {
                for item in items.iter().filter(|item| Self::fits(kind, item)) {
                    out.payload(kind, item);
                }
            });
        } else {
            for item in items {
                self.value(field, kind, item);
            }
        }
    }

    fn members(&mut self, codec: &StructCodec, values: &[(String, Value)]) {
        for member in codec.members {
            let Some((_, value)) = values.iter().find(|(name, _)| name == member.name) else {
                continue;
            };
            match value {
                Value::Array(items) if member.repeated => {
                    self.items(member.number, member.kind, items);
                }
                value if !member.repeated => self.value(member.number, member.kind, value),
                _ => {}
            }
        }
    }

    /// Whether `value` has a payload of `kind` (the engine's checks make this always true
    /// for a tree's own values; anything else is left out rather than mis-encoded).
    fn fits(kind: Kind, value: &Value) -> bool {
        match (kind, value) {
            (Kind::Bool, Value::Bool(_))
            | (Kind::Uint32 | Kind::Uint64, Value::UInt(_))
            | (Kind::Sint32 | Kind::Sint64, Value::Int(_))
            | (Kind::Float, Value::Float(_))
            | (Kind::Double, Value::Double(_))
            | (Kind::String, Value::String(_)) => true,
            (Kind::Enum(codec), Value::String(text)) => codec.number(text).is_some(),
            _ => false,
        }
    }

    /// One element's payload, without its key (checked by [`Self::fits`]).
    fn payload(&mut self, kind: Kind, value: &Value) {
        match (kind, value) {
            (_, Value::Bool(flag)) => encoding::encode_varint(u64::from(*flag), self.buf),
            (_, Value::UInt(number)) => encoding::encode_varint(*number, self.buf),
            (_, Value::Int(number)) => encoding::encode_varint(zigzag(*number), self.buf),
            (_, Value::Float(number)) => self.buf.extend_from_slice(&number.to_le_bytes()),
            (_, Value::Double(number)) => self.buf.extend_from_slice(&number.to_le_bytes()),
            (Kind::Enum(codec), Value::String(text)) => {
                let number = codec.number(text).unwrap_or_default();
                // Enum numbers are non-negative (the lock numbers from 1).
                encoding::encode_varint(u64::from(number.unsigned_abs()), self.buf);
            }
            (_, Value::String(text)) => {
                encoding::encode_varint(text.len() as u64, self.buf);
                self.buf.extend_from_slice(text.as_bytes());
            }
            _ => {}
        }
    }

    /// A length-delimited field whose body `body` writes in place. The length is first one
    /// byte; a longer body is moved up to make room for its varint.
    fn message(&mut self, field: u32, keep_empty: bool, body: impl FnOnce(&mut Self)) {
        let mark = self.buf.len();
        encoding::encode_key(field, WireType::LengthDelimited, self.buf);
        self.buf.push(0);
        let start = self.buf.len();
        body(self);
        let len = self.buf.len() - start;
        if len == 0 && !keep_empty {
            self.buf.truncate(mark);
            return;
        }
        let prefix = encoding::encoded_len_varint(len as u64);
        if prefix > 1 {
            self.buf.resize(self.buf.len() + prefix - 1, 0);
            self.buf.copy_within(start..start + len, start + prefix - 1);
        }
        let mut slot = &mut self.buf[start - 1..start - 1 + prefix];
        encoding::encode_varint(len as u64, &mut slot);
    }
}

fn zigzag(number: i64) -> u64 {
    ((number << 1) ^ (number >> 63)) as u64
}

fn unzigzag(number: u64) -> i64 {
    ((number >> 1) as i64) ^ -((number & 1) as i64)
}

/// State shared by one decoding pass.
struct Context<'s, S> {
    store: &'s S,
    ts: Timestamp,
    /// false: the checking pass (parse everything, feed nothing).
    write: bool,
    report: FeedReport,
}

impl<S: SnapshotStore> Context<'_, S> {
    fn feed(&mut self, node: NodeId, value: Option<Value>) {
        if !self.write {
            return;
        }
        let outcome = match value {
            Some(value) => self.store.write_value(node, value, self.ts),
            None => Err(VissError::InvalidValue),
        };
        match outcome {
            Ok(()) => self.report.written += 1,
            Err(error) => {
                self.report.refused += 1;
                self.report.first_refusal.get_or_insert((node, error));
            }
        }
    }
}

/// One field of a message as it arrives: the generated `decode_field` dispatches on its
/// number and says what it is.
pub struct FieldInput<'a, 'c, S> {
    record: Record<'a>,
    /// The message body the record is in (repeated fields gather all their records).
    body: &'a [u8],
    context: &'c mut Context<'a, S>,
}

impl<S> std::fmt::Debug for FieldInput<'_, '_, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FieldInput")
            .field("number", &self.record.number)
            .finish_non_exhaustive()
    }
}

impl<S: SnapshotStore> FieldInput<'_, '_, S> {
    /// The field number.
    pub fn number(&self) -> u32 {
        self.record.number
    }

    /// A scalar, enum or struct leaf.
    pub fn leaf(&mut self, node: NodeId, kind: Kind) -> Result<(), DecodeError> {
        let value = element(kind, &self.record)?;
        self.context.feed(node, value);
        Ok(())
    }

    /// An array leaf: every record of this number in the message, fed once as one array.
    pub fn repeated(&mut self, node: NodeId, kind: Kind) -> Result<(), DecodeError> {
        if earlier_record(self.body, &self.record)? {
            return Ok(());
        }
        let value = gather(kind, self.body, self.record.start, self.record.number)?;
        self.context.feed(node, value);
        Ok(())
    }

    /// A nested branch.
    pub fn branch<B: ProtoBranch>(&mut self, branch: &B) -> Result<(), DecodeError> {
        let body = self.record.body(WireType::LengthDelimited)?;
        decode_message(branch, body, self.context)
    }
}

fn decode_message<'a, B: ProtoBranch, S: SnapshotStore>(
    branch: &B,
    body: &'a [u8],
    context: &mut Context<'a, S>,
) -> Result<(), DecodeError> {
    let mut at = 0;
    while let Some(record) = next_record(body, &mut at)? {
        branch.decode_field(&mut FieldInput {
            record,
            body,
            context: &mut *context,
        })?;
    }
    Ok(())
}

/// One key and its payload.
#[derive(Debug, Clone, Copy)]
struct Record<'a> {
    number: u32,
    wire: WireType,
    /// Where the record starts in its message body.
    start: usize,
    payload: Payload<'a>,
}

#[derive(Debug, Clone, Copy)]
enum Payload<'a> {
    Varint(u64),
    Fixed32([u8; 4]),
    Fixed64([u8; 8]),
    Bytes(&'a [u8]),
}

impl<'a> Record<'a> {
    fn body(&self, expected: WireType) -> Result<&'a [u8], DecodeError> {
        match self.payload {
            Payload::Bytes(bytes) => Ok(bytes),
            _ => Err(self.wrong_wire(expected)),
        }
    }

    fn wrong_wire(&self, expected: WireType) -> DecodeError {
        DecodeError(format!(
            "field {}: wire type {:?}, expected {expected:?}",
            self.number, self.wire
        ))
    }
}

/// The record at `*at` in `body` (`None` at its end), moving `*at` past it.
fn next_record<'a>(body: &'a [u8], at: &mut usize) -> Result<Option<Record<'a>>, DecodeError> {
    let start = *at;
    let Some(mut rest) = body.get(start..).filter(|rest| !rest.is_empty()) else {
        return Ok(None);
    };
    let malformed = |error: prost::DecodeError| DecodeError(format!("at byte {start}: {error}"));
    let (number, wire) = encoding::decode_key(&mut rest).map_err(malformed)?;
    let truncated = || DecodeError(format!("field {number} at byte {start}: truncated"));
    let payload = match wire {
        WireType::Varint => Payload::Varint(encoding::decode_varint(&mut rest).map_err(malformed)?),
        WireType::ThirtyTwoBit => {
            let (bytes, tail) = rest.split_first_chunk::<4>().ok_or_else(truncated)?;
            rest = tail;
            Payload::Fixed32(*bytes)
        }
        WireType::SixtyFourBit => {
            let (bytes, tail) = rest.split_first_chunk::<8>().ok_or_else(truncated)?;
            rest = tail;
            Payload::Fixed64(*bytes)
        }
        WireType::LengthDelimited => {
            let len = encoding::decode_varint(&mut rest).map_err(malformed)?;
            let len = usize::try_from(len).map_err(|_| truncated())?;
            let bytes = rest.get(..len).ok_or_else(truncated)?;
            rest = &rest[len..];
            Payload::Bytes(bytes)
        }
        WireType::StartGroup | WireType::EndGroup => {
            return Err(DecodeError(format!(
                "field {number} at byte {start}: groups are not part of proto3"
            )));
        }
    };
    *at = body.len() - rest.len();
    Ok(Some(Record {
        number,
        wire,
        start,
        payload,
    }))
}

/// Whether a record with `record`'s number comes before it in `body`.
fn earlier_record(body: &[u8], record: &Record<'_>) -> Result<bool, DecodeError> {
    let mut at = 0;
    while at < record.start {
        match next_record(body, &mut at)? {
            Some(earlier) if earlier.number == record.number => return Ok(true),
            Some(_) => {}
            None => break,
        }
    }
    Ok(false)
}

/// Every element of field `number` from `from` on, packed or not, as one array value
/// (`None`: an element this tree cannot hold).
fn gather(kind: Kind, body: &[u8], from: usize, number: u32) -> Result<Option<Value>, DecodeError> {
    let mut items = Vec::new();
    let mut representable = true;
    let mut at = from;
    while let Some(record) = next_record(body, &mut at)? {
        if record.number != number {
            continue;
        }
        match record.payload {
            Payload::Bytes(packed) if kind.packed() => {
                let mut position = 0;
                while position < packed.len() {
                    let item = packed_element(kind, packed, &mut position, number)?;
                    representable &= item.is_some();
                    items.extend(item);
                }
            }
            _ => {
                let item = element(kind, &record)?;
                representable &= item.is_some();
                items.extend(item);
            }
        }
    }
    Ok(representable.then_some(Value::Array(items)))
}

/// One element of a packed field at `*position`.
fn packed_element(
    kind: Kind,
    packed: &[u8],
    position: &mut usize,
    number: u32,
) -> Result<Option<Value>, DecodeError> {
    let truncated = || DecodeError(format!("field {number}: truncated packed element"));
    let rest = packed.get(*position..).ok_or_else(truncated)?;
    let (payload, used) = match kind.wire_type() {
        WireType::ThirtyTwoBit => {
            let (bytes, _) = rest.split_first_chunk::<4>().ok_or_else(truncated)?;
            (Payload::Fixed32(*bytes), 4)
        }
        WireType::SixtyFourBit => {
            let (bytes, _) = rest.split_first_chunk::<8>().ok_or_else(truncated)?;
            (Payload::Fixed64(*bytes), 8)
        }
        _ => {
            let mut cursor = rest;
            let value = encoding::decode_varint(&mut cursor)
                .map_err(|error| DecodeError(format!("field {number}: {error}")))?;
            (Payload::Varint(value), rest.len() - cursor.len())
        }
    };
    *position += used;
    element(
        kind,
        &Record {
            number,
            wire: kind.wire_type(),
            start: 0,
            payload,
        },
    )
}

/// The value of one non-packed element (`None`: well-formed, but nothing this tree can
/// hold, such as an enum number it does not know).
fn element(kind: Kind, record: &Record<'_>) -> Result<Option<Value>, DecodeError> {
    let value = match (kind, record.payload) {
        (Kind::Bool, Payload::Varint(raw)) => Value::Bool(raw != 0),
        // uint32 and sint32 read the low 32 bits, as every protobuf runtime does.
        (Kind::Uint32, Payload::Varint(raw)) => Value::UInt(u64::from(raw as u32)),
        (Kind::Uint64, Payload::Varint(raw)) => Value::UInt(raw),
        (Kind::Sint32, Payload::Varint(raw)) => Value::Int(unzigzag(u64::from(raw as u32))),
        (Kind::Sint64, Payload::Varint(raw)) => Value::Int(unzigzag(raw)),
        (Kind::Float, Payload::Fixed32(bytes)) => Value::Float(f32::from_le_bytes(bytes)),
        (Kind::Double, Payload::Fixed64(bytes)) => Value::Double(f64::from_le_bytes(bytes)),
        (Kind::Enum(codec), Payload::Varint(raw)) => {
            return Ok(codec
                .name(raw as i32)
                .map(|name| Value::String(Cow::Borrowed(name))));
        }
        (Kind::String, Payload::Bytes(bytes)) => {
            let text = std::str::from_utf8(bytes).map_err(|_| {
                DecodeError(format!(
                    "field {}: a string that is not UTF-8",
                    record.number
                ))
            })?;
            Value::String(Cow::Owned(text.to_owned()))
        }
        (Kind::Struct(codec), Payload::Bytes(body)) => return struct_value(codec, body),
        _ => return Err(record.wrong_wire(kind.wire_type())),
    };
    Ok(Some(value))
}

/// A struct message as a struct value, members in declaration order (absent members are
/// absent: the engine's struct check refuses a value that lacks one).
fn struct_value(codec: &StructCodec, body: &[u8]) -> Result<Option<Value>, DecodeError> {
    let mut members = Vec::with_capacity(codec.members.len());
    let mut representable = true;
    for member in codec.members {
        let value = if member.repeated {
            first_record(body, member.number)?
                .map(|start| gather(member.kind, body, start, member.number))
                .transpose()?
        } else {
            last_record(body, member.number)?
                .map(|record| element(member.kind, &record))
                .transpose()?
        };
        match value {
            Some(Some(value)) => members.push((member.name.to_owned(), value)),
            Some(None) => representable = false,
            None => {}
        }
    }
    // Every record must parse, including those of members this tree does not know.
    let mut at = 0;
    while next_record(body, &mut at)?.is_some() {}
    Ok(representable.then_some(Value::Struct(members)))
}

fn first_record(body: &[u8], number: u32) -> Result<Option<usize>, DecodeError> {
    let mut at = 0;
    while let Some(record) = next_record(body, &mut at)? {
        if record.number == number {
            return Ok(Some(record.start));
        }
    }
    Ok(None)
}

/// The last record of `number` (protobuf: the last of a non-repeated field wins).
fn last_record<'a>(body: &'a [u8], number: u32) -> Result<Option<Record<'a>>, DecodeError> {
    let mut at = 0;
    let mut last = None;
    while let Some(record) = next_record(body, &mut at)? {
        if record.number == number {
            last = Some(record);
        }
    }
    Ok(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zigzag_round_trips_the_extremes() {
        for number in [0, 1, -1, 63, -64, i64::from(i32::MIN), i64::MAX, i64::MIN] {
            assert_eq!(unzigzag(zigzag(number)), number);
        }
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
    }

    /// A body longer than 127 bytes gets a two-byte length and is moved up, intact.
    #[test]
    fn long_bodies_widen_their_length_in_place() {
        let mut buf = Vec::new();
        let mut encoder = Encoder { buf: &mut buf };
        encoder.message(3, false, |out| out.buf.extend(0..200u8));
        assert_eq!(buf[0], 3 << 3 | 2);
        assert_eq!(&buf[1..3], &[0xc8, 0x01]);
        assert_eq!(&buf[3..], &(0..200u8).collect::<Vec<_>>()[..]);
        let mut at = 0;
        let record = next_record(&buf, &mut at).unwrap().unwrap();
        assert_eq!(record.body(WireType::LengthDelimited).unwrap().len(), 200);
    }

    #[test]
    fn empty_branches_are_left_out_and_empty_structs_kept() {
        let mut buf = vec![9];
        let mut encoder = Encoder { buf: &mut buf };
        encoder.message(1, false, |_| {});
        encoder.message(2, true, |_| {});
        assert_eq!(buf, [9, 2 << 3 | 2, 0]);
    }

    static COLOURS: EnumCodec = EnumCodec::new(&[(1, "RED"), (3, "BLUE")]);
    static POINT: StructCodec = StructCodec::new(&[
        Member::new(1, "X", Kind::Sint32, false),
        Member::new(2, "Tags", Kind::String, true),
        Member::new(3, "Colour", Kind::Enum(&COLOURS), false),
    ]);

    fn encoded(kind: Kind, value: &Value, repeated: bool) -> Vec<u8> {
        let mut buf = Vec::new();
        let mut encoder = Encoder { buf: &mut buf };
        match value {
            Value::Array(items) if repeated => encoder.items(7, kind, items),
            value => encoder.value(7, kind, value),
        }
        buf
    }

    fn decoded(kind: Kind, bytes: &[u8], repeated: bool) -> Result<Option<Value>, DecodeError> {
        let mut at = 0;
        let record = next_record(bytes, &mut at)?.expect("a record");
        if repeated {
            gather(kind, bytes, 0, record.number)
        } else {
            element(kind, &record)
        }
    }

    #[test]
    fn every_kind_round_trips() {
        let text = |text: &'static str| Value::String(Cow::Borrowed(text));
        let point = Value::Struct(vec![
            ("X".to_owned(), Value::Int(-5)),
            ("Tags".to_owned(), Value::Array(vec![text("a"), text("")])),
            ("Colour".to_owned(), text("BLUE")),
        ]);
        let cases = [
            (Kind::Bool, Value::Bool(true), false),
            (Kind::Uint32, Value::UInt(u64::from(u32::MAX)), false),
            (Kind::Uint64, Value::UInt(u64::MAX), false),
            (Kind::Sint32, Value::Int(i64::from(i32::MIN)), false),
            (Kind::Sint64, Value::Int(i64::MIN), false),
            (Kind::Float, Value::Float(-1.5), false),
            (Kind::Double, Value::Double(1e300), false),
            (Kind::String, text("grüß"), false),
            (Kind::Enum(&COLOURS), text("BLUE"), false),
            (Kind::Struct(&POINT), point.clone(), false),
            (
                Kind::Float,
                Value::Array(vec![Value::Float(1.0), Value::Float(2.0)]),
                true,
            ),
            (Kind::Uint32, Value::Array(vec![]), true),
            (Kind::String, Value::Array(vec![text("x"), text("y")]), true),
            (
                Kind::Struct(&POINT),
                Value::Array(vec![point.clone(), point]),
                true,
            ),
        ];
        for (kind, value, repeated) in cases {
            let bytes = encoded(kind, &value, repeated);
            assert_eq!(
                decoded(kind, &bytes, repeated),
                Ok(Some(value.clone())),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn unpacked_scalars_and_split_arrays_are_read_too() {
        // Two unpacked uint32 records and one packed record of the same field.
        let bytes = [7 << 3, 5, 7 << 3, 6, 7 << 3 | 2, 2, 7, 8];
        let expected = Value::Array((5..=8).map(Value::UInt).collect());
        assert_eq!(decoded(Kind::Uint32, &bytes, true), Ok(Some(expected)));
    }

    #[test]
    fn unknown_enum_numbers_are_refused_not_malformed() {
        let bytes = [7 << 3, 2];
        assert_eq!(decoded(Kind::Enum(&COLOURS), &bytes, false), Ok(None));
    }

    #[test]
    fn malformed_records_are_errors() {
        let cases: [&[u8]; 6] = [
            &[7 << 3 | 2, 5, 1],          // length beyond the body
            &[7 << 3 | 5, 1, 2],          // truncated fixed32
            &[7 << 3, 0x80],              // unterminated varint
            &[7 << 3 | 3],                // a group
            &[0],                         // field number 0
            &[7 << 3 | 2, 2, 0xff, 0xfe], // not UTF-8
        ];
        for bytes in cases {
            let outcome = decoded(Kind::String, bytes, false);
            assert!(outcome.is_err(), "{bytes:?} gave {outcome:?}");
        }
        // A float where a string is expected: a wire type error.
        assert!(decoded(Kind::String, &[7 << 3 | 5, 0, 0, 0, 0], false).is_err());
    }
}

//! `viss-bench remote --feed`: feeder-to-event latency of a server in another process. A
//! client subscribes to a signal over the server's VISS WebSocket; a feeder writes the
//! signal through the server's own provider interface; the time from the write until the
//! subscriber holds the event is one sample.
//!
//! Each server is fed the way its providers feed it:
//! - `set`: a VISS `set` on a second WebSocket connection (our servers keep state: an
//!   accepted target becomes the actuator's current value, which fires the subscription);
//! - `kuksa-v2=URL`: KUKSA Databroker's `kuksa.val.v2.VAL/PublishValue` over gRPC. The
//!   messages are built at run time from KUKSA's own `.proto` files (`--kuksa-proto`, its
//!   checkout's `proto/` folder), compiled by protox: no peer code or `.proto` lives here.

use std::path::Path;
use std::time::{Duration, Instant};

use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, Value};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;

use crate::client::{BenchError, Client, Dial};
use crate::stats::Samples;

/// Samples before this many updates are warm-up and not counted.
const WARM_UP: usize = 50;
/// How long one update may take to arrive as an event.
const EVENT_TIMEOUT: Duration = Duration::from_secs(2);

/// How a target is fed, as given on the command line (`feed=set`, `feed=kuksa-v2=URL`).
#[derive(Debug, Clone, PartialEq)]
pub enum FeedSpec {
    Set,
    KuksaV2 { url: String },
}

impl FeedSpec {
    pub fn parse(text: &str) -> Result<FeedSpec, BenchError> {
        match text.split_once('=') {
            None if text == "set" => Ok(FeedSpec::Set),
            Some(("kuksa-v2", url)) if !url.is_empty() => Ok(FeedSpec::KuksaV2 {
                url: url.to_owned(),
            }),
            _ => {
                Err(format!("feed `{text}`: expected `set` or `kuksa-v2=http://HOST:PORT`").into())
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            FeedSpec::Set => "VISS set on a second connection".to_owned(),
            FeedSpec::KuksaV2 { url } => format!("kuksa.val.v2 PublishValue over gRPC ({url})"),
        }
    }
}

/// A connected feeder.
enum Feeder {
    Set {
        client: Client,
        path: String,
    },
    KuksaV2 {
        grpc: tonic::client::Grpc<Channel>,
        codec: DynamicCodec,
        request: MessageDescriptor,
        path: String,
    },
}

impl Feeder {
    async fn connect(
        spec: &FeedSpec,
        dial: &Dial,
        subprotocol: Option<&'static str>,
        path: &str,
        kuksa_proto: Option<&Path>,
    ) -> Result<Feeder, BenchError> {
        match spec {
            FeedSpec::Set => Ok(Feeder::Set {
                client: Client::connect_offering(dial, subprotocol).await?,
                path: path.to_owned(),
            }),
            FeedSpec::KuksaV2 { url } => {
                let folder = kuksa_proto.ok_or(
                    "feed=kuksa-v2 needs --kuksa-proto (KUKSA's checkout's proto/ folder)",
                )?;
                let pool = kuksa_pool(folder)?;
                let message = |name: &str| {
                    pool.get_message_by_name(name)
                        .ok_or_else(|| format!("{}: no message {name}", folder.display()))
                };
                let request = message("kuksa.val.v2.PublishValueRequest")?;
                let codec = DynamicCodec {
                    response: message("kuksa.val.v2.PublishValueResponse")?,
                };
                let channel = Channel::from_shared(url.clone())?.connect().await?;
                Ok(Feeder::KuksaV2 {
                    grpc: tonic::client::Grpc::new(channel),
                    codec,
                    request,
                    path: path.to_owned(),
                })
            }
        }
    }

    /// What writes `value`, built before the clock starts (and the gRPC channel made
    /// ready), so a sample times the write, not the building of its message.
    async fn prepare(&mut self, value: f32) -> Result<Write, BenchError> {
        match self {
            Feeder::Set { path, .. } => Ok(Write::Text(format!(
                r#"{{"action":"set","path":"{path}","value":"{value}","requestId":"f"}}"#
            ))),
            Feeder::KuksaV2 {
                grpc,
                request,
                path,
                ..
            } => {
                let message = publish_value(request, path, value)?;
                grpc.ready().await?;
                Ok(Write::Dynamic(message))
            }
        }
    }

    /// Sends a prepared write; returns once the server has acknowledged it.
    async fn write(&mut self, write: Write) -> Result<(), BenchError> {
        match (self, write) {
            (Feeder::Set { client, .. }, Write::Text(set)) => {
                let answer = client.round_trip(&set).await?;
                if answer.contains("\"error\"") {
                    return Err(format!("set refused: {answer}").into());
                }
                Ok(())
            }
            (Feeder::KuksaV2 { grpc, codec, .. }, Write::Dynamic(message)) => {
                let route = tonic::codegen::http::uri::PathAndQuery::from_static(
                    "/kuksa.val.v2.VAL/PublishValue",
                );
                grpc.unary(tonic::Request::new(message), route, codec.clone())
                    .await?;
                Ok(())
            }
            _ => Err("a write prepared for another feeder".into()),
        }
    }

    /// Prepares and sends one write, within `limit`.
    async fn write_now(&mut self, value: f32, limit: Duration) -> Result<(), BenchError> {
        let write = self.prepare(value).await?;
        tokio::time::timeout(limit, self.write(write))
            .await
            .map_err(|_| format!("the feeder's write was not answered within {limit:?}"))?
    }
}

/// One write, ready to send.
enum Write {
    Text(String),
    Dynamic(DynamicMessage),
}

/// KUKSA's `kuksa.val.v2` descriptors, compiled from its checkout's `.proto` files.
fn kuksa_pool(folder: &Path) -> Result<DescriptorPool, BenchError> {
    let files = protox::compile(["kuksa/val/v2/val.proto"], [folder])
        .map_err(|error| format!("{}: {error}", folder.display()))?;
    Ok(DescriptorPool::from_file_descriptor_set(files)?)
}

/// `PublishValueRequest { signal_id: { path }, data_point: { value: { float } } }`.
fn publish_value(
    request: &MessageDescriptor,
    path: &str,
    value: f32,
) -> Result<DynamicMessage, BenchError> {
    let field_message = |parent: &MessageDescriptor, name: &str| {
        parent
            .get_field_by_name(name)
            .and_then(|field| field.kind().as_message().cloned())
            .ok_or_else(|| format!("{}: no message field {name}", parent.full_name()))
    };
    let signal_type = field_message(request, "signal_id")?;
    let point_type = field_message(request, "data_point")?;
    let value_type = field_message(&point_type, "value")?;
    let mut signal = DynamicMessage::new(signal_type);
    signal.try_set_field_by_name("path", Value::String(path.to_owned()))?;
    let mut typed = DynamicMessage::new(value_type);
    typed.try_set_field_by_name("float", Value::F32(value))?;
    let mut point = DynamicMessage::new(point_type);
    point.try_set_field_by_name("value", Value::Message(typed))?;
    let mut message = DynamicMessage::new(request.clone());
    message.try_set_field_by_name("signal_id", Value::Message(signal))?;
    message.try_set_field_by_name("data_point", Value::Message(point))?;
    Ok(message)
}

/// A tonic codec for messages known only at run time.
#[derive(Clone)]
struct DynamicCodec {
    response: MessageDescriptor,
}

struct DynamicEncoder;

struct DynamicDecoder(MessageDescriptor);

impl Codec for DynamicCodec {
    type Encode = DynamicMessage;
    type Decode = DynamicMessage;
    type Encoder = DynamicEncoder;
    type Decoder = DynamicDecoder;

    fn encoder(&mut self) -> DynamicEncoder {
        DynamicEncoder
    }

    fn decoder(&mut self) -> DynamicDecoder {
        DynamicDecoder(self.response.clone())
    }
}

impl Encoder for DynamicEncoder {
    type Item = DynamicMessage;
    type Error = tonic::Status;

    fn encode(&mut self, item: DynamicMessage, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        item.encode(dst)
            .map_err(|error| tonic::Status::internal(error.to_string()))
    }
}

impl Decoder for DynamicDecoder {
    type Item = DynamicMessage;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<DynamicMessage>, Self::Error> {
        DynamicMessage::decode(self.0.clone(), src)
            .map(Some)
            .map_err(|error| tonic::Status::internal(error.to_string()))
    }
}

/// What one feed run needs to know of its target.
pub struct FeedTarget<'a> {
    pub name: &'a str,
    pub dial: &'a Dial,
    pub subprotocol: Option<&'static str>,
    pub spec: &'a FeedSpec,
    /// The subscribe the server accepted for `path`.
    pub subscribe: String,
}

/// Subscribes to the signal, then writes it `updates` times (alternating values, so every
/// write is a change) and times each write until its event arrives.
pub async fn feed_to_event(
    target: FeedTarget<'_>,
    path: &str,
    updates: usize,
    max_time: Duration,
    kuksa_proto: Option<&Path>,
) -> Result<Samples, BenchError> {
    let mut subscriber = Client::connect_offering(target.dial, target.subprotocol).await?;
    let answer = subscriber.round_trip(&target.subscribe).await?;
    if !answer.contains("subscriptionId") {
        return Err(format!("{}: subscribe refused: {answer}", target.name).into());
    }
    let mut feeder = Feeder::connect(
        target.spec,
        target.dial,
        target.subprotocol,
        path,
        kuksa_proto,
    )
    .await?;
    // A first value, so every measured write changes a value (a `change` filter has
    // nothing to compare a signal's first value with); a server may also send the value
    // at once on subscribe. Whatever arrives meanwhile is dropped.
    feeder.write_now(0.0, EVENT_TIMEOUT).await?;
    drain(&mut subscriber, Duration::from_millis(200)).await?;
    let mut samples = Samples::with_capacity(updates);
    let mut stray = 0usize;
    let mut started = Instant::now();
    let deadline = started + max_time;
    for index in 0..updates + WARM_UP {
        if Instant::now() >= deadline {
            break;
        }
        if index == WARM_UP {
            started = Instant::now();
        }
        // Values that read the same on every server's wire ("10.5", "20.5"), alternating
        // so every write is a change.
        let value = if index % 2 == 0 { 10.5 } else { 20.5 };
        let write = feeder.prepare(value).await?;
        let written = Instant::now();
        // The event and the feeder's acknowledgement race: the clock stops at the event
        // that carries this write's value (an event of an earlier write is counted stray).
        let wanted = format!(r#""value":"{value}""#);
        let event = async {
            let limit = written + EVENT_TIMEOUT;
            loop {
                let event = tokio::time::timeout_at(limit.into(), subscriber.receive(0))
                    .await
                    .map_err(|_| {
                        format!(
                            "{}: no event of {wanted} within {EVENT_TIMEOUT:?}",
                            target.name
                        )
                    })??;
                if !event.contains("\"subscription") || !event.contains("\"data\"") {
                    return Err(format!("{}: expected an event, got {event}", target.name).into());
                }
                if event.contains(wanted.as_str()) {
                    return Ok::<_, BenchError>(written.elapsed());
                }
                stray += 1;
            }
        };
        let acknowledged = async {
            tokio::time::timeout(EVENT_TIMEOUT, feeder.write(write))
                .await
                .map_err(|_| format!("{}: the write was not answered", target.name))?
        };
        let (elapsed, ()) = tokio::try_join!(event, acknowledged)?;
        if index >= WARM_UP {
            samples.push(elapsed);
            samples.operations += 1;
        }
    }
    samples.elapsed = started.elapsed();
    if stray > 0 {
        println!(
            "{}: {stray} events of earlier writes arrived late",
            target.name
        );
    }
    Ok(samples)
}

/// Reads and drops whatever arrives within `quiet`.
async fn drain(client: &mut Client, quiet: Duration) -> Result<(), BenchError> {
    while let Ok(message) = tokio::time::timeout(quiet, client.receive(0)).await {
        message?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_specs_parse() {
        assert_eq!(FeedSpec::parse("set").ok(), Some(FeedSpec::Set));
        assert_eq!(
            FeedSpec::parse("kuksa-v2=http://127.0.0.1:55555").ok(),
            Some(FeedSpec::KuksaV2 {
                url: "http://127.0.0.1:55555".to_owned()
            })
        );
        assert!(FeedSpec::parse("kuksa-v2=").is_err());
        assert!(FeedSpec::parse("publish").is_err());
    }
}

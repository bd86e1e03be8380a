//! gRPC transport (TRANSPORT §5.4; feature `grpc`): the `VISS` service of
//! `schemas/viss_v3_0.proto` on its own port (5443 by default), served by the same
//! listener, TLS configuration and connection cap as WebSocket and HTTP.
//!
//! Every call is translated to the engine's JSON request and its answer back
//! (`codec::protobuf`), so gRPC clients get exactly the engine's behaviour and errors:
//! - `GetRequest`, `SetRequest`: one request each, answered in a session of its own.
//! - `SubscribeRequest`: a session per stream; the first stream message is the subscribe
//!   response (`MType` RESPONSE), then every event (`MType` EVENT). The subscription
//!   lives as long as the stream: a client that cancels it or goes away ends it.
//! - `UnsubscribeRequest`: ends the stream's subscription (its stream then closes). Ids
//!   are unique across all streams of the server, so any call can name any subscription.
//!
//! A token is read from the message's `Authorization`, or else from the call's
//! `authorization` metadata (`Bearer <token>`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use parking_lot::Mutex;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc, oneshot, watch};
use tonic::codegen::tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use super::config::Limits;
use super::subscription_ids::SubscriptionIds;
use crate::codec::protobuf::proto::viss_server::{Viss, VissServer};
use crate::codec::protobuf::proto::{
    GetRequestMessage, GetResponseMessage, SetRequestMessage, SetResponseMessage,
    SubscribeRequestMessage, SubscribeStreamMessage, UnsubscribeRequestMessage,
    UnsubscribeResponseMessage,
};
use crate::codec::protobuf::{self, Response as ProtoResponse};
use crate::protocol::Version;
use crate::subscription::Session;
use crate::{Engine, VissTree};

/// Stream messages buffered between a subscription's task and its gRPC stream; past this
/// the task waits and the session's own bounded event queue takes the overflow (oldest
/// plain event dropped and counted).
const STREAM_BUFFER: usize = 16;

/// What every gRPC call shares.
pub(crate) struct GrpcState<T: VissTree> {
    pub engine: Arc<Engine<T>>,
    pub limits: Limits,
    /// Subscription streams open at once (the WebSocket connection limit's counterpart).
    pub streams: Arc<Semaphore>,
    pub shutdown: watch::Receiver<bool>,
}

/// The gRPC endpoint: the `VISS` service as a router the listener serves.
pub(crate) fn router<T: VissTree + 'static>(state: GrpcState<T>) -> Router {
    let max = state.limits.max_message_bytes;
    let service = VissServer::new(VissService {
        state: Arc::new(state),
        subscriptions: Arc::default(),
        ids: Arc::default(),
    })
    .max_decoding_message_size(max)
    .max_encoding_message_size(max.saturating_mul(16));
    tonic::service::Routes::new(service).into_axum_router()
}

/// An unsubscribe sent to a stream's task: the engine's answer comes back on `reply`.
struct Unsubscribe {
    request: Vec<u8>,
    reply: oneshot::Sender<Vec<u8>>,
}

/// The open subscription streams by subscription id.
type Streams = Arc<Mutex<HashMap<u64, mpsc::Sender<Unsubscribe>>>>;

struct VissService<T: VissTree> {
    state: Arc<GrpcState<T>>,
    subscriptions: Streams,
    /// Subscription ids: unguessable, since any caller may unsubscribe by id.
    ids: Arc<Mutex<SubscriptionIds>>,
}

impl<T: VissTree + 'static> VissService<T> {
    /// Runs one JSON request in a fresh session and returns the engine's JSON answer.
    fn answer(&self, request: &serde_json::Value) -> Vec<u8> {
        let mut session = self
            .state
            .engine
            .open_session_for(Version::V3)
            .without_token_cache();
        let mut out = Vec::with_capacity(256);
        handle_json(&self.state.engine, &mut session, request, &mut out);
        self.state.engine.close_session(&mut session);
        out
    }
}

fn handle_json<T: VissTree>(
    engine: &Engine<T>,
    session: &mut Session,
    request: &serde_json::Value,
    out: &mut Vec<u8>,
) {
    // Serializing a `serde_json::Value` cannot fail.
    let bytes = serde_json::to_vec(request).unwrap_or_default();
    engine.handle(session, &bytes, out);
}

/// The engine's JSON answer as the proto response `pick` selects.
fn reply<M>(
    json: &[u8],
    pick: impl FnOnce(ProtoResponse) -> Option<M>,
) -> Result<Response<M>, Status> {
    let response = serde_json::from_slice(json)
        .map_err(|error| Status::internal(format!("unreadable engine answer: {error}")))
        .and_then(|json| {
            ProtoResponse::from_json(&json).map_err(|error| Status::internal(error.to_string()))
        })?;
    pick(response)
        .map(Response::new)
        .ok_or_else(|| Status::internal("the engine answered another action"))
}

/// The call's message, its token the message's own or else the `authorization` metadata
/// (`Bearer <token>`): taken apart without copying the message.
fn with_token<M>(request: Request<M>, token: impl FnOnce(&mut M) -> &mut Option<String>) -> M {
    let from_metadata = request
        .metadata()
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .map(|value| {
            crate::access::bearer_token(value)
                .unwrap_or(value.trim())
                .to_owned()
        })
        .filter(|value| !value.is_empty());
    let mut message = request.into_inner();
    let slot = token(&mut message);
    if slot.is_none() {
        *slot = from_metadata;
    }
    message
}

#[tonic::async_trait]
impl<T: VissTree + 'static> Viss for VissService<T> {
    async fn get_request(
        &self,
        request: Request<GetRequestMessage>,
    ) -> Result<Response<GetResponseMessage>, Status> {
        let message = with_token(request, |message| &mut message.authorization);
        let json = protobuf::Request::Get(message).to_json();
        reply(&self.answer(&json), |response| match response {
            ProtoResponse::Get(get) => Some(get),
            _ => None,
        })
    }

    async fn set_request(
        &self,
        request: Request<SetRequestMessage>,
    ) -> Result<Response<SetResponseMessage>, Status> {
        let message = with_token(request, |message| &mut message.authorization);
        let json = protobuf::Request::Set(message).to_json();
        reply(&self.answer(&json), |response| match response {
            ProtoResponse::Set(set) => Some(set),
            // A set whose value has no JSON form is refused before it has an action.
            ProtoResponse::Get(get) => Some(SetResponseMessage {
                status: get.status,
                error_response: get.error_response,
                request_id: get.request_id,
                ts: get.ts,
                authorization: get.authorization,
            }),
            _ => None,
        })
    }

    type SubscribeRequestStream = ReceiverStream<Result<SubscribeStreamMessage, Status>>;

    async fn subscribe_request(
        &self,
        request: Request<SubscribeRequestMessage>,
    ) -> Result<Response<Self::SubscribeRequestStream>, Status> {
        let Ok(permit) = self.state.streams.clone().try_acquire_owned() else {
            return Err(Status::resource_exhausted(
                "too many open subscription streams",
            ));
        };
        let message = with_token(request, |message| &mut message.authorization);
        let json = protobuf::Request::Subscribe(message).to_json();
        // One subscription per stream session: its id is drawn server-wide.
        let first_id = {
            let open = self.subscriptions.lock();
            self.ids.lock().next(|id| open.contains_key(&id))
        };
        let mut session = self
            .state
            .engine
            .open_session_for(Version::V3)
            .numbering_subscriptions_from(first_id);
        let mut out = Vec::with_capacity(256);
        handle_json(&self.state.engine, &mut session, &json, &mut out);
        let first = stream_message(&out)?;
        let (sender, receiver) = mpsc::channel(STREAM_BUFFER);
        // The first message cannot fail to fit: the channel is new.
        let _ = sender.try_send(Ok(first));
        if session.subscription_count() == 0 {
            // Refused: the stream is the error response alone.
            self.state.engine.close_session(&mut session);
            return Ok(Response::new(ReceiverStream::new(receiver)));
        }
        let (unsubscribe, commands) = mpsc::channel(1);
        self.subscriptions.lock().insert(first_id, unsubscribe);
        let task = StreamTask {
            engine: Arc::clone(&self.state.engine),
            session,
            id: first_id,
            sender,
            commands,
            subscriptions: Arc::clone(&self.subscriptions),
            shutdown: self.state.shutdown.clone(),
            _permit: permit,
        };
        tokio::spawn(task.run());
        Ok(Response::new(ReceiverStream::new(receiver)))
    }

    async fn unsubscribe_request(
        &self,
        request: Request<UnsubscribeRequestMessage>,
    ) -> Result<Response<UnsubscribeResponseMessage>, Status> {
        let message = request.into_inner();
        let stream = message
            .subscription_id
            .parse::<u64>()
            .ok()
            .and_then(|id| self.subscriptions.lock().get(&id).cloned());
        let json = protobuf::Request::Unsubscribe(message).to_json();
        let answer = match stream {
            Some(stream) => {
                let (reply, answered) = oneshot::channel();
                let request = serde_json::to_vec(&json).unwrap_or_default();
                match stream.send(Unsubscribe { request, reply }).await {
                    Ok(()) => answered.await.ok(),
                    Err(_) => None,
                }
            }
            None => None,
        };
        // No such stream (or it ended meanwhile): the engine's own answer for an id that
        // names no subscription.
        let answer = answer.unwrap_or_else(|| self.answer(&json));
        reply(&answer, |response| match response {
            ProtoResponse::Unsubscribe(unsubscribe) => Some(unsubscribe),
            _ => None,
        })
    }
}

/// A JSON answer of a subscribe request or an event as its stream message.
fn stream_message(json: &[u8]) -> Result<SubscribeStreamMessage, Status> {
    reply(json, |response| match response {
        ProtoResponse::Subscribe(stream) => Some(stream),
        // An error to a request the engine could not read as a subscribe.
        ProtoResponse::Get(get) => Some(SubscribeStreamMessage {
            m_type: protobuf::proto::SubscribeResponseType::Response as i32,
            status: get.status,
            response: Some(
                protobuf::proto::subscribe_stream_message::SubscribeResponseMessage {
                    error_response: get.error_response,
                    subscription_id: None,
                    request_id: get.request_id.unwrap_or_default(),
                    ts: get.ts,
                    authorization: get.authorization,
                },
            ),
            event: None,
        }),
        _ => None,
    })
    .map(Response::into_inner)
}

/// One subscription stream: forwards the session's events until the client goes away,
/// unsubscribes, or the server shuts down; then ends the subscription.
struct StreamTask<T: VissTree> {
    engine: Arc<Engine<T>>,
    session: Session,
    id: u64,
    sender: mpsc::Sender<Result<SubscribeStreamMessage, Status>>,
    commands: mpsc::Receiver<Unsubscribe>,
    subscriptions: Streams,
    shutdown: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
}

impl<T: VissTree + 'static> StreamTask<T> {
    async fn run(mut self) {
        let wake = Arc::new(Notify::new());
        let notifier = Arc::clone(&wake);
        self.session
            .events()
            .set_notifier(move || notifier.notify_one());
        let ended = self.forward(&wake).await;
        self.subscriptions.lock().remove(&self.id);
        tracing::debug!(
            subscription = self.id,
            reason = ended,
            dropped_events = self.session.events().dropped(),
            open_streams = self.subscriptions.lock().len(),
            "gRPC subscription stream ended"
        );
        self.engine.close_session(&mut self.session);
    }

    async fn forward(&mut self, wake: &Notify) -> &'static str {
        let mut out = Vec::with_capacity(256);
        // The next event, translated, waiting for room in the stream.
        let mut pending: Option<SubscribeStreamMessage> = None;
        loop {
            while pending.is_none() && self.session.next_event(&mut out) {
                pending = stream_message(&out).ok();
                out.clear();
            }
            if pending.is_none() && self.session.active_subscription_count() == 0 {
                return "subscription ended";
            }
            // Waiting for room never blocks an unsubscribe: a client that stops reading
            // can still end its subscription from another call.
            tokio::select! {
                permit = self.sender.reserve(), if pending.is_some() => match (permit, pending.take()) {
                    (Ok(permit), Some(message)) => permit.send(Ok(message)),
                    _ => return "client went away",
                },
                () = wake.notified(), if pending.is_none() => {}
                () = self.sender.closed() => return "client went away",
                _ = self.shutdown.changed() => return "server shutting down",
                command = self.commands.recv() => {
                    let Some(Unsubscribe { request, reply }) = command else {
                        return "server shutting down";
                    };
                    out.clear();
                    self.engine.handle(&mut self.session, &request, &mut out);
                    let _ = reply.send(std::mem::take(&mut out));
                }
            }
        }
    }
}

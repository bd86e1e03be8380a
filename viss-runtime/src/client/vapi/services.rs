//! What a ServiceId names: a subscription, a seat movement or a massage, each run by a
//! task of its own that reports through the caller's callback, and how each one ends
//! (CancelService: in its current state, with a last callback; Disconnect: silently).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use serde_json::Value as Json;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::seating::{Axis, Massage, number};
use super::types::{
    Callback, DataContainer, DataPoint, ErrorData, GeneralOutput, MassageOutput, MoveSeatOutput,
    ProcedureStatus, SubscribeOutput, notify,
};
use super::{Protocol, failed, successful};
use crate::client::{Client, ClientError, Filter, LogicOp, RawSubscription};
use crate::tree::VissTree;

/// The services running, by ServiceId; shared with their tasks, which remove themselves
/// when they end on their own.
pub(super) type Services = Arc<Mutex<HashMap<u32, Service>>>;

/// A client of the vehicle and the token of the procedure that uses it.
pub(super) struct Session<T: VissTree> {
    pub client: Arc<Client<T>>,
    pub token: Option<String>,
    pub protocol: Protocol,
}

impl<T: VissTree> Clone for Session<T> {
    fn clone(&self) -> Self {
        Self {
            client: Arc::clone(&self.client),
            token: self.token.clone(),
            protocol: self.protocol,
        }
    }
}

impl<T: VissTree + 'static> Session<T> {
    pub async fn get(&self, path: &str, filter: Option<&str>) -> Result<String, ClientError> {
        self.client
            .get_by_path(path, filter, self.token.as_deref())
            .await
    }

    pub async fn set(&self, path: &str, value: &str) -> Result<(), ClientError> {
        self.client
            .set_by_path(path, value, self.token.as_deref())
            .await
    }

    pub async fn subscribe(
        &self,
        path: &str,
        filter: &str,
    ) -> Result<RawSubscription, ClientError> {
        self.client
            .subscribe_by_path(path, filter, self.token.as_deref())
            .await
    }

    /// The latest value of a numeric signal.
    async fn current(&self, path: &str) -> Result<f64, ErrorData> {
        let answer = self.get(path, None).await?;
        containers(&answer)
            .iter()
            .flat_map(|container| &container.signal_data)
            .filter_map(|point| number(&Json::String(point.value.clone())))
            .next_back()
            .ok_or_else(|| ErrorData::new(404, "unavailable_data", format!("{path} has no value")))
    }
}

/// The data containers of a VISS answer or event (`data` an object or an array, `dp` too).
pub(super) fn containers(text: &str) -> Vec<DataContainer> {
    let Ok(message) = serde_json::from_str::<Json>(text) else {
        return Vec::new();
    };
    let items = match message.get("data") {
        Some(Json::Array(items)) => items.iter().collect(),
        Some(item) => vec![item],
        None => Vec::new(),
    };
    items
        .into_iter()
        .filter_map(|item| {
            let points = match item.get("dp")? {
                Json::Array(points) => points.iter().collect(),
                point => vec![point],
            };
            Some(DataContainer {
                path: item
                    .get("path")
                    .and_then(Json::as_str)
                    .unwrap_or("")
                    .to_owned(),
                signal_data: points
                    .into_iter()
                    .filter_map(|point| {
                        Some(DataPoint {
                            value: value_text(point.get("value")?),
                            timestamp: point
                                .get("ts")
                                .and_then(Json::as_str)
                                .unwrap_or("")
                                .to_owned(),
                        })
                    })
                    .collect(),
            })
        })
        .collect()
}

/// A VISS value as VAPI text: a string as it is, anything else as JSON.
fn value_text(value: &Json) -> String {
    match value {
        Json::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The current values of one numeric actuator as they change: a change subscription over
/// WebSocket, polling over HTTPS.
pub(super) enum Watch<T: VissTree> {
    Events {
        subscription: RawSubscription,
        pending: VecDeque<f64>,
    },
    Poll {
        session: Session<T>,
        path: String,
        interval: Duration,
        last: Option<f64>,
    },
}

impl<T: VissTree + 'static> Watch<T> {
    pub async fn start(
        session: &Session<T>,
        path: &str,
        interval: Duration,
    ) -> Result<Self, ErrorData> {
        if session.protocol.streams() {
            let filter = Filter::change(LogicOp::Ne, 0.0);
            let subscription = session.subscribe(path, filter.as_json()).await?;
            return Ok(Self::Events {
                subscription,
                pending: VecDeque::new(),
            });
        }
        Ok(Self::Poll {
            session: session.clone(),
            path: path.to_owned(),
            interval,
            last: None,
        })
    }

    /// The next new value, or the error that ended the watch.
    pub async fn next(&mut self) -> Result<f64, ErrorData> {
        match self {
            Self::Events {
                subscription,
                pending,
            } => loop {
                if let Some(value) = pending.pop_front() {
                    return Ok(value);
                }
                let text = match subscription.next().await {
                    Some(event) => event?,
                    None => {
                        return Err(ErrorData::new(
                            503,
                            "service_unavailable",
                            "the subscription ended",
                        ));
                    }
                };
                let values = containers(&text)
                    .into_iter()
                    .flat_map(|container| container.signal_data)
                    .filter_map(|point| number(&Json::String(point.value)));
                pending.extend(values);
            },
            Self::Poll {
                session,
                path,
                interval,
                last,
            } => loop {
                tokio::time::sleep(*interval).await;
                let value = session.current(path).await?;
                if *last != Some(value) {
                    *last = Some(value);
                    return Ok(value);
                }
            },
        }
    }

    pub async fn stop(self) {
        if let Self::Events { subscription, .. } = self {
            subscription.unsubscribe().await;
        }
    }
}

/// One MoveSeat: an axis, its target, the watch on its current value.
pub(super) struct Move<T: VissTree> {
    pub service_id: u32,
    pub session: Session<T>,
    pub axis: Axis,
    pub target: f64,
    pub current: Option<f64>,
    pub watch: Watch<T>,
}

impl<T: VissTree + 'static> Move<T> {
    pub fn output(&self, status: ProcedureStatus, error: Option<ErrorData>) -> MoveSeatOutput {
        MoveSeatOutput {
            status,
            error,
            position: self
                .current
                .map_or(0.0, |value| self.axis.percent_of(value)),
            service_id: self.service_id,
        }
    }

    fn there(&self) -> bool {
        self.current
            .is_some_and(|current| self.axis.reached(current, self.target))
    }

    /// Until the current value reaches the target (or the watch fails, or `deadline`: the
    /// seat is then stopped); `progress` gets ONGOING with each new position.
    pub async fn follow(
        &mut self,
        deadline: Instant,
        progress: Option<&Callback<MoveSeatOutput>>,
    ) -> MoveSeatOutput {
        while !self.there() {
            match tokio::time::timeout_at(deadline, self.watch.next()).await {
                Err(_) => {
                    let problem = self.halt().await.unwrap_or_else(|| {
                        let path = &self.axis.actuator.path;
                        let description = format!("{path} did not reach {} in time", self.target);
                        ErrorData::new(408, "request_timeout", description)
                    });
                    return self.output(ProcedureStatus::Failed, Some(problem));
                }
                Ok(Err(problem)) => return self.output(ProcedureStatus::Failed, Some(problem)),
                Ok(Ok(value)) => {
                    self.current = Some(value);
                    if !self.there() {
                        notify(progress, self.output(ProcedureStatus::Ongoing, None));
                    }
                }
            }
        }
        self.output(ProcedureStatus::Successful, None)
    }

    /// Stops the seat where it is: its target becomes its current value.
    pub async fn halt(&mut self) -> Option<ErrorData> {
        let path = &self.axis.actuator.path;
        let stop = async {
            let current = self.session.current(path).await?;
            let wire = self.axis.actuator.encode(current)?;
            self.session.set(path, &wire).await?;
            Ok::<f64, ErrorData>(current)
        };
        match stop.await {
            Ok(current) => {
                self.current = Some(current);
                None
            }
            Err(problem) => Some(problem),
        }
    }
}

/// A running service.
pub(super) enum Service {
    Subscription {
        protocol: Protocol,
        stop: oneshot::Sender<()>,
        task: JoinHandle<()>,
    },
    Move {
        protocol: Protocol,
        stop: oneshot::Sender<()>,
        /// Gives the move back when stopped before it ended.
        task: JoinHandle<Option<Box<dyn Halt>>>,
    },
    Massage {
        protocol: Protocol,
        timer: JoinHandle<()>,
        end: Arc<dyn SwitchOff>,
    },
}

/// A stopped move, type-erased so that [`Service`] needs no tree parameter.
pub(super) trait Halt: Send {
    /// Stops the seat where it is, reports the last output, and ends the watch.
    fn cancel(self: Box<Self>) -> futures_util::future::BoxFuture<'static, GeneralOutput>;
    /// Ends the watch without a callback.
    fn drop_silently(self: Box<Self>) -> futures_util::future::BoxFuture<'static, ()>;
}

/// A massage's way to switch off, type-erased like [`Halt`].
pub(super) trait SwitchOff: Send + Sync {
    /// Switches off and reports the end to the callback.
    fn finish(&self) -> futures_util::future::BoxFuture<'_, GeneralOutput>;
    /// Switches off without a callback (nobody could stop it once its session is gone).
    fn silence(&self) -> futures_util::future::BoxFuture<'_, ()>;
}

impl Service {
    pub fn protocol(&self) -> Protocol {
        match self {
            Self::Subscription { protocol, .. }
            | Self::Move { protocol, .. }
            | Self::Massage { protocol, .. } => *protocol,
        }
    }

    /// Ends the service's task at once, without a word to anyone (its owner is gone).
    pub fn abort(&self) {
        match self {
            Self::Subscription { task, .. } => task.abort(),
            Self::Move { task, .. } => task.abort(),
            Self::Massage { timer, .. } => timer.abort(),
        }
    }

    /// CancelService: ends the service in its current state.
    pub async fn cancel(self) -> GeneralOutput {
        match self {
            Self::Subscription { stop, task, .. } => {
                let _ = stop.send(());
                let _ = task.await;
                successful()
            }
            Self::Move { stop, task, .. } => {
                let _ = stop.send(());
                match task.await {
                    Ok(Some(stopped)) => stopped.cancel().await,
                    // It had just ended on its own and reported so.
                    _ => successful(),
                }
            }
            Self::Massage { timer, end, .. } => {
                timer.abort();
                end.finish().await
            }
        }
    }

    /// Disconnect: ends the service without callbacks.
    pub async fn drop_silently(self) {
        match self {
            Self::Subscription { stop, task, .. } => {
                let _ = stop.send(());
                let _ = task.await;
            }
            Self::Move { stop, task, .. } => {
                let _ = stop.send(());
                if let Ok(Some(stopped)) = task.await {
                    stopped.drop_silently().await;
                }
            }
            Self::Massage { timer, end, .. } => {
                timer.abort();
                end.silence().await;
            }
        }
    }
}

/// A callback and the move it reports on, once stopped.
struct StoppedMove<T: VissTree> {
    movement: Move<T>,
    callback: Callback<MoveSeatOutput>,
}

impl<T: VissTree + 'static> Halt for StoppedMove<T> {
    fn cancel(mut self: Box<Self>) -> futures_util::future::BoxFuture<'static, GeneralOutput> {
        Box::pin(async move {
            let problem = self.movement.halt().await;
            let StoppedMove { movement, callback } = *self;
            let status = match problem {
                None => ProcedureStatus::Successful,
                Some(_) => ProcedureStatus::Failed,
            };
            let output = movement.output(status, problem.clone());
            movement.watch.stop().await;
            callback(output);
            match problem {
                None => successful(),
                Some(problem) => failed(problem),
            }
        })
    }

    fn drop_silently(self: Box<Self>) -> futures_util::future::BoxFuture<'static, ()> {
        Box::pin(async move { self.movement.watch.stop().await })
    }
}

/// Runs an asynchronous move until it arrives, fails, or is stopped.
pub(super) fn spawn_move<T: VissTree + 'static>(
    mut movement: Move<T>,
    deadline: Instant,
    callback: Callback<MoveSeatOutput>,
    services: Services,
    stop: oneshot::Receiver<()>,
) -> JoinHandle<Option<Box<dyn Halt>>> {
    tokio::spawn(async move {
        let outcome = tokio::select! {
            outcome = movement.follow(deadline, Some(&callback)) => Some(outcome),
            _ = stop => None,
        };
        let Some(outcome) = outcome else {
            return Some(Box::new(StoppedMove { movement, callback }) as Box<dyn Halt>);
        };
        services.lock().remove(&movement.service_id);
        movement.watch.stop().await;
        callback(outcome);
        None
    })
}

/// Delivers a subscription's events until it ends or is stopped.
pub(super) fn spawn_subscription(
    service_id: u32,
    mut subscription: RawSubscription,
    callback: Callback<SubscribeOutput>,
    services: Services,
    mut stop: oneshot::Receiver<()>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            let event = tokio::select! {
                event = subscription.next() => event,
                _ = &mut stop => break,
            };
            let problem = match event {
                Some(Ok(text)) => {
                    callback(SubscribeOutput {
                        status: ProcedureStatus::Ongoing,
                        error: None,
                        data: containers(&text),
                        service_id,
                    });
                    continue;
                }
                Some(Err(error)) => ErrorData::from(error),
                None => ErrorData::new(503, "service_unavailable", "the subscription ended"),
            };
            services.lock().remove(&service_id);
            callback(SubscribeOutput {
                status: ProcedureStatus::Failed,
                error: Some(problem),
                data: Vec::new(),
                service_id,
            });
            return;
        }
        subscription.unsubscribe().await;
    })
}

/// A massage that switches itself off.
pub(super) struct MassageRun<T: VissTree> {
    pub service_id: u32,
    pub session: Session<T>,
    pub massage: Massage,
    pub callback: Option<Callback<MassageOutput>>,
}

impl<T: VissTree + 'static> MassageRun<T> {
    async fn switch_off(&self) -> Option<ErrorData> {
        let actuator = &self.massage.actuator;
        let result = async {
            let wire = actuator.encode(self.massage.off())?;
            self.session.set(&actuator.path, &wire).await?;
            Ok::<(), ErrorData>(())
        };
        result.await.err()
    }
}

impl<T: VissTree + 'static> SwitchOff for MassageRun<T> {
    fn finish(&self) -> futures_util::future::BoxFuture<'_, GeneralOutput> {
        Box::pin(async move {
            let problem = self.switch_off().await;
            let status = match problem {
                None => ProcedureStatus::Successful,
                Some(_) => ProcedureStatus::Failed,
            };
            let output = MassageOutput {
                status,
                error: problem.clone(),
                service_id: self.service_id,
            };
            notify(self.callback.as_ref(), output);
            match problem {
                None => successful(),
                Some(problem) => failed(problem),
            }
        })
    }

    fn silence(&self) -> futures_util::future::BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Some(problem) = self.switch_off().await {
                tracing::warn!(
                    "switching {} off failed: {}",
                    self.massage.actuator.path,
                    problem.description
                );
            }
        })
    }
}

/// Switches a massage off after `duration`, unless it was cancelled first.
pub(super) fn spawn_massage_timer<T: VissTree + 'static>(
    run: Arc<MassageRun<T>>,
    duration: Duration,
    services: Services,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        if duration.is_zero() {
            // Until CancelService.
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(duration).await;
        if services.lock().remove(&run.service_id).is_some() {
            run.finish().await;
        }
    })
}

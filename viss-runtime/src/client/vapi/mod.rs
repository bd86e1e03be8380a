//! VAPI v1.0, the COVESA Vehicle API, on top of the typed VISS [`Client`]: the same
//! procedures as the TypeScript and Python SDKs' `Vapi`, in Rust's spelling (`get`,
//! `move_seat`, `GetOutput::status`).
//!
//! ```text
//! let vapi = Vapi::new(|| Vehicle::TREE, VapiOptions { wss: Some(url), ..options });
//! vapi.connect(vapi.vehicle_id(), "wss", "").await;
//! let got = vapi.get(vapi.vehicle_id(), "Vehicle.Speed", "", "").await;
//! let seat = MatrixId::new("Row1", "DriverSide");
//! vapi.move_seat(vapi.vehicle_id(), &seat, LONGITUDINAL, BACKWARD, "", None).await;
//! ```
//!
//! A procedure never fails with a Rust error: a VISS error or a failure to reach the vehicle
//! comes back as `status: Failed` with an [`ErrorData`] (code = the VISS error number;
//! client-side failures use the VISS numbers that fit: 400 `bad_request`/`invalid_data`,
//! 404 `unavailable_data`, 408 `request_timeout`, 429 `too_many_requests`, 503
//! `service_unavailable`).
//!
//! Mapping onto one VISS server (one `Vapi` = one vehicle, [`Vapi::vehicle_id`]):
//! - Common: `connect(vehicle_id, protocol, client_credentials)` opens a session over
//!   `"wss"`, `"https"`, `"grpc"` or `"mqtt"` (with the client's gRPC or MQTT), whichever
//!   URLs the options name; the first protocol connected is the default until `select_protocol` picks
//!   another connected one. `disconnect` closes
//!   one session and `release_vehicle` all (their services end without callbacks).
//!   Credentials: with [`VapiOptions::access_control`] (the ecosystem's AGTS and ATS, CORE
//!   §8), non-empty `client_credentials` is the client's proof of identity, and Connect
//!   answers the AGTS's access grant token as `lt_credential`; `get_st_credentials(
//!   vehicle_id, lt_credential, purpose)` trades it at the ATS for an access token (waiting
//!   for the owner's consent where the purpose needs it). Without access control, non-empty
//!   `client_credentials` is the session's VISS access token, `lt_credential` is empty and
//!   `get_st_credentials` answers Failed, 404. A procedure's non-empty `st_credentials` is
//!   sent as its requests' VISS `authorization`. `get_metadata` is a VISS get with the metadata
//!   filter, as JSON text. `cancel_service` ends a subscription, stops a seat where it is, or
//!   switches a massage off.
//! - Data: `get`, `set`, `subscribe`, `unsubscribe` are the VISS actions. `filter` is the
//!   VISS filter as JSON text (`""` = none; subscribe's default is every change); values
//!   are VISS values as text (`"42"`, `"true"`; a struct or array as JSON text). Subscribe
//!   needs wss, grpc or mqtt.
//! - Seating ([`seating`]): `get_properties_seating` reads the seats from the metadata of
//!   `Vehicle.Cabin.Seat`; a tree without them answers Failed, 404 `unavailable_data`.
//!   `move_seat` without a callback waits until the seat is there (a change subscription
//!   over wss, grpc or mqtt, polling over https), or fails after `move_timeout` (the seat is then
//!   stopped); with a callback it answers Ongoing with a ServiceId at once, the callback
//!   gets Ongoing with each new position and a last Successful or Failed output, and
//!   `cancel_service` stops the seat where it is. Dropping a synchronous `move_seat` before
//!   it ends (a timeout around it, a cancelled task) stops the seat where it is too.
//!   `activate_massage` sets the level for `intensity` and answers Ongoing with a ServiceId;
//!   after `duration` seconds (0: until `cancel_service`) the massage is switched off.
//!
//! Not implemented, as in the other SDKs: GetVehicle, ServiceInquiry and Invoke (services of
//! a vehicle's back end, with no VISS counterpart); the HVAC and lighting groups are
//! placeholders in VAPI v1.0.

mod seating;
mod services;
pub mod types;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::oneshot;
use tokio::time::Instant;

use crate::client::{AccessControl, Client, ClientOptions, Filter, LogicOp};
use crate::tree::VissTree;
use seating::Seat;
use services::{MassageRun, Move, Service, Services, Session, Watch};
pub use types::*;

/// The protocols a `Vapi` speaks: the client's VISS transports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    Wss,
    Https,
    /// gRPC (`grpcs://`), when the client is built with it (a Rust SDK's `grpc` feature).
    Grpc,
    /// MQTT through a broker (`mqtts://broker/<VID>`), when the client is built with it (a
    /// Rust SDK's `mqtt` feature).
    Mqtt,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Self::Wss => "wss",
            Self::Https => "https",
            Self::Grpc => "grpc",
            Self::Mqtt => "mqtt",
        }
    }

    /// Whether the protocol carries subscriptions (HTTPS does not).
    pub fn streams(self) -> bool {
        !matches!(self, Self::Https)
    }
}

/// Where the vehicle is and how the procedures behave.
#[derive(Debug, Clone)]
pub struct VapiOptions {
    /// The server's WebSocket URL (`wss://host:6443`), if offered.
    pub wss: Option<String>,
    /// The server's HTTPS URL (`https://host:8443`), if offered.
    pub https: Option<String>,
    /// The server's gRPC URL (`grpcs://host:5443`), if offered (needs the client's gRPC).
    pub grpc: Option<String>,
    /// The vehicle's broker and id (`mqtts://broker:8883/<VID>`), if it serves VISS over
    /// MQTT (needs the client's MQTT).
    pub mqtt: Option<String>,
    /// How each session's client connects (CA, timeout, bounds).
    pub client: ClientOptions,
    /// This vehicle's id in the procedures.
    pub vehicle_id: u32,
    /// Bounds a move_seat.
    pub move_timeout: Duration,
    /// How often a movement is polled over https.
    pub poll_interval: Duration,
    /// Where the seats are.
    pub seating_branch: String,
    /// The access-control servers (AGTS and ATS) of the vehicle's ecosystem, if it has
    /// them: Connect then gets a long-term credential and GetStCredentials works.
    pub access_control: Option<AccessControl>,
}

impl Default for VapiOptions {
    fn default() -> Self {
        Self {
            wss: None,
            https: None,
            grpc: None,
            mqtt: None,
            client: ClientOptions::default(),
            vehicle_id: 1,
            move_timeout: Duration::from_secs(60),
            poll_interval: Duration::from_millis(100),
            seating_branch: "Vehicle.Cabin.Seat".to_owned(),
            access_control: None,
        }
    }
}

/// VAPI v1.0 procedures for the one vehicle a VISS server serves.
pub struct Vapi<T: VissTree> {
    tree: fn() -> T,
    options: VapiOptions,
    sessions: Mutex<Sessions<T>>,
    services: Services,
    next_service: std::sync::atomic::AtomicU32,
    /// Held shared by a procedure starting a service until the service is registered, and
    /// exclusively by `disconnect`: a start racing a disconnect registers first and then
    /// ends with its session. Without it, a massage whose set was in flight when the session
    /// closed stayed on, with nothing left to switch it off.
    starting: tokio::sync::RwLock<()>,
}

struct Sessions<T: VissTree> {
    clients: HashMap<Protocol, (Arc<Client<T>>, Option<String>)>,
    default: Option<Protocol>,
    seats: HashMap<Protocol, Arc<Vec<Seat>>>,
}

impl<T: VissTree + 'static> std::fmt::Debug for Vapi<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vapi")
            .field("vehicle_id", &self.options.vehicle_id)
            .field("protocol", &self.protocol())
            .finish_non_exhaustive()
    }
}

/// A `Vapi` dropped with services still running ends their tasks (their subscriptions end
/// with them). A massage cannot be switched off from here: `release_vehicle` first does.
impl<T: VissTree> Drop for Vapi<T> {
    fn drop(&mut self) {
        for (_, service) in self.services.lock().drain() {
            service.abort();
        }
    }
}

pub(super) fn successful() -> GeneralOutput {
    GeneralOutput {
        status: ProcedureStatus::Successful,
        error: None,
    }
}

pub(super) fn failed(problem: ErrorData) -> GeneralOutput {
    GeneralOutput {
        status: ProcedureStatus::Failed,
        error: Some(problem),
    }
}

fn no_service(service_id: u32) -> ErrorData {
    ErrorData::new(
        404,
        "unavailable_data",
        format!("no ongoing service with ServiceId {service_id}"),
    )
}

impl<T: VissTree + 'static> Vapi<T> {
    /// A VAPI for the vehicle at `options`' URLs; `tree` makes the typed tree each
    /// session's client is typed by (a generated SDK passes `|| Vehicle::TREE`).
    pub fn new(tree: fn() -> T, options: VapiOptions) -> Self {
        Self {
            tree,
            options,
            sessions: Mutex::new(Sessions {
                clients: HashMap::new(),
                default: None,
                seats: HashMap::new(),
            }),
            services: Arc::default(),
            next_service: std::sync::atomic::AtomicU32::new(1),
            starting: tokio::sync::RwLock::new(()),
        }
    }

    /// This vehicle's id.
    pub fn vehicle_id(&self) -> u32 {
        self.options.vehicle_id
    }

    /// The default protocol, `None` before the first connect.
    pub fn protocol(&self) -> Option<Protocol> {
        self.sessions.lock().default
    }

    // --- common procedures ---------------------------------------------------------------

    /// Opens a session over `protocol` (`"wss"`, `"https"`, `"grpc"` or `"mqtt"`); the first
    /// one becomes the default protocol. With an access-control server in the options, non-empty
    /// `client_credentials` is the client's proof for the AGTS and `lt_credential` the
    /// access grant token it answers (no session opens when it refuses); without one, it
    /// is the session's VISS access token.
    pub async fn connect(
        &self,
        vehicle_id: u32,
        protocol: &str,
        client_credentials: &str,
    ) -> ConnectOutput {
        let connected = async {
            self.check_vehicle(vehicle_id)?;
            let (protocol, url) = self.offered(protocol)?;
            let granted = match &self.options.access_control {
                Some(access) if !client_credentials.is_empty() => {
                    Some(access.grant(client_credentials).await?)
                }
                _ => None,
            };
            let token = (granted.is_none() && !client_credentials.is_empty())
                .then(|| client_credentials.to_owned());
            if !self.sessions.lock().clients.contains_key(&protocol) {
                // No token of the client's own: every call passes the session's (or the
                // procedure's), so connecting again with other credentials replaces them.
                let options = ClientOptions {
                    authorization: None,
                    ..self.options.client.clone()
                };
                let client = Client::connect(url, (self.tree)(), options).await?;
                self.sessions
                    .lock()
                    .clients
                    .entry(protocol)
                    .or_insert((Arc::new(client), None));
            }
            let mut sessions = self.sessions.lock();
            if let Some((_, session_token)) = sessions.clients.get_mut(&protocol) {
                *session_token = token;
            }
            sessions.default.get_or_insert(protocol);
            Ok::<String, ErrorData>(granted.unwrap_or_default())
        };
        match connected.await {
            Ok(lt_credential) => ConnectOutput {
                status: ProcedureStatus::Successful,
                error: None,
                lt_credential,
            },
            Err(problem) => ConnectOutput {
                status: ProcedureStatus::Failed,
                error: Some(problem),
                lt_credential: String::new(),
            },
        }
    }

    /// An access token for `purpose` from the ATS, given the long-term credential Connect
    /// answered; waits for the owner's consent where the purpose needs it (up to the
    /// access control's `consent_timeout`). Needs an access-control server in the options.
    pub async fn get_st_credentials(
        &self,
        vehicle_id: u32,
        lt_credentials: &str,
        purpose: &str,
    ) -> GetStCredentialsOutput {
        let issued = async {
            self.check_vehicle(vehicle_id)?;
            let access = self.options.access_control.as_ref().ok_or_else(|| {
                ErrorData::new(
                    404,
                    "unavailable_data",
                    "no access-control server is configured (VapiOptions::access_control)",
                )
            })?;
            Ok::<String, ErrorData>(access.access_token(lt_credentials, purpose).await?)
        };
        match issued.await {
            Ok(st_credentials) => GetStCredentialsOutput {
                status: ProcedureStatus::Successful,
                error: None,
                st_credentials,
            },
            Err(problem) => GetStCredentialsOutput {
                status: ProcedureStatus::Failed,
                error: Some(problem),
                st_credentials: String::new(),
            },
        }
    }

    /// Closes the session over `protocol`; services running over it end without callbacks.
    pub async fn disconnect(&self, vehicle_id: u32, protocol: &str) -> GeneralOutput {
        let closing = async {
            self.check_vehicle(vehicle_id)?;
            // Services being started register first, and so end with the session below.
            let _no_starts = self.starting.write().await;
            let (protocol, _) = self.offered(protocol)?;
            let (client, _) = {
                let mut sessions = self.sessions.lock();
                let client = sessions.clients.remove(&protocol).ok_or_else(|| {
                    ErrorData::bad_request(format!("not connected over {}", protocol.name()))
                })?;
                sessions.seats.remove(&protocol);
                if sessions.default == Some(protocol) {
                    sessions.default = sessions.clients.keys().next().copied();
                }
                client
            };
            let ended: Vec<Service> = {
                let mut services = self.services.lock();
                let ids: Vec<u32> = services
                    .iter()
                    .filter(|(_, service)| service.protocol() == protocol)
                    .map(|(id, _)| *id)
                    .collect();
                ids.iter().filter_map(|id| services.remove(id)).collect()
            };
            for service in ended {
                service.drop_silently().await;
            }
            client.close().await;
            Ok(())
        };
        general(closing.await)
    }

    /// Closes the sessions over every protocol.
    pub async fn release_vehicle(&self, vehicle_id: u32) -> GeneralOutput {
        if let Err(problem) = self.check_vehicle(vehicle_id) {
            return failed(problem);
        }
        let protocols: Vec<Protocol> = self.sessions.lock().clients.keys().copied().collect();
        for protocol in protocols {
            self.disconnect(vehicle_id, protocol.name()).await;
        }
        successful()
    }

    /// Makes a connected protocol the one later procedures use.
    pub async fn select_protocol(&self, vehicle_id: u32, protocol: &str) -> GeneralOutput {
        let selected = (|| {
            self.check_vehicle(vehicle_id)?;
            let (protocol, _) = self.offered(protocol)?;
            let mut sessions = self.sessions.lock();
            if !sessions.clients.contains_key(&protocol) {
                return Err(ErrorData::bad_request(format!(
                    "connect over {} before selecting it",
                    protocol.name()
                )));
            }
            sessions.default = Some(protocol);
            Ok(())
        })();
        general(selected)
    }

    /// The metadata of the subtree at `path`, as JSON text.
    pub async fn get_metadata(
        &self,
        vehicle_id: u32,
        path: &str,
        st_credentials: &str,
    ) -> GetMetadataOutput {
        let read = async {
            let session = self.session(vehicle_id, st_credentials)?;
            let filter = Filter::metadata(0);
            let answer = session.get(path, Some(filter.as_json())).await?;
            let answer: serde_json::Value = serde_json::from_str(&answer)
                .map_err(|error| ErrorData::new(503, "service_unavailable", error.to_string()))?;
            Ok::<String, ErrorData>(answer["metadata"].to_string())
        };
        match read.await {
            Ok(metadata) => GetMetadataOutput {
                status: ProcedureStatus::Successful,
                error: None,
                metadata,
            },
            Err(problem) => GetMetadataOutput {
                status: ProcedureStatus::Failed,
                error: Some(problem),
                metadata: String::new(),
            },
        }
    }

    /// Ends an ongoing service in its current state: a subscription is ended, a seat stops
    /// where it is, a massage is switched off.
    pub async fn cancel_service(&self, vehicle_id: u32, service_id: u32) -> GeneralOutput {
        if let Err(problem) = self.check_vehicle(vehicle_id) {
            return failed(problem);
        }
        let service = self.services.lock().remove(&service_id);
        match service {
            Some(service) => service.cancel().await,
            None => failed(no_service(service_id)),
        }
    }

    // --- data procedures -----------------------------------------------------------------

    /// The latest value(s) of the signal(s) `path` (and `filter`: paths, history)
    /// addresses.
    pub async fn get(
        &self,
        vehicle_id: u32,
        path: &str,
        filter: &str,
        st_credentials: &str,
    ) -> GetOutput {
        let read = async {
            let session = self.session(vehicle_id, st_credentials)?;
            let filter = parse_filter(filter)?;
            if filter.as_deref().is_some_and(has_metadata_variant) {
                return Err(ErrorData::bad_request(
                    "the metadata filter belongs to GetMetadata",
                ));
            }
            let answer = session.get(path, filter.as_deref()).await?;
            Ok(services::containers(&answer))
        };
        match read.await {
            Ok(data) => GetOutput {
                status: ProcedureStatus::Successful,
                error: None,
                data,
            },
            Err(problem) => GetOutput {
                status: ProcedureStatus::Failed,
                error: Some(problem),
                data: Vec::new(),
            },
        }
    }

    /// Provides `value` to the actuator `path` (Successful says the vehicle took it, not
    /// that the actuator got there).
    pub async fn set(
        &self,
        vehicle_id: u32,
        path: &str,
        value: &str,
        st_credentials: &str,
    ) -> GeneralOutput {
        let written = async {
            let session = self.session(vehicle_id, st_credentials)?;
            session.set(path, &wire_value(value)).await?;
            Ok(())
        };
        general(written.await)
    }

    /// Starts a subscription: Ongoing with its ServiceId at once; `callback` gets Ongoing
    /// with the data of every event, or Failed with the error that ended it.
    pub async fn subscribe(
        &self,
        vehicle_id: u32,
        path: &str,
        filter: &str,
        st_credentials: &str,
        callback: Callback<SubscribeOutput>,
    ) -> SubscribeOutput {
        let started = async {
            let _starting = self.starting.read().await;
            let session = self.session(vehicle_id, st_credentials)?;
            if !session.protocol.streams() {
                return Err(ErrorData::bad_request(format!(
                    "Subscribe is not available over {}: connect and select_protocol wss, grpc or mqtt",
                    session.protocol.name()
                )));
            }
            let every_change = Filter::change(LogicOp::Ne, 0.0);
            let filter = parse_filter(filter)?;
            let filter = filter.as_deref().unwrap_or(every_change.as_json());
            let subscription = session.subscribe(path, filter).await?;
            let service_id = self.next_service_id();
            let (stop, stopped) = oneshot::channel();
            // Registered before the task runs: a subscription that ends at once removes its
            // own entry.
            let mut services = self.services.lock();
            let task = services::spawn_subscription(
                service_id,
                subscription,
                callback,
                Arc::clone(&self.services),
                stopped,
            );
            let service = Service::Subscription {
                protocol: session.protocol,
                stop,
                task,
            };
            services.insert(service_id, service);
            Ok(service_id)
        };
        match started.await {
            Ok(service_id) => SubscribeOutput {
                status: ProcedureStatus::Ongoing,
                error: None,
                data: Vec::new(),
                service_id,
            },
            Err(problem) => SubscribeOutput {
                status: ProcedureStatus::Failed,
                error: Some(problem),
                data: Vec::new(),
                service_id: 0,
            },
        }
    }

    /// Ends the subscription `service_id`.
    pub async fn unsubscribe(&self, vehicle_id: u32, service_id: u32) -> GeneralOutput {
        if let Err(problem) = self.check_vehicle(vehicle_id) {
            return failed(problem);
        }
        let service = {
            let mut services = self.services.lock();
            match services.get(&service_id) {
                Some(Service::Subscription { .. }) => services.remove(&service_id),
                _ => None,
            }
        };
        match service {
            Some(service) => service.cancel().await,
            None => failed(no_service(service_id)),
        }
    }

    // --- seating -------------------------------------------------------------------------

    /// The seats and the movements and massages each supports, read from the vehicle's
    /// metadata now (Failed, 404, when it has no seating service).
    pub async fn get_properties_seating(&self, vehicle_id: u32) -> GetPropertiesSeatingOutput {
        let read = async {
            let session = self.session(vehicle_id, "")?;
            let seats = self.discover(&session, true).await?;
            Ok::<RaggedMatrix, ErrorData>(seating::properties(&seats))
        };
        match read.await {
            Ok(properties) => GetPropertiesSeatingOutput {
                status: ProcedureStatus::Successful,
                error: None,
                properties,
            },
            Err(problem) => GetPropertiesSeatingOutput {
                status: ProcedureStatus::Failed,
                error: Some(problem),
                properties: Vec::new(),
            },
        }
    }

    /// Moves a seat along `movement_type` to `position` %: synchronously without a
    /// callback (answers when there), asynchronously with one (answers Ongoing and a
    /// ServiceId at once; `cancel_service` stops it where it is).
    pub async fn move_seat(
        &self,
        vehicle_id: u32,
        seat_id: &MatrixId,
        movement_type: &str,
        position: Percentage,
        st_credentials: &str,
        callback: Option<Callback<MoveSeatOutput>>,
    ) -> MoveSeatOutput {
        let none = |problem| MoveSeatOutput {
            status: ProcedureStatus::Failed,
            error: Some(problem),
            position: 0.0,
            service_id: 0,
        };
        let starting = self.starting.read().await;
        let started = async {
            let session = self.session(vehicle_id, st_credentials)?;
            check_percentage("position", position)?;
            let seat = self.find_seat(&session, seat_id).await?;
            let axis = seat.axis(movement_type).cloned().ok_or_else(|| {
                ErrorData::unsupported(&format!(
                    "the {movement_type:?} movement of seat {}.{}",
                    seat_id.row_name, seat_id.column_name
                ))
            })?;
            let watch =
                Watch::start(&session, &axis.actuator.path, self.options.poll_interval).await?;
            Ok::<Move<T>, ErrorData>(Move {
                service_id: self.next_service_id(),
                target: axis.value_at(position),
                session,
                axis,
                current: None,
                watch,
            })
        };
        let mut movement = match started.await {
            Ok(movement) => movement,
            Err(problem) => return none(problem),
        };
        let deadline = Instant::now() + self.options.move_timeout;
        if let Err(problem) = start_moving(&mut movement).await {
            let output = movement.output(ProcedureStatus::Failed, Some(problem));
            movement.watch.stop().await;
            return output;
        }
        let Some(callback) = callback else {
            // A synchronous move is no registered service: a disconnect need not wait for it
            // (its session closing fails it).
            drop(starting);
            return follow_or_stop(movement, deadline).await;
        };
        let ongoing = movement.output(ProcedureStatus::Ongoing, None);
        let (service_id, protocol) = (movement.service_id, movement.session.protocol);
        let (stop, stopped) = oneshot::channel();
        // Registered before the task runs: a move that ends at once removes its own entry.
        let mut services = self.services.lock();
        let task = services::spawn_move(
            movement,
            deadline,
            callback,
            Arc::clone(&self.services),
            stopped,
        );
        services.insert(
            service_id,
            Service::Move {
                protocol,
                stop,
                task,
            },
        );
        drop(services);
        drop(starting);
        ongoing
    }

    /// Massages at `intensity` % for `duration` seconds (0: until `cancel_service`);
    /// answers Ongoing and a ServiceId once the level is set; `callback` gets the end.
    #[allow(clippy::too_many_arguments)] // the procedure's parameters, as VAPI names them
    pub async fn activate_massage(
        &self,
        vehicle_id: u32,
        seat_id: &MatrixId,
        massage_type: &str,
        intensity: Percentage,
        duration: u32,
        st_credentials: &str,
        callback: Option<Callback<MassageOutput>>,
    ) -> MassageOutput {
        let started = async {
            let _starting = self.starting.read().await;
            let session = self.session(vehicle_id, st_credentials)?;
            check_percentage("intensity", intensity)?;
            let seat = self.find_seat(&session, seat_id).await?;
            let massage = seat.massage(massage_type).cloned().ok_or_else(|| {
                ErrorData::unsupported(&format!(
                    "the {massage_type:?} massage of seat {}.{}",
                    seat_id.row_name, seat_id.column_name
                ))
            })?;
            let wire = massage.actuator.encode(massage.level_at(intensity))?;
            session.set(&massage.actuator.path, &wire).await?;
            let protocol = session.protocol;
            let run = Arc::new(MassageRun {
                service_id: self.next_service_id(),
                session,
                massage,
                callback,
            });
            let service_id = run.service_id;
            let mut services = self.services.lock();
            let timer = services::spawn_massage_timer(
                Arc::clone(&run),
                Duration::from_secs(duration.into()),
                Arc::clone(&self.services),
            );
            let service = Service::Massage {
                protocol,
                timer,
                end: run,
            };
            services.insert(service_id, service);
            Ok::<u32, ErrorData>(service_id)
        };
        match started.await {
            Ok(service_id) => MassageOutput {
                status: ProcedureStatus::Ongoing,
                error: None,
                service_id,
            },
            Err(problem) => MassageOutput {
                status: ProcedureStatus::Failed,
                error: Some(problem),
                service_id: 0,
            },
        }
    }

    // --- internals -----------------------------------------------------------------------

    fn next_service_id(&self) -> u32 {
        self.next_service
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    fn check_vehicle(&self, vehicle_id: u32) -> Result<(), ErrorData> {
        if vehicle_id == self.options.vehicle_id {
            return Ok(());
        }
        Err(ErrorData::new(
            404,
            "unavailable_data",
            format!("unknown vehicleId {vehicle_id}"),
        ))
    }

    /// The protocol named and its URL, if the options offer it.
    fn offered(&self, protocol: &str) -> Result<(Protocol, &str), ErrorData> {
        let offered = [
            (Protocol::Wss, self.options.wss.as_deref()),
            (Protocol::Https, self.options.https.as_deref()),
            (Protocol::Grpc, self.options.grpc.as_deref()),
            (Protocol::Mqtt, self.options.mqtt.as_deref()),
        ];
        offered
            .iter()
            .find_map(|&(candidate, url)| {
                Some((candidate, url?)).filter(|_| candidate.name() == protocol)
            })
            .ok_or_else(|| {
                let names: Vec<&str> = offered
                    .iter()
                    .filter(|(_, url)| url.is_some())
                    .map(|(candidate, _)| candidate.name())
                    .collect();
                ErrorData::bad_request(format!(
                    "protocol {protocol:?} is not offered: {}",
                    names.join(", ")
                ))
            })
    }

    /// The default protocol's session, with the procedure's token (or the session's).
    fn session(&self, vehicle_id: u32, st_credentials: &str) -> Result<Session<T>, ErrorData> {
        self.check_vehicle(vehicle_id)?;
        let sessions = self.sessions.lock();
        let not_connected = || {
            ErrorData::new(
                503,
                "service_unavailable",
                "not connected: call connect first",
            )
        };
        let protocol = sessions.default.ok_or_else(not_connected)?;
        let (client, token) = sessions.clients.get(&protocol).ok_or_else(not_connected)?;
        Ok(Session {
            client: Arc::clone(client),
            token: if st_credentials.is_empty() {
                token.clone()
            } else {
                Some(st_credentials.to_owned())
            },
            protocol,
        })
    }

    /// The seats of the session's vehicle (read once per session, or again on `refresh`).
    async fn discover(
        &self,
        session: &Session<T>,
        refresh: bool,
    ) -> Result<Arc<Vec<Seat>>, ErrorData> {
        let known = self.sessions.lock().seats.get(&session.protocol).cloned();
        let seats = match known {
            Some(seats) if !refresh => seats,
            _ => {
                let branch = &self.options.seating_branch;
                let filter = Filter::metadata(0);
                let answer = match session.get(branch, Some(filter.as_json())).await {
                    Ok(answer) => answer,
                    Err(error) if error.number() == Some("404") => {
                        let what = format!("seating ({branch} is not in its tree)");
                        return Err(ErrorData::unsupported(&what));
                    }
                    Err(error) => return Err(error.into()),
                };
                let answer: serde_json::Value = serde_json::from_str(&answer).map_err(|error| {
                    ErrorData::new(503, "service_unavailable", error.to_string())
                })?;
                let seats = Arc::new(seating::seating(branch, &answer["metadata"]));
                self.sessions
                    .lock()
                    .seats
                    .insert(session.protocol, Arc::clone(&seats));
                seats
            }
        };
        if seats.is_empty() {
            let branch = &self.options.seating_branch;
            let what =
                format!("seating (no seat below {branch} has a movement or massage actuator)");
            return Err(ErrorData::unsupported(&what));
        }
        Ok(seats)
    }

    async fn find_seat(&self, session: &Session<T>, seat_id: &MatrixId) -> Result<Seat, ErrorData> {
        let seats = self.discover(session, false).await?;
        seats
            .iter()
            .find(|seat| seat.row == seat_id.row_name && seat.column == seat_id.column_name)
            .cloned()
            .ok_or_else(|| {
                ErrorData::unsupported(&format!(
                    "seat {}.{}",
                    seat_id.row_name, seat_id.column_name
                ))
            })
    }
}

/// Follows a synchronous move on a task of its own until the seat is there. A caller that
/// gives up (drops the future awaiting this) closes the answer channel, and the task then
/// stops the seat where it is, as `cancel_service` does for an asynchronous move.
async fn follow_or_stop<T: VissTree + 'static>(
    mut movement: Move<T>,
    deadline: Instant,
) -> MoveSeatOutput {
    let (mut answer, outcome) = oneshot::channel();
    tokio::spawn(async move {
        let followed = tokio::select! {
            output = movement.follow(deadline, None) => Some(output),
            () = answer.closed() => None,
        };
        if followed.is_none() {
            movement.halt().await;
        }
        movement.watch.stop().await;
        if let Some(output) = followed {
            let _ = answer.send(output);
        }
    });
    outcome.await.unwrap_or_else(|_| MoveSeatOutput {
        status: ProcedureStatus::Failed,
        error: Some(ErrorData::new(
            503,
            "service_unavailable",
            "the movement's task ended without an answer",
        )),
        position: 0.0,
        service_id: 0,
    })
}

/// What VAPI reads from a server's bytes, for the fuzz target `vapi_answer`: `text` as an
/// answer or event (its data containers) and as a metadata answer (the seats found in it),
/// with what must hold of them: every found seat's movements have `min < max`, positions
/// map into 0..100 %, every value sent is a JSON string, massage levels stay in range.
#[doc(hidden)]
pub fn read_server_bytes(text: &str) -> Result<usize, String> {
    let containers = services::containers(text);
    let metadata: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let seats = seating::seating("Vehicle.Cabin.Seat", &metadata["metadata"]);
    let _ = seating::properties(&seats);
    for seat in &seats {
        for axis in &seat.axes {
            let (low, high) = (axis.actuator.low, axis.actuator.high);
            if low >= high {
                return Err(format!("{}: {low}..{high}", axis.actuator.path));
            }
            for percent in [0.0, 33.3, 100.0] {
                let value = axis.value_at(percent);
                let back = axis.percent_of(value);
                if !(0.0..=100.0).contains(&back) {
                    return Err(format!(
                        "{}: {percent} % -> {value} -> {back} %",
                        axis.actuator.path
                    ));
                }
                let wire = axis.actuator.encode(value).map_err(|e| e.description)?;
                if !matches!(
                    serde_json::from_str(&wire),
                    Ok(serde_json::Value::String(_))
                ) {
                    return Err(format!("{}: sends {wire}", axis.actuator.path));
                }
            }
        }
        for massage in &seat.massages {
            let (off, low, top) = (
                massage.off(),
                massage.level_at(1.0),
                massage.level_at(100.0),
            );
            if off > low || low > top {
                return Err(format!("{}: levels out of order", massage.name));
            }
        }
    }
    Ok(containers.len() + seats.len())
}

/// Sets a move's target and reads where the seat is now.
async fn start_moving<T: VissTree + 'static>(movement: &mut Move<T>) -> Result<(), ErrorData> {
    let actuator = &movement.axis.actuator;
    let wire = actuator.encode(movement.target)?;
    movement.session.set(&actuator.path, &wire).await?;
    let answer = movement.session.get(&actuator.path, None).await?;
    movement.current = services::containers(&answer)
        .iter()
        .flat_map(|container| &container.signal_data)
        .filter_map(|point| seating::number(&serde_json::Value::String(point.value.clone())))
        .next_back();
    Ok(())
}

fn general(outcome: Result<(), ErrorData>) -> GeneralOutput {
    match outcome {
        Ok(()) => successful(),
        Err(problem) => failed(problem),
    }
}

fn check_percentage(name: &str, value: Percentage) -> Result<(), ErrorData> {
    if (0.0..=100.0).contains(&value) {
        return Ok(());
    }
    Err(ErrorData::invalid(format!(
        "{name} must be a Percentage (0..100), got {value}"
    )))
}

/// A VAPI filter (JSON text, `""` for none): an object or a non-empty array of objects.
fn parse_filter(text: &str) -> Result<Option<String>, ErrorData> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    let parsed: serde_json::Value = serde_json::from_str(text)
        .map_err(|error| ErrorData::invalid(format!("the filter is not JSON: {error}")))?;
    let valid = match &parsed {
        serde_json::Value::Object(_) => true,
        serde_json::Value::Array(items) => {
            !items.is_empty() && items.iter().all(serde_json::Value::is_object)
        }
        _ => false,
    };
    if !valid {
        return Err(ErrorData::invalid(format!(
            "a filter is a JSON object or array of objects, got {text:?}"
        )));
    }
    Ok(Some(parsed.to_string()))
}

fn has_metadata_variant(filter: &str) -> bool {
    let parsed: serde_json::Value = serde_json::from_str(filter).unwrap_or_default();
    let items = match &parsed {
        serde_json::Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    items
        .iter()
        .any(|item| item.get("variant").and_then(serde_json::Value::as_str) == Some("metadata"))
}

/// VAPI value text as VISS JSON: JSON text of an object or array is that structure,
/// anything else the string itself.
fn wire_value(text: &str) -> String {
    let trimmed = text.trim();
    if (trimmed.starts_with('[') || trimmed.starts_with('{'))
        && let Ok(parsed @ (serde_json::Value::Array(_) | serde_json::Value::Object(_))) =
            serde_json::from_str::<serde_json::Value>(trimmed)
    {
        return parsed.to_string();
    }
    serde_json::Value::String(text.to_owned()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_filters_are_read_as_vapi_writes_them() {
        assert_eq!(wire_value("42"), "\"42\"");
        assert_eq!(wire_value("[\"1\",\"2\"]"), "[\"1\",\"2\"]");
        assert_eq!(wire_value("{\"Name\":\"x\"}"), "{\"Name\":\"x\"}");
        assert_eq!(wire_value("[not json"), "\"[not json\"");
        assert_eq!(parse_filter(""), Ok(None));
        assert!(parse_filter("[]").is_err());
        assert!(parse_filter("42").is_err());
        let metadata = parse_filter(r#"{"variant":"metadata","parameter":"0"}"#)
            .expect("an object")
            .expect("a filter");
        assert!(has_metadata_variant(&metadata));
        assert!(!has_metadata_variant(
            r#"[{"variant":"paths","parameter":"*"}]"#
        ));
    }

    #[test]
    fn client_failures_become_the_viss_errors_that_fit() {
        let viss = crate::client::ClientError::Viss {
            number: "403".to_owned(),
            reason: "forbidden_request".to_owned(),
            description: "no".to_owned(),
        };
        assert_eq!(ErrorData::from(viss).code, 403);
        assert_eq!(
            ErrorData::from(crate::client::ClientError::Timeout).code,
            408
        );
        assert_eq!(
            ErrorData::from(crate::client::ClientError::Closed).code,
            503
        );
    }
}

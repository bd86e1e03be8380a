//! `viss-bench mqtt`: VISS over MQTT through a real broker (Debian's mosquitto, started here
//! on a free loopback port and stopped by its PID; or `--broker` for one of yours).
//!
//! 1. get round trips of a cloud client through the broker to our in-process server, beside
//!    the floor: a minimal Rust client answering the same envelopes on the same broker with
//!    the bytes our server answers (so the difference is our server's MQTT path). Same
//!    client, same QoS, same run.
//! 2. events/s delivered to a cloud client from 100 subscriptions on one signal fed as fast
//!    as the engine takes it, beside a floor publishing the same event bytes as fast as the
//!    broker takes them.
//! 3. 1,000 vehicles (1,000 server instances with their own engine, demo-car tree, and
//!    broker connection) in this process: memory per vehicle, and the requests per second
//!    the broker carries when a cloud client asks all of them at once.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Args;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, PublishOptions, QoS};
use tokio::sync::mpsc;
use viss_runtime::server::{self, ServerConfig};
use viss_runtime::{Engine, EngineConfig, Value, VissTree};

use crate::client::BenchError;
use crate::stats::{Samples, rss_kib};

#[derive(Debug, Clone, Args)]
pub struct MqttArgs {
    /// An existing broker (mqtt://127.0.0.1:PORT); by default mosquitto is started here
    #[arg(long)]
    broker: Option<String>,
    /// The mosquitto binary to start
    #[arg(long, default_value = "mosquitto")]
    mosquitto: PathBuf,
    /// Sequential gets per round-trip measurement
    #[arg(long, default_value_t = 5_000)]
    requests: usize,
    /// Seconds of each throughput measurement
    #[arg(long, default_value_t = 3)]
    seconds: u64,
    /// Subscriptions in the event measurement
    #[arg(long, default_value_t = 100)]
    subscriptions: usize,
    /// Vehicles in the fleet measurement (0 skips it)
    #[arg(long, default_value_t = 1_000)]
    vehicles: usize,
}

const PATH: &str = "Vehicle.Speed";
const VID: &str = "BENCH";
const ECHO_VID: &str = "ECHO";

pub fn main(args: MqttArgs) -> Result<(), BenchError> {
    let broker = match &args.broker {
        Some(url) => Broker::external(url)?,
        None => Broker::start(&args.mosquitto)?,
    };
    let server_runtime = crate::bench::runtime(1)?;
    let client_runtime = crate::bench::runtime(1)?;
    println!(
        "# viss-bench mqtt: broker {} (QoS 1, plain loopback), standard tree (generated), \
         server and client runtimes 1 thread each",
        broker.url()
    );
    let engine = Arc::new(Engine::new(
        vss_standard::tree::Vehicle::TREE,
        EngineConfig::default(),
    ));
    engine.update_path(PATH, Value::Float(42.5), jiff::Timestamp::now())?;
    let _server = server_runtime.block_on(start_server(Arc::clone(&engine), &broker, VID))?;
    // The echo runs where our server runs (the server runtime), the cloud client apart.
    let mut cloud = client_runtime.block_on(async {
        let mut cloud = Cloud::connect(broker.port, "bench-cloud", "cloud/reply").await?;
        cloud.wait_served(VID, Duration::from_secs(15)).await?;
        Ok::<_, BenchError>(cloud)
    })?;
    let canned = client_runtime.block_on(cloud.get(VID, 0))?;
    let _echo = server_runtime.block_on(start_echo(broker.port, canned))?;
    client_runtime.block_on(async {
        cloud.wait_served(ECHO_VID, Duration::from_secs(15)).await?;
        round_trips(&mut cloud, args.requests).await
    })?;
    drop(cloud);
    let events = client_runtime.block_on(event_rates(&engine, &broker, &args, &server_runtime))?;
    println!("{events}");
    if args.vehicles > 0 {
        fleet(&broker, &args, &server_runtime, &client_runtime)?;
    }
    Ok(())
}

/// The broker: started here (and killed by its PID when dropped) or external.
struct Broker {
    port: u16,
    child: Option<Child>,
    _dir: Option<tempfile::TempDir>,
}

impl Broker {
    fn external(url: &str) -> Result<Self, BenchError> {
        let (_, _, port) = viss_runtime::server::mqtt::parse_broker_url(url)?;
        Ok(Self {
            port,
            child: None,
            _dir: None,
        })
    }

    fn start(binary: &PathBuf) -> Result<Self, BenchError> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let dir = tempfile::tempdir()?;
        let config = dir.path().join("mosquitto.conf");
        std::fs::write(
            &config,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n\
                 max_queued_messages 100000\nset_tcp_nodelay true\n"
            ),
        )?;
        let child = Command::new(binary)
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| format!("cannot start {}: {error}", binary.display()))?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("mosquitto did not listen within 10 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(Self {
            port,
            child: Some(child),
            _dir: Some(dir),
        })
    }

    fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// The broker's RSS in KiB (0 when external or unknown).
    fn rss_kib(&self) -> u64 {
        self.child
            .as_ref()
            .map_or(0, |child| crate::stats::rss_kib_of(child.id()))
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

async fn start_server<T: VissTree + 'static>(
    engine: Arc<Engine<T>>,
    broker: &Broker,
    vid: &str,
) -> Result<server::Listening, BenchError> {
    let mut config = ServerConfig::default();
    config.listen.ws = false;
    config.listen.http = false;
    config.listen.grpc = false;
    config.tls.insecure = true;
    config.mqtt.broker = Some(broker.url());
    config.mqtt.vid = Some(vid.to_owned());
    config.mqtt.reconnect_min_ms = 50;
    Ok(server::start(engine, &config).await?)
}

/// A cloud client: one broker connection, its reply topics' messages in a channel.
struct Cloud {
    client: AsyncClient,
    reply: String,
    messages: mpsc::Receiver<(String, Vec<u8>)>,
}

fn options(port: u16, id: &str) -> MqttOptions {
    let mut options = MqttOptions::new(id, rumqttc::Broker::tcp("127.0.0.1", port));
    options
        .set_keep_alive(30)
        .set_max_packet_size(1 << 20, 1 << 20)
        .set_request_channel_capacity(1024)
        .set_inflight(1000);
    options
}

/// Connects and polls the event loop on a task; publishes arrive on the returned channel.
async fn connect(
    port: u16,
    id: &str,
    subscribe: &[String],
) -> Result<(AsyncClient, mpsc::Receiver<(String, Vec<u8>)>), BenchError> {
    let (client, mut events) = AsyncClient::builder(options(port, id))
        .capacity(1024)
        .build();
    events.set_network_options(viss_runtime::server::mqtt::network_options());
    for topic in subscribe {
        client.subscribe(topic.clone(), QoS::AtLeastOnce).await?;
    }
    let (sender, receiver) = mpsc::channel(100_000);
    let (ready, connected) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let mut ready = Some(ready);
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::SubAck(_))) => {
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(());
                    }
                }
                Ok(Event::Incoming(Packet::Publish(publish))) => {
                    let topic = String::from_utf8_lossy(&publish.topic).into_owned();
                    if sender
                        .send((topic, Vec::from(publish.payload)))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    });
    if !subscribe.is_empty() {
        tokio::time::timeout(Duration::from_secs(10), connected)
            .await
            .map_err(|_| "no SUBACK from the broker")??;
    }
    Ok((client, receiver))
}

impl Cloud {
    async fn connect(port: u16, id: &str, reply: &str) -> Result<Self, BenchError> {
        let (client, messages) = connect(port, id, &[reply.to_owned()]).await?;
        Ok(Self {
            client,
            reply: reply.to_owned(),
            messages,
        })
    }

    async fn send_get(&self, vid: &str, id: u64) -> Result<(), BenchError> {
        let request = format!(r#"{{"action":"get","path":"{PATH}","requestId":"{id}"}}"#);
        let envelope = serde_json::json!({"topic": self.reply, "request": request}).to_string();
        self.client
            .publish(
                format!("{vid}/Vehicle"),
                envelope,
                PublishOptions::new(QoS::AtLeastOnce),
            )
            .await?;
        Ok(())
    }

    async fn get(&mut self, vid: &str, id: u64) -> Result<Vec<u8>, BenchError> {
        self.send_get(vid, id).await?;
        let (_, payload) = tokio::time::timeout(Duration::from_secs(5), self.messages.recv())
            .await
            .map_err(|_| format!("no answer from {vid} within 5 s"))?
            .ok_or("the broker connection ended")?;
        Ok(payload)
    }

    async fn wait_served(&mut self, vid: &str, limit: Duration) -> Result<(), BenchError> {
        let deadline = Instant::now() + limit;
        loop {
            self.send_get(vid, 0).await?;
            match tokio::time::timeout(Duration::from_millis(300), self.messages.recv()).await {
                Ok(Some(_)) => {
                    // Answers to earlier probes may still be on their way.
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    while self.messages.try_recv().is_ok() {}
                    return Ok(());
                }
                _ if Instant::now() > deadline => {
                    return Err(format!("{vid} did not answer within {limit:?}").into());
                }
                _ => {}
            }
        }
    }
}

/// The floor: answers every envelope on `ECHO/Vehicle` with `canned`, reading the reply
/// topic the way a minimal client must (a JSON parse of the envelope), in the task that
/// drives its connection (no hop: the least any MQTT responder can do).
async fn start_echo(port: u16, canned: Vec<u8>) -> Result<AsyncClient, BenchError> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        topic: String,
    }
    let (client, mut events) = AsyncClient::builder(options(port, "bench-echo"))
        .capacity(1024)
        .build();
    events.set_network_options(viss_runtime::server::mqtt::network_options());
    client
        .subscribe(format!("{ECHO_VID}/Vehicle"), QoS::AtLeastOnce)
        .await?;
    let publisher = client.clone();
    tokio::spawn(async move {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::Publish(publish))) => {
                    if let Ok(envelope) = serde_json::from_slice::<Envelope>(&publish.payload) {
                        let _ = publisher.try_publish(
                            envelope.topic,
                            canned.clone(),
                            PublishOptions::new(QoS::AtLeastOnce),
                        );
                    }
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    });
    Ok(client)
}

/// Sequential gets to the echo and to our server, interleaved in rounds so both see the
/// same machine noise.
async fn round_trips(cloud: &mut Cloud, requests: usize) -> Result<(), BenchError> {
    const ROUNDS: usize = 10;
    let targets = [("mqtt-echo", ECHO_VID), ("viss-mqtt", VID)];
    let mut results = [
        Samples::with_capacity(requests),
        Samples::with_capacity(requests),
    ];
    for (_, vid) in targets {
        for id in 0..200 {
            cloud.get(vid, id).await?;
        }
    }
    let per_round = requests.div_ceil(ROUNDS);
    for _ in 0..ROUNDS {
        for ((_, vid), samples) in targets.iter().zip(results.iter_mut()) {
            let start = Instant::now();
            for id in 0..per_round as u64 {
                let sent = Instant::now();
                cloud.get(vid, id).await?;
                samples.push(sent.elapsed());
                samples.operations += 1;
            }
            samples.elapsed += start.elapsed();
        }
    }
    for ((name, _), samples) in targets.iter().zip(&results) {
        println!("{name:<10} get  {}", samples.line());
    }
    let ratio = results[1].quantile_us(0.5) / results[0].quantile_us(0.5);
    println!(
        "\n## against the floor (target: get p50 <= 1.3x the broker echo)\n\
         get p50 {ratio:.2}x echo ({}), p99 {:.2}x echo\n",
        if ratio <= 1.3 { "met" } else { "NOT met" },
        results[1].quantile_us(0.99) / results[0].quantile_us(0.99)
    );
    Ok(())
}

/// Events delivered per second from `subscriptions` subscriptions, beside the floor.
async fn event_rates<T: VissTree + 'static>(
    engine: &Arc<Engine<T>>,
    broker: &Broker,
    args: &MqttArgs,
    server_runtime: &tokio::runtime::Runtime,
) -> Result<String, BenchError> {
    let seconds = Duration::from_secs(args.seconds.max(1));
    let count = args.subscriptions.max(1);
    let topics: Vec<String> = (0..count).map(|n| format!("cloud/events/{n}")).collect();
    // Our server: `count` subscriptions, each answered on its own topic.
    let (client, mut messages) =
        connect(broker.port, "bench-events", &["cloud/events/#".to_owned()]).await?;
    let filter = r#"{"variant":"change","parameter":{"logic-op":"ne","diff":"0"}}"#;
    for topic in &topics {
        let request = format!(r#"{{"action":"subscribe","path":"{PATH}","filter":{filter}}}"#);
        let envelope = serde_json::json!({"topic": topic, "request": request}).to_string();
        client
            .publish(
                format!("{VID}/Vehicle"),
                envelope,
                PublishOptions::new(QoS::AtLeastOnce),
            )
            .await?;
    }
    for _ in 0..count {
        tokio::time::timeout(Duration::from_secs(10), messages.recv())
            .await
            .map_err(|_| "subscribe answers missing")?;
    }
    let feeding = Arc::new(AtomicBool::new(true));
    let fed = Arc::new(AtomicU64::new(0));
    let feeder = {
        let (engine, feeding, fed) = (Arc::clone(engine), Arc::clone(&feeding), Arc::clone(&fed));
        server_runtime.spawn_blocking(move || {
            let mut value = 0.0f32;
            while feeding.load(Ordering::Relaxed) {
                value = if value > 200.0 { 0.0 } else { value + 1.0 };
                let _ = engine.update_path(PATH, Value::Float(value), jiff::Timestamp::now());
                fed.fetch_add(1, Ordering::Relaxed);
                // ~1,600 updates/s (sleeps overshoot): ~160k events/s
                // offered with 100 subscriptions, above what the broker carries (the floor),
                // without spending the two cores on events nobody can deliver.
                std::thread::sleep(Duration::from_micros(500));
            }
        })
    };
    let ours = count_for(&mut messages, seconds).await;
    feeding.store(false, Ordering::Relaxed);
    let _ = feeder.await;
    let offered = fed.load(Ordering::Relaxed) * count as u64;
    // Drain what is still in flight before the floor runs on the same topics.
    while tokio::time::timeout(Duration::from_millis(500), messages.recv())
        .await
        .is_ok_and(|message| message.is_some())
    {}
    // The floor: the same event bytes published round-robin as fast as the broker takes.
    let event = format!(
        r#"{{"action":"subscription","subscriptionId":"1","data":{{"path":"{PATH}","dp":{{"value":"42","ts":"2026-12-05T10:00:00.000Z"}}}},"ts":"2026-12-05T10:00:00.000Z"}}"#
    );
    let publishing = Arc::new(AtomicBool::new(true));
    let floor_publisher = {
        let (client, publishing, topics) =
            (client.clone(), Arc::clone(&publishing), topics.clone());
        tokio::spawn(async move {
            let mut n = 0usize;
            while publishing.load(Ordering::Relaxed) {
                let topic = topics[n % topics.len()].clone();
                n += 1;
                if client
                    .publish(topic, event.clone(), PublishOptions::new(QoS::AtLeastOnce))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        })
    };
    let floor = count_for(&mut messages, seconds).await;
    publishing.store(false, Ordering::Relaxed);
    floor_publisher.abort();
    Ok(format!(
        "events    {count} subscriptions: viss-mqtt {ours:.0} events/s delivered \
         ({:.0} offered/s), floor (publisher of the same bytes) {floor:.0} events/s: {:.0}% of the floor\n",
        offered as f64 / seconds.as_secs_f64(),
        100.0 * ours / floor.max(1.0)
    ))
}

/// Messages received per second over `time`.
async fn count_for(messages: &mut mpsc::Receiver<(String, Vec<u8>)>, time: Duration) -> f64 {
    let start = Instant::now();
    let deadline = tokio::time::Instant::now() + time;
    let mut received = 0u64;
    while let Ok(Some(_)) = tokio::time::timeout_at(deadline, messages.recv()).await {
        received += 1;
    }
    received as f64 / start.elapsed().as_secs_f64()
}

/// 1,000 vehicles on one broker: memory per vehicle, and the rate the broker carries.
fn fleet(
    broker: &Broker,
    args: &MqttArgs,
    server_runtime: &tokio::runtime::Runtime,
    client_runtime: &tokio::runtime::Runtime,
) -> Result<(), BenchError> {
    let vehicles = args.vehicles;
    let rss_before = rss_kib();
    let broker_before = broker.rss_kib();
    let mut servers = Vec::with_capacity(vehicles);
    for n in 0..vehicles {
        let engine = Arc::new(Engine::new(
            demo_car::tree::Vehicle::TREE,
            EngineConfig::default(),
        ));
        let vid = format!("FLEET{n:05}");
        servers.push(server_runtime.block_on(start_server(engine, broker, &vid))?);
    }
    client_runtime.block_on(async {
        let mut cloud = Cloud::connect(broker.port, "bench-fleet", "cloud/fleet").await?;
        // Every vehicle connected and answering: all asked at once, the silent ones again
        // every second.
        let start = Instant::now();
        let mut silent: std::collections::HashSet<u64> = (0..vehicles as u64).collect();
        while !silent.is_empty() {
            if start.elapsed() > Duration::from_secs(120) {
                return Err(format!("{} vehicles never answered", silent.len()).into());
            }
            for &n in &silent {
                cloud.send_get(&format!("FLEET{n:05}"), n).await?;
            }
            let round = tokio::time::Instant::now() + Duration::from_secs(1);
            while let Ok(Some((_, payload))) =
                tokio::time::timeout_at(round, cloud.messages.recv()).await
            {
                if let Some(n) = request_id(&payload) {
                    silent.remove(&n);
                }
                if silent.is_empty() {
                    break;
                }
            }
        }
        // Late answers to repeated probes.
        tokio::time::sleep(Duration::from_millis(500)).await;
        while cloud.messages.try_recv().is_ok() {}
        let connect_time = start.elapsed();
        let rss_after = rss_kib();
        println!(
            "fleet     {vehicles} vehicles (own engine, demo-car tree, own broker connection) \
             up and answering in {:.1} s: {:.1} KiB per vehicle in this process, broker +{:.1} KiB per vehicle",
            connect_time.as_secs_f64(),
            rss_after.saturating_sub(rss_before) as f64 / vehicles as f64,
            broker.rss_kib().saturating_sub(broker_before) as f64 / vehicles as f64
        );
        // The whole fleet asked at once: a window of 256 gets in flight, round-robin.
        let window = 256u64;
        let mut in_flight: HashMap<u64, Instant> = HashMap::new();
        let mut samples = Samples::with_capacity(100_000);
        let deadline = Instant::now() + Duration::from_secs(args.seconds.max(1));
        let started = Instant::now();
        // Request ids above the probes' (which were the vehicle numbers).
        let mut next = vehicles as u64;
        while Instant::now() < deadline {
            while (in_flight.len() as u64) < window {
                cloud.send_get(&format!("FLEET{:05}", next % vehicles as u64), next).await?;
                in_flight.insert(next, Instant::now());
                next += 1;
            }
            let Ok(Some((_, payload))) =
                tokio::time::timeout(Duration::from_secs(5), cloud.messages.recv()).await
            else {
                return Err("the fleet stopped answering".into());
            };
            if let Some(id) = request_id(&payload)
                && let Some(sent) = in_flight.remove(&id)
            {
                samples.push(sent.elapsed());
                samples.operations += 1;
            }
        }
        samples.elapsed = started.elapsed();
        println!(
            "fleet     gets to {vehicles} vehicles, 256 in flight: {:.0} answered/s \
             ({:.0} messages/s through the broker: request in and out, answer in and out), \
             p50 {:.0} µs, p99 {:.0} µs",
            samples.per_second(),
            samples.per_second() * 4.0,
            samples.quantile_us(0.5),
            samples.quantile_us(0.99)
        );
        Ok::<_, BenchError>(())
    })?;
    server_runtime.block_on(async {
        for server in servers {
            server.shutdown().await;
        }
    });
    Ok(())
}

fn request_id(payload: &[u8]) -> Option<u64> {
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "requestId")]
        request_id: String,
    }
    serde_json::from_slice::<Answer>(payload)
        .ok()?
        .request_id
        .parse()
        .ok()
}

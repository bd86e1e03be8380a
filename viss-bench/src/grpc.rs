//! `viss-bench grpc`: get round trips over the gRPC transport beside the floor, a tonic echo
//! service of the same `VISS` service answering every get with the same bytes our server
//! sends for it (so both put the same response on the wire). Same tonic client, same
//! runtime threads, same run, loopback h2c (TLS cost is measured by `bench` for wss).
//!
//! Measured: 1 stream (sequential gets on one connection) p50/p99, and throughput of N
//! concurrent streams multiplexed on that connection.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use viss_runtime::codec::protobuf::proto::viss_client::VissClient;
use viss_runtime::codec::protobuf::proto::viss_server::{Viss, VissServer};
use viss_runtime::codec::protobuf::proto::{
    GetRequestMessage, GetResponseMessage, SetRequestMessage, SetResponseMessage,
    SubscribeRequestMessage, SubscribeStreamMessage, UnsubscribeRequestMessage,
    UnsubscribeResponseMessage,
};
use viss_runtime::server::{self, ServerConfig};
use viss_runtime::{Engine, EngineConfig, VissTree};

use crate::client::BenchError;
use crate::stats::Samples;

#[derive(Debug, Clone, Args)]
pub struct GrpcArgs {
    /// Gets per measurement (over all streams)
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Longest time per measurement, seconds
    #[arg(long, default_value_t = 3)]
    seconds: u64,
    /// Concurrent streams in the throughput run
    #[arg(long, default_value_t = 8)]
    streams: usize,
    /// Worker threads of the server runtime (our server and the echo share it)
    #[arg(long, default_value_t = 1)]
    server_threads: usize,
    /// Worker threads of the client runtime
    #[arg(long, default_value_t = 1)]
    client_threads: usize,
}

const PATH: &str = "Vehicle.Speed";

pub fn main(args: GrpcArgs) -> Result<(), BenchError> {
    let engine = Arc::new(Engine::new(
        vss_standard::tree::Vehicle::TREE,
        EngineConfig::default(),
    ));
    engine.update_path(
        PATH,
        viss_runtime::Value::Float(42.5),
        jiff::Timestamp::now(),
    )?;
    let server_runtime = crate::bench::runtime(args.server_threads)?;
    let client_runtime = crate::bench::runtime(args.client_threads)?;
    let (viss, _listening) = server_runtime.block_on(start_viss(engine))?;
    // The echo answers with what our server answers, captured once.
    let canned = client_runtime.block_on(async {
        let mut client = connect(viss).await?;
        let response = client.get_request(request()).await?.into_inner();
        Ok::<_, BenchError>(response)
    })?;
    let echo = server_runtime.block_on(start_echo(canned))?;
    println!(
        "# viss-bench grpc: standard tree (generated), get {PATH}, h2c on loopback, server \
         threads {}, client threads {}",
        args.server_threads, args.client_threads
    );
    let max_time = Duration::from_secs(args.seconds.max(1));
    let report = client_runtime.block_on(async {
        let mut lines = Vec::new();
        for streams in [1, args.streams.max(1)] {
            for (name, address) in [("tonic-echo", echo), ("viss-grpc", viss)] {
                let samples = measure(address, streams, args.requests, max_time).await?;
                println!("{name:<10} {streams:>2} streams  {}", samples.line());
                lines.push(samples);
            }
        }
        Ok::<_, BenchError>(lines)
    })?;
    if let [echo_1, viss_1, echo_n, viss_n] = report.as_slice() {
        let latency = viss_1.quantile_us(0.5) / echo_1.quantile_us(0.5);
        let throughput = viss_n.per_second() / echo_n.per_second();
        println!(
            "\n## against the floor (target: get p50 <= 1.3x tonic echo)\n\
             get p50 {latency:.2}x echo ({}), p99 {:.2}x echo, {}-stream throughput {:.0}% of echo",
            if latency <= 1.3 { "met" } else { "NOT met" },
            viss_1.quantile_us(0.99) / echo_1.quantile_us(0.99),
            args.streams,
            throughput * 100.0
        );
    }
    Ok(())
}

fn request() -> GetRequestMessage {
    GetRequestMessage {
        path: PATH.to_owned(),
        request_id: Some("1".to_owned()),
        ..GetRequestMessage::default()
    }
}

async fn start_viss<T: VissTree + 'static>(
    engine: Arc<Engine<T>>,
) -> Result<(SocketAddr, server::Listening), BenchError> {
    let mut config = ServerConfig::default();
    config.listen.ws = false;
    config.listen.http = false;
    config.listen.grpc_port = 0;
    config.tls.insecure = true;
    let listening = server::start(engine, &config).await?;
    let address = listening.grpc.ok_or("the server has no gRPC listener")?;
    Ok((address, listening))
}

async fn connect(address: SocketAddr) -> Result<VissClient<tonic::transport::Channel>, BenchError> {
    let channel = tonic::transport::Channel::from_shared(format!("http://{address}"))?
        .tcp_nodelay(true)
        .connect()
        .await?;
    Ok(VissClient::new(channel))
}

/// `requests` gets (or `max_time`), spread over `streams` concurrent callers on one
/// connection; every call's round trip is a sample.
async fn measure(
    address: SocketAddr,
    streams: usize,
    requests: usize,
    max_time: Duration,
) -> Result<Samples, BenchError> {
    let client = connect(address).await?;
    // Warm-up: connection, HTTP/2 windows, the server's first-call paths.
    for _ in 0..200 {
        client.clone().get_request(request()).await?;
    }
    let per_stream = requests.div_ceil(streams);
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(streams);
    for _ in 0..streams {
        let mut client = client.clone();
        tasks.push(tokio::spawn(async move {
            let mut samples = Samples::with_capacity(per_stream);
            let deadline = Instant::now() + max_time;
            while samples.operations < per_stream as u64 && Instant::now() < deadline {
                let sent = Instant::now();
                client.get_request(request()).await?;
                samples.push(sent.elapsed());
                samples.operations += 1;
            }
            Ok::<_, tonic::Status>(samples)
        }));
    }
    let mut all = Samples::with_capacity(requests);
    for task in tasks {
        all.merge(task.await??);
    }
    all.elapsed = start.elapsed();
    Ok(all)
}

/// The floor: the same service, answering every get with the canned response.
struct Echo {
    response: GetResponseMessage,
}

#[tonic::async_trait]
impl Viss for Echo {
    async fn get_request(
        &self,
        _request: tonic::Request<GetRequestMessage>,
    ) -> Result<tonic::Response<GetResponseMessage>, tonic::Status> {
        Ok(tonic::Response::new(self.response.clone()))
    }

    async fn set_request(
        &self,
        _request: tonic::Request<SetRequestMessage>,
    ) -> Result<tonic::Response<SetResponseMessage>, tonic::Status> {
        Err(tonic::Status::unimplemented("echo answers gets only"))
    }

    type SubscribeRequestStream =
        futures_util::stream::Empty<Result<SubscribeStreamMessage, tonic::Status>>;

    async fn subscribe_request(
        &self,
        _request: tonic::Request<SubscribeRequestMessage>,
    ) -> Result<tonic::Response<Self::SubscribeRequestStream>, tonic::Status> {
        Err(tonic::Status::unimplemented("echo answers gets only"))
    }

    async fn unsubscribe_request(
        &self,
        _request: tonic::Request<UnsubscribeRequestMessage>,
    ) -> Result<tonic::Response<UnsubscribeResponseMessage>, tonic::Status> {
        Err(tonic::Status::unimplemented("echo answers gets only"))
    }
}

async fn start_echo(response: GetResponseMessage) -> Result<SocketAddr, BenchError> {
    let incoming =
        tonic::transport::server::TcpIncoming::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?
            .with_nodelay(Some(true));
    let address = incoming.local_addr()?;
    let service = VissServer::new(Echo { response });
    tokio::spawn(async move {
        let served = tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(incoming)
            .await;
        if let Err(error) = served {
            eprintln!("tonic echo stopped: {error}");
        }
    });
    Ok(address)
}

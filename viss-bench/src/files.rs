//! File transfer throughput (CORE App. C) over wss: a download (client → vehicle) and an
//! upload (vehicle → client) of the same file through the in-process demo-car server's data
//! channel, beside the floor: a plain WebSocket echo over TLS of the same bytes in the same
//! chunks, one chunk in flight (the transfer is stop-and-wait too). Rounds interleave the
//! three, on the same runtimes; the download includes its final `fsync`, as a vehicle's
//! would. The echo moves every byte both ways, the transfer one way plus a 6-byte status:
//! the ratio says what the protocol, hashing and disk cost beyond the socket.

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use sha1::{Digest, Sha1};
use tokio_tungstenite::tungstenite::Message;
use viss_runtime::filetransfer::wire::{self, status};
use viss_runtime::filetransfer::{FileTransferConfig, descriptor::hex};
use viss_runtime::server::{self, ServerConfig};
use viss_runtime::{Engine, EngineConfig};

use crate::bench::runtime;
use crate::client::{BenchError, Client, Dial, tls_client};
use crate::servers;

#[derive(Debug, Clone, Args)]
pub struct FilesArgs {
    /// File size in MiB
    #[arg(long, default_value_t = 64)]
    mebibytes: usize,
    /// Chunk size in KiB (both directions, and the echo's message size)
    #[arg(long, default_value_t = 64)]
    chunk_kib: usize,
    /// Interleaved rounds (each: echo, download, upload)
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

const DOWNLOAD: &str = "Vehicle.Navigation.MapFile";
const UPLOAD: &str = "Vehicle.Cabin.DashCamClip";
/// Longest any one message may take before the run is called failed.
const MESSAGE_TIMEOUT: Duration = Duration::from_secs(10);

/// The endpoints of one run.
struct Targets {
    echo: Dial,
    control: Dial,
    data: Dial,
}

pub fn main(args: FilesArgs) -> Result<(), BenchError> {
    let dir = tempfile::tempdir()?;
    let size = args.mebibytes.max(1) << 20;
    let chunk = args.chunk_kib.max(1) << 10;
    // Bytes that do not compress or repeat in step with the chunks.
    let content: Vec<u8> = (0..size as u64)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let source = dir.path().join("clip.mp4");
    std::fs::write(&source, &content)?;
    let hash = hex(&Sha1::digest(&content));

    let mut config = ServerConfig::default();
    config.listen.ws_port = 0;
    config.listen.http = false;
    config.listen.grpc = false;
    config.tls.self_signed_dir = dir.path().join("tls");
    config.filetransfer = FileTransferConfig {
        dir: Some(dir.path().join("received")),
        port: 0,
        max_file_bytes: size as u64,
        chunk_bytes: u32::try_from(chunk)?,
        uploads: [(UPLOAD.to_owned(), source)].into(),
        ..FileTransferConfig::default()
    };
    let engine = Arc::new(Engine::new(
        demo_car::tree::Vehicle::TREE,
        EngineConfig::default(),
    ));
    let server_runtime = runtime(1)?;
    let client_runtime = runtime(1)?;
    let (listening, targets) = server_runtime.block_on(async {
        let listening = server::start(engine, &config).await?;
        let files = listening.tls.clone().ok_or("no TLS files")?;
        let tls = tls_client(&files.cert)?;
        let echo = servers::ws_echo(Some(servers::tls_acceptor(&files.cert, &files.key)?)).await?;
        let targets = Targets {
            echo: Dial::Wss(echo, tls.clone()),
            control: Dial::Wss(listening.ws.ok_or("no wss")?, tls.clone()),
            data: Dial::Wss(listening.filetransfer.ok_or("no data channel")?, tls),
        };
        Ok::<_, BenchError>((listening, targets))
    })?;
    println!(
        "# file transfer over wss: {} MiB file, {} KiB chunks ({} chunks), stop-and-wait, \
         1 server thread, 1 client thread",
        args.mebibytes,
        args.chunk_kib,
        size.div_ceil(chunk)
    );
    let received = dir.path().join("received").join(DOWNLOAD);
    let rates = client_runtime.block_on(async {
        let mut rates = [Vec::new(), Vec::new(), Vec::new()];
        for round in 1..=args.rounds.max(1) {
            let echo = echo(&targets.echo, &content, chunk).await?;
            let name = format!("round-{round}.bin");
            let download = download(&targets, &content, chunk, &hash, &name).await?;
            let stored = std::fs::metadata(received.join(&name))?.len();
            if stored != size as u64 {
                return Err(format!("the download stored {stored} of {size} bytes").into());
            }
            let upload = upload(&targets, &content).await?;
            let mbps = |elapsed: Duration| size as f64 / 1e6 / elapsed.as_secs_f64();
            println!(
                "round {round}: echo {:.0} MB/s, download {:.0} MB/s ({:.2}x echo), upload \
                 {:.0} MB/s ({:.2}x echo)",
                mbps(echo),
                mbps(download),
                echo.as_secs_f64() / download.as_secs_f64(),
                mbps(upload),
                echo.as_secs_f64() / upload.as_secs_f64()
            );
            for (rate, elapsed) in rates.iter_mut().zip([echo, download, upload]) {
                rate.push(mbps(elapsed));
            }
        }
        Ok::<_, BenchError>(rates)
    })?;
    let [echo, download, upload] = rates.map(median);
    println!(
        "median: echo {echo:.0} MB/s; download {download:.0} MB/s = {:.2}x echo; upload \
         {upload:.0} MB/s = {:.2}x echo",
        download / echo,
        upload / echo
    );
    server_runtime.block_on(listening.shutdown());
    Ok(())
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The WebSocket of a connection (the bench's client holds it boxed).
async fn socket(
    dial: &Dial,
    subprotocol: Option<&'static str>,
) -> Result<Box<crate::client::WsStream>, BenchError> {
    match Client::connect_offering(dial, subprotocol).await? {
        Client::Ws(socket) => Ok(socket),
        Client::Tcp(..) => Err("not a WebSocket".into()),
    }
}

/// The next binary message, bounded in time.
async fn next_binary(socket: &mut crate::client::WsStream) -> Result<Vec<u8>, BenchError> {
    loop {
        match tokio::time::timeout(MESSAGE_TIMEOUT, socket.next()).await {
            Err(_) => return Err("no message within 10 s".into()),
            Ok(Some(Ok(Message::Binary(bytes)))) => return Ok(bytes.into()),
            Ok(Some(Ok(Message::Close(_))) | None) => return Err("connection closed".into()),
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(error))) => return Err(error.into()),
        }
    }
}

/// The floor: every chunk sent as a binary message and echoed back, one at a time.
async fn echo(dial: &Dial, content: &[u8], chunk: usize) -> Result<Duration, BenchError> {
    let mut socket = socket(dial, Some("VISSv3")).await?;
    let started = Instant::now();
    for piece in content.chunks(chunk) {
        socket.send(Message::binary(piece.to_vec())).await?;
        let echoed = next_binary(&mut socket).await?;
        if echoed.len() != piece.len() {
            return Err("the echo differs".into());
        }
    }
    Ok(started.elapsed())
}

/// One VISS request on the control channel; its response, which must not be an error.
async fn control(dial: &Dial, request: serde_json::Value) -> Result<serde_json::Value, BenchError> {
    let mut client = Client::connect(dial).await?;
    let answer: serde_json::Value =
        serde_json::from_str(&client.round_trip(&request.to_string()).await?)?;
    if answer.get("error").is_some() {
        return Err(format!("{request} answered {answer}").into());
    }
    Ok(answer)
}

/// A download: the set (not timed), then every chunk, each after the status of the last,
/// until the status of the last chunk (the file is stored and synced by then).
async fn download(
    targets: &Targets,
    content: &[u8],
    chunk: usize,
    hash: &str,
    name: &str,
) -> Result<Duration, BenchError> {
    let uid: u32 = name_uid(name);
    let descriptor = json!({"name": name, "hash": hash, "uid": format!("{uid:08x}")});
    control(
        &targets.control,
        json!({"action": "set", "path": DOWNLOAD, "value": descriptor, "requestId": "1"}),
    )
    .await?;
    let mut socket = socket(&targets.data, None).await?;
    let pieces: Vec<&[u8]> = content.chunks(chunk).collect();
    let started = Instant::now();
    let mut message = Vec::with_capacity(chunk + wire::HEADER_BYTES);
    for (index, piece) in pieces.iter().enumerate() {
        let message_no = wire::message_no(index as u64);
        message.clear();
        wire::write_data(
            &mut message,
            uid,
            message_no,
            index + 1 == pieces.len(),
            piece,
        );
        socket.send(Message::binary(message.clone())).await?;
        let answer = next_binary(&mut socket).await?;
        match wire::parse(&answer) {
            Ok(wire::Message::Status(received)) if received.status == status::OK => {}
            other => return Err(format!("chunk {index}: {other:?}").into()),
        }
    }
    Ok(started.elapsed())
}

/// An upload: the get (not timed), then the start status, every chunk acked, until the
/// header-only end message; the bytes must hash to the descriptor's.
async fn upload(targets: &Targets, content: &[u8]) -> Result<Duration, BenchError> {
    let answer = control(
        &targets.control,
        json!({"action": "get", "path": UPLOAD, "requestId": "1"}),
    )
    .await?;
    let uid = answer["data"]["dp"]["value"]["uid"]
        .as_str()
        .and_then(|uid| u32::from_str_radix(uid, 16).ok())
        .ok_or("no uid in the upload descriptor")?;
    let mut socket = socket(&targets.data, None).await?;
    let mut hasher = Sha1::new();
    let mut received = 0;
    let mut ack = Vec::with_capacity(wire::STATUS_BYTES);
    wire::write_status(&mut ack, uid, wire::RESERVED_NO, status::OK);
    let started = Instant::now();
    socket.send(Message::binary(ack.clone())).await?;
    loop {
        let message = next_binary(&mut socket).await?;
        let Ok(wire::Message::Data(data)) = wire::parse(&message) else {
            return Err("the upload sent something else than data".into());
        };
        if data.is_control() {
            if data.is_abort() {
                return Err("the server aborted the upload".into());
            }
            break;
        }
        hasher.update(data.chunk);
        received += data.chunk.len();
        ack.clear();
        wire::write_status(&mut ack, uid, data.message_no, status::OK);
        socket.send(Message::binary(ack.clone())).await?;
    }
    let elapsed = started.elapsed();
    if received != content.len() || Sha1::digest(content) != hasher.finalize() {
        return Err("the uploaded bytes differ from the file".into());
    }
    Ok(elapsed)
}

/// A uid for a download of `name` (FNV-1a: distinct per round; the bench is its only client).
fn name_uid(name: &str) -> u32 {
    name.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

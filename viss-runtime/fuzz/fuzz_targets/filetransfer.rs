//! Arbitrary bytes as the messages of a file-transfer data channel (each prefixed by a
//! one-byte length), fed to a download's receiver and an upload's sender as the server runs
//! them. Neither may panic; a message read as data has the length its header says; a
//! download is stored only with the content the descriptor's SHA-1 names, never beyond the
//! size limit, and leaves no partial file behind; an upload sends only the file's bytes at
//! their offsets, in chunks no larger than configured.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use libfuzzer_sys::fuzz_target;
use sha1::{Digest, Sha1};
use viss_runtime::filetransfer::descriptor::FileDescriptor;
use viss_runtime::filetransfer::download::{Download, PendingDownload, Step};
use viss_runtime::filetransfer::upload::{self, PendingUpload, Upload};
use viss_runtime::filetransfer::wire::{self, HEADER_BYTES, Message, STATUS_BYTES};
use viss_runtime::tree::NodeId;

const MAX_BYTES: u64 = 600;
const CHUNK_BYTES: u32 = 7;

fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir =
            std::env::temp_dir().join(format!("viss-fuzz-filetransfer-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch directory");
        dir
    })
}

/// The messages of the input: a length byte, then that many bytes.
fn messages(mut data: &[u8]) -> Vec<&[u8]> {
    let mut messages = Vec::new();
    while let Some((&len, rest)) = data.split_first() {
        let len = (len as usize).min(rest.len());
        messages.push(&rest[..len]);
        data = &rest[len..];
    }
    messages
}

fuzz_target!(|data: &[u8]| {
    let messages = messages(data);
    // The descriptor names what the well-formed data messages carry, so completion is
    // reachable; whatever else arrives must not get a file stored under the name.
    let mut announced = Sha1::new();
    for bytes in &messages {
        match wire::parse(bytes) {
            Ok(Message::Data(data)) => {
                assert!(
                    data.chunk.len() + HEADER_BYTES == bytes.len()
                        || data.chunk.len() == bytes.len() - HEADER_BYTES
                );
                announced.update(data.chunk);
            }
            Ok(Message::Status(_)) => assert_eq!(bytes.len(), STATUS_BYTES),
            Err(_) => {}
        }
    }
    static RUN: AtomicU32 = AtomicU32::new(0);
    let run = RUN.fetch_add(1, Ordering::Relaxed);
    let dir = scratch();
    let destination = dir.join(format!("stored-{run}"));
    let partial = dir.join(format!("partial-{run}"));
    let hash: [u8; 20] = announced.finalize().into();
    let pending = PendingDownload {
        node: NodeId(0),
        descriptor: FileDescriptor {
            name: "f.bin".into(),
            hash,
            uid: 1,
        },
        destination: destination.clone(),
        partial: partial.clone(),
        max_bytes: MAX_BYTES,
    };
    let mut download = Download::start(pending).expect("partial file");
    for bytes in &messages {
        let step = match wire::parse(bytes) {
            Ok(Message::Data(data)) => download.on_data(&data),
            Err(wire::Damaged {
                message_no: Some(no),
                ..
            }) => download.on_damaged(no),
            _ => continue,
        };
        match step {
            Step::Reply { .. } => {}
            Step::Complete { .. } => {
                let stored = std::fs::read(&destination).expect("a completed file is stored");
                assert!(stored.len() as u64 <= MAX_BYTES);
                assert_eq!(
                    <[u8; 20]>::from(Sha1::digest(&stored)),
                    hash,
                    "stored with another hash"
                );
                std::fs::remove_file(&destination).expect("cleanup");
                break;
            }
            Step::Finish { .. } => break,
        }
    }
    drop(download);
    assert!(!partial.exists(), "a partial file was left behind");
    assert!(!destination.exists(), "stored without completing");

    // The upload side: the same messages as the client's statuses.
    let source = dir.join(format!("source-{run}"));
    let content: Vec<u8> = data.iter().rev().copied().take(50).collect();
    std::fs::write(&source, &content).expect("source file");
    let file = std::fs::File::open(&source).expect("source file");
    let _ = std::fs::remove_file(&source);
    let mut sender = Upload::new(PendingUpload {
        node: NodeId(0),
        uid: 1,
        file,
        len: content.len() as u64,
        chunk_bytes: CHUNK_BYTES,
    });
    for bytes in &messages {
        let Ok(Message::Status(status)) = wire::parse(bytes) else {
            continue;
        };
        match sender.on_status(&status) {
            upload::Step::Send(message) => {
                let Ok(Message::Data(sent)) = wire::parse(&message) else {
                    panic!("the sender wrote an unreadable message")
                };
                assert!(sent.chunk.len() <= CHUNK_BYTES as usize);
                let start = content
                    .chunks(CHUNK_BYTES as usize)
                    .position(|chunk| chunk == sent.chunk);
                assert!(
                    start.is_some() || sent.chunk.is_empty(),
                    "bytes not in the file"
                );
            }
            upload::Step::Finish(_) | upload::Step::Drop => break,
            upload::Step::Ignore => {}
        }
    }
});

//! A download (client → vehicle) from the receiving side: chunks are appended to a
//! partial file, hashed on the way, and the file gets its name only once the last chunk
//! is in and the SHA-1 matches the descriptor's. A transfer that fails, is aborted or whose
//! connection drops leaves nothing behind.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;

use sha1::{Digest, Sha1};

use super::descriptor::FileDescriptor;
use super::wire::{self, Data, RESERVED_NO, status};
use crate::tree::NodeId;

/// Errors in a row on one message after which the transfer is dropped (the spec: the
/// sender resends once, and may give up after the second error).
const ERRORS_BEFORE_TERMINATE: u8 = 2;

/// A download registered by a `set` and not yet claimed by a data channel.
#[derive(Debug)]
pub struct PendingDownload {
    pub node: NodeId,
    pub descriptor: FileDescriptor,
    /// Where the file goes once complete: `<dir>/<VSS path>/<name>`.
    pub destination: PathBuf,
    /// Where it grows until then: `<dir>/.incoming/<uid>.part`.
    pub partial: PathBuf,
    pub max_bytes: u64,
}

/// What the receiver does with one message.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Answer with this status and go on.
    Reply { message_no: u8, status: u8 },
    /// Answer with status 0: the file is stored under its name.
    Complete { message_no: u8 },
    /// Answer with this status and drop the transfer (abort acknowledged, or terminated).
    Finish { message_no: u8, status: u8 },
}

/// A download under way.
#[derive(Debug)]
pub struct Download {
    pending: PendingDownload,
    file: File,
    /// Chunks accepted so far.
    chunks: u64,
    bytes: u64,
    hasher: Sha1,
    /// Errors in a row on the message expected next.
    errors: u8,
    complete: bool,
}

impl Download {
    /// Creates the partial file (never an existing one).
    pub fn start(pending: PendingDownload) -> std::io::Result<Self> {
        if let Some(parent) = pending.partial.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&pending.partial)?;
        Ok(Self {
            pending,
            file,
            chunks: 0,
            bytes: 0,
            hasher: Sha1::new(),
            errors: 0,
            complete: false,
        })
    }

    pub fn node(&self) -> NodeId {
        self.pending.node
    }

    pub fn descriptor(&self) -> &FileDescriptor {
        &self.pending.descriptor
    }

    /// Bytes received so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Takes one data message of this transfer.
    pub fn on_data(&mut self, data: &Data<'_>) -> Step {
        if data.is_abort() {
            return Step::Finish {
                message_no: RESERVED_NO,
                status: status::OK,
            };
        }
        let expected = wire::message_no(self.chunks);
        if data.message_no != expected {
            return self.error(data.message_no, status::OUT_OF_SEQUENCE);
        }
        let size = self.bytes + data.chunk.len() as u64;
        if size > self.pending.max_bytes {
            return self.error(data.message_no, status::TOO_LARGE);
        }
        // The last chunk is hashed on a copy: if the file's hash is wrong, a resend of the
        // last message is checked again from the state before it.
        let mut hasher = self.hasher.clone();
        hasher.update(data.chunk);
        if data.last {
            let hash: [u8; 20] = hasher.clone().finalize().into();
            if hash != self.pending.descriptor.hash {
                return self.error(data.message_no, status::HASH_MISMATCH);
            }
        }
        // At the chunk's own offset: a write that failed half-way leaves bytes the resend
        // overwrites, never bytes the hash has not seen.
        if self.file.write_all_at(data.chunk, self.bytes).is_err() {
            return self.error(data.message_no, status::WRITE_FAILED);
        }
        self.hasher = hasher;
        self.bytes = size;
        self.chunks += 1;
        self.errors = 0;
        if !data.last {
            return Step::Reply {
                message_no: data.message_no,
                status: status::OK,
            };
        }
        match self.store() {
            Ok(()) => {
                self.complete = true;
                Step::Complete {
                    message_no: data.message_no,
                }
            }
            Err(error) => {
                tracing::warn!(%error, destination = %self.pending.destination.display(),
                    "file transfer: a received file could not be stored");
                Step::Finish {
                    message_no: data.message_no,
                    status: status::TERMINATE,
                }
            }
        }
    }

    /// Answers a message that could not be read.
    pub fn on_damaged(&mut self, message_no: u8) -> Step {
        self.error(message_no, status::LENGTH_MISMATCH)
    }

    fn error(&mut self, message_no: u8, error: u8) -> Step {
        self.errors += 1;
        if self.errors >= ERRORS_BEFORE_TERMINATE {
            Step::Finish {
                message_no,
                status: status::TERMINATE,
            }
        } else {
            Step::Reply {
                message_no,
                status: error,
            }
        }
    }

    /// Makes the partial file durable (exactly the bytes hashed) and gives it its name,
    /// durably too (the directory is synced after the rename).
    fn store(&mut self) -> std::io::Result<()> {
        self.file.set_len(self.bytes)?;
        self.file.sync_all()?;
        let parent = self.pending.destination.parent();
        if let Some(parent) = parent {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(&self.pending.partial, &self.pending.destination)?;
        if let Some(parent) = parent {
            File::open(parent)?.sync_all()?;
        }
        Ok(())
    }
}

impl Drop for Download {
    fn drop(&mut self) {
        if !self.complete {
            let _ = std::fs::remove_file(&self.pending.partial);
        }
    }
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn pending(dir: &std::path::Path, content: &[u8], max_bytes: u64) -> PendingDownload {
        PendingDownload {
            node: NodeId(0),
            descriptor: FileDescriptor {
                name: "map.kml".into(),
                hash: Sha1::digest(content).into(),
                uid: 7,
            },
            destination: dir.join("Vehicle.Map/map.kml"),
            partial: dir.join(".incoming/00000007.part"),
            max_bytes,
        }
    }

    fn data(message_no: u8, last: bool, chunk: &[u8]) -> Data<'_> {
        Data {
            uid: 7,
            message_no,
            last,
            chunk_size: (chunk.len() + 10) as u32,
            chunk,
        }
    }

    #[test]
    fn chunks_in_order_make_the_file_and_a_wrong_one_is_resent() {
        let dir = tempfile::tempdir().unwrap();
        let mut download = Download::start(pending(dir.path(), b"abcdef", 100)).unwrap();
        let ok = |message_no| Step::Reply {
            message_no,
            status: 0,
        };
        assert_eq!(download.on_data(&data(0, false, b"ab")), ok(0));
        assert_eq!(
            download.on_damaged(1),
            Step::Reply {
                message_no: 1,
                status: status::LENGTH_MISMATCH
            }
        );
        assert_eq!(download.on_data(&data(1, false, b"cd")), ok(1));
        assert!(!dir.path().join("Vehicle.Map/map.kml").exists());
        assert_eq!(
            download.on_data(&data(2, true, b"ef")),
            Step::Complete { message_no: 2 }
        );
        let stored = std::fs::read(dir.path().join("Vehicle.Map/map.kml")).unwrap();
        assert_eq!(stored, b"abcdef");
        assert!(!dir.path().join(".incoming/00000007.part").exists());
    }

    #[test]
    fn a_bad_hash_is_reported_then_terminates_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut download = Download::start(pending(dir.path(), b"other", 100)).unwrap();
        assert_eq!(
            download.on_data(&data(0, true, b"abc")),
            Step::Reply {
                message_no: 0,
                status: status::HASH_MISMATCH
            }
        );
        assert_eq!(
            download.on_data(&data(0, true, b"abc")),
            Step::Finish {
                message_no: 0,
                status: status::TERMINATE
            }
        );
        drop(download);
        assert!(!dir.path().join(".incoming/00000007.part").exists());
        assert!(!dir.path().join("Vehicle.Map").exists());
    }

    #[test]
    fn a_resent_last_chunk_is_hashed_from_the_state_before_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut download = Download::start(pending(dir.path(), b"abcd", 100)).unwrap();
        download.on_data(&data(0, false, b"ab"));
        assert!(matches!(
            download.on_data(&data(1, true, b"cX")),
            Step::Reply { status: 3, .. }
        ));
        assert_eq!(
            download.on_data(&data(1, true, b"cd")),
            Step::Complete { message_no: 1 }
        );
    }

    #[test]
    fn more_than_255_chunks_count_modulo_255_and_the_limit_holds() {
        let content: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
        let dir = tempfile::tempdir().unwrap();
        let mut download = Download::start(pending(dir.path(), &content, 1000)).unwrap();
        for (index, byte) in content.iter().enumerate() {
            let last = index == content.len() - 1;
            let step = download.on_data(&data(wire::message_no(index as u64), last, &[*byte]));
            assert!(
                matches!(step, Step::Reply { status: 0, .. } | Step::Complete { .. }),
                "{index}: {step:?}"
            );
        }
        assert_eq!(
            std::fs::read(dir.path().join("Vehicle.Map/map.kml")).unwrap(),
            content
        );
        let mut small = Download::start(PendingDownload {
            partial: dir.path().join(".incoming/small.part"),
            ..pending(dir.path(), b"abc", 2)
        })
        .unwrap();
        assert!(matches!(
            small.on_data(&data(0, true, b"abc")),
            Step::Reply { status: 4, .. }
        ));
    }
}

//! An upload (vehicle → client) from the sending side: the file opened when the client
//! read the descriptor is sent chunk by chunk, each after the client's status for the one
//! before (stop-and-wait), read lazily so a large file never sits in memory.

use std::fs::File;
use std::os::unix::fs::FileExt;

use super::wire::{self, RESERVED_NO, Status, status};
use crate::tree::NodeId;

/// Errors in a row on one message after which the sender gives up (spec: it may after
/// the second).
const ERRORS_BEFORE_ABORT: u8 = 2;

/// An upload registered by a `get` and not yet claimed by a data channel.
#[derive(Debug)]
pub struct PendingUpload {
    pub node: NodeId,
    pub uid: u32,
    /// Opened at the `get`: a producer that replaces the file by renaming a new one over
    /// it does not change what this transfer sends.
    pub file: File,
    /// Its length when the descriptor was made.
    pub len: u64,
    pub chunk_bytes: u32,
}

/// What the sender does after a client status.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Send this data message (a chunk, or the resend of one).
    Send(Vec<u8>),
    /// Send this final message (the end, or an abort) and drop the transfer.
    Finish(Vec<u8>),
    /// Drop the transfer without a word (the client terminated it).
    Drop,
    /// Nothing to do (a status for no message this transfer is waiting on).
    Ignore,
}

/// An upload under way.
#[derive(Debug)]
pub struct Upload {
    pending: PendingUpload,
    /// The chunk in flight (its index), once the client asked to start.
    current: Option<u64>,
    errors: u8,
}

impl Upload {
    pub fn new(pending: PendingUpload) -> Self {
        Self {
            pending,
            current: None,
            errors: 0,
        }
    }

    /// Chunks of the file: one at least (an empty file is one empty last chunk).
    fn chunk_count(&self) -> u64 {
        let chunk = u64::from(self.pending.chunk_bytes.max(1));
        self.pending.len.div_ceil(chunk).max(1)
    }

    /// Takes one status from the client.
    pub fn on_status(&mut self, received: &Status) -> Step {
        if received.status == status::TERMINATE {
            return Step::Drop;
        }
        let Some(current) = self.current else {
            // The start: a status with `messageNo` 255 (its value is not specified).
            if received.message_no != RESERVED_NO {
                return Step::Ignore;
            }
            return self.send(0);
        };
        if received.message_no != wire::message_no(current) {
            return Step::Ignore;
        }
        if received.status != status::OK {
            self.errors += 1;
            if self.errors >= ERRORS_BEFORE_ABORT {
                return Step::Finish(self.abort());
            }
            return self.send(current);
        }
        self.errors = 0;
        let next = current + 1;
        if next == self.chunk_count() {
            let mut end = Vec::with_capacity(wire::HEADER_BYTES);
            wire::write_end(&mut end, self.pending.uid, wire::message_no(current));
            return Step::Finish(end);
        }
        self.send(next)
    }

    /// The abort message: the sender gives up.
    pub fn abort(&self) -> Vec<u8> {
        let mut abort = Vec::with_capacity(wire::HEADER_BYTES);
        wire::write_abort(&mut abort, self.pending.uid);
        abort
    }

    /// The data message of chunk `index`; an abort when the file no longer has it (it
    /// shrank since the descriptor was made, so its hash would not match anyway).
    fn send(&mut self, index: u64) -> Step {
        self.current = Some(index);
        let chunk_bytes = u64::from(self.pending.chunk_bytes.max(1));
        let offset = index * chunk_bytes;
        let len = chunk_bytes.min(self.pending.len.saturating_sub(offset)) as usize;
        let mut message = vec![0; wire::HEADER_BYTES + len];
        let chunk = &mut message[wire::HEADER_BYTES..];
        if self.pending.file.read_exact_at(chunk, offset).is_err() {
            tracing::warn!(
                uid = format_args!("{:08x}", self.pending.uid),
                "file transfer: the uploaded file shrank under way; aborting"
            );
            return Step::Finish(self.abort());
        }
        let last = index + 1 == self.chunk_count();
        let header = wire::data_header(self.pending.uid, wire::message_no(index), last, len);
        message[..wire::HEADER_BYTES].copy_from_slice(&header);
        Step::Send(message)
    }
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::filetransfer::wire::{Message, parse};

    fn upload(content: &[u8], chunk_bytes: u32) -> (tempfile::TempDir, Upload) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clip.mp4");
        std::fs::write(&path, content).unwrap();
        let file = File::open(&path).unwrap();
        let pending = PendingUpload {
            node: NodeId(0),
            uid: 9,
            file,
            len: content.len() as u64,
            chunk_bytes,
        };
        (dir, Upload::new(pending))
    }

    fn status(message_no: u8, status: u8) -> Status {
        Status {
            uid: 9,
            message_no,
            status,
        }
    }

    /// Runs a whole upload, acking every chunk: the bytes received, and the messages.
    fn receive_all(upload: &mut Upload) -> (Vec<u8>, usize) {
        let mut received = Vec::new();
        let mut step = upload.on_status(&status(RESERVED_NO, 0));
        let mut messages = 0;
        loop {
            messages += 1;
            assert!(messages < 10_000);
            let (Step::Send(bytes) | Step::Finish(bytes)) = &step else {
                panic!("{step:?}")
            };
            let Ok(Message::Data(data)) = parse(bytes) else {
                panic!("not data")
            };
            if matches!(step, Step::Finish(_)) {
                assert!(data.is_control() && !data.is_abort());
                return (received, messages);
            }
            received.extend_from_slice(data.chunk);
            step = upload.on_status(&status(data.message_no, 0));
        }
    }

    #[test]
    fn every_size_arrives_whole_and_ends_with_the_header_only_message() {
        for (content_len, chunk, messages) in
            [(0, 4, 2), (1, 4, 2), (4, 4, 2), (9, 4, 4), (1000, 3, 335)]
        {
            let content: Vec<u8> = (0..content_len).map(|i| (i * 7) as u8).collect();
            let (_dir, mut upload) = upload(&content, chunk);
            let (received, sent) = receive_all(&mut upload);
            assert_eq!(received, content, "{content_len} bytes");
            assert_eq!(sent, messages, "{content_len} bytes");
        }
    }

    #[test]
    fn an_error_status_resends_and_a_second_aborts() {
        let (_dir, mut upload) = upload(b"abcdefgh", 4);
        let Step::Send(first) = upload.on_status(&status(RESERVED_NO, 0)) else {
            panic!()
        };
        assert_eq!(upload.on_status(&status(0, 1)), Step::Send(first));
        let Step::Finish(abort) = upload.on_status(&status(0, 1)) else {
            panic!()
        };
        let Ok(Message::Data(abort)) = parse(&abort) else {
            panic!()
        };
        assert!(abort.is_abort());
        assert_eq!(upload.on_status(&status(0, 255)), Step::Drop);
    }

    #[test]
    fn a_file_that_shrank_is_aborted() {
        let (dir, mut upload) = upload(b"abcdefgh", 4);
        assert!(matches!(
            upload.on_status(&status(RESERVED_NO, 0)),
            Step::Send(_)
        ));
        std::fs::File::options()
            .write(true)
            .open(dir.path().join("clip.mp4"))
            .unwrap()
            .set_len(5)
            .unwrap();
        let Step::Finish(abort) = upload.on_status(&status(0, 0)) else {
            panic!()
        };
        assert!(matches!(parse(&abort), Ok(Message::Data(data)) if data.is_abort()));
    }
}

//! The data channel's two binary messages (CORE App. C), read and written without I/O.
//!
//! * data: `uid`(4) `messageNo`(1) `chunkSize`(4) `lastMessage`(1), then the chunk;
//! * status: `uid`(4) `messageNo`(1) `status`(1).
//!
//! Where the spec is silent or self-contradictory (viss-core.md §18 Q12, Q13), the rules
//! here are the ones `docs/filetransfer.md` documents and the `Server` tree declares:
//! integers are big-endian (as VISSR); `chunkSize` is written as the spec says (the chunk
//! plus the 10-byte header) and read either way (VISSR writes the chunk alone), since the
//! message's own length tells which; `messageNo` is the chunk's index modulo 255, so a file
//! of more than 255 chunks counts 0..=254 and starts again at 0 (255 stays reserved for
//! the upload start and abort). The exchange is stop-and-wait, so the count is unambiguous.

/// Bytes before the chunk of a data message.
pub const HEADER_BYTES: usize = 10;
/// Bytes of a status message.
pub const STATUS_BYTES: usize = 6;
/// The `messageNo` of the upload start status and of an abort.
pub const RESERVED_NO: u8 = 255;

/// Status values. 0 and 255 are the spec's; the others are ours, all "an error, resend".
pub mod status {
    pub const OK: u8 = 0;
    /// The message's length is not what its `chunkSize` says (damaged in transit).
    pub const LENGTH_MISMATCH: u8 = 1;
    /// Not the `messageNo` expected next.
    pub const OUT_OF_SEQUENCE: u8 = 2;
    /// The file's SHA-1 is not the descriptor's `hash` (answer to the last message).
    pub const HASH_MISMATCH: u8 = 3;
    /// The file grew past the configured size limit.
    pub const TOO_LARGE: u8 = 4;
    /// The vehicle could not store the chunk.
    pub const WRITE_FAILED: u8 = 5;
    /// Terminate the session at once (the spec's 255).
    pub const TERMINATE: u8 = 255;
}

/// The `messageNo` of the chunk at `index` (0-based).
pub const fn message_no(index: u64) -> u8 {
    (index % 255) as u8
}

/// One data message. `chunk` is empty for a header-only message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Data<'a> {
    pub uid: u32,
    pub message_no: u8,
    pub last: bool,
    /// The `chunkSize` field as sent (0 marks the end of an upload and an abort).
    pub chunk_size: u32,
    pub chunk: &'a [u8],
}

impl Data<'_> {
    /// A header-only message with `chunkSize` 0: the end of an upload, or with
    /// `messageNo` 255 and `lastMessage` set, an abort.
    pub fn is_control(&self) -> bool {
        self.chunk_size == 0 && self.chunk.is_empty()
    }

    /// The sender gives up on the transfer.
    pub fn is_abort(&self) -> bool {
        self.is_control() && self.message_no == RESERVED_NO && self.last
    }
}

/// One status message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    pub uid: u32,
    pub message_no: u8,
    pub status: u8,
}

/// A message of the data channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Message<'a> {
    Data(Data<'a>),
    Status(Status),
}

/// A message that cannot be read; what could be read of its header, so the session it
/// names can be told (`uid` needs 4 bytes, `messageNo` 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Damaged {
    pub uid: Option<u32>,
    pub message_no: Option<u8>,
}

/// Reads one binary WebSocket message of the data channel.
pub fn parse(bytes: &[u8]) -> Result<Message<'_>, Damaged> {
    let uid = bytes.first_chunk::<4>().map(|uid| u32::from_be_bytes(*uid));
    let message_no = bytes.get(4).copied();
    let damaged = Damaged { uid, message_no };
    let (Some(uid), Some(message_no)) = (uid, message_no) else {
        return Err(damaged);
    };
    if bytes.len() == STATUS_BYTES {
        return Ok(Message::Status(Status {
            uid,
            message_no,
            status: bytes[5],
        }));
    }
    let Some(size) = bytes.get(5..9).and_then(|size| size.try_into().ok()) else {
        return Err(damaged);
    };
    let chunk_size = u32::from_be_bytes(size);
    let Some((&last, chunk)) = bytes[9..].split_first() else {
        return Err(damaged);
    };
    // The spec counts the header in `chunkSize`, VISSR does not; 0 is a control message.
    let declared = chunk_size as usize;
    let consistent =
        declared == bytes.len() || declared == chunk.len() || (chunk_size == 0 && chunk.is_empty());
    if !consistent {
        return Err(damaged);
    }
    Ok(Message::Data(Data {
        uid,
        message_no,
        last: last != 0,
        chunk_size,
        chunk,
    }))
}

/// Writes a data message carrying `chunk`.
pub fn write_data(out: &mut Vec<u8>, uid: u32, message_no: u8, last: bool, chunk: &[u8]) {
    out.extend_from_slice(&data_header(uid, message_no, last, chunk.len()));
    out.extend_from_slice(chunk);
}

/// The header of a data message whose chunk is `chunk_len` bytes (`chunkSize` with the
/// header, as the spec says).
pub fn data_header(uid: u32, message_no: u8, last: bool, chunk_len: usize) -> [u8; HEADER_BYTES] {
    let size = u32::try_from(chunk_len + HEADER_BYTES).unwrap_or(u32::MAX);
    let mut header = [0; HEADER_BYTES];
    header[..4].copy_from_slice(&uid.to_be_bytes());
    header[4] = message_no;
    header[5..9].copy_from_slice(&size.to_be_bytes());
    header[9] = u8::from(last);
    header
}

/// Writes the header-only message that ends an upload (`chunkSize` 0).
pub fn write_end(out: &mut Vec<u8>, uid: u32, message_no: u8) {
    write_header(out, uid, message_no, 0, true);
}

/// Writes the header-only abort (`messageNo` 255, `chunkSize` 0, `lastMessage` 1).
pub fn write_abort(out: &mut Vec<u8>, uid: u32) {
    write_header(out, uid, RESERVED_NO, 0, true);
}

/// Writes a status message.
pub fn write_status(out: &mut Vec<u8>, uid: u32, message_no: u8, status: u8) {
    out.extend_from_slice(&uid.to_be_bytes());
    out.push(message_no);
    out.push(status);
}

fn write_header(out: &mut Vec<u8>, uid: u32, message_no: u8, chunk_size: u32, last: bool) {
    out.extend_from_slice(&uid.to_be_bytes());
    out.push(message_no);
    out.extend_from_slice(&chunk_size.to_be_bytes());
    out.push(u8::from(last));
}

#[cfg(test)]
mod tests {
    // Test code: a failed unwrap is a failed test.
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn data_and_status_round_trip() {
        let mut out = Vec::new();
        write_data(&mut out, 0x2d87_8213, 7, true, b"abc");
        assert_eq!(out.len(), 13);
        assert_eq!(&out[..4], &[0x2d, 0x87, 0x82, 0x13]);
        assert_eq!(&out[5..9], &13u32.to_be_bytes());
        let Message::Data(data) = parse(&out).unwrap() else {
            panic!("not data")
        };
        assert_eq!(
            (data.uid, data.message_no, data.last, data.chunk),
            (0x2d87_8213, 7, true, &b"abc"[..])
        );
        out.clear();
        write_status(&mut out, 1, 254, status::HASH_MISMATCH);
        assert_eq!(
            parse(&out).unwrap(),
            Message::Status(Status {
                uid: 1,
                message_no: 254,
                status: 3
            })
        );
    }

    #[test]
    fn chunk_size_without_the_header_is_read_too() {
        let mut out = Vec::new();
        write_header(&mut out, 9, 0, 3, false);
        out.extend_from_slice(b"xyz");
        let Message::Data(data) = parse(&out).unwrap() else {
            panic!("not data")
        };
        assert_eq!(data.chunk, b"xyz");
    }

    #[test]
    fn a_truncated_message_is_damaged_and_names_its_session() {
        let mut out = Vec::new();
        write_data(&mut out, 5, 3, false, b"hello");
        out.pop();
        assert_eq!(
            parse(&out),
            Err(Damaged {
                uid: Some(5),
                message_no: Some(3)
            })
        );
        assert_eq!(
            parse(&[1, 2]),
            Err(Damaged {
                uid: None,
                message_no: None
            })
        );
        assert!(parse(&out[..8]).is_err());
    }

    #[test]
    fn abort_and_end_are_header_only() {
        let mut out = Vec::new();
        write_abort(&mut out, 4);
        let Message::Data(abort) = parse(&out).unwrap() else {
            panic!("not data")
        };
        assert!(abort.is_abort());
        out.clear();
        write_end(&mut out, 4, 17);
        let Message::Data(end) = parse(&out).unwrap() else {
            panic!("not data")
        };
        assert!(end.is_control() && !end.is_abort());
        out.clear();
        write_data(&mut out, 4, 0, true, b"");
        let Message::Data(empty) = parse(&out).unwrap() else {
            panic!("not data")
        };
        assert!(
            !empty.is_control(),
            "an empty last chunk is data, not the end"
        );
    }

    #[test]
    fn message_numbers_wrap_after_254() {
        assert_eq!(message_no(0), 0);
        assert_eq!(message_no(254), 254);
        assert_eq!(message_no(255), 0);
        assert_eq!(message_no(299), 44);
    }
}

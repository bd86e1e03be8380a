//! WebSocket framing (RFC 6455 §5), server side: frames read from a client (masked, a
//! message possibly fragmented, control frames between its fragments) and frames written to
//! it (unmasked).
//!
//! Why our own framing and not tungstenite (which axum's `ws` wraps): measured side by side
//! (`viss-bench remote`, one connection, sequential gets, the server pinned to one core),
//! the server answering through tungstenite spent 13.3 µs of CPU per request and the same
//! loop over plain frames on tokio (`viss-bench echo --bare tokio`) 9.7 µs, with the same
//! three syscalls per request (`strace -c`: one `recvfrom`, one `sendto`, one `epoll_wait`).
//! The difference is per-message work spread thin (`perf`): a read buffer zeroed before
//! every read, a `Message`, a `Bytes` and an owned `String` per frame, an error value built
//! and dropped for every `WouldBlock`, the `Sink` machinery per send. A VISS request is a
//! ~100-byte text frame, so that work is most of what the server does. fastwebsockets, the
//! lean alternative, cannot be read inside `select!` (its `read_frame` is not cancel-safe:
//! denoland/fastwebsockets#64), and the connection loop waits on the socket, events, timers
//! and shutdown at once. The handshake's accept key still comes from `sha1` and `base64`.

/// A control frame's payload limit (RFC 6455 §5.5).
const MAX_CONTROL_PAYLOAD: usize = 125;
/// Bytes made room for before each read: a few requests' worth.
const READ_CHUNK: usize = 4 * 1024;
/// Spare room below which a read first makes room for another chunk.
const MIN_SPARE: usize = 512;
/// The longest frame header: 2 bytes, a 64-bit length, a mask.
const MAX_HEADER: usize = 14;
/// A buffer grown past this for one large message is given back once that message is done.
const KEEP_CAPACITY: usize = 64 * 1024;

/// A frame's opcode (RFC 6455 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opcode {
    Continuation = 0,
    Text = 1,
    Binary = 2,
    Close = 8,
    Ping = 9,
    Pong = 10,
}

impl Opcode {
    fn from_bits(bits: u8) -> Option<Self> {
        Some(match bits {
            0 => Self::Continuation,
            1 => Self::Text,
            2 => Self::Binary,
            8 => Self::Close,
            9 => Self::Ping,
            10 => Self::Pong,
            _ => return None,
        })
    }

    fn is_control(self) -> bool {
        (self as u8) & 0x8 != 0
    }
}

/// One whole message or control frame from the client.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// A text message, its UTF-8 checked.
    Text(&'a str),
    Binary(&'a [u8]),
    Ping(&'a [u8]),
    Pong,
    /// The client's close frame and the status code in it, if any.
    Close(Option<u16>),
}

/// What ends a connection whose client broke the protocol: the close code and reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    /// A message over the size limit, seen in its frame header, before its payload.
    TooBig,
    /// A text message (or close reason) that is not UTF-8.
    NotUtf8,
    Protocol(&'static str),
}

impl Violation {
    /// The close code (RFC 6455 §7.4.1).
    pub fn close_code(&self) -> u16 {
        match self {
            Self::TooBig => 1009,
            Self::NotUtf8 => 1007,
            Self::Protocol(_) => 1002,
        }
    }

    pub fn reason(&self, max_message_bytes: usize) -> String {
        match self {
            Self::TooBig => format!("message too big: the limit is {max_message_bytes} bytes"),
            Self::NotUtf8 => "text frame is not UTF-8".to_owned(),
            Self::Protocol(what) => format!("WebSocket protocol error: {what}"),
        }
    }
}

/// Where a whole message's payload lies once its last frame is in.
enum Ready {
    /// Unmasked in place in the read buffer.
    InBuffer(Opcode, usize, usize),
    /// Assembled from fragments.
    Assembled(Opcode),
    Close(Option<u16>),
}

/// Bytes read from a client, taken a frame at a time.
#[derive(Debug)]
pub struct FrameReader {
    buffer: Vec<u8>,
    /// Bytes at the front of `buffer` already handed out.
    taken: usize,
    /// A fragmented message in progress: its opcode, its payload so far in `assembled`.
    fragmented: Option<Opcode>,
    assembled: Vec<u8>,
    /// The front of a fragmented text message's payload known to be UTF-8 so far.
    utf8_checked: usize,
    max_message: usize,
}

impl FrameReader {
    pub fn new(max_message: usize) -> Self {
        Self {
            buffer: Vec::new(),
            taken: 0,
            fragmented: None,
            assembled: Vec::new(),
            utf8_checked: 0,
            max_message,
        }
    }

    /// The buffer to read into (`read_buf` appends into its spare capacity, which is never
    /// zeroed): frames already handed out are dropped from its front first.
    pub fn room(&mut self) -> &mut Vec<u8> {
        if self.taken == self.buffer.len() {
            self.buffer.clear();
            if self.buffer.capacity() > KEEP_CAPACITY {
                self.buffer.shrink_to(READ_CHUNK);
            }
        } else if self.taken > 0 {
            self.buffer.drain(..self.taken);
        }
        self.taken = 0;
        // A frame whose header is in gets room for all of it at once, not a chunk a read
        // (its length was checked against the limit when its header was parsed).
        let frame = self
            .pending_frame_len()
            .unwrap_or(0)
            .min(self.max_message.saturating_add(MAX_HEADER));
        let spare = self.buffer.capacity() - self.buffer.len();
        if spare < MIN_SPARE || self.buffer.capacity() < frame {
            let target = frame.max(self.buffer.len() + READ_CHUNK);
            self.buffer.reserve(target - self.buffer.len());
        }
        &mut self.buffer
    }

    /// Whether a whole frame is buffered, so the next [`Self::next_message`] needs no read.
    pub fn has_whole_frame(&self) -> bool {
        let rest = self.buffer.len() - self.taken;
        self.pending_frame_len().is_some_and(|len| len <= rest)
    }

    /// The length (header and payload) of the frame at the front, once its header is in
    /// (`None` before; a length past the limit is caught by [`Self::next_message`]).
    fn pending_frame_len(&self) -> Option<usize> {
        let bytes = &self.buffer[self.taken..];
        let (header, payload) = header_len(bytes)?;
        Some(header.saturating_add(usize::try_from(payload).unwrap_or(usize::MAX)))
    }

    /// The next whole message or control frame, `None` until more bytes are read.
    pub fn next_message(&mut self) -> Result<Option<Incoming<'_>>, Violation> {
        Ok(match self.next_ready()? {
            None => None,
            Some(Ready::InBuffer(opcode, start, end)) => {
                Some(incoming(opcode, &self.buffer[start..end])?)
            }
            Some(Ready::Assembled(opcode)) => Some(incoming(opcode, &self.assembled)?),
            Some(Ready::Close(code)) => Some(Incoming::Close(code)),
        })
    }

    fn next_ready(&mut self) -> Result<Option<Ready>, Violation> {
        loop {
            let bytes = &self.buffer[self.taken..];
            let Some((header, payload_len)) = header_len(bytes) else {
                return Ok(None);
            };
            let (first, second) = (bytes[0], bytes[1]);
            if first & 0x70 != 0 {
                return Err(Violation::Protocol(
                    "reserved bits set, no extension negotiated",
                ));
            }
            let fin = first & 0x80 != 0;
            let opcode =
                Opcode::from_bits(first & 0x0F).ok_or(Violation::Protocol("unknown opcode"))?;
            if second & 0x80 == 0 {
                return Err(Violation::Protocol("a client's frames must be masked"));
            }
            if opcode.is_control() {
                if !fin || payload_len > MAX_CONTROL_PAYLOAD as u64 {
                    return Err(Violation::Protocol(
                        "control frame fragmented or over 125 bytes",
                    ));
                }
            } else {
                let so_far = if self.fragmented.is_some() {
                    self.assembled.len()
                } else {
                    0
                };
                let room = self.max_message.saturating_sub(so_far) as u64;
                if payload_len > room {
                    return Err(Violation::TooBig);
                }
            }
            // Within the message limit (or 125 bytes) from here on, so it fits a usize.
            let payload_len = usize::try_from(payload_len).map_err(|_| Violation::TooBig)?;
            if bytes.len() - header < payload_len {
                return Ok(None);
            }
            let mask = [
                bytes[header - 4],
                bytes[header - 3],
                bytes[header - 2],
                bytes[header - 1],
            ];
            let start = self.taken + header;
            let end = start + payload_len;
            self.taken = end;
            unmask(&mut self.buffer[start..end], mask);
            if let Some(ready) = self.take_frame(opcode, fin, start, end)? {
                return Ok(Some(ready));
            }
        }
    }

    /// One unmasked frame: a whole message or control frame is ready, or a fragment was
    /// added to the message in progress (`None`).
    fn take_frame(
        &mut self,
        opcode: Opcode,
        fin: bool,
        start: usize,
        end: usize,
    ) -> Result<Option<Ready>, Violation> {
        match opcode {
            Opcode::Ping | Opcode::Pong => Ok(Some(Ready::InBuffer(opcode, start, end))),
            Opcode::Close => {
                close_code(&self.buffer[start..end]).map(|code| Some(Ready::Close(code)))
            }
            Opcode::Text | Opcode::Binary => {
                if self.fragmented.is_some() {
                    return Err(Violation::Protocol(
                        "a new message began before the fragmented one ended",
                    ));
                }
                if fin {
                    return Ok(Some(Ready::InBuffer(opcode, start, end)));
                }
                self.fragmented = Some(opcode);
                self.assembled.clear();
                if self.assembled.capacity() > KEEP_CAPACITY {
                    self.assembled.shrink_to(READ_CHUNK);
                }
                self.assembled.extend_from_slice(&self.buffer[start..end]);
                self.utf8_checked = 0;
                self.check_text_so_far()?;
                Ok(None)
            }
            Opcode::Continuation => {
                let Some(message) = self.fragmented else {
                    return Err(Violation::Protocol("a continuation frame with no message"));
                };
                self.assembled.extend_from_slice(&self.buffer[start..end]);
                if !fin {
                    self.check_text_so_far()?;
                    return Ok(None);
                }
                self.fragmented = None;
                Ok(Some(Ready::Assembled(message)))
            }
        }
    }

    /// Checks a fragmented text message's UTF-8 as its fragments arrive, so a client is
    /// failed at the first bad fragment, not after the last (RFC 6455 §8.1); a character
    /// cut at a fragment's end is checked when the next one arrives. Binary messages pass.
    fn check_text_so_far(&mut self) -> Result<(), Violation> {
        if self.fragmented != Some(Opcode::Text) {
            return Ok(());
        }
        let unchecked = &self.assembled[self.utf8_checked..];
        match std::str::from_utf8(unchecked) {
            Ok(_) => self.utf8_checked = self.assembled.len(),
            // Only a character cut at the end: good so far.
            Err(error) if error.error_len().is_none() => {
                self.utf8_checked += error.valid_up_to();
            }
            Err(_) => return Err(Violation::NotUtf8),
        }
        Ok(())
    }
}

/// A whole message or control frame; a text message's UTF-8 is checked here (a whole
/// message's once; a fragmented one's again, whole, for its `&str`).
fn incoming(opcode: Opcode, payload: &[u8]) -> Result<Incoming<'_>, Violation> {
    Ok(match opcode {
        Opcode::Text => {
            Incoming::Text(std::str::from_utf8(payload).map_err(|_| Violation::NotUtf8)?)
        }
        Opcode::Binary => Incoming::Binary(payload),
        Opcode::Ping => Incoming::Ping(payload),
        _ => Incoming::Pong,
    })
}

/// The header's length (mask included) and the payload's, once the header is in.
fn header_len(bytes: &[u8]) -> Option<(usize, u64)> {
    let second = *bytes.get(1)?;
    let (extended, payload) = match second & 0x7F {
        126 => (
            2,
            u64::from(u16::from_be_bytes([*bytes.get(2)?, *bytes.get(3)?])),
        ),
        127 => {
            let length: [u8; 8] = bytes.get(2..10)?.try_into().ok()?;
            (8, u64::from_be_bytes(length))
        }
        short => (0, u64::from(short)),
    };
    let header = 2 + extended + if second & 0x80 != 0 { 4 } else { 0 };
    (bytes.len() >= header).then_some((header, payload))
}

/// XORs the client's mask into `payload`, eight bytes at a time where it can (every chunk
/// starts at a multiple of 8, so the mask's phase is the same in each).
fn unmask(payload: &mut [u8], mask: [u8; 4]) {
    let word = u64::from_ne_bytes([
        mask[0], mask[1], mask[2], mask[3], mask[0], mask[1], mask[2], mask[3],
    ]);
    let mut chunks = payload.chunks_exact_mut(8);
    for chunk in &mut chunks {
        if let Ok(bytes) = <[u8; 8]>::try_from(&*chunk) {
            chunk.copy_from_slice(&(u64::from_ne_bytes(bytes) ^ word).to_ne_bytes());
        }
    }
    for (index, byte) in chunks.into_remainder().iter_mut().enumerate() {
        *byte ^= mask[index & 3];
    }
}

/// A close frame's status code (RFC 6455 §5.5.1, §7.4): none, or one a peer may send, and
/// a UTF-8 reason after it.
fn close_code(payload: &[u8]) -> Result<Option<u16>, Violation> {
    let Some((code, reason)) = payload.split_first_chunk::<2>() else {
        return if payload.is_empty() {
            Ok(None)
        } else {
            Err(Violation::Protocol("a one-byte close frame"))
        };
    };
    let code = u16::from_be_bytes(*code);
    let allowed = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
    if !allowed {
        return Err(Violation::Protocol("a close code a peer may not send"));
    }
    std::str::from_utf8(reason).map_err(|_| Violation::NotUtf8)?;
    Ok(Some(code))
}

/// Appends one unfragmented, unmasked frame (a server's) to `out`.
pub fn write_frame(out: &mut Vec<u8>, opcode: Opcode, payload: &[u8]) {
    out.reserve(payload.len() + 10);
    out.push(0x80 | opcode as u8);
    match payload.len() {
        short @ 0..=125 => out.push(short as u8),
        medium @ 126..=0xFFFF => {
            out.push(126);
            out.extend_from_slice(&(medium as u16).to_be_bytes());
        }
        long => {
            out.push(127);
            out.extend_from_slice(&(long as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
}

/// Appends a close frame: the code, and the reason cut (at a character) to fit 125 bytes.
pub fn write_close(out: &mut Vec<u8>, code: u16, reason: &str) {
    let mut cut = reason.len().min(MAX_CONTROL_PAYLOAD - 2);
    while !reason.is_char_boundary(cut) {
        cut -= 1;
    }
    let mut payload = [0u8; MAX_CONTROL_PAYLOAD];
    payload[..2].copy_from_slice(&code.to_be_bytes());
    payload[2..2 + cut].copy_from_slice(&reason.as_bytes()[..cut]);
    write_frame(out, Opcode::Close, &payload[..2 + cut]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A client's frame: masked with `mask`, FIN and opcode as given.
    fn client_frame(fin: bool, opcode: u8, payload: &[u8], mask: [u8; 4]) -> Vec<u8> {
        let mut frame = vec![if fin { 0x80 } else { 0 } | opcode];
        match payload.len() {
            short @ 0..=125 => frame.push(0x80 | short as u8),
            medium @ 126..=0xFFFF => {
                frame.push(0x80 | 126);
                frame.extend_from_slice(&(medium as u16).to_be_bytes());
            }
            long => {
                frame.push(0x80 | 127);
                frame.extend_from_slice(&(long as u64).to_be_bytes());
            }
        }
        frame.extend_from_slice(&mask);
        frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i & 3]));
        frame
    }

    /// Every message and control frame `reader` yields from `bytes`, fed `chunk` bytes a
    /// read, as owned values; the violation that stopped it, if any.
    fn read_all(
        reader: &mut FrameReader,
        bytes: &[u8],
        chunk: usize,
    ) -> (Vec<(u8, Vec<u8>)>, Option<Violation>) {
        let mut seen = Vec::new();
        for piece in bytes.chunks(chunk.max(1)) {
            reader.room().extend_from_slice(piece);
            loop {
                match reader.next_message() {
                    Ok(Some(Incoming::Text(p))) => seen.push((1, p.as_bytes().to_vec())),
                    Ok(Some(Incoming::Binary(p))) => seen.push((2, p.to_vec())),
                    Ok(Some(Incoming::Ping(p))) => seen.push((9, p.to_vec())),
                    Ok(Some(Incoming::Pong)) => seen.push((10, Vec::new())),
                    Ok(Some(Incoming::Close(code))) => seen.push((
                        8,
                        code.map(|c| c.to_be_bytes().to_vec()).unwrap_or_default(),
                    )),
                    Ok(None) => break,
                    Err(violation) => return (seen, Some(violation)),
                }
            }
        }
        (seen, None)
    }

    #[test]
    fn messages_of_every_length_class_come_through_whole_in_any_split() {
        let mask = [0x12, 0x34, 0x56, 0x78];
        let lengths = [0, 1, 125, 126, 65_535, 65_536, 200_000];
        let mut bytes = Vec::new();
        for &len in &lengths {
            let payload: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            bytes.extend(client_frame(true, 1, &payload, mask));
        }
        for chunk in [1, 7, 4096, bytes.len()] {
            let mut reader = FrameReader::new(1 << 20);
            let (seen, violation) = read_all(&mut reader, &bytes, chunk);
            assert_eq!(violation, None, "chunk {chunk}");
            let got: Vec<usize> = seen.iter().map(|(_, p)| p.len()).collect();
            assert_eq!(got, lengths, "chunk {chunk}");
            assert!(
                seen.iter()
                    .all(|(op, p)| *op == 1 && p.iter().all(u8::is_ascii_lowercase))
            );
        }
    }

    #[test]
    fn fragmented_text_fails_at_its_first_bad_fragment_and_a_cut_character_passes() {
        let mask = [9, 8, 7, 6];
        // "é" (C3 A9) cut between two fragments, then a third fragment not sent yet.
        let mut cut = client_frame(false, 1, b"{\"a\":\"\xC3", mask);
        cut.extend(client_frame(false, 0, b"\xA9\"", mask));
        let mut reader = FrameReader::new(1024);
        assert_eq!(read_all(&mut reader, &cut, 5), (Vec::new(), None));
        let (seen, violation) = read_all(&mut reader, &client_frame(true, 0, b"}", mask), 64);
        assert_eq!(violation, None);
        assert_eq!(seen, [(1, "{\"a\":\"é\"}".as_bytes().to_vec())]);

        // A byte that is never UTF-8, in the first fragment: failed before any more come.
        let bad = client_frame(false, 1, b"{\"a\":\xFF", mask);
        let mut reader = FrameReader::new(1024);
        assert_eq!(
            read_all(&mut reader, &bad, 64),
            (Vec::new(), Some(Violation::NotUtf8))
        );
        // The same bytes in a binary message are not text: no check.
        let binary = client_frame(false, 2, b"{\"a\":\xFF", mask);
        let mut reader = FrameReader::new(1024);
        assert_eq!(read_all(&mut reader, &binary, 64), (Vec::new(), None));
    }

    #[test]
    fn fragments_are_assembled_with_control_frames_between_them() {
        let mask = [1, 2, 3, 4];
        let mut bytes = client_frame(false, 1, b"{\"action\":", mask);
        bytes.extend(client_frame(true, 9, b"hi", mask));
        bytes.extend(client_frame(false, 0, b"\"get\",", mask));
        bytes.extend(client_frame(true, 0, "\"é\"}".as_bytes(), mask));
        let mut reader = FrameReader::new(1024);
        let (seen, violation) = read_all(&mut reader, &bytes, 3);
        assert_eq!(violation, None);
        assert_eq!(
            seen,
            [
                (9, b"hi".to_vec()),
                (1, "{\"action\":\"get\",\"é\"}".as_bytes().to_vec())
            ]
        );
    }

    #[test]
    fn violations_get_their_close_codes() {
        let mask = [9, 9, 9, 9];
        let case = |bytes: Vec<u8>, max: usize| {
            let mut reader = FrameReader::new(max);
            read_all(&mut reader, &bytes, bytes.len()).1
        };
        let unmasked = vec![0x81, 0x02, b'h', b'i'];
        let code = |v: Option<Violation>| v.map(|v| v.close_code());
        assert_eq!(code(case(unmasked, 100)), Some(1002));
        // too big from the header alone: no payload follows
        let mut header = client_frame(true, 2, &[], mask);
        header[1] = 0x80 | 127;
        header.splice(2..2, (10_000_000u64).to_be_bytes());
        assert_eq!(case(header, 64 * 1024), Some(Violation::TooBig));
        // fragments that add up past the limit
        let mut parts = client_frame(false, 2, &[0; 60], mask);
        parts.extend(client_frame(true, 0, &[0; 60], mask));
        assert_eq!(case(parts, 100), Some(Violation::TooBig));
        assert_eq!(
            case(client_frame(true, 1, &[0xC3, 0x28], mask), 100),
            Some(Violation::NotUtf8)
        );
        assert_eq!(
            code(case(client_frame(true, 3, b"", mask), 100)),
            Some(1002)
        );
        assert_eq!(
            code(case(client_frame(true, 0, b"x", mask), 100)),
            Some(1002)
        );
        assert_eq!(
            code(case(client_frame(false, 9, b"", mask), 100)),
            Some(1002)
        );
        assert_eq!(
            code(case(client_frame(true, 9, &[0; 126], mask), 200)),
            Some(1002)
        );
        assert_eq!(
            code(case(client_frame(true, 8, &[3], mask), 100)),
            Some(1002)
        );
        assert_eq!(
            code(case(
                client_frame(true, 8, &1005u16.to_be_bytes(), mask),
                100
            )),
            Some(1002)
        );
        let mut reserved = client_frame(true, 1, b"x", mask);
        reserved[0] |= 0x40;
        assert_eq!(code(case(reserved, 100)), Some(1002));
        let mut interleaved = client_frame(false, 1, b"a", mask);
        interleaved.extend(client_frame(true, 1, b"b", mask));
        assert_eq!(code(case(interleaved, 100)), Some(1002));
        // a close frame with a code and a reason is fine
        let mut close = 1001u16.to_be_bytes().to_vec();
        close.extend_from_slice(b"bye");
        let mut reader = FrameReader::new(100);
        let (seen, violation) = read_all(&mut reader, &client_frame(true, 8, &close, mask), 1);
        assert_eq!(
            (seen, violation),
            (vec![(8, 1001u16.to_be_bytes().to_vec())], None)
        );
    }

    #[test]
    fn a_server_frame_header_is_as_short_as_its_length_allows() {
        for (len, header) in [(0, 2), (125, 2), (126, 4), (65_535, 4), (65_536, 10)] {
            let mut out = Vec::new();
            write_frame(&mut out, Opcode::Binary, &vec![7; len]);
            assert_eq!(out.len(), header + len, "{len}");
            assert_eq!(out[0], 0x82);
        }
        let mut out = Vec::new();
        write_close(&mut out, 1009, &"é".repeat(100));
        assert_eq!(out[1] as usize, out.len() - 2);
        assert!(out.len() - 2 <= MAX_CONTROL_PAYLOAD);
        assert!(std::str::from_utf8(&out[4..]).is_ok(), "cut at a character");
    }

    #[test]
    fn the_read_buffer_is_given_back_after_a_large_message() {
        let mut reader = FrameReader::new(1 << 20);
        let big = client_frame(true, 2, &vec![1; 500_000], [5, 6, 7, 8]);
        let (seen, _) = read_all(&mut reader, &big, 100_000);
        assert_eq!(seen.len(), 1);
        reader.room();
        assert!(
            reader.buffer.capacity() <= KEEP_CAPACITY,
            "{}",
            reader.buffer.capacity()
        );
    }

    proptest! {
        /// Hostile bytes: never a panic, and never a message over the limit.
        #[test]
        fn any_bytes_in_any_split_are_read_or_refused(
            bytes in proptest::collection::vec(any::<u8>(), 0..2048),
            chunk in 1usize..64,
        ) {
            let mut reader = FrameReader::new(256);
            let (seen, _) = read_all(&mut reader, &bytes, chunk);
            prop_assert!(seen.iter().all(|(_, payload)| payload.len() <= 256));
        }

        /// Well-formed messages, fragmented at random and split at random, come out whole.
        #[test]
        fn random_messages_round_trip(
            messages in proptest::collection::vec(
                (proptest::collection::vec(any::<u8>(), 0..300), 1usize..4, any::<[u8; 4]>()),
                1..8,
            ),
            chunk in 1usize..512,
        ) {
            let mut bytes = Vec::new();
            for (payload, pieces, mask) in &messages {
                let size = payload.len().div_ceil(*pieces).max(1);
                let parts: Vec<&[u8]> = if payload.is_empty() {
                    vec![&[]]
                } else {
                    payload.chunks(size).collect()
                };
                for (index, part) in parts.iter().enumerate() {
                    let opcode = if index == 0 { 2 } else { 0 };
                    bytes.extend(client_frame(index + 1 == parts.len(), opcode, part, *mask));
                }
            }
            let mut reader = FrameReader::new(4096);
            let (seen, violation) = read_all(&mut reader, &bytes, chunk);
            prop_assert_eq!(violation, None);
            let expected: Vec<(u8, Vec<u8>)> =
                messages.into_iter().map(|(payload, _, _)| (2, payload)).collect();
            prop_assert_eq!(seen, expected);
        }
    }
}

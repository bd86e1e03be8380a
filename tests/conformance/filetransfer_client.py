"""A VISS file-transfer data-channel client, written from the specification alone:
viss-core.md §10 (CORE Appendix C "File transfer", non-normative) and §18 Q12/Q13. It knows
nothing of the server under test beyond the wire rules below; where the spec is silent they
are the choices the server documents.

Wire rules
* Integers are big-endian (VISSR's choice; the spec does not say, §18-Q13).
* Data message: `uid`(4) `messageNo`(1) `chunkSize`(4) `lastMessage`(1), then the chunk.
  `chunkSize` = chunk length + 10: the spec counts the 10-byte header (VISSR does not,
  §18-Q12). `lastMessage` 0 = more follow, non-zero = the last one. A 0-byte file is one
  data message with an empty chunk (`chunkSize` 10) and `lastMessage` 1.
* Status message: `uid`(4) `messageNo`(1) `status`(1), 6 bytes: 0 = received OK,
  non-zero = error (resend that message), 255 = terminate the session at once.
* `uid`: the descriptor's 8-hex-char string, sent as the uint32 it spells.
* More than 255 chunks (the spec's gap, §18-Q13): `messageNo` = chunk index mod 255, so
  0..254 and then 0 again; 255 is reserved (the upload's start status, the abort message).
  The transfer is stop-and-wait (a sender waits for the status of each message before it
  sends the next), so a number that wrapped is never ambiguous.
* Download (client -> vehicle), once the control-channel `set` succeeded: the client sends
  the data messages one by one and waits for a status for each. A non-zero status means
  resend that message; a second error for the same message means give up; 255 means stop
  at once.
* Upload (vehicle -> client), once the `get` returned the descriptor (server-chosen uid):
  the client starts with the status messageNo=255 status=0, the server sends data message
  0, the client acks each data message with status 0 (or a non-zero status to have it
  sent again). Its status 0 for the last data message is answered by a header-only message
  with `chunkSize` 0, which ends the session.
* Abort: either sender may send a header-only data message with messageNo=255, chunkSize=0,
  lastMessage=1; the receiver answers status 0 for messageNo 255. The receiver of an
  upload (this client) stops one by answering a data message with status 255 ("terminate
  the session immediately"), which is not answered.

A receiver can only detect damage per message by a length mismatch (the spec has no
per-chunk checksum): a message whose chunk length + 10 differs from its `chunkSize`. The
whole file is checked by its SHA-1 (the descriptor's `hash`).

Every wait is bounded (TIMEOUT_S unless told) and so is every loop.
"""

import collections
import hashlib
import itertools
import secrets
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import websocket

TIMEOUT_S = 10.0  # any single message; loopback answers take milliseconds

DATA_HEADER = struct.Struct(">IBIB")  # uid, messageNo, chunkSize, lastMessage
STATUS_MESSAGE = struct.Struct(">IBB")  # uid, messageNo, status
HEADER_BYTES = DATA_HEADER.size  # 10
STATUS_BYTES = STATUS_MESSAGE.size  # 6

RESERVED_NO = 255  # messageNo of the upload's start status and of the abort message
NUMBERS = 255  # data messages count 0..254, then start again at 0
OK = 0
RESEND = 1  # the non-zero status this client sends to have a message sent again
TERMINATE = 255

MAX_CHUNKS = 100_000  # bounds the upload loop (100 MB at 1 KiB chunks)


class ChannelError(AssertionError):
    """Something on the data channel that a test should report as a failure."""


class ProtocolError(ChannelError):
    """The peer broke the wire rules (a message that fits neither layout, one that was not
    expected at this point of a stop-and-wait exchange)."""


class ChannelClosed(ChannelError):
    pass


class NoMessage(ChannelError):
    """Nothing arrived within the timeout."""


@dataclass(frozen=True)
class Status:
    uid: int
    message_no: int
    status: int

    @property
    def uid_hex(self) -> str:
        return f"{self.uid:08x}"

    def __str__(self) -> str:
        return f"status uid={self.uid_hex} no={self.message_no} status={self.status}"


@dataclass(frozen=True)
class Data:
    uid: int
    message_no: int
    chunk_size: int  # as the header says
    last: int  # the lastMessage byte
    chunk: bytes

    @property
    def uid_hex(self) -> str:
        return f"{self.uid:08x}"

    @property
    def is_last(self) -> bool:
        return self.last != 0

    @property
    def header_only(self) -> bool:
        """chunkSize 0: the upload's end-of-session message, or an abort."""
        return self.chunk_size == 0 and not self.chunk

    @property
    def is_abort(self) -> bool:
        return self.header_only and self.message_no == RESERVED_NO and self.is_last

    @property
    def length_ok(self) -> bool:
        return self.chunk_size == len(self.chunk) + HEADER_BYTES

    def __str__(self) -> str:
        return (f"data uid={self.uid_hex} no={self.message_no} chunkSize={self.chunk_size} "
                f"last={self.last} chunk={len(self.chunk)} B")


Message = Data | Status


def sha1_hex(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def new_uid() -> str:
    """A random uint32 as 8 lowercase hex characters (a client-chosen download uid)."""
    return f"{secrets.randbits(32):08x}"


def uid_number(uid: str | int) -> int:
    """The uint32 a uid spells: an 8-hex-char string (as in a descriptor) or the number."""
    if isinstance(uid, int):
        if not 0 <= uid < 2**32:
            raise ValueError(f"uid {uid} is not a uint32")
        return uid
    if len(uid) != 8 or any(c not in "0123456789abcdefABCDEF" for c in uid):
        raise ValueError(f"uid {uid!r} is not 8 hex characters")
    return int(uid, 16)


def message_no(index: int) -> int:
    """The messageNo of chunk `index` (0..254, wrapping; 255 is reserved)."""
    return index % NUMBERS


def split_chunks(data: bytes, chunk_bytes: int) -> list[bytes]:
    """The chunks a file is sent in: one empty chunk for a 0-byte file."""
    if chunk_bytes <= 0:
        raise ValueError(f"chunk size {chunk_bytes}")
    return [data[at:at + chunk_bytes] for at in range(0, len(data), chunk_bytes)] or [b""]


def runs(values) -> str:
    """[0, 0, 0, 1, 0] as "[0 x3, 1, 0]": long status lists stay readable in failures."""
    parts = []
    for value, group in itertools.groupby(values):
        count = len(list(group))
        parts.append(f"{value} x{count}" if count > 1 else str(value))
    return "[" + ", ".join(parts) + "]"


def parse(frame: bytes) -> Message:
    """A received binary message: 6 bytes are a status, 10 or more a data message."""
    if len(frame) == STATUS_BYTES:
        return Status(*STATUS_MESSAGE.unpack(frame))
    if len(frame) >= HEADER_BYTES:
        uid, number, chunk_size, last = DATA_HEADER.unpack_from(frame)
        return Data(uid, number, chunk_size, last, bytes(frame[HEADER_BYTES:]))
    raise ProtocolError(f"a {len(frame)}-byte message is neither a status ({STATUS_BYTES} B) "
                        f"nor a data message (>= {HEADER_BYTES} B): {bytes(frame).hex()}")


class DataChannel:
    """One binary WebSocket connection to the data channel (wss with the CA `cert`)."""

    def __init__(self, url: str, cert: Path | str | None = None, timeout: float = TIMEOUT_S,
                 token: str | None = None):
        """`token`: sent as `Authorization: Bearer` in the handshake (the server's rule for
        the data channel of nodes it protects; App. C leaves this open)."""
        self.url = url
        self.timeout = timeout
        self.transcript: collections.deque[str] = collections.deque(maxlen=20)
        sslopt = {"ca_certs": str(cert)} if url.startswith("wss://") and cert else None
        header = [f"Authorization: Bearer {token}"] if token else None
        self.ws = websocket.create_connection(url, sslopt=sslopt, timeout=timeout, header=header)

    def __enter__(self) -> "DataChannel":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.ws.close(timeout=1)
        except (OSError, websocket.WebSocketException):
            pass

    def tail(self) -> str:
        """The last messages both ways, for failure messages."""
        return "\ndata channel, last messages:\n  " + "\n  ".join(self.transcript)

    # -- sending --------------------------------------------------------------------------

    def send_data(self, uid: str | int, no: int, chunk: bytes, last: bool | int,
                  chunk_size: int | None = None) -> None:
        """A data message; `chunk_size` overrides the correct chunkSize (chunk length + 10)."""
        size = len(chunk) + HEADER_BYTES if chunk_size is None else chunk_size
        header = DATA_HEADER.pack(uid_number(uid), no, size, int(last))
        self._send(header + bytes(chunk), f"data uid={uid_number(uid):08x} no={no} chunkSize={size} "
                                          f"last={int(last)} chunk={len(chunk)} B")

    def send_abort(self, uid: str | int) -> None:
        """The header-only abort message: messageNo 255, chunkSize 0, lastMessage 1."""
        self.send_data(uid, RESERVED_NO, b"", 1, chunk_size=0)

    def send_status(self, uid: str | int, no: int, status: int) -> None:
        frame = STATUS_MESSAGE.pack(uid_number(uid), no, status)
        self._send(frame, str(Status(uid_number(uid), no, status)))

    def _send(self, frame: bytes, description: str) -> None:
        self.transcript.append(f"-> {description}")
        try:
            self.ws.send_binary(frame)
        except (OSError, websocket.WebSocketException) as error:
            raise ChannelClosed(f"cannot send on the data channel: {error!r}{self.tail()}") from error

    # -- receiving ------------------------------------------------------------------------

    def poll(self, timeout: float | None = None) -> Message | None:
        """The next message, or None when nothing arrives within `timeout`. Raises
        ChannelClosed when the peer closes, ProtocolError for a non-binary frame."""
        timeout = self.timeout if timeout is None else timeout
        self.ws.settimeout(timeout)
        try:
            opcode, payload = self.ws.recv_data()
        except websocket.WebSocketTimeoutException:
            return None
        except (OSError, websocket.WebSocketException) as error:
            raise ChannelClosed(f"the data channel closed: {error!r}{self.tail()}") from error
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            raise ChannelClosed(f"the server closed the data channel: {bytes(payload)!r}{self.tail()}")
        if opcode != websocket.ABNF.OPCODE_BINARY:
            raise ProtocolError(f"a non-binary frame (opcode {opcode}) on the data channel: "
                                f"{bytes(payload)[:100]!r}{self.tail()}")
        message = parse(payload)
        self.transcript.append(f"<- {message}")
        return message

    def recv(self, timeout: float | None = None) -> Message:
        timeout = self.timeout if timeout is None else timeout
        message = self.poll(timeout)
        if message is None:
            raise NoMessage(f"nothing on the data channel within {timeout} s{self.tail()}")
        return message

    def recv_status(self, timeout: float | None = None) -> Status:
        message = self.recv(timeout)
        if not isinstance(message, Status):
            raise ProtocolError(f"expected a status, got {message}{self.tail()}")
        return message


# -- download: client -> vehicle ----------------------------------------------------------

@dataclass(frozen=True)
class Exchange:
    """One data message the client sent and the status it got."""
    index: int | None  # the chunk index; None for the abort message
    message_no: int
    damaged: bool  # sent truncated by one byte (chunkSize claiming the full length)
    status: Status


@dataclass(repr=False)
class DownloadResult:
    outcome: str = "unfinished"  # "ok" | "gave_up" | "terminated" | "aborted"
    chunks: int = 0
    exchanges: list[Exchange] = field(default_factory=list)
    retransmissions: list[int] = field(default_factory=list)  # chunk indices sent again

    def __repr__(self) -> str:
        return (f"DownloadResult(outcome={self.outcome!r}, chunks={self.chunks}, "
                f"statuses={runs(self.statuses)}, retransmissions={self.retransmissions})")

    @property
    def statuses(self) -> list[int]:
        """Every status value received, in order."""
        return [exchange.status.status for exchange in self.exchanges]

    def statuses_of(self, index: int) -> list[int]:
        """The status values received for chunk `index`, in order."""
        return [exchange.status.status for exchange in self.exchanges if exchange.index == index]


def damaged(chunk: bytes) -> tuple[bytes, int]:
    """(chunk as it arrives, chunkSize the header claims) of a message damaged in transit:
    one byte short of what chunkSize says. An empty chunk claims one byte it lacks."""
    if not chunk:
        return b"", HEADER_BYTES + 1
    return chunk[:-1], len(chunk) + HEADER_BYTES


def download(channel: DataChannel, uid_hex: str, data: bytes, chunk_bytes: int,
             corrupt: frozenset[int] | set[int] = frozenset(), abort_after: int | None = None,
             on_ack: Callable[[int], None] | None = None) -> DownloadResult:
    """Sends `data` as the download `uid_hex` (its set must have succeeded) in chunks of
    `chunk_bytes`. The first transmission of each chunk index in `corrupt` is damaged
    (see `damaged`); with `abort_after` = n the client aborts instead of sending chunk n.
    `on_ack(index)` runs after each chunk got status 0."""
    chunks = split_chunks(data, chunk_bytes)
    if abort_after is not None and not 0 <= abort_after < len(chunks):
        raise ValueError(f"abort_after {abort_after}: the file has {len(chunks)} chunks")
    uid = uid_number(uid_hex)
    result = DownloadResult(chunks=len(chunks))
    for index, chunk in enumerate(chunks):
        if index == abort_after:
            channel.send_abort(uid)
            status = _await_status(channel, uid, RESERVED_NO)
            result.exchanges.append(Exchange(None, RESERVED_NO, False, status))
            result.outcome = "aborted"
            return result
        number = message_no(index)
        last = index == len(chunks) - 1
        for attempt in range(2):  # the first sending and one resend
            broken = attempt == 0 and index in corrupt
            if attempt:
                result.retransmissions.append(index)
            if broken:
                sent, claimed = damaged(chunk)
                channel.send_data(uid, number, sent, last, chunk_size=claimed)
            else:
                channel.send_data(uid, number, chunk, last)
            status = _await_status(channel, uid, number)
            result.exchanges.append(Exchange(index, number, broken, status))
            if status.status == TERMINATE:
                result.outcome = "terminated"
                return result
            if status.status == OK:
                break
        else:
            result.outcome = "gave_up"  # a second error for the same message
            return result
        if on_ack is not None:
            on_ack(index)
    result.outcome = "ok"
    return result


def _await_status(channel: DataChannel, uid: int, number: int) -> Status:
    """The status for the message just sent. A terminating status may name any message;
    any other must be for this uid and messageNo (stop-and-wait: nothing else is open)."""
    status = channel.recv_status()
    if status.status != TERMINATE and (status.uid, status.message_no) != (uid, number):
        raise ProtocolError(f"expected the status of uid {uid:08x} message {number}, "
                            f"got {status}{channel.tail()}")
    return status


# -- upload: vehicle -> client ------------------------------------------------------------

@dataclass(repr=False)
class UploadResult:
    outcome: str = "unfinished"  # "ok" | "aborted" | "aborted_by_server" | "terminated" | "gave_up"
    data: bytes = b""  # the accepted chunks, joined
    messages: list[Data] = field(default_factory=list)  # every data message received, in order
    accepted: list[Data] = field(default_factory=list)  # the data messages whose chunk was kept
    sent: list[Status] = field(default_factory=list)  # every status the client sent, the start first
    nacked: list[int] = field(default_factory=list)  # chunk indices answered with a non-zero status
    end: Data | None = None  # the end-of-session or abort message
    terminating: Status | None = None  # the server's status 255, if it sent one

    def __repr__(self) -> str:
        return (f"UploadResult(outcome={self.outcome!r}, bytes={len(self.data)}, "
                f"messages={len(self.messages)}, nacked={self.nacked}, "
                f"sent={runs(status.status for status in self.sent)}, end={self.end}, "
                f"terminating={self.terminating})")


def upload(channel: DataChannel, uid_hex: str, nack: frozenset[int] | set[int] = frozenset(),
           abort_after: int | None = None, on_chunk: Callable[[int], None] | None = None,
           max_chunks: int = MAX_CHUNKS) -> UploadResult:
    """Receives the upload `uid_hex` (its get returned the descriptor). The first arrival
    of each chunk index in `nack` is answered with a non-zero status (to be sent again);
    with `abort_after` = n the client answers data message n with status 255 (terminate)
    instead of keeping it. `on_chunk(index)` runs when a chunk is kept, before its ack."""
    uid = uid_number(uid_hex)
    result = UploadResult()

    def answer(number: int, status: int) -> None:
        channel.send_status(uid, number, status)
        result.sent.append(Status(uid, number, status))

    answer(RESERVED_NO, OK)  # start
    errors = 0  # for the chunk now expected
    for _ in range(2 * max_chunks + 1):  # each chunk is sent at most twice
        message = channel.recv()
        if isinstance(message, Status):
            if message.status == TERMINATE:
                result.terminating = message
                result.outcome = "terminated"
                break
            raise ProtocolError(f"a status from the sender of an upload: {message}{channel.tail()}")
        result.messages.append(message)
        if message.uid != uid:
            raise ProtocolError(f"data for uid {message.uid_hex} in upload {uid:08x}{channel.tail()}")
        if message.is_abort:
            result.end = message
            answer(RESERVED_NO, OK)
            result.outcome = "aborted_by_server"
            break
        index = len(result.accepted)
        number = message_no(index)
        if message.message_no != number:
            raise ProtocolError(f"expected data message {number} (chunk {index}), got "
                                f"{message}{channel.tail()}")
        if index == abort_after:
            answer(number, TERMINATE)
            result.outcome = "aborted"
            break
        wanted_again = index in nack and index not in result.nacked
        if not message.length_ok or wanted_again:
            errors += 1
            if errors >= 2:
                answer(number, TERMINATE)
                result.outcome = "gave_up"
                break
            if wanted_again:
                result.nacked.append(index)
            answer(number, RESEND)
            continue
        errors = 0
        result.accepted.append(message)
        if on_chunk is not None:
            on_chunk(index)
        answer(number, OK)
        if message.is_last:
            end = channel.recv()
            if not (isinstance(end, Data) and end.header_only and end.uid == uid):
                raise ProtocolError(f"expected the header-only end of upload {uid:08x}, got "
                                    f"{end}{channel.tail()}")
            result.messages.append(end)
            result.end = end
            result.outcome = "ok"
            break
    else:
        raise ProtocolError(f"upload {uid:08x} did not end within {2 * max_chunks + 1} messages")
    result.data = b"".join(message.chunk for message in result.accepted)
    return result

"""VISS file transfer (viss-core.md §10, CORE Appendix C) on the demo car, from outside: the
control channel sets and gets `Types.Resources.FileDescriptor` leaves, and the binary data
channel is spoken by filetransfer_client.py, a client written from the spec alone (its
docstring has the wire rules, big-endian, chunkSize with the header, messageNo mod 255).

The client finds the data channel as a real one would: `Server.Support.Filetransfer` and
the port in `Server.Config.Protocol.Websocket.FileTransfer.PortNum`, on the control
channel's scheme, host and CA certificate.

* Download (client -> vehicle) on the actuator Vehicle.Navigation.MapFile: the file lands in
  <--filetransfer-dir>/<VSS path>/<name> only when complete with the right SHA-1 (never
  visible under that name before), byte for byte. Sizes: 0 B, 1 B, one chunk, many chunks,
  more than 255 chunks (messageNo wraps). A damaged chunk is resent; a wrong hash, an abort,
  a message damaged twice or a file over --filetransfer-max-bytes leave nothing; names that
  could leave the directory and uids in use are refused by the set (400).
* Upload (vehicle -> client) on the sensor Vehicle.Cabin.DashCamClip: the --upload file as
  it is at the get (the tests rewrite it before each get), in --filetransfer-chunk-bytes
  chunks. Aborts from either side; a fresh uid per get.
* Unknown uids get status 255; a server without --filetransfer-dir does not advertise it.
"""

import functools
import os
import random
import time
from pathlib import Path

import pytest
import websocket

import wire
from filetransfer_client import (HEADER_BYTES, OK, RESERVED_NO, TERMINATE, ChannelClosed, Data,
                                 DataChannel, Status, download, message_no, new_uid, sha1_hex, split_chunks,
                                 uid_number, upload)
from flags import (FILETRANSFER_CHUNK_BYTES, FILETRANSFER_DIR, FILETRANSFER_MAX_BYTES,
                   FILETRANSFER_PORT, UPLOAD)

MAP_FILE = "Vehicle.Navigation.MapFile"  # actuator Types.Resources.FileDescriptor: download
DASH_CAM = "Vehicle.Cabin.DashCamClip"  # sensor Types.Resources.FileDescriptor: upload
SUPPORT_NODE = "Server.Support.Filetransfer"
PORT_NODE = "Server.Config.Protocol.Websocket.FileTransfer.PortNum"

CHUNK = 1024  # the client's download chunks and the server's upload chunks
MAX_BYTES = 320 * CHUNK  # --filetransfer-max-bytes: the 300-chunk file fits
SIZES = {
    "empty": 0,
    "1-byte": 1,
    "1-chunk": CHUNK,
    "many-chunks": 10 * CHUNK + 17,
    "300-chunks": 300 * CHUNK,  # messageNo 0..254, then 0..44
}

# The server's statuses (0 OK and 255 terminate are the spec's).
STATUS_LENGTH = 1  # the message's length differs from its chunkSize: resend
STATUS_NUMBER = 2  # an unexpected messageNo
STATUS_HASH = 3  # the SHA-1 of the whole file differs (the answer to the last message)
STATUS_TOO_BIG = 4  # larger than --filetransfer-max-bytes

LANDING_S = 2.0  # the last status 0 and the file's move into place may race
DRAIN_S = 0.3  # how long "nothing more arrives" is watched


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> Path:
    """--filetransfer-dir, alone in its parent (which must never get another entry)."""
    folder = tmp_path_factory.mktemp("filetransfer") / "files"
    folder.mkdir()
    return folder


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Path:
    """The file DashCamClip serves; rewritten before each get."""
    path = tmp_path_factory.mktemp("served") / "clip.mp4"
    path.write_bytes(b"dash cam")
    return path


@pytest.fixture(scope="module")
def server(launch, files, served):
    return launch.demo_car(FILETRANSFER_DIR, str(files), FILETRANSFER_PORT, "0",
                           UPLOAD, f"{DASH_CAM}={served}", FILETRANSFER_MAX_BYTES, str(MAX_BYTES),
                           FILETRANSFER_CHUNK_BYTES, str(CHUNK))


@pytest.fixture(scope="module")
def plain_server(launch):
    return launch.demo_car()


@pytest.fixture(scope="module")
def data_url(server) -> str:
    """The data channel's URL as a client discovers it: the advertised port on the control
    channel's scheme and host."""
    with server.client() as client:
        port = read(client, PORT_NODE)
    assert isinstance(port, str) and wire.JSON_INTEGER.match(port) and 0 < int(port) < 65536, (
        f"{PORT_NODE} is not a port: {port!r}")
    scheme, _, rest = server.endpoints.ws_url.partition("://")
    host = rest.split("/", 1)[0].rsplit(":", 1)[0]
    return f"{scheme}://{host}:{int(port)}"


@pytest.fixture(scope="module")
def connect(server, data_url):
    """Opens a data channel (with the server's CA certificate); one per transfer."""
    return functools.partial(DataChannel, data_url, server.endpoints.cert)


# -- helpers ------------------------------------------------------------------------------

def payload(size: int, seed: str = "") -> bytes:
    """`size` reproducible pseudo-random bytes."""
    return random.Random(f"{seed}/{size}").randbytes(size)


def unique_name(extension: str = "kml") -> str:
    return f"map-{new_uid()}.{extension}"


def read(client, path):
    return wire.single_value(client.request({"action": "get", "path": path}))


def set_descriptor(ws, descriptor: dict) -> dict:
    return ws.request({"action": "set", "path": MAP_FILE, "value": descriptor})


def start_download(ws, data: bytes, name: str | None = None, hash_: str | None = None) -> dict:
    """The set that opens a download of `data` (its hash unless told); the descriptor."""
    descriptor = {"name": name or unique_name(), "hash": hash_ or sha1_hex(data), "uid": new_uid()}
    wire.assert_success(set_descriptor(ws, descriptor))
    return descriptor


def landed(files: Path, name: str) -> Path:
    return files / MAP_FILE / name


def appears(path: Path, timeout: float = LANDING_S) -> bool:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def watch_absent(target: Path, chunks: int):
    """An on_ack hook and the chunk indices before the last at which `target` was already
    there (the partial file must never be visible under its name)."""
    early: list[int] = []

    def on_ack(index: int) -> None:
        if index < chunks - 1 and target.exists():
            early.append(index)

    return on_ack, early


def check_descriptor(value: object) -> dict:
    assert isinstance(value, dict) and set(value) == {"name", "hash", "uid"}, (
        f"not a Types.Resources.FileDescriptor: {value!r}")
    assert all(isinstance(member, str) for member in value.values()), value
    uid_number(value["uid"])  # 8 hex characters
    assert len(value["hash"]) == 40 and all(c in "0123456789abcdef" for c in value["hash"].lower()), (
        f"hash is not a SHA-1 in hex: {value}")
    return value


def serve(ws, served: Path, data: bytes) -> dict:
    """Rewrites the served file in place and gets its upload descriptor."""
    served.write_bytes(data)
    return check_descriptor(read(ws, DASH_CAM))


def drain(channel: DataChannel, seconds: float) -> list:
    """Whatever arrives within `seconds` (until the channel closes)."""
    deadline = time.monotonic() + seconds
    arrived = []
    while (remaining := deadline - time.monotonic()) > 0:
        try:
            message = channel.poll(remaining)
        except ChannelClosed:
            break  # nothing more can arrive
        if message is None:
            break
        arrived.append(message)
    return arrived


def assert_download_dropped(connect, uid: str, first_chunk: bytes, last: bool) -> None:
    """The server no longer knows `uid`: a correct message 0, which an open download would
    take, gets status 255."""
    with connect() as channel:
        channel.send_data(uid, 0, first_chunk, last)
        answer = channel.recv()
    assert isinstance(answer, Status) and answer.status == TERMINATE, (
        f"download {uid} is still open: {answer}")


def assert_upload_dropped(connect, uid: str) -> None:
    """The server no longer knows `uid`: a start, which an open upload would answer with
    data, gets status 255."""
    with connect() as channel:
        channel.send_status(uid, RESERVED_NO, OK)
        answer = channel.recv()
    assert isinstance(answer, Status) and answer.status == TERMINATE, (
        f"upload {uid} is still open: {answer}")


def new_entries(folder: Path, before: set[str]) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")} - before


def entries(folder: Path) -> set[str]:
    return new_entries(folder, set())


# -- discovery ----------------------------------------------------------------------------

def test_the_server_tree_advertises_file_transfer_and_its_port(server, ws, connect):
    assert sorted(read(ws, SUPPORT_NODE)) == ["download", "upload"]
    port = int(read(ws, PORT_NODE))
    assert port not in (server.ws_port, server.http_port, server.endpoints.grpc_port)
    with connect():  # the advertised port serves the data channel, TLS with the same CA
        pass


def test_a_server_without_a_transfer_directory_does_not_advertise_it(plain_server):
    with plain_server.client() as client:
        wire.assert_error(client.request({"action": "get", "path": SUPPORT_NODE}), "404")


# -- download -----------------------------------------------------------------------------

@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_a_download_lands_byte_for_byte(ws, connect, files, size):
    data = payload(size, "download")
    descriptor = start_download(ws, data)
    target = landed(files, descriptor["name"])
    chunks = len(split_chunks(data, CHUNK))
    on_ack, early = watch_absent(target, chunks)
    with connect() as channel:
        result = download(channel, descriptor["uid"], data, CHUNK, on_ack=on_ack)
    assert result.outcome == "ok", result
    assert result.statuses == [OK] * chunks, result
    # Each status names the message it answers; past 254 the numbers start again at 0.
    assert [exchange.status.message_no for exchange in result.exchanges] == [message_no(i) for i in range(chunks)]
    assert early == [], f"the partial file was visible under its name after chunks {early[:5]}"
    assert appears(target), f"{target} is not there after the last status 0"
    assert target.read_bytes() == data


def test_the_descriptor_is_read_back_after_a_download(ws, connect):
    data = payload(3 * CHUNK + 5, "read back")
    descriptor = start_download(ws, data)
    with connect() as channel:
        result = download(channel, descriptor["uid"], data, CHUNK)
    assert result.outcome == "ok", result
    assert read(ws, MAP_FILE) == descriptor


def test_the_longest_allowed_name_lands(ws, connect, files):
    name = f"{new_uid()}-{'x' * 242}.kml"
    assert len(name.encode()) == 255
    data = payload(10, "long name")
    descriptor = start_download(ws, data, name=name)
    with connect() as channel:
        assert download(channel, descriptor["uid"], data, CHUNK).outcome == "ok"
    assert appears(landed(files, name)) and landed(files, name).read_bytes() == data


# (file size, index of the damaged chunk); chunks of CHUNK bytes.
DAMAGED = {
    "first": (5 * CHUNK + 100, 0),
    "middle": (5 * CHUNK + 100, 2),
    "last": (5 * CHUNK + 100, 5),
    "after-the-wrap": (259 * CHUNK + 100, 257),  # messageNo 2 the second time round
    "empty-file": (0, 0),
}


@pytest.mark.parametrize("size, index", DAMAGED.values(), ids=DAMAGED.keys())
def test_a_damaged_chunk_is_resent_and_the_download_succeeds(ws, connect, files, size, index):
    """A message one byte short of its chunkSize gets status 1; the intact resend gets 0."""
    data = payload(size, "damaged")
    chunks = len(split_chunks(data, CHUNK))
    descriptor = start_download(ws, data)
    with connect() as channel:
        result = download(channel, descriptor["uid"], data, CHUNK, corrupt={index})
    assert result.statuses_of(index) == [STATUS_LENGTH, OK], result
    assert result.statuses == [OK] * index + [STATUS_LENGTH, OK] + [OK] * (chunks - index - 1), result
    assert result.retransmissions == [index]
    assert result.outcome == "ok", result
    target = landed(files, descriptor["name"])
    assert appears(target) and target.read_bytes() == data


def test_a_message_damaged_twice_ends_the_transfer(ws, connect, files):
    data = payload(2 * CHUNK, "twice")
    descriptor = start_download(ws, data)
    uid, first = descriptor["uid"], data[:CHUNK]
    with connect() as channel:
        channel.send_data(uid, 0, first[:-1], False, chunk_size=CHUNK + HEADER_BYTES)
        assert channel.recv_status() == Status(uid_number(uid), 0, STATUS_LENGTH)
        channel.send_data(uid, 0, first[:-1], False, chunk_size=CHUNK + HEADER_BYTES)
        answer = channel.recv_status()
        if answer.status != TERMINATE:  # the error, then the termination
            assert answer.status == STATUS_LENGTH, answer
            answer = channel.recv_status()
        assert answer.status == TERMINATE, answer
    assert not landed(files, descriptor["name"]).exists()
    assert_download_dropped(connect, uid, first, last=False)


def test_an_unexpected_message_number_is_status_2(ws, connect, files):
    data = payload(3 * CHUNK, "order")
    descriptor = start_download(ws, data)
    with connect() as channel:
        channel.send_data(descriptor["uid"], 1, data[CHUNK:2 * CHUNK], False)  # 0 is due
        status = channel.recv_status()
        assert (status.uid_hex, status.status) == (descriptor["uid"], STATUS_NUMBER), status
        result = download(channel, descriptor["uid"], data, CHUNK)  # from 0, as it should be
    assert result.outcome == "ok", result
    target = landed(files, descriptor["name"])
    assert appears(target) and target.read_bytes() == data


def test_a_wrong_hash_is_reported_on_the_last_message_and_nothing_is_kept(ws, connect, files):
    data = payload(3 * CHUNK + 1, "hash")
    descriptor = start_download(ws, data, hash_=sha1_hex(data + b"!"))
    with connect() as channel:
        result = download(channel, descriptor["uid"], data, CHUNK)
    assert result.statuses[:3] == [OK] * 3, result
    assert result.statuses_of(3)[0] == STATUS_HASH, result
    assert result.outcome in ("gave_up", "terminated"), result
    assert not landed(files, descriptor["name"]).exists()


def test_a_client_abort_of_a_download_is_answered_and_nothing_is_kept(ws, connect, files):
    data = payload(10 * CHUNK, "abort")
    descriptor = start_download(ws, data)
    target = landed(files, descriptor["name"])
    on_ack, early = watch_absent(target, 10)
    with connect() as channel:
        result = download(channel, descriptor["uid"], data, CHUNK, abort_after=4, on_ack=on_ack)
    assert result.outcome == "aborted", result
    assert result.statuses == [OK] * 5, result  # four chunks and the abort
    assert result.exchanges[-1].status == Status(uid_number(descriptor["uid"]), RESERVED_NO, OK)
    assert early == [] and not target.exists()
    assert_download_dropped(connect, descriptor["uid"], data[:CHUNK], last=False)


def test_data_for_an_unknown_uid_gets_status_255(connect):
    with connect() as channel:
        result = download(channel, new_uid(), b"no such transfer", CHUNK)
    assert result.outcome == "terminated", result
    assert result.statuses == [TERMINATE]


def test_the_data_channel_answers_pings_ignores_text_and_closes_on_bad_utf8(connect):
    """RFC 6455 on the data channel: a ping's payload comes back in a pong, a text frame
    (not this channel's) is ignored and the channel lives on; text that is not UTF-8 is
    answered with close code 1007."""
    with connect() as channel:
        channel.ws.ping(b"still there?")
        opcode, frame = channel.ws.recv_data_frame(True)
        assert (opcode, frame.data) == (websocket.ABNF.OPCODE_PONG, b"still there?")
        channel.ws.send("not a data-channel message")
        result = download(channel, new_uid(), b"after the text frame", CHUNK)
        assert result.statuses == [TERMINATE], result
        channel.ws.send_frame(websocket.ABNF.create_frame(b"\xff\xfe", websocket.ABNF.OPCODE_TEXT))
        opcode, frame = channel.ws.recv_data_frame(True)
        assert opcode == websocket.ABNF.OPCODE_CLOSE
        assert int.from_bytes(frame.data[:2], "big") == 1007, frame.data


def test_a_download_of_max_bytes_lands(ws, connect, files):
    data = payload(MAX_BYTES, "limit")
    descriptor = start_download(ws, data)
    with connect() as channel:
        result = download(channel, descriptor["uid"], data, 8 * CHUNK)
    assert result.outcome == "ok", result
    target = landed(files, descriptor["name"])
    assert appears(target) and target.read_bytes() == data


def test_a_download_over_max_bytes_is_refused_with_status_4(ws, connect, files):
    data = payload(MAX_BYTES + 1, "limit")
    descriptor = start_download(ws, data)
    with connect() as channel:
        result = download(channel, descriptor["uid"], data, 8 * CHUNK)
    errors = [status for status in result.statuses if status != OK]
    assert errors and errors[0] == STATUS_TOO_BIG, result
    assert result.outcome in ("gave_up", "terminated"), result
    assert not landed(files, descriptor["name"]).exists()


BAD_NAMES = {
    "parent-escape": "../../etc/passwd",
    "absolute": "/etc/passwd",
    "dot-dot": "..",
    "dot": ".",
    "subfolder": "a/b.kml",
    "backslash": "a\\b.kml",
    "hidden": ".hidden",
    "empty": "",
    "256-bytes": "x" * 252 + ".kml",
    "space": "map file.kml",
    "non-ascii": "kärta.kml",
    "nul": "map\x00.kml",
}


def stat_of(path: Path) -> tuple | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    return status.st_size, status.st_mtime_ns, status.st_ino


@pytest.mark.parametrize("name", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_a_name_that_could_leave_the_directory_is_refused(ws, connect, files, tmp_path_factory, name):
    """The set is 400, no transfer opens and nothing is written: not in the directory, not
    beside it, no `passwd` anywhere under the tests' temporary folder, /etc/passwd untouched."""
    files_before, system_passwd = entries(files), stat_of(Path("/etc/passwd"))
    data = b"root:x:0:0:root:/root:/bin/sh\n"
    descriptor = {"name": name, "hash": sha1_hex(data), "uid": new_uid()}
    wire.assert_error(set_descriptor(ws, descriptor), "400")
    with connect() as channel:
        result = download(channel, descriptor["uid"], data, CHUNK)
    assert (result.outcome, result.statuses) == ("terminated", [TERMINATE]), result
    assert new_entries(files, files_before) == set()
    assert [entry.name for entry in files.parent.iterdir()] == [files.name], "an entry beside the directory"
    assert not list(tmp_path_factory.getbasetemp().rglob("passwd"))
    assert stat_of(Path("/etc/passwd")) == system_passwd


def test_a_uid_of_a_pending_download_is_refused(ws, connect, files):
    data = payload(2 * CHUNK, "pending")
    first = start_download(ws, data)
    other = b"another map"
    second = {"name": unique_name(), "hash": sha1_hex(other), "uid": first["uid"]}
    wire.assert_error(set_descriptor(ws, second), "400")
    with connect() as channel:  # the pending transfer is still the first one
        result = download(channel, first["uid"], data, CHUNK)
    assert result.outcome == "ok", result
    assert appears(landed(files, first["name"])) and landed(files, first["name"]).read_bytes() == data
    assert not landed(files, second["name"]).exists()


# -- upload -------------------------------------------------------------------------------

@pytest.mark.parametrize("size", SIZES.values(), ids=SIZES.keys())
def test_an_upload_delivers_the_served_file(ws, connect, served, size):
    data = payload(size, "upload")
    descriptor = serve(ws, served, data)
    assert descriptor["name"] == served.name
    assert descriptor["hash"].lower() == sha1_hex(data)
    with connect() as channel:
        result = upload(channel, descriptor["uid"])
    assert result.outcome == "ok", result
    assert result.data == data
    lengths = [len(chunk) for chunk in split_chunks(data, CHUNK)]
    assert [len(message.chunk) for message in result.accepted] == lengths
    assert [message.message_no for message in result.accepted] == [message_no(i) for i in range(len(lengths))]
    assert all(message.chunk_size == len(message.chunk) + HEADER_BYTES for message in result.accepted), (
        "chunkSize counts the 10 header bytes")
    assert [message.is_last for message in result.accepted] == [False] * (len(lengths) - 1) + [True]
    assert len(result.messages) == len(lengths) + 1, "nothing resent, one end message"
    assert result.end.header_only and result.end.uid_hex == descriptor["uid"].lower(), result.end


def test_each_upload_get_has_a_fresh_uid(ws, served):
    first = serve(ws, served, payload(100, "uids"))
    second = check_descriptor(read(ws, DASH_CAM))
    assert first["uid"].lower() != second["uid"].lower()
    assert (first["name"], first["hash"]) == (second["name"], second["hash"])


def test_an_upload_resends_a_chunk_the_client_asks_for_again(ws, connect, served):
    data = payload(5 * CHUNK + 1, "nack")
    descriptor = serve(ws, served, data)
    with connect() as channel:
        result = upload(channel, descriptor["uid"], nack={0, 3})
    assert result.outcome == "ok", result
    assert result.data == data
    assert result.nacked == [0, 3]
    chunks = [message for message in result.messages if message is not result.end]
    assert [message.message_no for message in chunks] == [0, 0, 1, 2, 3, 3, 4, 5]
    assert chunks[0] == chunks[1] and chunks[4] == chunks[5], "the resend is the same message"


def test_a_client_abort_of_an_upload_ends_it(ws, connect, served):
    """The receiver stops with status 255 (terminate at once): no more data, the uid is gone."""
    data = payload(20 * CHUNK, "client abort")
    descriptor = serve(ws, served, data)
    uid = descriptor["uid"]
    with connect() as channel:
        result = upload(channel, uid, abort_after=3)
        late = drain(channel, DRAIN_S)
    assert result.outcome == "aborted", result
    assert result.data == data[:3 * CHUNK]
    assert result.sent[-1] == Status(uid_number(uid), 3, TERMINATE)
    assert not [message for message in late if isinstance(message, Data) and message.chunk], (
        f"data after the terminate: {[str(message) for message in late]}")
    assert_upload_dropped(connect, uid)


def test_the_server_aborts_an_upload_whose_file_shrinks(ws, connect, served):
    data = payload(50 * CHUNK, "shrink")
    descriptor = serve(ws, served, data)

    def shrink(index: int) -> None:
        if index == 0:
            os.truncate(served, 0)  # in place: the server reads the chunks as it sends them

    with connect() as channel:
        result = upload(channel, descriptor["uid"], on_chunk=shrink)
    assert result.outcome == "aborted_by_server", result
    assert (result.end.message_no, result.end.chunk_size, result.end.is_last) == (RESERVED_NO, 0, True)
    assert result.sent[-1] == Status(uid_number(descriptor["uid"]), RESERVED_NO, OK), "the abort is answered"
    assert 0 < len(result.data) < len(data) and data.startswith(result.data)


def test_an_upload_start_for_an_unknown_uid_gets_status_255(connect):
    with connect() as channel:
        result = upload(channel, new_uid())
    assert result.outcome == "terminated", result
    assert result.messages == []


def test_a_full_registry_makes_room_and_a_crash_leaves_no_partial_file(launch, tmp_path):
    """With `max_transfers = 2` registered (none claimed), a third set evicts the one
    waiting longest: its uid is dead on the data channel, the newest completes. A partial
    file a crash left under `.incoming` is cleared when the server starts."""
    files = tmp_path / "limited"
    stale = files / ".incoming" / "deadbeef.part"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"half a map")
    config = tmp_path / "limited.toml"
    config.write_text("[filetransfer]\nmax_transfers = 2\n")
    server = launch.demo_car("--config", str(config), FILETRANSFER_DIR, str(files),
                             FILETRANSFER_PORT, "0")
    assert not stale.exists(), "the partial file of a crashed download is gone"
    data = payload(3 * CHUNK, "evicted")
    with server.client() as ws:
        first, second, third = (start_download(ws, data) for _ in range(3))
        port = read(ws, PORT_NODE)
    url = f"wss://127.0.0.1:{port}"
    with DataChannel(url, server.endpoints.cert) as channel:
        channel.send_data(first["uid"], 0, data[:CHUNK], False)
        assert channel.recv_status().status == TERMINATE, "evicted: no transfer under that uid"
    for descriptor in (second, third):
        with DataChannel(url, server.endpoints.cert) as channel:
            assert download(channel, descriptor["uid"], data, CHUNK).outcome == "ok"
        assert appears(landed(files, descriptor["name"]))

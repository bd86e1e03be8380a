"""Durable state (docs/storage.md): the real viss-server binary keeps the latest values,
actuator targets and the recorded history in SQLite (`--data-dir`) or in a PostgreSQL
database it shares with other servers (`--postgres`, Debian's PostgreSQL started here). It
is killed with SIGKILL (no shutdown, no flush) in the middle of a stream of sets and started
again on the same state: every acknowledged set is there with its original timestamp, and
the `history` filter returns the recorded samples. Two vehicles in one database never see
each other's rows. A database that is not one, or cannot be reached, stops the start with a
clear error, and nothing is overwritten."""

import os
import signal
import subprocess
import uuid

import pytest

import wire
from conftest import _binary
from flags import (DATA_DIR, HISTORY_SAMPLES, INSECURE, POSTGRES, POSTGRES_CA, RECORD_HISTORY,
                   STORAGE_VEHICLE)
from mqtt_broker import free_port
from postgres_server import Postgres, make_ca_and_server_cert
from vss_tree import STANDARD_JSON

VOLUME = "Vehicle.Cabin.Infotainment.Media.Volume"  # uint8 actuator 0..100, recorded
HOOD = "Vehicle.Body.Hood.Position"  # uint8 actuator 0..100, not recorded
SETS = 60


def start(launch, storage, *flags):
    return launch.standard(*storage, RECORD_HISTORY, "Vehicle.Cabin.Infotainment", *flags)


@pytest.fixture(scope="module")
def postgres():
    server = Postgres().start()
    yield server
    server.stop()


def fresh_database(postgres) -> str:
    name = f"viss_{uuid.uuid4().hex[:12]}"
    postgres.psql(f"CREATE DATABASE {name}")
    return name


@pytest.fixture(params=["sqlite", "postgres"])
def storage(request, tmp_path):
    """The flags of one backend's state, the same on every start of a test."""
    if request.param == "sqlite":
        return (DATA_DIR, str(tmp_path / "state"))
    postgres = request.getfixturevalue("postgres")
    return (POSTGRES, postgres.connection(fresh_database(postgres)), STORAGE_VEHICLE, "VIN-A")


def kill_9(server):
    """SIGKILL by PID: the server gets no chance to flush or close anything."""
    pid = server.process.pid
    assert pid and server.process.is_running()
    os.kill(pid, signal.SIGKILL)
    server.process._process.wait(timeout=10)
    assert server.process._process.returncode == -signal.SIGKILL


def get(client, path, filter_=None):
    message = {"action": "get", "path": path}
    if filter_ is not None:
        message["filter"] = filter_
    return client.request(message)


def test_acknowledged_sets_and_recorded_history_survive_kill_9(launch, storage):
    # A ring of 5 samples per signal: the history read reaches past it into the database.
    first = start(launch, storage, HISTORY_SAMPLES, "5")
    acknowledged = []  # (value, response ts) of every acknowledged set, in order
    with first.client() as client:
        for n in range(SETS):
            value = str(n % 101)
            answer = client.request({"action": "set", "path": VOLUME, "value": value})
            assert "error" not in answer, answer
            acknowledged.append((value, answer["ts"]))
        answer = client.request({"action": "set", "path": HOOD, "value": "42"})
        assert "error" not in answer, answer
        hood_ts = answer["ts"]
        # Killed right after the last answer: nothing waits for the writer thread.
        kill_9(first)

    second = start(launch, storage, HISTORY_SAMPLES, "5")
    with second.client() as client:
        current = get(client, VOLUME)
        point = wire.datapoints(wire.data_items(current)[0])[0]
        last_value, last_ts = acknowledged[-1]
        assert (point["value"], point["ts"]) == (last_value, last_ts), "the last set, with its time"
        hood = wire.datapoints(wire.data_items(get(client, HOOD))[0])[0]
        assert (hood["value"], hood["ts"]) == ("42", hood_ts), "a signal that is not recorded keeps its latest value"
        history = get(client, VOLUME, {"variant": "history", "parameter": "PT1H"})
        points = wire.datapoints(wire.data_items(history)[0])
        # The history leaves out the current value (CORE §6.1.2: the samples before it);
        # all 59 are there although the ring holds 5.
        assert [(p["value"], p["ts"]) for p in points] == acknowledged[:-1]
        hood_history = get(client, HOOD, {"variant": "history", "parameter": "PT1H"})
        # Only the recorded globs have history after a restart: none here.
        wire.assert_error(hood_history, "404", "unavailable_data")


def test_a_clean_restart_keeps_what_was_set_after_a_restore(launch, storage):
    """State restored at start is stored again when it changes: two restarts in a row."""
    server = start(launch, storage)
    with server.client() as client:
        assert "error" not in client.request({"action": "set", "path": VOLUME, "value": "7"})
    server.process.stop()  # SIGTERM: the graceful path flushes and closes
    server = start(launch, storage)
    with server.client() as client:
        assert wire.single_value(get(client, VOLUME)) == "7"
        assert "error" not in client.request({"action": "set", "path": VOLUME, "value": "8"})
    server.process.stop()
    server = start(launch, storage)
    with server.client() as client:
        assert wire.single_value(get(client, VOLUME)) == "8"
        history = get(client, VOLUME, {"variant": "history", "parameter": "PT1H"})
        assert [p["value"] for p in wire.datapoints(wire.data_items(history)[0])] == ["7"]


def run_to_exit(binary, args, cwd):
    return subprocess.run([str(binary), *args], cwd=cwd, capture_output=True, text=True, timeout=30,
                          env={k: v for k, v in os.environ.items() if not k.startswith("VISS_")})


@pytest.mark.parametrize("garbage", [bytes(range(256)) * 64, b"not a database: somebody's notes\n" * 300],
                         ids=["binary", "text"])
def test_a_file_that_is_no_database_stops_the_start_and_is_left_alone(shared_dir, tmp_path, garbage):
    data_dir = tmp_path / "state"
    data_dir.mkdir()
    database = data_dir / "viss.sqlite"
    database.write_bytes(garbage)
    done = run_to_exit(_binary("VISS_SERVER_BIN", "viss-server"),
                       ["--json", str(shared_dir / STANDARD_JSON), INSECURE, "--ws-port", "0",
                        "--http-port", "0", "--grpc-port", "0", DATA_DIR, str(data_dir)], tmp_path)
    assert done.returncode != 0, done.stdout
    assert "viss.sqlite" in done.stderr and "storage" in done.stderr, done.stderr
    assert "serving" not in done.stdout, "it must not serve an empty state"
    assert database.read_bytes() == garbage, "the file is not overwritten"


def test_two_vehicles_in_one_postgres_database_never_see_each_others_rows(launch, postgres):
    connection = postgres.connection(fresh_database(postgres))
    one, two = ((POSTGRES, connection, STORAGE_VEHICLE, vin) for vin in ("VIN-1", "VIN-2"))
    first, second = start(launch, one), start(launch, two)
    for server, value in ((first, "11"), (second, "22")):
        with server.client() as client:
            assert "error" not in client.request({"action": "set", "path": VOLUME, "value": value})
    kill_9(first)
    kill_9(second)
    for storage, value in ((one, "11"), (two, "22")):
        with start(launch, storage).client() as client:
            assert wire.single_value(get(client, VOLUME)) == value
            history = get(client, VOLUME, {"variant": "history", "parameter": "PT1H"})
            wire.assert_error(history, "404", "unavailable_data")  # one sample: the current one
    dbname = connection.rsplit("=", 1)[1]
    rows = postgres.psql("SELECT vehicle, count(*) FROM latest GROUP BY vehicle ORDER BY vehicle", dbname)
    assert rows.splitlines() == ["VIN-1|2", "VIN-2|2"], "a value and a target each"


def test_an_unreachable_postgres_stops_the_start(shared_dir, tmp_path):
    nobody = f"host=127.0.0.1 port={free_port()} user=viss dbname=viss"
    done = run_to_exit(_binary("VISS_SERVER_BIN", "viss-server"),
                       ["--json", str(shared_dir / STANDARD_JSON), INSECURE, "--ws-port", "0",
                        "--http-port", "0", "--grpc-port", "0", POSTGRES, nobody,
                        STORAGE_VEHICLE, "VIN-1"], tmp_path)
    assert done.returncode != 0, done.stdout
    assert "storage" in done.stderr and "127.0.0.1" in done.stderr, done.stderr
    assert "serving" not in done.stdout


def test_a_recording_rule_keeps_one_sample_per_interval(launch, storage, tmp_path):
    """`[[storage.record]]` with `min_interval_ms`: sets within a second of the last recorded
    sample stay the latest value but not the history, on both backends (the restarted
    server's history comes from the database alone)."""
    config = tmp_path / "rules.toml"
    config.write_text('[[storage.record]]\nglob = "Vehicle.Cabin.Infotainment.Media.Volume"\n'
                      'min_interval_ms = 60000\n')
    first = start(launch, storage, "--config", str(config))
    with first.client() as client:
        for value in ("1", "2", "3", "4"):
            assert "error" not in client.request({"action": "set", "path": VOLUME, "value": value})
        assert "error" not in client.request({"action": "set", "path": HOOD, "value": "5"})
    first.process.stop()
    second = start(launch, storage, "--config", str(config))
    with second.client() as client:
        assert wire.single_value(get(client, VOLUME)) == "4", "the latest value is always kept"
        history = get(client, VOLUME, {"variant": "history", "parameter": "PT1H"})
        # Only "1" was recorded; the history is what precedes the current value ("4").
        assert [p["value"] for p in wire.datapoints(wire.data_items(history)[0])] == ["1"], history


@pytest.fixture(scope="module")
def tls_postgres():
    server = Postgres(tls=True).start()
    yield server
    server.stop()


def test_a_database_over_tls_is_checked_against_its_ca(launch, tls_postgres, shared_dir, tmp_path):
    """`sslmode=require` with `--postgres-ca`: the server's connections to PostgreSQL are TLS
    (PostgreSQL's own `pg_stat_ssl` says so), and a database whose certificate another CA
    signed is refused at start, with a clear error and a non-zero exit."""
    database = fresh_database(tls_postgres)
    connection = tls_postgres.connection(database) + " sslmode=require"
    storage = (POSTGRES, connection, STORAGE_VEHICLE, "VIN-TLS", POSTGRES_CA, str(tls_postgres.ca))
    server = start(launch, storage)
    with server.client() as client:
        assert "error" not in client.request({"action": "set", "path": VOLUME, "value": "9"})
    encrypted = tls_postgres.psql(
        "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
        f"WHERE a.datname = '{database}' AND s.ssl")
    plain = tls_postgres.psql(
        "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) "
        f"WHERE a.datname = '{database}' AND NOT s.ssl")
    assert (int(encrypted), int(plain)) == (2, 0), "the writer and the history reader, both over TLS"
    server.process.stop()
    stored = tls_postgres.psql(f"SELECT DISTINCT value FROM latest WHERE path = '{VOLUME}'", database)
    assert stored == '"9"', "the current value and the target, written over TLS"

    other_ca, _, _ = make_ca_and_server_cert(tmp_path, "other")
    done = run_to_exit(_binary("VISS_SERVER_BIN", "viss-server"),
                       ["--json", str(shared_dir / STANDARD_JSON), INSECURE, "--ws-port", "0",
                        "--http-port", "0", "--grpc-port", "0", POSTGRES, connection,
                        STORAGE_VEHICLE, "VIN-TLS", POSTGRES_CA, str(other_ca)], tmp_path)
    assert done.returncode != 0, done.stdout
    assert "certificate" in done.stderr.lower() and "storage" in done.stderr, done.stderr
    assert "serving" not in done.stdout

"""Real-client checks of viss-server with Python `websockets` (pinned in requirements.txt).

Usage: wss_client.py examples URL [--cacert FILE]   every WebSocket example request of the
                                                      transport spec, subscribe -> events ->
                                                      unsubscribe
       wss_client.py abuse URL [--cacert FILE]        invalid JSON, binary and 10 MB frames on
                                                      one connection, another one still served
       wss_client.py many URL [--cacert FILE] [--count N]
                                                      N connections each holding a subscription
       wss_client.py refused URL [--cacert FILE] [--subprotocol NAME]
                                                      the handshake must fail
Prints one "PASS <check>" line per check; exits 1 with "FAIL <check>: <why>" otherwise.
Every wait is bounded by a timeout.
"""

import argparse
import asyncio
import json
import ssl
import sys

import websockets

TIMEOUT = 5.0
TOKEN = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJuYW1...Zw_KSsds"
# The spec's example paths, mapped onto the standard VSS tree where it names them otherwise.
RPM = "Vehicle.Powertrain.CombustionEngine.Speed"  # spec: ...CombustionEngine.RPM
LEVEL = "Vehicle.Powertrain.FuelSystem.RelativeLevel"  # spec: ...FuelSystem.Level

# The WebSocket request examples of VISS v3.0 TRANSPORT §5.1.2 (values as in the spec).
GETS = [
    ("read", {"action": "get", "path": RPM, "requestId": "8756"}, "data"),
    ("authorized read", {"action": "get", "path": RPM,
                         "authorization": TOKEN, "requestId": "8657"}, "data"),
    ("search read", {"action": "get", "path": "Vehicle.Cabin",
                     "filter": {"variant": "paths", "parameter": ["Door.*.*.IsOpen", "DriverPosition"]},
                     "requestId": "5688"}, "data"),
    ("history read", {"action": "get", "path": "Vehicle.Acceleration.Longitudinal",
                      "filter": {"variant": "history", "parameter": "P2DT12H"}, "requestId": "5689"}, "data"),
    ("discovery read", {"action": "get", "path": "Vehicle.Powertrain.FuelSystem",
                        "filter": {"variant": "metadata", "parameter": "2"}, "requestId": "8591"}, "metadata"),
]
SETS = [
    ("update", {"action": "set", "path": "Vehicle.Powertrain.Transmission.PerformanceMode",
                "value": "sport", "requestId": "5689"}),
    ("authorized update", {"action": "set", "path": "Vehicle.Powertrain.Transmission.PerformanceMode",
                           "value": "sport", "authorization": TOKEN, "requestId": "5689"}),
    ("update accepted", {"action": "set", "path": "Vehicle.Powertrain.Transmission.PerformanceMode",
                         "value": "SPORT", "requestId": "5690"}),
]
SUBSCRIBES = [
    ("timebased subscribe", {"variant": "timebased", "parameter": {"period": "500"}}, None),
    ("range subscribe", {"variant": "range", "parameter": [{"logic-op": "gt", "boundary": "49"},
                                                          {"logic-op": "lt", "boundary": "51"}]}, TOKEN),
    ("curvelog subscribe", {"variant": "curvelog", "parameter": {"maxerr": "0.5", "bufsize": "100"}}, None),
    ("range or subscribe", {"variant": "range", "parameter": [
        {"logic-op": "lt", "boundary": "50", "combination-op": "OR"}, {"logic-op": "gt", "boundary": "55"}]}, None),
    ("change subscribe", {"variant": "change", "parameter": {"logic-op": "gt", "diff": "10"}}, None),
]


class Failed(Exception):
    pass


def fail(check, why):
    raise Failed(f"{check}: {why}")


def passed(check):
    print(f"PASS {check}", flush=True)


def ssl_context(url, cacert):
    if not url.startswith("wss://"):
        return None
    return ssl.create_default_context(cafile=cacert)


async def request(ws, message):
    """Sends one request and returns its response (events in between are skipped)."""
    await ws.send(json.dumps(message))
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise TimeoutError(f"no response to {message}")
        answer = json.loads(await asyncio.wait_for(ws.recv(), remaining))
        if answer.get("action") != "subscription":
            return answer


def check_envelope(check, sent, answer):
    if answer.get("action") != sent["action"] or answer.get("requestId") != sent["requestId"]:
        fail(check, f"action/requestId not echoed: {answer}")
    ts = answer.get("ts", "")
    if not (isinstance(ts, str) and ts.endswith("Z")):
        fail(check, f"bad ts: {answer}")


async def history_answer(ws, message):
    """A history read, repeated while it is 404: the server records a simulated signal's
    older samples once per simulation period, so right after start there may be none yet."""
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while True:
        answer = await request(ws, message)
        missing = answer.get("error", {}).get("number") == "404"
        if not missing or asyncio.get_running_loop().time() > deadline:
            return answer
        await asyncio.sleep(0.05)


async def gets_and_sets(ws):
    for check, message, member in GETS:
        if check == "history read":
            answer = await history_answer(ws, message)
        else:
            answer = await request(ws, message)
        check_envelope(check, message, answer)
        if member not in answer:
            fail(check, f"no `{member}`: {answer}")
        passed(check)
    for check, message in SETS:
        answer = await request(ws, message)
        check_envelope(check, message, answer)
        # "sport" is not an allowed value of the standard tree (it has "SPORT"): the spec's
        # error shape is the expected answer there.
        if check == "update accepted" and "error" in answer:
            fail(check, f"set refused: {answer}")
        if "error" in answer and answer["error"].get("number") != "400":
            fail(check, f"unexpected error: {answer}")
        passed(check)


async def wait_event(ws, subscription_id):
    deadline = asyncio.get_running_loop().time() + TIMEOUT
    while asyncio.get_running_loop().time() < deadline:
        remaining = deadline - asyncio.get_running_loop().time()
        message = json.loads(await asyncio.wait_for(ws.recv(), remaining))
        if message.get("action") == "subscription" and message.get("subscriptionId") == subscription_id:
            return message
    raise TimeoutError(f"no event for subscription {subscription_id}")


async def subscriptions(ws):
    ids = []
    for index, (check, filter_, token) in enumerate(SUBSCRIBES):
        message = {"action": "subscribe", "path": LEVEL, "filter": filter_, "requestId": str(6000 + index)}
        if token:
            message["authorization"] = token
        answer = await request(ws, message)
        check_envelope(check, message, answer)
        if "subscriptionId" not in answer:
            fail(check, f"no subscriptionId: {answer}")
        ids.append(answer["subscriptionId"])
        passed(check)
    event = await wait_event(ws, ids[0])
    if "data" not in event or event["data"].get("path") != LEVEL:
        fail("subscription event", f"bad event: {event}")
    passed("subscription event")
    for index, subscription_id in enumerate(ids):
        message = {"action": "unsubscribe", "subscriptionId": subscription_id, "requestId": str(7000 + index)}
        answer = await request(ws, message)
        check_envelope("unsubscribe", message, answer)
        if "error" in answer:
            fail("unsubscribe", f"refused: {answer}")
    passed("unsubscribe")
    unknown = {"action": "unsubscribe", "subscriptionId": "no-such-id", "requestId": "7999"}
    answer = await request(ws, unknown)
    if answer.get("error", {}).get("number") != "404":
        fail("unsubscribe unknown", f"expected 404: {answer}")
    passed("unsubscribe unknown")


async def examples(url, cacert):
    async with websockets.connect(url, subprotocols=["VISSv3"], ssl=ssl_context(url, cacert),
                                  open_timeout=TIMEOUT, close_timeout=TIMEOUT) as ws:
        if ws.subprotocol != "VISSv3":
            fail("subprotocol", f"server selected {ws.subprotocol!r}")
        passed("subprotocol")
        await gets_and_sets(ws)
        await subscriptions(ws)
        answer = await request(ws, {"action": "get", "path": "Vehicle.Speed", "requestId": "9"})
        if "data" not in answer:
            fail("live data", f"{answer}")
        passed("live data")


async def refused(url, cacert, subprotocol):
    subprotocols = [subprotocol] if subprotocol else None
    try:
        async with websockets.connect(url, subprotocols=subprotocols, ssl=ssl_context(url, cacert),
                                      open_timeout=TIMEOUT):
            pass
    except websockets.exceptions.InvalidStatus as error:
        print(f"refused with HTTP {error.response.status_code}: {error.response.body!r}")
        passed("refused")
        return
    except (OSError, websockets.exceptions.InvalidMessage, websockets.exceptions.InvalidHandshake,
            asyncio.TimeoutError, ssl.SSLError, EOFError) as error:
        print(f"refused: {type(error).__name__}: {error}")
        passed("refused")
        return
    fail("refused", "the handshake succeeded")


async def abuse(url, cacert):
    """Bad traffic on one connection is answered or cut off; another connection is served."""
    context = ssl_context(url, cacert)
    async with websockets.connect(url, subprotocols=["VISSv3"], ssl=context, open_timeout=TIMEOUT) as bystander, \
            websockets.connect(url, subprotocols=["VISSv3"], ssl=context, open_timeout=TIMEOUT,
                               max_size=None) as abuser:
        await abuser.send('{"action":"get","path":')
        answer = json.loads(await asyncio.wait_for(abuser.recv(), TIMEOUT))
        if answer.get("error", {}).get("number") != "400":
            fail("invalid JSON", f"expected a 400 error: {answer}")
        passed("invalid JSON")
        await abuser.send(b"\x00\x01binary")
        answer = json.loads(await asyncio.wait_for(abuser.recv(), TIMEOUT))
        if answer.get("error", {}).get("number") != "400" or "Binary" not in answer["error"]["description"]:
            fail("binary frame", f"expected a 400 error: {answer}")
        passed("binary frame")
        try:
            await abuser.send('{"action":"get","path":"' + "x" * (10 * 1024 * 1024) + '"}')
            await asyncio.wait_for(abuser.recv(), TIMEOUT)
            fail("10 MB frame", "answered instead of closing the connection")
        except websockets.exceptions.ConnectionClosed as closed:
            print(f"10 MB frame: connection closed ({closed.rcvd.code if closed.rcvd else 'no close frame'})")
        passed("10 MB frame")
        answer = await request(bystander, {"action": "get", "path": "Vehicle.Speed", "requestId": "b"})
        if "data" not in answer:
            fail("bystander", f"{answer}")
        passed("bystander served")


async def many(url, cacert, count):
    """`count` connections, each holding a subscription; every one must get an event."""
    context = ssl_context(url, cacert)
    subscribe = json.dumps({"action": "subscribe", "path": "Vehicle.Speed", "requestId": "m",
                            "filter": {"variant": "change", "parameter": {"logic-op": "ne", "diff": "0"}}})
    sockets = []
    try:
        for _ in range(count):
            ws = await websockets.connect(url, subprotocols=["VISSv3"], ssl=context, open_timeout=TIMEOUT)
            sockets.append(ws)
            answer = await request(ws, json.loads(subscribe))
            if "subscriptionId" not in answer:
                fail("many", f"subscribe refused: {answer}")
        passed(f"{count} connections subscribed")
        events = await asyncio.gather(*(wait_any_event(ws) for ws in sockets))
        if not all(events):
            fail("many", f"{events.count(False)} connections got no event")
        passed(f"{count} connections got events")
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


async def wait_any_event(ws):
    try:
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
            if message.get("action") == "subscription":
                return True
    except (TimeoutError, asyncio.TimeoutError, websockets.exceptions.ConnectionClosed):
        return False


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["examples", "refused", "abuse", "many"])
    parser.add_argument("url")
    parser.add_argument("--cacert")
    parser.add_argument("--subprotocol")
    parser.add_argument("--count", type=int, default=200)
    args = parser.parse_args()
    try:
        if args.mode == "examples":
            asyncio.run(asyncio.wait_for(examples(args.url, args.cacert), 60))
        elif args.mode == "many":
            asyncio.run(asyncio.wait_for(many(args.url, args.cacert, args.count), 120))
        elif args.mode == "abuse":
            asyncio.run(asyncio.wait_for(abuse(args.url, args.cacert), 60))
        else:
            asyncio.run(asyncio.wait_for(refused(args.url, args.cacert, args.subprotocol), 30))
    except (Failed, TimeoutError, OSError, websockets.exceptions.WebSocketException) as error:
        print(f"FAIL {type(error).__name__}: {error}", flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()

"""The Python SDK's get round trip beside a raw request on the same SDK connection and a
bare `websockets` client on its own connection, against a running server (the demo car),
rounds interleaved. Medians and p99 of sequential gets of Vehicle.Speed. Given the server's
gRPC URL too, also the SDK's typed get over gRPC beside a bare grpcio call (the same message
classes, compiled from the SDK's viss_v3_0.proto) on a channel of its own.

    PYTHONPATH=generated/demo-car/sdk/python taskset -c 1 .venv-peers/bin/python \\
        viss-bench/sdk/rtt.py wss://localhost:6443 viss-tls/cert.pem [requests [grpcs://localhost:5443]]
"""

import asyncio
import json
import ssl
import sys
import time

from websockets.asyncio.client import connect as ws_connect

from demo_car_sdk import connect


def summary(name: str, samples: list[float], base: float | None = None) -> float:
    samples.sort()
    def at(q: float) -> float:
        return samples[min(len(samples) - 1, int(q * len(samples)))]
    ratio = "" if base is None else f"  p50 {at(0.5) / base:.2f}x bare"
    print(f"{name:<28} p50 {at(0.5):.1f} µs  p99 {at(0.99):.1f} µs  (n={len(samples)}){ratio}")
    return at(0.5)


async def timed(once, requests: int) -> list[float]:
    for _ in range(500):
        await once()
    samples = []
    deadline = time.perf_counter() + 30
    for _ in range(requests):
        if time.perf_counter() > deadline:
            break
        sent = time.perf_counter()
        await once()
        samples.append((time.perf_counter() - sent) * 1e6)
    return samples


async def bare(url: str, context: ssl.SSLContext, requests: int) -> list[float]:
    request = json.dumps({"action": "get", "path": "Vehicle.Speed", "requestId": "1"})
    async with ws_connect(url, subprotocols=["VISSv3"], ssl=context) as socket:
        async def once() -> None:
            await socket.send(request)
            await socket.recv()
        return await timed(once, requests)


async def bare_grpc(url: str, cafile: str, requests: int) -> list[float]:
    import grpc  # type: ignore[import-untyped]

    from demo_car_sdk.grpc_link import _schema

    protos, services = _schema()
    credentials = grpc.ssl_channel_credentials(root_certificates=open(cafile, "rb").read())
    async with grpc.aio.secure_channel(url.split("://", 1)[1], credentials) as channel:
        stub = services.VISSStub(channel)
        request = protos.GetRequestMessage(Path="Vehicle.Speed", RequestId="1")

        async def once() -> None:
            await stub.GetRequest(request)
        return await timed(once, requests)


async def over_grpc(round_: int, url: str, cafile: str, requests: int) -> None:
    base = summary(f"round {round_}: bare grpcio", await bare_grpc(url, cafile, requests))
    client, vehicle = await connect(url, cafile=cafile)
    async with client:
        summary(f"round {round_}: SDK over gRPC, typed", await timed(vehicle.Speed.get, requests),
                base)


async def main() -> None:
    url, cafile = sys.argv[1], sys.argv[2]
    requests = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
    grpc_url = sys.argv[4] if len(sys.argv) > 4 else None
    context = ssl.create_default_context(cafile=cafile)
    client, vehicle = await connect(url, cafile=cafile)
    async with client:
        for round_ in range(1, 4):
            base = summary(f"round {round_}: bare websockets", await bare(url, context, requests))
            raw = summary(f"round {round_}: SDK, raw get",
                          await timed(lambda: client.get("Vehicle.Speed"), requests), base)
            typed = summary(f"round {round_}: SDK, typed get",
                            await timed(vehicle.Speed.get, requests), base)
            print(f"round {round_}: typed/raw on the same connection: {typed / raw:.2f}x")
            if grpc_url is not None:
                await over_grpc(round_, grpc_url, cafile, requests)


asyncio.run(main())

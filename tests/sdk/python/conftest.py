"""Fixtures of the Python SDK suite (see sdk_support.py for the environment it reads).

Every test runs on its own event loop and connects its own clients; the demo car started by
the harness is shared (tests touch disjoint actuators). Every async test is bounded by
TEST_TIMEOUT_S, and every message the SDK sends is recorded for test_zz_sent_messages.py.
"""

import sys

# No bytecode next to the generated package (the drift test compares that directory with a
# fresh generator run, file by file) nor next to these tests.
sys.dont_write_bytecode = True

import asyncio  # noqa: E402
import functools  # noqa: E402
import inspect  # noqa: E402
from collections.abc import AsyncIterator, Iterator  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402

from demo_car_sdk import Vehicle, VissClient, connect  # noqa: E402
from sdk_support import SENT, cafile, grpc_url, http_url, ws_url  # noqa: E402

TEST_TIMEOUT_S = 90.0

SENT.install()


def _bounded(test: Any) -> Any:
    @functools.wraps(test)
    async def bounded(*args: Any, **kwargs: Any) -> Any:
        try:
            async with asyncio.timeout(TEST_TIMEOUT_S):
                return await test(*args, **kwargs)
        except TimeoutError as error:
            raise AssertionError(f"the test did not finish within {TEST_TIMEOUT_S} s") from error

    return bounded


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if isinstance(item, pytest.Function) and inspect.iscoroutinefunction(item.obj):
            item.obj = _bounded(item.obj)


@pytest.fixture(autouse=True)
def _record_test_name(request: pytest.FixtureRequest) -> Iterator[None]:
    SENT.current_test = request.node.nodeid
    yield
    SENT.current_test = ""


@pytest.fixture
async def wss() -> AsyncIterator[tuple[VissClient, Vehicle]]:
    """A client of the shared demo car over wss, and its typed tree."""
    client, vehicle = await connect(ws_url(), cafile=cafile(), timeout=10.0)
    assert client.transport == "wss"
    try:
        yield client, vehicle
    finally:
        await client.close()


@pytest.fixture
async def https() -> AsyncIterator[tuple[VissClient, Vehicle]]:
    """The same over https."""
    client, vehicle = await connect(http_url(), cafile=cafile(), timeout=10.0)
    assert client.transport == "https"
    try:
        yield client, vehicle
    finally:
        await client.close()


@pytest.fixture(params=["wss", "https", "grpcs"])
async def any_transport(request: pytest.FixtureRequest) -> AsyncIterator[tuple[VissClient, Vehicle]]:
    """Every transport of the shared demo car, one after the other."""
    url = {"wss": ws_url, "https": http_url, "grpcs": grpc_url}[request.param]()
    client, vehicle = await connect(url, cafile=cafile(), timeout=10.0)
    assert client.transport == request.param
    try:
        yield client, vehicle
    finally:
        await client.close()

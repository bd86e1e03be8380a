"""VAPI's credentials (demo_car_sdk.access, Connect and GetStCredentials in demo_car_sdk.vapi)
against the real viss-auth (AGTS and ATS) and a viss-server serving tests/trees/Guarded.vspec
with the ATS's key (CORE §8), both started by the harness (test-support's AccessEcosystem):
a wrong proof opens no session, a purpose's token opens exactly its part of the tree over
wss and https, and purposes that need consent wait for the owner's yes or no (written to
viss-auth's consent store while the procedure waits)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from demo_car_sdk import AccessControl
from demo_car_sdk.vapi import ErrorData, ProcedureStatus, Vapi
from sdk_support import env

SUCCESSFUL, FAILED = ProcedureStatus.SUCCESSFUL, ProcedureStatus.FAILED


def outcome(status: ProcedureStatus, error: ErrorData | None) -> tuple[ProcedureStatus, int, str]:
    return (status, error.Code, error.Reason) if error else (status, 0, "")


async def owner_decides(purpose: str, consent: str) -> None:
    """The owner decides on `purpose` once viss-auth has asked them (its open questions)."""
    store = Path(env("VISS_AUTH_CONSENT_FILE"))
    asks = store.with_suffix(".asks.json")
    for _ in range(200):
        if asks.exists() and any(ask["purpose"] == purpose
                                 for ask in json.loads(asks.read_text())["asks"]):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(f"the owner was never asked about {purpose}")
    store.write_text(json.dumps({"decisions": [{
        "vin": env("VISS_AUTH_VIN"), "purpose": purpose, "client": "test-fixture-app",
        "context": env("VISS_AUTH_CONTEXT"), "consent": consent}]}))


async def test_connect_long_term_credential_and_get_st_credentials_against_viss_auth() -> None:
    endpoints = {"wss": env("VISS_GUARDED_WS_URL"), "https": env("VISS_GUARDED_HTTP_URL")}
    server_ca = env("VISS_GUARDED_CA")
    plain = Vapi(endpoints, cafile=server_ca)
    vid = plain.vehicle_id
    unconfigured = await plain.GetStCredentials(vid, "an-agt", "cabin-comfort")
    assert outcome(unconfigured.Status, unconfigured.Error) == (FAILED, 404, "unavailable_data")

    access = AccessControl(env("VISS_AUTH_AGTS"), env("VISS_AUTH_ATS"), env("VISS_AUTH_CONTEXT"),
                           vin=env("VISS_AUTH_VIN"), cafile=env("VISS_AUTH_CA"),
                           consent_timeout=20.0, consent_poll=0.1)
    async with Vapi(endpoints, cafile=server_ca, access_control=access) as vapi:
        refused = await vapi.Connect(vid, "wss", "a-wrong-proof")
        assert outcome(refused.Status, refused.Error) == (FAILED, 401, "invalid_token"), refused
        assert (refused.LtCredential, vapi.protocol) == ("", None)

        connected = await vapi.Connect(vid, "wss", env("VISS_AUTH_PROOF"))
        assert connected.Status is SUCCESSFUL, connected
        agt = connected.LtCredential
        assert len(agt.split(".")) == 3, agt
        assert (await vapi.Connect(vid, "https", env("VISS_AUTH_PROOF"))).Status is SUCCESSFUL
        denied = await vapi.Get(vid, "Vehicle.Cabin.Light", "", "")
        assert denied.Error is not None and denied.Error.Code == 401, denied

        issued = await vapi.GetStCredentials(vid, agt, "cabin-comfort")
        assert issued.Status is SUCCESSFUL, issued
        token = issued.StCredentials
        assert len(token.split(".")) == 3 and token != agt, token
        assert (await vapi.Set(vid, "Vehicle.Cabin.Light", "30", token)).Status is SUCCESSFUL
        for protocol in ("wss", "https"):
            assert (await vapi.SelectProtocol(vid, protocol)).Status is SUCCESSFUL
            read = await vapi.Get(vid, "Vehicle.Cabin.Light", "", token)
            assert read.Data[0].SignalData[0].Value == "30", (protocol, read)
            outside = await vapi.Get(vid, "Vehicle.Location.Latitude", "", token)
            assert outside.Error is not None and outside.Error.Code == 401, (protocol, outside)
        for lt, purpose, expected in [
            (agt, "no-such-purpose", (FAILED, 403, "forbidden_request")),
            ("not-a-grant", "cabin-comfort", (FAILED, 401, "invalid_token")),
        ]:
            answer = await vapi.GetStCredentials(vid, lt, purpose)
            assert outcome(answer.Status, answer.Error) == expected, (purpose, answer)
            assert answer.StCredentials == ""

        # Consent: the procedure waits while the owner is asked, then answers their decision.
        granted, _ = await asyncio.gather(vapi.GetStCredentials(vid, agt, "find-my-car"),
                                          owner_decides("find-my-car", "YES"))
        assert granted.Status is SUCCESSFUL, granted
        located = await vapi.Set(vid, "Vehicle.Location.Latitude", "48.5", granted.StCredentials)
        assert located.Status is SUCCESSFUL, located
        denial, _ = await asyncio.gather(vapi.GetStCredentials(vid, agt, "location-ads"),
                                         owner_decides("location-ads", "NO"))
        assert outcome(denial.Status, denial.Error) == (FAILED, 403, "forbidden_request"), denial
        assert denial.Error is not None and "consent" in denial.Error.Description

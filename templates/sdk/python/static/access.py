"""A client's side of the access-control dialogues (CORE §8.3), as viss-auth and VISSR speak
them: the access grant server (AGTS) turns the client's proof of identity into an access
grant token (AGT), the access token server (ATS) turns an AGT and a purpose into an access
token (AT) that the VISS server accepts.

    access = AccessControl("https://auth:7443/agts", "https://auth:7443/ats",
                           "Owner+Third party+Cloud", vin=vin, cafile="auth-ca.pem")
    agt = await access.grant(proof)                        # long-term credential
    at = await access.access_token(agt, "cabin-comfort")   # short-term credential

A purpose that needs the owner's consent answers with a consent session first; the client
asks again (`at-inquiry`) every `consent_poll` seconds until the owner decides or
`consent_timeout` passes. Every refusal raises a VissError: the HTTP status as its number,
the VISS reason of that number, and the server's own words. The Rust SDK's `client::access`
and the TypeScript SDK's access.ts have the same shape.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import ssl
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from .client import HTTP_REASONS, ClientError, RequestTimeout, VissConnectionError, VissError

__all__ = ["AccessControl"]

# The largest answer read (a token answer is a few kB).
MAX_ANSWER_BYTES = 1 << 20

@dataclass(frozen=True)
class AccessControl:
    """Where the AGTS and ATS are and what this client tells them: `context` is the role
    triplet asked for ("user+app+device"), `vin` the vehicle the grant is for (an in-vehicle
    AGTS may do without), `cafile` the PEM file to trust for the servers (None: the
    system's), `timeout` bounds each exchange."""

    agts: str
    ats: str
    context: str
    vin: str | None = None
    cafile: str | None = None
    timeout: float = 10.0
    consent_timeout: float = 60.0
    consent_poll: float = 1.0

    async def grant(self, proof: str) -> str:
        """An access grant token for this client, which proves who it is with `proof`."""
        request: dict[str, Any] = {"context": self.context, "proof": proof}
        if self.vin is not None:
            request["vin"] = self.vin
        return _member(await self._post(self.agts, request), "token")

    async def access_token(self, agt: str, purpose: str) -> str:
        """An access token for `purpose`, given the access grant token `agt`; waits for the
        owner's consent where the purpose needs it."""
        answer = await self._post(
            self.ats, {"action": "at-request", "agToken": agt, "purpose": purpose}
        )
        deadline = time.monotonic() + self.consent_timeout
        while "aToken" not in answer:
            session = _member(answer, "sessionId")
            if time.monotonic() + self.consent_poll > deadline:
                raise _refusal(408, f"the owner has not decided on consent to {purpose!r} "
                                    f"within {self.consent_timeout} s")
            await asyncio.sleep(self.consent_poll)
            answer = await self._post(self.ats, {"action": "at-inquiry", "sessionId": session})
        return _member(answer, "aToken")

    async def _post(self, url: str, request: dict[str, Any]) -> dict[str, Any]:
        """One dialogue step: the answer's JSON object on success (200 or 201), a refusal
        otherwise. urllib runs in a worker thread, bounded by its own timeout."""
        status, raw = await asyncio.to_thread(self._exchange, url, request)
        try:
            answer = json.loads(raw)
        except ValueError:
            answer = None
        body = answer if isinstance(answer, dict) else None
        words = body.get("error") if body is not None else None
        if not isinstance(words, str):
            words = "the owner refused consent" if body and body.get("consent") == "NO" else None
        if status in (200, 201) and words is None and body is not None:
            return body
        raise _refusal(502 if status < 400 else status, words or f"{url}: {raw[:200]!r}")

    def _exchange(self, url: str, request: dict[str, Any]) -> tuple[int, bytes]:
        try:
            context = ssl.create_default_context(cafile=self.cafile) if url.startswith("https:") else None
        except OSError as error:
            raise VissConnectionError(f"{url}: cannot read the CA file: {error}") from error
        message = urllib.request.Request(
            url, data=json.dumps(request).encode(), method="POST",
            headers={"Content-Type": "application/json", "Accept": "application/json"})
        try:
            with urllib.request.urlopen(message, timeout=self.timeout, context=context) as reply:
                return reply.status, reply.read(MAX_ANSWER_BYTES)
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.read(MAX_ANSWER_BYTES)
        except urllib.error.URLError as error:
            raise VissConnectionError(f"{url}: {error.reason}") from error
        except TimeoutError:
            raise RequestTimeout(f"{url}: no answer within {self.timeout} s") from None
        except (OSError, http.client.HTTPException) as error:
            # Failures while reading the answer (a reset, a cut-off body) come unwrapped.
            raise VissConnectionError(f"{url}: {error!r}") from error


def _refusal(status: int, description: str) -> VissError:
    """A refusal as a VISS error: the status, the VISS reason of that number, the words."""
    return VissError(str(status), HTTP_REASONS.get(status, "service_unavailable"), description,
                     "access")


def _member(answer: dict[str, Any], name: str) -> str:
    value = answer.get(name)
    if isinstance(value, str) and value:
        return value
    raise ClientError(f"no {name} in {json.dumps(answer)[:200]}")

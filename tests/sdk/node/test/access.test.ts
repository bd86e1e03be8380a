// VAPI's credentials (src/access.ts, Connect and GetStCredentials in src/vapi.ts) against the
// real viss-auth (AGTS and ATS) and a viss-server serving tests/trees/Guarded.vspec with the
// ATS's key (CORE §8): a wrong proof opens no session, a purpose's token opens exactly its
// part of the tree over wss and https, and purposes that need consent wait for the owner's
// yes or no (written to viss-auth's consent store while the procedure waits).

import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { ProcedureStatus, Vapi, type ErrorData } from "../../../../generated/demo-car/sdk/typescript/src/vapi.js";
import { guarded, waitFor } from "../support/env.js";

const { SUCCESSFUL, FAILED } = ProcedureStatus;

function outcome(status: number, error: ErrorData | undefined): [number, number, string] {
  return [status, error?.Code ?? 0, error?.Reason ?? ""];
}

/** The owner decides on `purpose` once viss-auth has asked them (its open questions file). */
async function ownerDecides(purpose: string, consent: "YES" | "NO"): Promise<void> {
  const env = guarded();
  const asks = env.consentFile.replace(/\.json$/, ".asks.json");
  await waitFor(`the owner being asked about ${purpose}`, () =>
    existsSync(asks) && JSON.parse(readFileSync(asks, "utf8")).asks.some((ask: { purpose: string }) => ask.purpose === purpose), 10_000, 50);
  writeFileSync(env.consentFile, JSON.stringify({ decisions: [
    { vin: env.vin, purpose, client: "test-fixture-app", context: env.context, consent }] }));
}

test("Connect's long-term credential and GetStCredentials against viss-auth", async () => {
  const env = guarded();
  const endpoints = { wss: env.wsUrl, https: env.httpUrl };
  const plain = new Vapi(endpoints, { ca: env.caPem });
  const id = plain.vehicleId;
  const unconfigured = await plain.GetStCredentials(id, "an-agt", "cabin-comfort");
  assert.deepEqual(outcome(unconfigured.Status, unconfigured.Error), [FAILED, 404, "unavailable_data"]);

  const vapi = new Vapi(endpoints, {
    ca: env.caPem,
    accessControl: { agts: env.agts, ats: env.ats, context: env.context, vin: env.vin, consentPollMs: 100, consentTimeoutMs: 20_000 },
  });
  try {
    const refused = await vapi.Connect(id, "wss", "a-wrong-proof");
    assert.deepEqual(outcome(refused.Status, refused.Error), [FAILED, 401, "invalid_token"], JSON.stringify(refused));
    assert.deepEqual([refused.LtCredential, vapi.protocol], ["", undefined]);

    const connected = await vapi.Connect(id, "wss", env.proof);
    assert.equal(connected.Status, SUCCESSFUL, JSON.stringify(connected));
    const agt = connected.LtCredential;
    assert.equal(agt.split(".").length, 3, `a JWT: ${agt}`);
    assert.equal((await vapi.Connect(id, "https", env.proof)).Status, SUCCESSFUL);
    const denied = await vapi.Get(id, "Vehicle.Cabin.Light", "", "");
    assert.equal(denied.Error?.Code, 401);

    const issued = await vapi.GetStCredentials(id, agt, "cabin-comfort");
    assert.equal(issued.Status, SUCCESSFUL, JSON.stringify(issued));
    const token = issued.StCredentials;
    assert.ok(token.split(".").length === 3 && token !== agt, token);
    const set = await vapi.Set(id, "Vehicle.Cabin.Light", "30", token);
    assert.equal(set.Status, SUCCESSFUL, JSON.stringify(set));
    for (const protocol of ["wss", "https"]) {
      assert.equal((await vapi.SelectProtocol(id, protocol)).Status, SUCCESSFUL);
      const read = await vapi.Get(id, "Vehicle.Cabin.Light", "", token);
      assert.equal(read.Data[0]?.SignalData[0]?.Value, "30", `${protocol}: ${JSON.stringify(read)}`);
      const outside = await vapi.Get(id, "Vehicle.Location.Latitude", "", token);
      assert.equal(outside.Error?.Code, 401, protocol);
    }
    for (const [lt, purpose, expected] of [
      [agt, "no-such-purpose", [FAILED, 403, "forbidden_request"]],
      ["not-a-grant", "cabin-comfort", [FAILED, 401, "invalid_token"]],
    ] as const) {
      const answer = await vapi.GetStCredentials(id, lt, purpose);
      assert.deepEqual(outcome(answer.Status, answer.Error), expected, purpose);
      assert.equal(answer.StCredentials, "");
    }

    // Consent: the procedure waits while the owner is asked, then answers their decision.
    const [granted] = await Promise.all([vapi.GetStCredentials(id, agt, "find-my-car"), ownerDecides("find-my-car", "YES")]);
    assert.equal(granted.Status, SUCCESSFUL, JSON.stringify(granted));
    const located = await vapi.Set(id, "Vehicle.Location.Latitude", "48.5", granted.StCredentials);
    assert.equal(located.Status, SUCCESSFUL, JSON.stringify(located));
    const [denial] = await Promise.all([vapi.GetStCredentials(id, agt, "location-ads"), ownerDecides("location-ads", "NO")]);
    assert.deepEqual(outcome(denial.Status, denial.Error), [FAILED, 403, "forbidden_request"], JSON.stringify(denial));
    assert.match(denial.Error?.Description ?? "", /consent/);
  } finally {
    await vapi.ReleaseVehicle(id);
  }
});

// Connections to the shared demo car that record what they send.

import assert from "node:assert/strict";
import { connect, type ClientOptions, type Connected } from "../../../../generated/demo-car/sdk/typescript/src/index.js";
import { ProcedureStatus, type Protocol, type SubscribeOutput, type Vapi } from "../../../../generated/demo-car/sdk/typescript/src/vapi.js";
import { caPem, httpUrl, wsUrl, waitFor } from "./env.js";
import { RecordingWebSocket, recordFetch } from "./record.js";

/** Options for a recorded wss:// connection to the shared demo car. */
export function wssOptions(extra: Partial<ClientOptions> = {}): ClientOptions {
  return { url: wsUrl(), ca: caPem(), WebSocket: RecordingWebSocket, ...extra };
}

/** Options for a recorded https:// client of the shared demo car (trust: NODE_EXTRA_CA_CERTS). */
export function httpsOptions(extra: Partial<ClientOptions> = {}): ClientOptions {
  recordFetch();
  return { url: httpUrl(), ...extra };
}

export const connectWss = (extra: Partial<ClientOptions> = {}): Promise<Connected> => connect(wssOptions(extra));
export const connectHttps = (extra: Partial<ClientOptions> = {}): Promise<Connected> => connect(httpsOptions(extra));

/** VAPI's Connect over `protocol`, a Get, and a Subscribe that delivers two outputs and is
 * unsubscribed. */
export async function connectGetAndSubscribe(vapi: Vapi, protocol: Protocol): Promise<void> {
  const id = vapi.vehicleId;
  assert.equal((await vapi.Connect(id, protocol, "")).Status, ProcedureStatus.SUCCESSFUL);
  assert.equal((await vapi.Get(id, "Vehicle.Speed", "", "")).Status, ProcedureStatus.SUCCESSFUL);
  const outputs = new Collector<SubscribeOutput>();
  const started = await vapi.Subscribe(id, "Vehicle.Speed", '{"variant":"timebased","parameter":{"period":"200"}}', "", outputs.push);
  assert.equal(started.Status, ProcedureStatus.ONGOING, JSON.stringify(started));
  await outputs.count(2, 10_000);
  assert.equal((await vapi.Unsubscribe(id, started.ServiceId)).Status, ProcedureStatus.SUCCESSFUL);
}

/** Collects callback values; waits (bounded) for a count or a condition. */
export class Collector<T> {
  readonly items: T[] = [];
  readonly push = (item: T): void => {
    this.items.push(item);
  };

  async count(n: number, timeoutMs = 5000): Promise<T[]> {
    await waitFor(`${n} events (have ${this.items.length})`, () => this.items.length >= n, timeoutMs);
    return this.items.slice(0, n);
  }

  async until(what: string, predicate: (item: T) => boolean, timeoutMs = 5000): Promise<T> {
    let found: T | undefined;
    await waitFor(what, () => {
      found = this.items.find(predicate);
      return found !== undefined;
    }, timeoutMs);
    return found as T;
  }
}

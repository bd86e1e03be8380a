// Records every request the SDK sends, so each test file can check them against the VISS
// schema (with the overlay) and tests can assert that a refused value was never sent.
//
// WebSocket: `RecordingWebSocket` (pass it as the client's `WebSocket` option) is the `ws`
// package's WebSocket with a `send` that records the frame. HTTPS: `recordFetch()` wraps the
// global fetch and records the VISS message an HTTP request stands for (TRANSPORT §5.2: GET
// /<path>?filter=<json> is a get, POST /<path> {"value": ...} a set), since HTTP bodies carry
// no `action` and cannot be validated as they are.

import assert from "node:assert/strict";
import { test } from "node:test";
import WebSocket from "ws";
import { schemaErrors } from "./schema.js";

export interface SentMessage {
  transport: "ws" | "http";
  message: unknown;
}

export const sent: SentMessage[] = [];

/** How many requests were sent so far: compare before and after to prove nothing went out. */
export const sentCount = (): number => sent.length;

/** The messages sent after `mark` (a former sentCount()). */
export const sentSince = (mark: number): unknown[] => sent.slice(mark).map((entry) => entry.message);

export class RecordingWebSocket extends WebSocket {
  override send(data: unknown, ...rest: unknown[]): void {
    let message: unknown;
    try {
      message = JSON.parse(String(data));
    } catch {
      message = { unparsable: String(data) };
    }
    sent.push({ transport: "ws", message });
    (WebSocket.prototype.send as (...args: unknown[]) => void).call(this, data, ...rest);
  }
}

let fetchWrapped = false;

/** Wraps globalThis.fetch once per process; every later HTTP request is recorded. */
export function recordFetch(): void {
  if (fetchWrapped) return;
  fetchWrapped = true;
  const original = globalThis.fetch;
  globalThis.fetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init?.method ?? (input instanceof Request ? input.method : "GET")).toUpperCase();
    const path = url.pathname.split("/").filter((segment) => segment !== "").map(decodeURIComponent).join(".");
    const message: Record<string, unknown> = { action: method === "POST" ? "set" : "get", path };
    const filter = url.searchParams.get("filter");
    if (filter !== null) message["filter"] = JSON.parse(filter);
    if (method === "POST") message["value"] = (JSON.parse(String(init?.body)) as { value: unknown }).value;
    const headers = new Headers(init?.headers);
    const token = headers.get("authorization");
    if (token !== null) message["authorization"] = token.replace(/^Bearer /, "");
    sent.push({ transport: "http", message });
    return original(input, init);
  };
}

/**
 * Registers, at the point of the call (so: call it last in a test file), a test asserting
 * that every request this file's tests sent is valid against the schema with the overlay.
 * Each test file runs in its own process, so this covers exactly that file's traffic.
 */
export function schemaCheckTest(minimum = 1): void {
  test("every request sent in this file is valid against the VISS v3 schema with the overlay", () => {
    assert.ok(sent.length >= minimum, `only ${sent.length} requests were recorded, expected at least ${minimum}`);
    const invalid = sent
      .map((entry) => ({ entry, errors: schemaErrors(entry.message) }))
      .filter(({ errors }) => errors !== undefined)
      .map(({ entry, errors }) => `${entry.transport} ${JSON.stringify(entry.message)}\n    ${String(errors).slice(0, 400)}`);
    assert.deepEqual(invalid, [], `invalid requests:\n${invalid.join("\n")}`);
  });
}

// The environment the Rust harness (viss-server/tests/sdk.rs) hands to the suite, and the
// repository paths the tests read.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === "") {
    throw new Error(`${name} is not set: run the suite through viss-server/tests/sdk.rs (cargo test --test sdk) or set it by hand`);
  }
  return value;
}

/** wss://localhost:PORT of the shared demo car. */
export const wsUrl = (): string => required("VISS_WS_URL");
/** https://localhost:PORT of the shared demo car. */
export const httpUrl = (): string => required("VISS_HTTP_URL");
/** grpcs://localhost:PORT of the shared demo car. */
export const grpcUrl = (): string => required("VISS_GRPC_URL");
/** The demo car's certificate (PEM text). */
export const caPem = (): string => readFileSync(required("VISS_CA"), "utf8");
/** The demo-car binary, for the tests that start their own server. */
export const demoCarBin = (): string => required("VISS_DEMO_CAR_BIN");

/** mqtt://127.0.0.1:PORT/<VID>: Debian's mosquitto and a demo car serving VISS over MQTT. */
export const mqttUrl = (): string => required("VISS_MQTT_URL");

/** The access-control ecosystem (test-support's AccessEcosystem): viss-auth and a viss-server
 * serving tests/trees/Guarded.vspec that trusts its tokens. Node's fetch trusts their
 * certificates through NODE_EXTRA_CA_CERTS, which the harness points at a bundle. */
export const guarded = () => ({
  wsUrl: required("VISS_GUARDED_WS_URL"),
  httpUrl: required("VISS_GUARDED_HTTP_URL"),
  caPem: readFileSync(required("VISS_GUARDED_CA"), "utf8"),
  agts: required("VISS_AUTH_AGTS"),
  ats: required("VISS_AUTH_ATS"),
  consentFile: required("VISS_AUTH_CONSENT_FILE"),
  vin: required("VISS_AUTH_VIN"),
  proof: required("VISS_AUTH_PROOF"),
  context: required("VISS_AUTH_CONTEXT"),
});

/** The repository root: the nearest ancestor holding schemas/viss-v3-messages.overlay.json. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "schemas", "viss-v3-messages.overlay.json")) && existsSync(join(dir, "Cargo.toml"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error("cannot find the repository root above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
}

/** The shared reference folder: $VSS_SHARED, else ../shared beside the repository. */
export function sharedDir(): string {
  return process.env["VSS_SHARED"] || resolve(repoRoot(), "..", "shared");
}

export const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** Polls `check` every `everyMs` until it returns true; fails after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5000, everyMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Rejects if `promise` does not settle within `ms` (so a hung call fails the test instead of the run). */
export function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

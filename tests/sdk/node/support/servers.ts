// Servers the tests start themselves: a second demo car (for reconnects and server-ended
// subscriptions), and small WebSocket stand-ins in front of the shared one (a proxy that
// holds back or reorders answers, a server that never answers). Every process is stopped by
// its PID; every wait is bounded.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import WebSocket, { WebSocketServer } from "ws";
import { caPem, demoCarBin, sleep } from "./env.js";

/** A free TCP port on 127.0.0.1 (bound, then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export class DemoCar {
  private child: ChildProcess | undefined;
  readonly dir = mkdtempSync(join(tmpdir(), "vssgen-sdk-demo-car-"));
  private constructor(readonly port: number, private readonly extra: string[]) {}

  /** A demo car on 127.0.0.1:`port` (WebSocket; HTTP on any free port; gRPC only when `extra`
   * names a `--grpc-port`). */
  static async start(extra: string[] = [], port?: number): Promise<DemoCar> {
    const car = new DemoCar(port ?? (await freePort()), extra);
    await car.launch();
    return car;
  }

  get url(): string {
    return `wss://localhost:${this.port}`;
  }

  /** Its self-signed certificate (kept in `dir`, so it survives restarts). */
  get ca(): string {
    return readFileSync(join(this.dir, "tls", "cert.pem"), "utf8");
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the process and waits (at most 15 s) until it prints its WebSocket address. */
  async launch(): Promise<void> {
    if (this.child !== undefined) throw new Error("already running");
    const args = [
      "--address", "127.0.0.1", "--ws-port", String(this.port), "--http-port", "0",
      ...(this.extra.includes("--grpc-port") ? [] : ["--no-grpc"]),
      "--self-signed-dir", join(this.dir, "tls"), ...this.extra,
    ];
    // The port was just freed (or held by the previous run): retry a few times on "in use".
    for (let attempt = 1; ; attempt++) {
      try {
        this.child = await spawnAndWait(demoCarBin(), args);
        return;
      } catch (error) {
        if (attempt >= 5) throw error;
        await sleep(200 * attempt);
      }
    }
  }

  /** Stops the process by its PID (SIGTERM, SIGKILL after 5 s) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child !== undefined) await stopChild(child);
  }

  /** Stops it and removes its temporary folder. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function spawnAndWait(binary: string, args: string[]): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, VISS_LOG: "warn" } });
    let output = "";
    const timer = setTimeout(() => fail(new Error(`demo-car did not start within 15 s:\n${output}`)), 15_000);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      void stopChild(child).finally(() => reject(error));
    };
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (/WebSocket: wss:\/\//.test(output)) {
        clearTimeout(timer);
        child.stdout?.off("data", onData);
        child.stderr?.off("data", onData);
        // Keep draining so a chatty server never blocks on a full pipe.
        child.stdout?.resume();
        child.stderr?.resume();
        resolve(child);
      }
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("error", (error) => fail(error));
    child.once("exit", (code) => fail(new Error(`demo-car exited with ${code} before it listened:\n${output}`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const killer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, "SIGKILL"), 5000);
    child.once("exit", () => {
      clearTimeout(killer);
      resolve();
    });
    process.kill(child.pid!, "SIGTERM");
  });
}

// ---------------------------------------------------------------------------------------------

/**
 * A plain ws:// proxy in front of the shared demo car. Requests pass at once; answers are
 * held back `holdMs` and then released in REVERSE order of arrival, so every client sees its
 * answers late and out of order.
 */
export class ReorderingProxy {
  private readonly server: WebSocketServer;
  private readonly upstreams = new Set<WebSocket>();
  /** The requestIds of the answers, in the order they were passed on to the client. */
  readonly forwardedIds: string[] = [];

  private constructor(server: WebSocketServer, upstreamUrl: string, holdMs: number) {
    this.server = server;
    server.on("connection", (downstream) => {
      const upstream = new WebSocket(upstreamUrl, "VISSv3", { ca: caPem() });
      this.upstreams.add(upstream);
      const early: string[] = [];
      let held: string[] = [];
      let timer: ReturnType<typeof setTimeout> | undefined;
      upstream.on("open", () => early.splice(0).forEach((frame) => upstream.send(frame)));
      upstream.on("message", (data) => {
        held.push(String(data));
        timer ??= setTimeout(() => {
          timer = undefined;
          const batch = held.reverse();
          held = [];
          for (const frame of batch) {
            const requestId = (JSON.parse(frame) as { requestId?: unknown }).requestId;
            if (typeof requestId === "string") this.forwardedIds.push(requestId);
            if (downstream.readyState === WebSocket.OPEN) downstream.send(frame);
          }
        }, holdMs);
      });
      upstream.on("close", () => downstream.close());
      upstream.on("error", () => downstream.close());
      downstream.on("message", (data) => {
        const frame = String(data);
        if (upstream.readyState === WebSocket.OPEN) upstream.send(frame);
        else early.push(frame);
      });
      downstream.on("close", () => upstream.close());
    });
  }

  static start(upstreamUrl: string, holdMs: number): Promise<ReorderingProxy> {
    return new Promise((resolve) => {
      const server: WebSocketServer = new WebSocketServer({ host: "127.0.0.1", port: 0, handleProtocols: () => "VISSv3" },
        (): void => resolve(new ReorderingProxy(server, upstreamUrl, holdMs)));
    });
  }

  get url(): string {
    const address = this.server.address();
    return `ws://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
  }

  close(): Promise<void> {
    for (const upstream of this.upstreams) upstream.terminate();
    for (const client of this.server.clients) client.terminate();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

/** A ws:// server that accepts VISSv3 connections and never answers anything. */
export class SilentServer {
  received: string[] = [];
  private constructor(private readonly server: WebSocketServer) {
    server.on("connection", (socket) => socket.on("message", (data) => this.received.push(String(data))));
  }

  static start(): Promise<SilentServer> {
    return new Promise((resolve) => {
      const server: WebSocketServer = new WebSocketServer({ host: "127.0.0.1", port: 0, handleProtocols: () => "VISSv3" },
        (): void => resolve(new SilentServer(server)));
    });
  }

  get url(): string {
    const address = this.server.address();
    return `ws://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
  }

  /** Cuts every client connection (the clients see an unexpected close). */
  dropAll(): void {
    for (const client of this.server.clients) client.terminate();
  }

  get connections(): number {
    return this.server.clients.size;
  }

  close(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

// The TypeScript SDK's get round trip beside a raw request on the same SDK connection and
// a bare `ws` client on its own connection, against a running server (the demo car),
// rounds interleaved. Medians and p99 of sequential gets of Vehicle.Speed.
//
//   tests/sdk/node/node_modules/.bin/tsc -p tests/sdk/node     # compiles the demo car's SDK
//   taskset -c 1 node viss-bench/sdk/rtt.mjs wss://localhost:6443 viss-tls/cert.pem [requests [grpcs://localhost:5443]]
//
// Given the server's gRPC URL too, also the SDK's typed get over gRPC beside a bare
// @grpc/grpc-js unary call (protobufjs messages from the SDK's vissProto) on a channel of its own.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const [url, caFile, count = "5000", grpcUrl] = process.argv.slice(2);
if (url === undefined || caFile === undefined) {
  console.error("usage: node rtt.mjs <wss url> <ca pem> [requests]");
  process.exit(2);
}
const requests = Number(count);
const root = new URL("../../", import.meta.url);
const sdk = await import(new URL("tests/sdk/node/build/generated/demo-car/sdk/typescript/src/index.js", root));
const WebSocket = createRequire(new URL("tests/sdk/node/package.json", root))("ws");
const ca = readFileSync(caFile, "utf8");

function summary(name, samples, base) {
  samples.sort((a, b) => a - b);
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  const ratio = base === undefined ? "" : `  p50 ${(at(0.5) / base).toFixed(2)}x bare`;
  console.log(`${name.padEnd(28)} p50 ${at(0.5).toFixed(1)} µs  p99 ${at(0.99).toFixed(1)} µs  (n=${samples.length})${ratio}`);
  return at(0.5);
}

async function timed(once) {
  for (let i = 0; i < 500; i++) await once();
  const samples = [];
  const deadline = performance.now() + 30_000;
  for (let i = 0; i < requests && performance.now() < deadline; i++) {
    const sent = performance.now();
    await once();
    samples.push((performance.now() - sent) * 1000);
  }
  return samples;
}

/** A bare client: one request, one answer, nothing else. */
async function bare() {
  const socket = new WebSocket(url, "VISSv3", { ca });
  await new Promise((resolve, reject) => { socket.once("open", resolve); socket.once("error", reject); });
  let waiting;
  socket.on("message", (data) => waiting?.(data));
  const request = JSON.stringify({ action: "get", path: "Vehicle.Speed", requestId: "1" });
  const once = () => new Promise((resolve) => { waiting = resolve; socket.send(request); });
  const samples = await timed(once);
  socket.close();
  return samples;
}

/** A bare gRPC client: one unary GetRequest per round trip. */
async function bareGrpc() {
  const load = createRequire(new URL("tests/sdk/node/package.json", root));
  const grpc = load("@grpc/grpc-js");
  const protobuf = load("protobufjs");
  const { VISS_PROTO } = await import(new URL("tests/sdk/node/build/generated/demo-car/sdk/typescript/src/vissProto.js", root));
  const types = protobuf.parse(VISS_PROTO, { keepCase: true }).root;
  const [request, response] = ["GetRequestMessage", "GetResponseMessage"].map((name) => types.lookupType(`grpcProtobufMessages.${name}`));
  const channel = new grpc.Client(new URL(grpcUrl).host, grpc.credentials.createSsl(Buffer.from(ca)));
  const message = { Path: "Vehicle.Speed", RequestId: "1" };
  const once = () => new Promise((resolve, reject) => channel.makeUnaryRequest("/grpcProtobufMessages.VISS/GetRequest",
    (value) => request.encode(request.fromObject(value)).finish(), (bytes) => response.decode(bytes), message,
    (error, answer) => (error ? reject(error) : resolve(answer))));
  const samples = await timed(once);
  channel.close();
  return samples;
}

const { client, vehicle } = await sdk.connect({ url, ca });
for (let round = 1; round <= 3; round++) {
  const base = summary(`round ${round}: bare ws client`, await bare());
  const raw = await timed(() => client.get("Vehicle.Speed"));
  const rawP50 = summary(`round ${round}: SDK, raw get`, raw, base);
  const typed = await timed(() => vehicle.speed.get());
  const typedP50 = summary(`round ${round}: SDK, typed get`, typed, base);
  console.log(`round ${round}: typed/raw on the same connection: ${(typedP50 / rawP50).toFixed(2)}x`);
  if (grpcUrl !== undefined) {
    const grpcBase = summary(`round ${round}: bare grpc-js`, await bareGrpc());
    const overGrpc = await sdk.connect({ url: grpcUrl, ca });
    summary(`round ${round}: SDK over gRPC, typed`, await timed(() => overGrpc.vehicle.speed.get()), grpcBase);
    await overGrpc.client.close();
  }
}
await client.close();

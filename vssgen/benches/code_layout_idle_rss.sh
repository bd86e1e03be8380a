#!/usr/bin/env bash
# How much of the generated server's idle memory is code layout (issue 16), and what the
# generated crate's code-ordered link (link/cc-ordered) wins back. The executable's code is
# mapped from the file, and for every page of it that runs the kernel maps the cached pages
# around it as well (fault-around, 64 KiB), so resident code follows how widely the functions
# that run are scattered through the 10 MB of .text, not how much of it runs.
#
# The bench generates the standard-tree server and links it three ways (nothing is compiled
# twice but the crate itself):
#   plain         `cargo build --release` with VSSGEN_NO_CODE_ORDER=1: the linker's own order
#   as-generated  `cargo build --release` as generated: link/cc-ordered places the functions
#                 of link/code-order.txt (the list vssgen ships) first
#   profiled      this build's own list: the functions callgrind saw run while the plain
#                 build started and served gets (driven by `viss-bench remote`), by their
#                 exact symbols (lld's --symbol-ordering-file)
# then starts each in turn, ROUNDS times, reading VmRSS and its anonymous part once idle and
# once after a load run (1 and 8 connections, sequential and pipelined). All three pack their
# relative relocations (link/cc-ordered does, where glibc is 2.36 or later): the bench
# measures the order alone.
#
# SUBJECT=viss-server measures the workspace's viss-server instead (serving vss.json), linked
# the same three ways: plain, as built (the workspace's .cargo/config.toml links it through
# viss-server/link/cc-ordered with viss-server/link/code-order.txt) and profiled.
#
# ORDER_OUT=FILE writes the profiled list as link/code-order.txt wants it (symbols without
# their hash, with their size): templates/link/code-order.txt (generated servers) and
# viss-server/link/code-order.txt are made so, and are remade when the runtime, its
# dependencies or the toolchain change (the as-built link then falls behind the profiled one).
#
# Usage: vssgen/benches/code_layout_idle_rss.sh
# Needs: valgrind, python3, rustc linking with lld (rustc's default on x86_64 Linux).
# Environment: VSS_SHARED (default <repo>/../shared); ROUNDS (default 3); WAIT seconds after
# start (default 3); TARGET_DIR for the builds (default a temporary directory); KUKSA, the
# path of a KUKSA Databroker binary (viss-bench/peers/README.md) to measure beside them in
# the same rounds, serving the same tree (vss.json) over VISS; SUBJECT; ORDER_OUT.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SHARED=${VSS_SHARED:-$REPO/../shared}
ROUNDS=${ROUNDS:-3}
WAIT=${WAIT:-3}
WORK=$(mktemp -d)
TARGET_DIR=${TARGET_DIR:-$WORK/target}
PORT=18461
SERVER=""
stop_server() {
  if [[ -n $SERVER ]]; then
    kill -INT "$SERVER" 2>/dev/null || true
    wait "$SERVER" 2>/dev/null || true
    SERVER=""
  fi
}
trap 'stop_server; rm -rf "$WORK"' EXIT
command -v valgrind >/dev/null || { echo "code_layout_idle_rss: needs valgrind" >&2; exit 2; }
# shellcheck source=../../viss-bench/peers/await-port.sh
source "$REPO/viss-bench/peers/await-port.sh"
step() { printf '=== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)" >&2; }

(cd "$REPO" && cargo build --quiet --release --locked -p vssgen -p viss-bench)
BENCH=$REPO/target/release/viss-bench
case ${SUBJECT:-generated} in
  generated)
    step "generating the standard-tree crate"
    "$REPO/target/release/vssgen" generate \
      -s "$SHARED/vss/spec/VehicleSignalSpecification.vspec" \
      --crate-name vss-standard-server --runtime-path "$REPO/viss-runtime" \
      --proto-lock-dir "$WORK" --out "$WORK/crate" 2>/dev/null
    cp "$REPO/Cargo.lock" "$WORK/crate/"
    CRATE_DIR=$WORK/crate MAIN_RS=$WORK/crate/src/main.rs BIN=vss-standard-server
    AS_BUILT=as-generated SERVER_ARGS=()
    CARGO_ARGS=(--offline) ;;
  viss-server)
    CRATE_DIR=$REPO MAIN_RS=$REPO/viss-server/src/main.rs BIN=viss-server AS_BUILT=as-built
    SERVER_ARGS=(--json "$SHARED/vss/json/vss.json") CARGO_ARGS=(--locked -p viss-server) ;;
  *) echo "code_layout_idle_rss: SUBJECT is generated or viss-server" >&2; exit 2 ;;
esac
BUILT=$TARGET_DIR/release/$BIN
# build NAME COMMAND...: (re)builds the server with `COMMAND $CARGO_ARGS` and keeps the
# binary as NAME
build() {
  local name=$1; shift
  step "building: $name"
  touch "$MAIN_RS"   # the link is all that differs: cargo must redo it
  (cd "$CRATE_DIR" && CARGO_TARGET_DIR=$TARGET_DIR "$@")
  cp "$BUILT" "$WORK/$name"
}
build plain env VSSGEN_NO_CODE_ORDER=1 cargo build --quiet --release "${CARGO_ARGS[@]}"
if ! readelf -p .comment "$WORK/plain" | grep -q 'Linker: LLD'; then
  echo "code_layout_idle_rss: the server was not linked by lld (--symbol-ordering-file)" >&2
  exit 2
fi

# serve BINARY [WRAPPER...]: starts the server on $PORT (the other transports on ephemeral
# ports, as in idle_rss_standard_server.sh) and waits for it to listen; PID in $SERVER.
serve() {
  local binary=$1; shift
  "$@" "$binary" "${SERVER_ARGS[@]}" --address 127.0.0.1 --ws-port "$PORT" --http-port 0 \
    --grpc-port 0 --insecure --log-level warn --self-signed-dir "$WORK/tls" >/dev/null 2>&1 &
  SERVER=$!
  # under callgrind a start takes seconds
  await_port "$PORT" "$SERVER" 60 && return 0
  echo "code_layout_idle_rss: $binary did not listen on port $PORT" >&2
  exit 1
}
# load REQUESTS [SUBPROTOCOL]: gets on 1 and 8 connections, sequential and pipelined
load() {
  "$BENCH" remote --target "server=ws://127.0.0.1:$PORT" --subprotocol "${2:-VISSv3}" \
    --connections 1,8 --depth 16 --requests "$1" --seconds 10 >/dev/null
}

step "recording the functions that run (callgrind: start, then gets)"
serve "$WORK/plain" valgrind --tool=callgrind --demangle=no \
  --callgrind-out-file="$WORK/callgrind.out"
load 2000
stop_server
# every function callgrind saw run in the server's own object, in the order it first
# appears (callgrind writes them roughly as they were first called): by exact symbol into
# order.txt, and as link/code-order.txt lists them into keys.txt
python3 - "$WORK/callgrind.out" "$WORK/plain" "$WORK/order.txt" "$WORK/keys.txt" \
  "${BIN//-/_}" <<'EOF'
import re, subprocess, sys
profile, binary, order_path, keys_path, crate = sys.argv[1:]
objects, functions, order, seen, current = {}, {}, [], set(), None
for line in open(profile):
    if m := re.match(r'^(c?ob)=\((\d+)\)(?: (.*))?', line):
        if m[3]:
            objects[m[2]] = m[3].strip()
        if m[1] == 'ob':
            current = objects.get(m[2])
    elif m := re.match(r'^(c?fn)=\((\d+)\)(?: (.*))?', line):
        if m[3]:
            functions[m[2]] = m[3].strip().split("'")[0]
        name = functions[m[2]]
        if m[1] == 'fn' and current and current.endswith('/plain') and name not in seen:
            seen.add(name)
            order.append(name)
sizes = {}
listing = subprocess.run(['nm', '-S', '--defined-only', binary], capture_output=True,
                         text=True, check=True).stdout
for fields in map(str.split, listing.splitlines()):
    if len(fields) == 4:
        sizes.setdefault(fields[3], fields[1])
kept = [name for name in order if name in sizes]
open(order_path, 'w').write(''.join(name + '\n' for name in kept))
# link/cc-ordered's key: the symbol without a numbered suffix (.<digits>, .llvm.<digits>)
# and without its hash (legacy mangling: 17h<16 hex>E), the crate's name as a path's root
# written `@`, and no digits
def key(name):
    name = re.sub(r'(\.llvm)?\.[0-9]+$', '', name)   # a numbered copy's suffix
    if re.fullmatch(r'_ZN.*17h[0-9a-f]{16}E', name):
        name = name[:-18]
    name = re.sub(rf'^_ZN[0-9]+{crate}(?=[0-9])', '_ZN@', name)
    name = name.replace(f'${crate}..', '$@..')
    return re.sub(r'[0-9]+', '', name)
keys = dict.fromkeys(f'{key(name)} {sizes[name]}\n' for name in kept)  # first of each
open(keys_path, 'w').write(''.join(keys))
print(f'{len(kept)} functions ran ({len(order) - len(kept)} without a symbol)', file=sys.stderr)
EOF
if [[ -n ${ORDER_OUT:-} ]]; then
  { echo "# $BIN: key size, in the order the functions first ran (callgrind), written by"
    echo "# SUBJECT=${SUBJECT:-generated} vssgen/benches/code_layout_idle_rss.sh on $(date -u +%F)"
    cat "$WORK/keys.txt"; } > "$ORDER_OUT"
fi

build profiled env VSSGEN_NO_CODE_ORDER=1 cargo rustc --quiet --release "${CARGO_ARGS[@]}" \
  --bin "$BIN" -- -C "link-arg=-Wl,--symbol-ordering-file=$WORK/order.txt"
build "$AS_BUILT" cargo build --quiet --release "${CARGO_ARGS[@]}"

# pages of code the functions that ran span in each build: the ordered links must have
# moved them together (lld warns and ignores a name it does not find)
python3 - "$WORK/order.txt" "$WORK/plain" "$WORK/$AS_BUILT" "$WORK/profiled" <<'EOF'
import subprocess, sys
ran = set(open(sys.argv[1]).read().split())
spans = []
for binary in sys.argv[2:]:
    pages = set()
    listing = subprocess.run(['nm', '-S', '--defined-only', binary], capture_output=True,
                             text=True, check=True).stdout
    for line in listing.splitlines():
        fields = line.split()
        if len(fields) == 4 and fields[3] in ran:
            start, size = int(fields[0], 16), int(fields[1], 16)
            pages.update(range(start // 4096, (start + max(size, 1) - 1) // 4096 + 1))
    spans.append(len(pages))
    print(f'{binary.rsplit("/", 1)[-1]}: the functions that ran span {len(pages)} pages of '
          f'4 KiB, {len({page // 16 for page in pages})} blocks of 64 KiB', file=sys.stderr)
if not (spans[0] > spans[1] and spans[0] > spans[2]):
    sys.exit('code_layout_idle_rss: an ordered link is not laid out more tightly')
EOF

# measure BUILD: prints "idle-VmRSS idle-anonymous loaded-VmRSS" in KiB
measure() {
  local subprotocol=VISSv3
  if [[ $1 == kuksa ]]; then
    # VISSv2 without a sub-protocol on its VISS port; authorization and TLS off, as ours
    "$KUKSA" --vss "$SHARED/vss/json/vss.json" --insecure --disable-authorization \
      --address 127.0.0.1 --port $((PORT + 1)) --enable-viss --viss-address 127.0.0.1 \
      --viss-port "$PORT" >/dev/null 2>&1 &
    SERVER=$!
    subprotocol=none
    await_port "$PORT" "$SERVER" || { echo "code_layout_idle_rss: KUKSA did not start" >&2; exit 1; }
  else
    serve "$WORK/$1"
  fi
  sleep "$WAIT"
  local idle anon loaded
  idle=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER/status")
  anon=$(awk '/^Anonymous:/ {print $2}' "/proc/$SERVER/smaps_rollup")
  load 20000 "$subprotocol"
  loaded=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER/status")
  stop_server
  echo "$idle $anon $loaded"
}
mb() { echo "scale=2; $1 / 1024" | bc -l; }

builds=(plain "$AS_BUILT" profiled)
[[ -n ${KUKSA:-} ]] && builds+=(kuksa)
step "measuring, $ROUNDS starts of each, in turn"
echo "| build | round | idle RSS | anonymous | RSS after 20,000 gets per load run |"
echo "|---|---|---|---|---|"
for round in $(seq 1 "$ROUNDS"); do
  for build in "${builds[@]}"; do
    read -r idle anon loaded < <(measure "$build")
    echo "| $build | $round | $(mb "$idle") MB | $(mb "$anon") MB | $(mb "$loaded") MB |"
  done
done

#!/usr/bin/env bash
# The main job in one command: generate the demo car's VISS v3 server from its VSS sources
# (examples/demo-car) with vssgen, build it and serve it with live simulated values on
# wss://localhost:6443 and https://localhost:8443, with a self-signed certificate generated
# into viss-tls/ at the workspace root. The server prints where to connect.
# Works from any directory; extra arguments go to the server (see --help), e.g.
#   ./run-demo-car.sh --ws-port 7443
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
# Same as generated/regenerate.sh: the checked-in crate is rewritten, so a fresh clone and a
# changed generator both serve what vssgen writes today.
# Each step says what it does; cargo shows its own progress (the first build takes minutes).
echo "==> building vssgen and generating the demo car's server crate (generated/demo-car)" >&2
VSSGEN="cargo run --release -p vssgen --" sh generated/regenerate.sh
echo "==> building the generated server (release) and starting it" >&2
exec cargo run --release -p demo-car -- --simulate "$@"

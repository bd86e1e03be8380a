#!/usr/bin/env bash
# Installs the real-client test peers (Python websockets, grpcio, paho-mqtt, mypy in .venv-peers;
# curl, mosquitto, openssl, postgresql and Node.js from Debian; TypeScript and ws from npm) and prints the
# variable the tests read. Usage: source <(tests/peers/install.sh) or eval "$(tests/peers/install.sh)".
set -euo pipefail
cd "$(dirname "$0")/../.."
# Debian packages: curl (HTTPS peer), mosquitto (the MQTT broker), openssl (its test CA),
# postgresql (the storage tests' shared database).
missing=""
command -v curl >/dev/null || missing="$missing curl"
{ command -v mosquitto || test -x /usr/sbin/mosquitto; } >/dev/null || missing="$missing mosquitto"
command -v openssl >/dev/null || missing="$missing openssl"
# PostgreSQL (the shared storage backend's tests start their own cluster with initdb)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$missing postgresql"
# Node.js and npm (the TypeScript SDK's test runner and compiler)
command -v node >/dev/null || missing="$missing nodejs"
command -v npm >/dev/null || missing="$missing npm"
# Chromium (the signal explorer's browser test drives it headless through playwright-core)
command -v chromium >/dev/null || missing="$missing chromium"
if [ -n "$missing" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing) >&2
fi
python3 -m venv .venv-peers >&2
.venv-peers/bin/pip install -q -r tests/peers/requirements.txt >&2
# The TypeScript toolchain of the SDK tests, pinned by tests/sdk/node/package-lock.json.
npm ci --prefix tests/sdk/node --no-audit --no-fund --loglevel=error >&2
echo "export VISS_PEERS_PYTHON=$(pwd)/.venv-peers/bin/python"

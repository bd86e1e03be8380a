#!/usr/bin/env bash
# Installs the real-client test peers (Python websockets, grpcio, paho-mqtt in .venv-peers;
# curl, mosquitto, openssl and postgresql from Debian) and prints the
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
if [ -n "$missing" ]; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing) >&2
fi
python3 -m venv .venv-peers >&2
.venv-peers/bin/pip install -q -r tests/peers/requirements.txt >&2
echo "export VISS_PEERS_PYTHON=$(pwd)/.venv-peers/bin/python"

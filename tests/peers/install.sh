#!/usr/bin/env bash
# Installs the real-client test peers (Python websockets in .venv-peers, curl) and prints the
# variable the tests read. Usage: source <(tests/peers/install.sh) or eval "$(tests/peers/install.sh)".
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v curl >/dev/null || (apt-get update -qq && apt-get install -y -qq curl) >&2
python3 -m venv .venv-peers >&2
.venv-peers/bin/pip install -q -r tests/peers/requirements.txt >&2
echo "export VISS_PEERS_PYTHON=$(pwd)/.venv-peers/bin/python"

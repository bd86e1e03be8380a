#!/usr/bin/env bash
# Benchmark: `vssgen export json` against vss-tools 6.1.0 `vspec export json`, full CLI runs
# (process start-up included), same machine, same run, on
#   (a) the standard VSS tree   (shared/vss/README.md §3: units, quantities, --strict, --pretty)
#   (b) the CVIS multiple-trailers tree (instances on the root, ~15,000 nodes)
# Prints a markdown table: median wall time of each tool, the speed-up, and peak RSS
# (`/usr/bin/time -f %M`). Both outputs are compared with `cmp` so a fast but wrong run shows.
#
# Usage: vssgen/benches/export_json_vs_vss_tools.sh
# Environment: RUNS (default 5) runs per tool and tree; SLOW_RUNS (default 3) for vss-tools on
# the multiple-trailers tree (about a minute per run); VSS_SHARED (default <repo>/../shared);
# PYTHON (default python3.11); VSS_TOOLS_VENV to reuse an existing venv holding vss-tools;
# VSSGEN to time an already built binary instead of building one.
# Needs network access to PyPI for the throw-away venv.
set -euo pipefail

RUNS=${RUNS:-5}
SLOW_RUNS=${SLOW_RUNS:-3}
PYTHON=${PYTHON:-python3.11}
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SHARED=${VSS_SHARED:-$REPO/../shared}
VSS_DIR=$SHARED/vss
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

command -v /usr/bin/time >/dev/null || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

if [[ -z "${VSSGEN:-}" ]]; then
  echo "building vssgen (release)..." >&2
  (cd "$REPO" && cargo build --release -p vssgen --quiet)
  VSSGEN=${CARGO_TARGET_DIR:-$REPO/target}/release/vssgen
fi

if [[ -n "${VSS_TOOLS_VENV:-}" ]]; then
  VSPEC=$VSS_TOOLS_VENV/bin/vspec
else
  echo "installing vss-tools 6.1.0 into a throw-away venv..." >&2
  "$PYTHON" -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install --quiet --disable-pip-version-check vss-tools==6.1.0
  VSPEC=$WORK/venv/bin/vspec
fi

# time_runs <n> <label> <command...>: runs the command n times in $VSS_DIR and appends
# "<seconds> <peak-rss-kB>" lines to $WORK/<label>.times.
time_runs() {
  local runs=$1 label=$2
  shift 2
  for ((i = 0; i < runs; i++)); do
    local start=$EPOCHREALTIME
    (cd "$VSS_DIR" && /usr/bin/time -f %M -o "$WORK/rss" "$@" >/dev/null 2>"$WORK/$label.stderr") ||
      { echo "$label failed:" >&2; cat "$WORK/$label.stderr" >&2; exit 1; }
    local end=$EPOCHREALTIME
    echo "$(echo "$end - $start" | bc -l) $(tail -n 1 "$WORK/rss")" >>"$WORK/$label.times"
  done
}

# median <label> <column>: median of a column of $WORK/<label>.times.
median() {
  sort -g -k"$2","$2" "$WORK/$1.times" | awk -v c="$2" '{ v[NR] = $c }
    END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; print m }'
}

# bench <name> <vss-tools runs> <args...>: both tools with the same arguments, then a row.
bench() {
  local name=$1 slow_runs=$2
  shift 2
  echo "running $name: vssgen x$RUNS, vss-tools x$slow_runs..." >&2
  time_runs "$RUNS" "$name-vssgen" "$VSSGEN" export json "$@" -o "$WORK/$name-vssgen.json"
  time_runs "$slow_runs" "$name-vss-tools" "$VSPEC" export json "$@" -o "$WORK/$name-vss-tools.json"
  local same=identical
  cmp -s "$WORK/$name-vssgen.json" "$WORK/$name-vss-tools.json" || same=DIFFERENT
  local ours theirs ours_rss theirs_rss
  ours=$(median "$name-vssgen" 1)
  theirs=$(median "$name-vss-tools" 1)
  ours_rss=$(median "$name-vssgen" 2)
  theirs_rss=$(median "$name-vss-tools" 2)
  printf '| %s | %d / %d | %.3f s | %.3f s | %.0fx | %.1f MB | %.1f MB | %s |\n' \
    "$name" "$RUNS" "$slow_runs" "$ours" "$theirs" "$(echo "$theirs / $ours" | bc -l)" \
    "$(echo "$ours_rss / 1024" | bc -l)" "$(echo "$theirs_rss / 1024" | bc -l)" "$same" >>"$WORK/rows"
}

S=spec/VehicleSignalSpecification.vspec
TR=third-party/commercial-vehicle-information-specifications/spec/trees/Vehicle/Trailer
bench standard "$RUNS" -u spec/units.yaml -q spec/quantities.yaml --strict -s "$S" --pretty
bench multiple-trailers "$SLOW_RUNS" -u "$TR/units.yaml" -q "$TR/quantities.yaml" \
  -s "$TR/MultipleTrailersSignalSpecification.vspec"

echo "| tree | runs (vssgen / vss-tools) | vssgen median | vss-tools median | speed-up | vssgen peak RSS | vss-tools peak RSS | outputs |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
cat "$WORK/rows"
echo
echo "$(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $("$PYTHON" --version); $(date -u +%Y-%m-%dT%H:%MZ)"

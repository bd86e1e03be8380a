#!/bin/sh
# Regenerates every crate in generated/ from the example trees in examples/.
# Run from anywhere: sh generated/regenerate.sh
# The drift test (vssgen/tests/generated_up_to_date.rs) runs this script with VSSGEN set to
# the built binary and OUT to a temporary directory, and compares every file.
set -eu
cd "$(dirname "$0")/.."
VSSGEN="${VSSGEN:-cargo run --quiet -p vssgen --}"
OUT="${OUT:-generated}"
DEMO=examples/demo-car
$VSSGEN generate \
  -s "$DEMO/DemoCar.vspec" -t "$DEMO/DemoTypes.vspec" -l "$DEMO/DemoOverlay.vspec" \
  -e dbc -e priority \
  --crate-name demo-car --runtime-path ../../viss-runtime \
  --command "sh generated/regenerate.sh" --workspace-member \
  --out "$OUT/demo-car"

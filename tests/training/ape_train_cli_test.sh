#!/bin/bash
# slicenav-train-ape on the real data's three smallest scans: two steps with a checkpoint each, then --resume to a
# third; the run must continue from its checkpoint and leave a model file that holds the APE network.
set -euo pipefail
train=$1
model=$2
data=${SLICENAV_DATA:-$3}
out=$4
if [ ! -f "$data/cases.tsv" ]; then
  echo "SKIP: real data not found at $data (set SLICENAV_DATA)"
  exit 77
fi
rm -rf "$out"
run=(--model "$model" --data "$data" --out "$out" --sets ood --threads 2 --checkpoint-every 1)
"$train" "${run[@]}" --steps 2 > "$out.log1" 2>&1 || { cat "$out.log1"; exit 1; }
grep -q '"step":2' "$out/state.json"
test -f "$out/optimizer.pt"
"$train" "${run[@]}" --steps 3 --resume > "$out.log2" 2>&1 || { cat "$out.log2"; exit 1; }
grep -q "resuming at step 2" "$out.log2"
grep -q '"step":3' "$out/state.json"
/usr/bin/python3 "$(dirname "$0")/../../scripts/model_metadata.py" "$out/latest.snm" ape_network > "$out.ape.json"
/usr/bin/python3 - "$out.ape.json" <<'PY'
import json, sys
ape = json.load(open(sys.argv[1]))
assert ape["name"] == "anatomical_positional_embedding" and ape["dim"] == 3, ape
PY

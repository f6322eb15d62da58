#!/bin/bash
# slicenav-train-ape on the real data's three smallest scans: two steps with a checkpoint each, then --resume to a
# third; the run must continue from its checkpoint and leave a model file that holds the APE network. With
# --average-decay the weights' moving average is written beside it (average.snm) and carried across --resume; a
# decay outside [0, 1) is refused.
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
run=(--model "$model" --data "$data" --out "$out" --sets ood --threads 2 --checkpoint-every 1 --average-decay 0.5)
"$train" "${run[@]}" --steps 2 > "$out.log1" 2>&1 || { cat "$out.log1"; exit 1; }
grep -q '"step":2' "$out/state.json"
test -f "$out/optimizer.pt"
cp "$out/average.snm" "$out.average2.snm"
"$train" "${run[@]}" --steps 3 --resume > "$out.log2" 2>&1 || { cat "$out.log2"; exit 1; }
grep -q "resuming at step 2" "$out.log2"
grep -q '"step":3' "$out/state.json"
# The average moved with the third step and is not the weights themselves.
! cmp -s "$out/average.snm" "$out.average2.snm"
! cmp -s "$out/average.snm" "$out/latest.snm"
for file in latest average; do
  /usr/bin/python3 "$(dirname "$0")/../../scripts/model_metadata.py" "$out/$file.snm" ape_network > "$out.ape.json"
  /usr/bin/python3 - "$out.ape.json" <<'PY'
import json, sys
ape = json.load(open(sys.argv[1]))
assert ape["name"] == "anatomical_positional_embedding" and ape["dim"] == 3, ape
PY
done
for decay in 1 -0.5 x; do
  if "$train" "${run[@]}" --steps 4 --average-decay "$decay" > "$out.log3" 2>&1; then
    echo "--average-decay $decay was accepted"
    exit 1
  fi
  grep -q -- "--average-decay" "$out.log3" || { cat "$out.log3"; exit 1; }
done
grep -q '"step":3' "$out/state.json"

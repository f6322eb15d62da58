#!/bin/bash
# slicenav-train on the real data with a tiny network: two steps with a checkpoint each, then --resume
# to a third; the run must continue from the checkpoint and leave a loadable best model.
set -euo pipefail
train=$1
data=${SLICENAV_DATA:-$2}
out=$3
if [ ! -f "$data/cases.tsv" ]; then
  echo "SKIP: real data not found at $data (set SLICENAV_DATA)"
  exit 77
fi
rm -rf "$out"
tiny=(--data "$data" --out "$out" --threads 2 --image-size 32 --max-slices 16 --widths 4 8 --d-model 16
      --self-layers 1 --cross-layers 1 --val-every 1 --pairs 1)
"$train" "${tiny[@]}" --steps 2 2> "$out.log1" || { cat "$out.log1"; exit 1; }
grep -q '"step": 2' "$out/state.json"
test -f "$out/checkpoint-2.snm" && test ! -f "$out/checkpoint-1.snm"
"$train" "${tiny[@]}" --steps 3 --resume 2> "$out.log2" || { cat "$out.log2"; exit 1; }
grep -q "resumed at step 2" "$out.log2"
grep -q '"step": 3' "$out/state.json"
test "$(grep -c '^[0-9]' "$out/train_log.csv")" -eq 3
test "$(grep -c '^[0-9]' "$out/val_log.csv")" -eq 3
test -f "$out/best.snm"
# A bad option is refused with a message, not a crash.
if "$train" --out "$out" --loss hinge 2> "$out.log3"; then exit 1; fi
grep -q "hinge" "$out.log3"
echo "ok"

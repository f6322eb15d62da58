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
# --evaluate reproduces the validation metrics stored at the checkpoint, and measures the training side too.
"$train" --data "$data" --threads 2 --evaluate "$out/checkpoint-3.snm" > "$out.val.json" 2> "$out.log4" || { cat "$out.log4"; exit 1; }
"$train" --data "$data" --threads 2 --evaluate "$out/checkpoint-3.snm" --side training > "$out.train.json" 2>> "$out.log4" \
  || { cat "$out.log4"; exit 1; }
/usr/bin/python3 "$(dirname "$0")/../../scripts/model_metadata.py" "$out/checkpoint-3.snm" metrics > "$out.stored.json"
/usr/bin/python3 - "$out" <<'EOF'
import json, sys
out = sys.argv[1]
stored = json.load(open(out + ".stored.json"))["validation"]
val = json.load(open(out + ".val.json"))
train = json.load(open(out + ".train.json"))
assert val["side"] == "validation" and train["side"] == "training"
key = "intra_patient_insertion"
assert abs(val["metrics"][key]["mean_abs_mm"] - stored[key]["mean_abs_mm"]) < 1e-6, (val["metrics"][key], stored[key])
assert val["metrics"][key]["n"] == stored[key]["n"]
assert train["metrics"][key]["n"] > 0 and train["metrics"][key]["n"] != stored[key]["n"]
EOF
# A model measured on a split that puts one of its training cases on the validation side is refused.
if "$train" --data "$data" --threads 2 --evaluate "$out/checkpoint-3.snm" --split-seed 12 > /dev/null 2> "$out.log5"; then exit 1; fi
grep -q "a validation case of this split" "$out.log5"
# --exclude-training leaves training cases out (recorded in the model), and refuses unknown and validation cases.
"$train" "${tiny[@]/$out/$out.ex}" --steps 1 --exclude-training ircad_1_01 lung1_001 2> "$out.log6" || { cat "$out.log6"; exit 1; }
/usr/bin/python3 "$(dirname "$0")/../../scripts/model_metadata.py" "$out.ex/checkpoint-1.snm" training > "$out.ex.json"
/usr/bin/python3 - "$out.ex.json" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))
assert t["excluded_training_cases"] == ["ircad_1_01", "lung1_001"], t["excluded_training_cases"]
assert "ircad_1_01" not in t["training_cases"] and "lung1_001" not in t["training_cases"]
assert "lung1_002" in t["training_cases"]
EOF
if "$train" "${tiny[@]/$out/$out.ex2}" --steps 1 --exclude-training no_such_case 2> "$out.log7"; then exit 1; fi
grep -q "no case 'no_such_case'" "$out.log7"
if "$train" "${tiny[@]/$out/$out.ex3}" --steps 1 --exclude-training ircad_1_17 2> "$out.log8"; then exit 1; fi
grep -q "'ircad_1_17' is a validation case" "$out.log8"
# A bad option is refused with a message, not a crash.
if "$train" --out "$out" --loss hinge 2> "$out.log3"; then exit 1; fi
grep -q "hinge" "$out.log3"
echo "ok"

#!/usr/bin/env bash
# Throughput of `slicenav nnunet crop-dataset` and `slicenav nnunet restore` on a small real-CT nnU-Net
# dataset (the one tests/cli/cli_test.sh nnunet_real_dataset builds): training cases ircad_1_17 and
# ts_example_ct (2 channels each, liver masks as labels) and test case ircad_1_01, cropped to the liver.
#
#   benchmarks/nnunet_benchmark.sh SLICENAV_BINARY WORK_DIR [RUNS]
#
# Each configuration (jobs x inference threads) runs RUNS times (default 3) into a fresh output folder, the
# model load included, and prints the median wall time and cases/min as a markdown table for
# docs/benchmarks.md. Reads ../shared/data or $SLICENAV_DATA. Run it pinned to the cores to measure, e.g.
# `taskset -c 0,1 benchmarks/nnunet_benchmark.sh build/bin/slicenav /tmp/nnunet_bench`.
set -eu

cli=$1
work=$2
runs=${3:-3}
here=$(cd "$(dirname "$0")" && pwd)
data=${SLICENAV_DATA:-$here/../../shared/data}

src=$work/raw/Dataset111_RealLiver
rm -rf "$work" && mkdir -p "$src/imagesTr" "$src/labelsTr" "$src/imagesTs"
for c in ircad_1_17 ts_example_ct; do
  for k in 0000 0001; do cp "$data/ct/$c/ct.nii.gz" "$src/imagesTr/${c}_$k.nii.gz"; done
  cp "$data/ct/$c/masks/liver.nii.gz" "$src/labelsTr/$c.nii.gz"
done
for k in 0000 0001; do cp "$data/ct/ircad_1_01/ct.nii.gz" "$src/imagesTs/ircad_1_01_$k.nii.gz"; done
printf '{"channel_names": {"0": "CT", "1": "CT_again"}, "labels": {"background": 0, "liver": 1}, "numTraining": 2, "file_ending": ".nii.gz"}\n' >"$src/dataset.json"
cases=3

# median_seconds CMD...: runs CMD $runs times (after `reset`), prints the median wall time in seconds.
median_seconds() {
  local r times=()
  for ((r = 0; r < runs; r++)); do
    reset
    local start end
    start=$(date +%s.%N)
    "$@" 2>"$work/last.err" || { cat "$work/last.err" >&2; exit 1; }
    end=$(date +%s.%N)
    times+=("$(echo "$end - $start" | bc)")
  done
  printf '%s\n' "${times[@]}" | sort -g | sed -n "$(((runs + 1) / 2))p"
}

echo "| command | jobs | threads | median wall (s) | cases/min |"
echo "|---|---|---|---|---|"
out=$work/raw/Dataset112_RealLiverCrop
reset() { rm -rf "$out"; }
for config in "1 1" "1 2" "2 1"; do
  set -- $config
  s=$(median_seconds "$cli" nnunet crop-dataset --in "$src" --region liver --out "$out" --jobs "$1" --threads "$2")
  printf '| crop-dataset | %s | %s | %.1f | %.1f |\n' "$1" "$2" "$s" "$(echo "60 * $cases / $s" | bc -l)"
done

# Restore the cropped label maps of the training cases (nnU-Net's predictions stand in).
"$cli" nnunet crop-dataset --in "$src" --region liver --out "$out" 2>/dev/null
mkdir -p "$work/pred"
cp "$out"/labelsTr/*.nii.gz "$work/pred/"
reset() { rm -rf "$work/restored"; }
for jobs in 1 2; do
  s=$(median_seconds "$cli" nnunet restore --pred "$work/pred" --records "$out/crop_records" --out "$work/restored" --jobs "$jobs")
  printf '| restore | %s | - | %.2f | %.0f |\n' "$jobs" "$s" "$(echo "60 * 2 / $s" | bc -l)"
done

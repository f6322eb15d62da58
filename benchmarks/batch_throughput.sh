#!/usr/bin/env bash
# Batch throughput on 2 cores: volumes per minute and peak resident memory of one `slicenav` process (one model
# load) working through many volumes.
#
#   benchmarks/batch_throughput.sh SLICENAV_BINARY WORK_DIR [N]
#
# Rows (each one run, the process's wall time from start to exit, model load included; peak RSS from GNU time):
#   - locate --batch over N real volumes (default 126: the development scans of ../shared/data set ct, or
#     $SLICENAV_DATA, repeated), with the next image read ahead (the default) and with --no-read-ahead;
#   - nnunet crop-dataset --region abdomen over the same N volumes as one-channel test cases (scans that do not
#     show the abdomen fail as cases, after the same navigation);
#   - prealign --method score, one process per pair (no batch mode), over N / 2 pairs of those volumes (each
#     scan against the next one of the list);
#   - locate --batch over 30 copies of the 512 x 512 x 300 int16 phantom (0.8 x 0.8 x 1 mm, gzip -6), the size
#     the goal of 30 volumes/min is stated for, with and without reading ahead.
# Prints a markdown table for docs/benchmarks.md.
set -eu

cli=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$2
n=${3:-126}
here=$(cd "$(dirname "$0")" && pwd)
data=${SLICENAV_DATA:-$here/../../shared/data}
[ -f "$data/cases.tsv" ] || { echo "no cases.tsv in $data (set SLICENAV_DATA)" >&2; exit 2; }

rm -rf "$work" && mkdir -p "$work/real" "$work/big"
mapfile -t scans < <(awk -F'\t' 'NR > 1 && $14 == "ct" {print $15}' "$data/cases.tsv")
for k in $(seq 0 $((n - 1))); do
  ln -s "$data/${scans[$((k % ${#scans[@]}))]}/ct.nii.gz" "$work/real/v$(printf %04d "$k").nii.gz"
done
voxels=$(for k in $(seq 0 $((n - 1))); do
  /usr/bin/python3 -c "import nibabel, sys; s = nibabel.load(sys.argv[1]).shape; print(s[0] * s[1] * s[2])" \
    "$work/real/v$(printf %04d "$k").nii.gz"
done | awk '{s += $1} END {printf "%.1f", s / NR / 1e6}')

# The 512 x 512 x 300 phantom as int16 .nii.gz written by gzip -6 (as benchmarks/locate_vs_gzip.sh makes it).
"$here/locate_vs_gzip.sh" "$cli" "$work/phantom" 1 >/dev/null
for k in $(seq 0 29); do ln -s "$work/phantom/ct.nii.gz" "$work/big/p$(printf %02d "$k").nii.gz"; done

# One timed run: wall seconds and peak RSS (MiB) of the command, appended to $work/rows.txt with a label.
row() {
  local label=$1 count=$2
  shift 2
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$@" >"$work/last.log" 2>&1 || true
  read -r seconds kib < <(tail -n 1 "$work/time.txt")  # GNU time puts "Command exited with ..." first on failure
  local failed
  failed=$(grep -c 'FAILED' "$work/last.log" || true)
  awk -v l="$label" -v c="$count" -v s="$seconds" -v k="$kib" -v f="$failed" \
    'BEGIN {printf "| %s | %d | %d | %.1f | %.2f | %.1f | %d |\n", l, c, f, s, s / c, 60 * c / s, k / 1024}' >>"$work/rows.txt"
}
: >"$work/rows.txt"

rm -rf "$work/out" && mkdir "$work/out"
row "locate --batch, real scans, next image read ahead" "$n" "$cli" locate --batch "$work/real" -o "$work/out" --threads 2
rm -rf "$work/out" && mkdir "$work/out"
row "locate --batch, real scans, --no-read-ahead" "$n" "$cli" locate --batch "$work/real" -o "$work/out" --threads 2 --no-read-ahead

ds=$work/Dataset900_Throughput
mkdir -p "$ds/imagesTr" "$ds/labelsTr" "$ds/imagesTs"
for f in "$work"/real/*.nii.gz; do ln -s "$(readlink "$f")" "$ds/imagesTs/$(basename "$f" .nii.gz)_0000.nii.gz"; done
cat >"$ds/dataset.json" <<'EOF'
{"channel_names": {"0": "CT"}, "labels": {"background": 0}, "numTraining": 0, "file_ending": ".nii.gz"}
EOF
row "nnunet crop-dataset --region abdomen, real scans" "$n" "$cli" nnunet crop-dataset --in "$ds" --region abdomen \
  --out "$work/Dataset901_ThroughputCrop" --jobs 1 --threads 2

pairs() {
  local files=("$work"/real/*.nii.gz)
  for k in $(seq 0 2 $((${#files[@]} - 2))); do
    "$cli" prealign "${files[$k]}" "${files[$((k + 1))]}" --method score --threads 2 -o "$work/t.txt" >/dev/null 2>&1 || true
  done
}
export -f pairs
export cli work
row "prealign --method score, one process per pair of real scans (2 volumes each)" "$((n / 2))" bash -c pairs

rm -rf "$work/out" && mkdir "$work/out"
row "locate --batch, 512 x 512 x 300 phantom, next image read ahead" 30 "$cli" locate --batch "$work/big" -o "$work/out" --threads 2
rm -rf "$work/out" && mkdir "$work/out"
row "locate --batch, 512 x 512 x 300 phantom, --no-read-ahead" 30 "$cli" locate --batch "$work/big" -o "$work/out" --threads 2 --no-read-ahead

echo "Real scans: ${#scans[@]} development scans repeated to $n volumes, $voxels million voxels on average."
echo
echo "| run | volumes (pairs) | failed cases | wall time, s | s per volume | volumes/min | peak RSS, MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|"
cat "$work/rows.txt"

#!/usr/bin/env bash
# Memory over a long batch: `slicenav score --batch` (one process, one loaded model) over N volumes, sampling the
# process's resident set size (VmRSS) every 0.5 s, to show that it stays flat (no per-case leak).
#
#   benchmarks/batch_soak.sh SLICENAV_BINARY WORK_DIR [N]
#
# The N volumes (default 1000) are copies of 10 noisy phantoms of different lengths (48 x 48 x 30..75 voxels of
# 8 mm). Prints the RSS after every 10 % of the cases and the growth from the first to the last tenth as a
# markdown table for docs/reliability.md.
set -eu

cli=$1
work=$2
n=${3:-1000}
rm -rf "$work" && mkdir -p "$work/cases" "$work/out" "$work/src"
for i in $(seq 0 9); do
  "$cli" phantom -o "$work/src/p$i.nii.gz" --size 48 48 $((30 + 5 * i)) --spacing 8 8 8 --seed $((i + 1)) >/dev/null
done
for k in $(seq 0 $((n - 1))); do cp "$work/src/p$((k % 10)).nii.gz" "$work/cases/case$(printf %04d "$k").nii.gz"; done

"$cli" score --batch "$work/cases" -o "$work/out" --threads 1 >"$work/log.txt" 2>&1 &
pid=$!
: >"$work/rss.txt"
while kill -0 "$pid" 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  done_cases=$(grep -c '^\[' "$work/log.txt" || true)
  [ -n "$rss" ] && echo "$done_cases $rss" >>"$work/rss.txt"
  sleep 0.5
done
wait "$pid"

echo "| cases done | RSS (MiB) |"
echo "|---:|---:|"
for tenth in $(seq 1 10); do
  awk -v want=$((n * tenth / 10)) '$1 <= want {rss = $2; cases = $1} END {printf "| %d | %.1f |\n", cases, rss / 1024}' "$work/rss.txt"
done
awk -v n="$n" '$1 >= n / 10 && $1 < n / 5 {a += $2; na++} $1 >= 9 * n / 10 {b += $2; nb++}
  END {printf "\nmean RSS over cases %d-%d: %.1f MiB; over the last tenth: %.1f MiB; growth %.1f MiB\n", n / 10, n / 5, a / na / 1024, b / nb / 1024, (b / nb - a / na) / 1024}' "$work/rss.txt"

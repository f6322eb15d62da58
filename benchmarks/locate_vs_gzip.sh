#!/usr/bin/env bash
# `slicenav locate` end to end against `gzip -dc` of the same file (issue: from a CT file to key slices in under
# twice its gzip decode). The file is the 512 x 512 x 300 phantom (0.8 x 0.8 x 1 mm, 10 HU noise) stored as int16
# .nii.gz at gzip level 6 by gzip itself; the two are timed alternately, N times each (default 5), and the medians
# and their ratio printed as a markdown table for docs/benchmarks.md.
#
#   benchmarks/locate_vs_gzip.sh SLICENAV_BINARY WORK_DIR [N]
set -eu

cli=$1
work=$2
n=${3:-5}
rm -rf "$work" && mkdir -p "$work"
"$(dirname "$0")/int16_phantom.sh" "$cli" "$work/ct.nii.gz" 300 6

elapsed() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN {print b - a}'; }
: >"$work/gzip.txt"
: >"$work/locate.txt"
for _ in $(seq 1 "$n"); do
  elapsed sh -c "gzip -dc '$work/ct.nii.gz' >/dev/null" >>"$work/gzip.txt"
  elapsed "$cli" locate "$work/ct.nii.gz" --threads 2 >>"$work/locate.txt"
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
g=$(median "$work/gzip.txt")
l=$(median "$work/locate.txt")
size=$(du -m "$work/ct.nii.gz" | cut -f1)
echo "| file | gzip -dc, s | slicenav locate, s | ratio | goal |"
echo "|---|---:|---:|---:|---|"
printf '| phantom 512 x 512 x 300 int16 .nii.gz (%s MiB), %s runs each, alternately | %.2f | %.2f | %.2f | <= 2 |\n' \
  "$size" "$n" "$g" "$l" "$(awk -v a="$l" -v b="$g" 'BEGIN {print a / b}')"

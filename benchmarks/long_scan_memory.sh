#!/usr/bin/env bash
# Peak memory of `slicenav locate` on a long scan (issue: peak RSS <= 1 GB for a 1500-slice 512 x 512 scan): the
# 512 x 512 x SLICES int16 phantom of benchmarks/int16_phantom.sh (default 1500 slices) as .nii.gz at gzip levels 1
# and 6, each located once in its own process under GNU time (wall time and maximum resident set size), printed as
# a markdown table for docs/benchmarks.md.
#
#   benchmarks/long_scan_memory.sh SLICENAV_BINARY WORK_DIR [SLICES]
set -eu

cli=$1
work=$2
slices=${3:-1500}
rm -rf "$work" && mkdir -p "$work"
echo "| file | compressed, MiB | slicenav locate, s | peak RSS, MiB | goal |"
echo "|---|---:|---:|---:|---|"
for level in 1 6; do
  file="$work/ct_gzip$level.nii.gz"
  "$(dirname "$0")/int16_phantom.sh" "$cli" "$file" "$slices" "$level"
  /usr/bin/time -f "%e %M" -o "$work/time.txt" "$cli" locate "$file" --threads 2 >/dev/null
  read -r seconds kib <"$work/time.txt"
  printf '| phantom 512 x 512 x %s int16 .nii.gz, gzip -%s | %s | %.1f | %d | <= 1 GB (954 MiB) |\n' \
    "$slices" "$level" "$(du -m "$file" | cut -f1)" "$seconds" "$((kib / 1024))"
  rm -f "$file"
done

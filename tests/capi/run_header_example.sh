#!/usr/bin/env bash
# Runs slicenav.h's opening example (built by tests/capi/CMakeLists.txt) on a phantom and checks that it prints
# the key slices, and that it fails cleanly on a missing file.
# Usage: run_header_example.sh EXAMPLE SLICENAV_CLI TMPDIR
set -euo pipefail
example=$1 cli=$2 tmp=$3
rm -rf "$tmp" && mkdir -p "$tmp"
"$cli" phantom -o "$tmp/ct.nii.gz" --size 96 96 240 --spacing 4 4 2.5 >/dev/null
"$example" "$tmp/ct.nii.gz" >"$tmp/out.txt"
cat "$tmp/out.txt"
grep -Eq '^lung_apex +z +-?[0-9.]+ mm +slice +[0-9.]+ +confidence [01]\.[0-9]+$' "$tmp/out.txt" || {
  echo "no located lung apex in the example's output" >&2
  exit 1
}
grep -Eq '^carina +(z|above|below)' "$tmp/out.txt" || { echo "the carina is missing" >&2; exit 1; }
if "$example" "$tmp/missing.nii.gz" >"$tmp/out2.txt" 2>"$tmp/err2.txt"; then
  echo "the example succeeded on a missing file" >&2
  exit 1
fi
grep -q '^slicenav: slicenav_volume_read: ' "$tmp/err2.txt" || { cat "$tmp/err2.txt" >&2; exit 1; }
echo "header example: ok"

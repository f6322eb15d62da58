#!/usr/bin/env bash
# Installs the dependencies, builds, and runs `slicenav info` on a generated phantom and on a real DICOM
# series (../shared/data or $SLICENAV_DATA) when it is present.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
build/bin/slicenav phantom -o "$out/phantom.nii.gz" --landmarks "$out/landmarks.json"
build/bin/slicenav info "$out/phantom.nii.gz"
data="${SLICENAV_DATA:-../shared/data}"
if [ -d "$data/dicom/cptac_C3L-00189" ]; then
  build/bin/slicenav info "$data/dicom/cptac_C3L-00189"
else
  echo "example: no DICOM series at $data/dicom (set SLICENAV_DATA): skipped" >&2
fi

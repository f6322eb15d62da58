#!/usr/bin/env bash
# Installs the dependencies, builds, and runs slicenav's main job on real CT (examples/shell/main_job.sh): key
# slices with a QC picture, two scans prealigned into an elastix -t0 and registered, a crop to the liver and back.
# The data folder is $SLICENAV_DATA or ../shared/data; without it the job runs on synthetic phantoms. The outputs
# stay in build/main_job.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
rm -rf build/main_job
sh examples/shell/main_job.sh -s build/bin/slicenav -w "$PWD/build/main_job" "${SLICENAV_DATA:-../shared/data}"

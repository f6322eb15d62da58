#!/usr/bin/env bash
# Configures and builds slicenav in ./build (Release), with the Python bindings. Extra arguments go to cmake's
# configure step.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${SLICENAV_JOBS:-$(nproc)}"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLICENAV_PYTHON=ON -DPython_EXECUTABLE=/usr/bin/python3 "$@"
cmake --build build -j "$jobs"

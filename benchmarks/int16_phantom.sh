#!/usr/bin/env bash
# The benchmarks' large CT file: the synthetic torso phantom (0.8 x 0.8 x 1 mm, 10 HU noise), 512 x 512 x SLICES,
# rounded to whole HU and stored as int16 .nii.gz by gzip itself at LEVEL (as scanners' exports and converters
# store CT). slicenav writes the noisy phantom as float, so it is rounded through a .nii copy.
#
#   benchmarks/int16_phantom.sh SLICENAV_BINARY OUT.nii.gz SLICES LEVEL
set -eu

cli=$1
out=$2
slices=$3
level=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$cli" phantom -o "$tmp/float.nii" --size 512 512 "$slices" --spacing 0.8 0.8 1 >/dev/null
/usr/bin/python3 - "$tmp" <<'PY'
import sys
import numpy as np
tmp = sys.argv[1]
data = np.memmap(tmp + "/float.nii", dtype=np.uint8, mode="r")
header = np.array(data[:352])
header[70:74] = np.frombuffer(np.array([4, 16], dtype="<i2").tobytes(), dtype=np.uint8)  # datatype int16, bitpix 16
voxels = data[352:].view("<f4")
with open(tmp + "/ct.nii", "wb") as f:
    f.write(header.tobytes())
    step = 512 * 512 * 64
    for start in range(0, voxels.size, step):
        f.write(np.rint(voxels[start:start + step]).astype("<i2").tobytes())
PY
gzip "-$level" -c "$tmp/ct.nii" >"$out.tmp"
mv "$out.tmp" "$out"

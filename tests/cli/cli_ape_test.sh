#!/usr/bin/env bash
# End-to-end tests of `slicenav embed3d`: one ctest per case.
#
#   cli_ape_test.sh CASE SLICENAV_BINARY WORK_DIR DATA_DIR PROJECT_VERSION
#
# Exit 0 pass, 1 fail, 77 skip (real data absent); the helpers are in cli_common.sh.
# shellcheck source=cli_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_common.sh"

case "$case_name" in
embed3d_phantom)
  ok phantom -o "$work/ct.nii.gz" "${phantom_args[@]}"
  ok embed3d "$work/ct.nii.gz" -o "$work/ape.nii.gz" --threads 2
  cp "$work/.out" "$work/summary.json"
  # 40 x 32 x 50 voxels of 4 x 4 x 5 mm span 156 x 124 x 245 mm: 40 x 32 x 62 voxels of 4 mm.
  check_json "$work/summary.json" '
assert j["channels"] == 3 and j["spacing_mm"] == 4.0, j
assert j["size"] == [40, 32, 62], j["size"]
assert j["output"].endswith("ape.nii.gz")'
  # The file: a NIfTI-1 vector image (dim[0] 5, dim[5] 3, float32) of that size.
  "$py" - "$work/ape.nii.gz" <<'PY' || fail "ape.nii.gz is not the 3-component image"
import gzip, struct, sys
h = gzip.open(sys.argv[1]).read(352)
dim = struct.unpack("<8h", h[40:56])
assert dim[0] == 5 and dim[1:4] == (40, 32, 62) and dim[5] == 3, dim
assert struct.unpack("<h", h[70:72])[0] == 16  # float32
assert struct.unpack("<h", h[68:70])[0] == 1007  # vector intent
PY
  only="$(ls "$work")"
  [ "$only" = "$(printf 'ape.nii.gz\nct.nii.gz\nsummary.json')" ] || fail "unexpected files: $only"
  ;;

embed3d_errors)
  ok phantom -o "$work/ct.nii.gz" "${phantom_args[@]}"
  expect_error 2 "does not exist" embed3d "$work/missing.nii.gz" -o "$work/ape.nii.gz"
  expect_error 4 "\.nii or \.nii\.gz" embed3d "$work/ct.nii.gz" -o "$work/ape.mha"
  expect_error 3 "" embed3d "$work/ct.nii.gz" -o "$work/no/such/dir/ape.nii.gz"
  run embed3d "$work/ct.nii.gz" -o "$work/ape.nii.gz" --gzip-level 13
  [ "$rc" -ge 100 ] && grep -q "gzip-level" "$work/.err" || fail "--gzip-level 13 exited $rc: $(cat "$work/.err")"
  # Not CT: an MR-like image with no voxel in air's range.
  "$py" - "$work/mr.nii" <<'PY'
import struct, sys
nx, ny, nz = 16, 16, 8
h = bytearray(352)
struct.pack_into("<i", h, 0, 348)
struct.pack_into("<8h", h, 40, 3, nx, ny, nz, 1, 1, 1, 1)
struct.pack_into("<hh", h, 70, 4, 16)  # int16
struct.pack_into("<8f", h, 76, 1, 2, 2, 4, 1, 1, 1, 1)
struct.pack_into("<f", h, 108, 352.0)
struct.pack_into("<f", h, 112, 1.0)
struct.pack_into("<hh", h, 252, 0, 0)
h[344:348] = b"n+1\0"
data = struct.pack("<%dh" % (nx * ny * nz), *[(i * 7) % 900 for i in range(nx * ny * nz)])
open(sys.argv[1], "wb").write(bytes(h) + data)
PY
  expect_error 4 "CT" embed3d "$work/mr.nii" -o "$work/ape.nii.gz"
  [ ! -e "$work/ape.nii.gz" ] && [ ! -e "$work/ape.mha" ] || fail "a failed embed3d left an output: $(ls "$work")"
  ;;

*) fail "unknown case" ;;
esac

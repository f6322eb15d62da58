#!/usr/bin/env bash
# End-to-end tests of `slicenav info`, `phantom` and reading volumes (phantoms, real DICOM and NIfTI, bad input files), version and usage errors: one ctest per case.
#
#   cli_info_test.sh CASE SLICENAV_BINARY WORK_DIR DATA_DIR PROJECT_VERSION
#
# Exit 0 pass, 1 fail, 77 skip (real data absent); the helpers are in cli_common.sh.
# shellcheck source=cli_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_common.sh"

case "$case_name" in
version)
  ok --version
  [ "$(sed -n 1p "$work/.out")" = "slicenav $project_version" ] || fail "first line of --version: $(cat "$work/.out")"
  [ "$(sed -n 2p "$work/.out")" = "library $project_version" ] || fail "library line of --version: $(cat "$work/.out")"
  ;;

usage_errors)
  # CLI11 reports usage errors with its own exit codes, all >= 100, distinct from library statuses.
  for args in "" "info" "info a.nii.gz --no-such-option" "frobnicate" "phantom --size 1 2"; do
    # shellcheck disable=SC2086
    run $args
    [ "$rc" -ge 100 ] || fail "'slicenav $args' exited $rc, expected a usage error (>= 100)"
    [ -s "$work/.err" ] || fail "'slicenav $args' printed nothing on stderr"
  done
  ;;

phantom_info_roundtrip)
  ok phantom -o "$work/lps.nii.gz" "${phantom_args[@]}" --orientation LPS
  [ ! -s "$work/.out" ] || fail "phantom wrote to stdout"
  ok info "$work/lps.nii.gz" -o "$work/info.json"
  [ ! -s "$work/.out" ] || fail "info -o also wrote to stdout"
  check_json "$work/info.json" "
assert j['size'] == [40, 32, 50]
assert near(j['spacing'], [4, 4, 5])
assert j['orientation'] == 'LPS'
assert j['format'] == 'nifti'
assert j['canonical_slice_count'] == 50
assert near(j['slice_step_mm'], 5)
assert near(j['world_z_range_mm'], $lps_z_range)
assert near(j['obliquity_deg'], 0)
assert len(j['direction']) == 9 and near(j['direction'], [1, 0, 0, 0, 1, 0, 0, 0, 1])
assert len(j['origin']) == 3 and near(j['origin'][2], 100 - 49 * 5)
assert j['patient_position'] is None
assert isinstance(j['warnings'], list) and all(isinstance(w, str) for w in j['warnings'])
assert j['source_path'] == '$work/lps.nii.gz'
"
  # Without -o the same JSON goes to stdout.
  ok info "$work/lps.nii.gz"
  "$py" -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); sys.exit(a != b)' \
    "$work/.out" "$work/info.json" || fail "info to stdout differs from info -o"
  only_files "$work" lps.nii.gz info.json
  ;;

phantom_orientation_rai | phantom_orientation_sla)
  # The same anatomy stored with another axis order gives the same canonical slices.
  if [ "$case_name" = phantom_orientation_rai ]; then
    code=RAI; geometry=(--size 40 32 50 --spacing 4 4 5); size="[40, 32, 50]"
  else
    code=SLA; geometry=(--size 50 40 32 --spacing 5 4 4); size="[50, 40, 32]"
  fi
  ok phantom -o "$work/lps.nii.gz" "${phantom_args[@]}" --orientation LPS
  ok phantom -o "$work/other.nii.gz" --top-z 100 --noise 0 "${geometry[@]}" --orientation "$code"
  ok info "$work/lps.nii.gz" -o "$work/lps.json"
  ok info "$work/other.nii.gz" -o "$work/other.json"
  check_json "$work/other.json" "
assert j['orientation'] == '$code'
assert j['size'] == $size
assert j['canonical_slice_count'] == 50
assert near(j['slice_step_mm'], 5)
assert near(j['world_z_range_mm'], $lps_z_range)
"
  "$py" -c '
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["canonical_slice_count"] == b["canonical_slice_count"], (a["canonical_slice_count"], b["canonical_slice_count"])
assert all(abs(x - y) < 1e-3 for x, y in zip(a["world_z_range_mm"], b["world_z_range_mm"])), (a["world_z_range_mm"], b["world_z_range_mm"])
' "$work/lps.json" "$work/other.json" || fail "$code phantom differs from the LPS one in canonical slices"
  only_files "$work" lps.nii.gz other.nii.gz lps.json other.json
  ;;

gzip_level)
  # --gzip-level sets the level of the .nii.gz images a command writes: 0 stores, 9 compresses; same voxels.
  ok phantom -o "$work/l0.nii.gz" "${phantom_args[@]}" --gzip-level 0
  ok phantom -o "$work/l9.nii.gz" "${phantom_args[@]}" --gzip-level 9
  "$py" - "$work/l0.nii.gz" "$work/l9.nii.gz" <<'PY' || fail "gzip levels 0 and 9 differ in voxels or not in size"
import os, sys
import nibabel, numpy as np
a, b = sys.argv[1:]
assert os.path.getsize(a) > 40 * 32 * 50 * 2 > 4 * os.path.getsize(b), (os.path.getsize(a), os.path.getsize(b))
assert np.array_equal(nibabel.load(a).get_fdata(), nibabel.load(b).get_fdata())
PY
  for args in "phantom -o $work/x.nii.gz --gzip-level 13" "phantom -o $work/x.nii.gz --gzip-level -1" \
              "uncrop $work/l0.nii.gz --record r.json -o $work/x.nii.gz --gzip-level fast"; do
    # shellcheck disable=SC2086
    run $args
    [ "$rc" -ge 100 ] || fail "'slicenav $args' exited $rc, expected a usage error (>= 100)"
  done
  only_files "$work" l0.nii.gz l9.nii.gz
  ;;

phantom_landmarks)
  ok phantom -o "$work/p.nii.gz" "${phantom_args[@]}" --patient-position FFS --seed 7 --landmarks "$work/landmarks.json"
  check_json "$work/landmarks.json" "
assert list(j) == ['landmarks']
lm = j['landmarks']
assert len(lm) > 0
assert all(set(x) == {'name', 'world_z_mm'} for x in lm)
assert all(isinstance(x['name'], str) and x['name'] for x in lm)
assert all(isinstance(x['world_z_mm'], (int, float)) for x in lm)
assert len({x['name'] for x in lm}) == len(lm)
assert 'lung_apex' in {x['name'] for x in lm}
"
  ok info "$work/p.nii.gz" -o "$work/info.json"
  check_json "$work/info.json" "assert j['canonical_slice_count'] == 50"
  # Landmarks depend only on the parameters: a second run gives the same JSON.
  ok phantom -o "$work/q.nii.gz" "${phantom_args[@]}" --patient-position FFS --seed 7 --landmarks "$work/again.json"
  cmp -s "$work/landmarks.json" "$work/again.json" || fail "landmark JSON differs between identical runs"
  only_files "$work" p.nii.gz q.nii.gz landmarks.json again.json info.json
  ;;

real_dicom_ffs)
  dir=$(require_data dicom/cptac_C3L-00189) || exit $?
  ok info "$dir" -o "$work/info.json"
  check_json "$work/info.json" "
assert j['format'] == 'dicom'
assert j['modality'] == 'CT'
assert j['patient_position'] == 'FFS'
assert j['canonical_slice_count'] == 35
assert near(j['slice_step_mm'], 5, 0.01)
assert near(j['world_z_range_mm'], [-178.329, -8.329], 0.01)
assert j['source_path'].rstrip('/').endswith('cptac_C3L-00189')
"
  only_files "$work" info.json
  ;;

real_dicom_hfs)
  # 111 CT slices plus an RTSTRUCT, which the reader must ignore.
  dir=$(require_data dicom/lung1_002) || exit $?
  ok info "$dir" -o "$work/info.json"
  check_json "$work/info.json" "
assert j['format'] == 'dicom'
assert j['modality'] == 'CT'
assert j['patient_position'] == 'HFS'
assert j['orientation'] == 'LPS'
assert j['size'] == [512, 512, 111]
assert j['canonical_slice_count'] == 111
assert near(j['slice_step_mm'], 3, 0.01)
assert near(j['world_z_range_mm'], [-133.4, 196.6], 0.01)
"
  ;;

real_nifti)
  file=$(require_data ct/lung1_001/ct.nii.gz) || exit $?
  ok info "$file"
  check_json "$work/.out" "
assert j['format'] == 'nifti'
assert j['size'][2] == 134
assert j['canonical_slice_count'] == 134
assert near(j['spacing'], [1.953, 1.953, 3.0], 0.001)
assert near(j['slice_step_mm'], 3, 0.001)
assert near(j['world_z_range_mm'], [-681.5, -282.5], 0.01)
assert j['patient_position'] is None
"
  ;;

error_missing_file)
  expect_error 2 'nope\.nii\.gz' info "$work/nope.nii.gz"
  expect_error 2 'no_such_dir' info "$work/no_such_dir/"
  ;;

error_unknown_extension)
  echo "not an image" >"$work/scan.xyz"
  expect_error 4 'scan\.xyz|extension' info "$work/scan.xyz"
  ;;

error_not_an_image)
  # A text file with an image extension is unreadable, not unsupported.
  echo "this is not a NIfTI file" >"$work/fake.nii.gz"
  expect_error 3 'fake\.nii\.gz' info "$work/fake.nii.gz"
  ;;

error_empty_directory)
  mkdir "$work/empty"
  expect_error 4 'empty|dicom' info "$work/empty"
  ;;

error_output_directory_missing)
  ok phantom -o "$work/p.nii.gz" "${phantom_args[@]}"
  expect_error 3 'missing' info "$work/p.nii.gz" -o "$work/missing/info.json"
  expect_error 3 'missing' phantom -o "$work/missing/p.nii.gz" "${phantom_args[@]}"
  # The landmark destination is checked before the volume is written.
  expect_error 3 'missing' phantom -o "$work/q.nii.gz" "${phantom_args[@]}" --landmarks "$work/missing/l.json"
  only_files "$work" p.nii.gz
  ;;

error_bad_orientation)
  expect_error 1 'LLS|orientation' phantom -o "$work/p.nii.gz" "${phantom_args[@]}" --orientation LLS
  expect_error 1 'LPSX|orientation' phantom -o "$work/p.nii.gz" "${phantom_args[@]}" --orientation LPSX
  expect_error 1 'size|spacing' phantom -o "$work/p.nii.gz" --spacing 0 4 5
  only_files "$work"
  ;;

*)
  fail "unknown case '$case_name'"
  ;;
esac
echo "PASS [$case_name]"

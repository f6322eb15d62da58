#!/usr/bin/env bash
# End-to-end tests of `slicenav crop`, `uncrop` and `nnunet`: one ctest per case.
#
#   cli_crop_test.sh CASE SLICENAV_BINARY WORK_DIR DATA_DIR PROJECT_VERSION
#
# Exit 0 pass, 1 fail, 77 skip (real data absent); the helpers are in cli_common.sh.
# shellcheck source=cli_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/cli_common.sh"

case "$case_name" in
real_crop_pelvis)
  # A prostate radiotherapy CT: the pelvis crop keeps every voxel of the manual bladder, prostate and rectum.
  dir=$(require_data ct/pelvref_003) || exit $?
  ok crop "$dir/ct.nii.gz" --region pelvis -o "$work/crop.nii.gz" --record "$work/rec.json"
  "$py" - "$dir/masks" "$work/rec.json" <<'PY' || fail "the pelvis crop cuts a pelvic organ"
import json, sys
import nibabel, numpy
r = json.load(open(sys.argv[2]))
assert r['coverage']['recognised'] is True, r['coverage']
b, e = r['box']['index_begin'], r['box']['index_end']
for organ in ('urinary_bladder', 'prostate', 'rectum'):
    m = numpy.asarray(nibabel.load(f"{sys.argv[1]}/{organ}.nii.gz").dataobj)
    idx = numpy.nonzero(m)
    for axis in range(3):
        assert b[axis] <= idx[axis].min() and idx[axis].max() < e[axis], (organ, axis, b, e, idx[axis].min(), idx[axis].max())
PY
  ;;

crop_uncrop_roundtrip)
  ok phantom -o "$work/b.nii.gz" "${nav_b_args[@]}"
  ok crop "$work/b.nii.gz" --region liver -o "$work/crop.nii.gz" --record "$work/rec.json"
  [ ! -s "$work/.out" ] || fail "crop wrote to stdout: $(cat "$work/.out")"
  grep -q '^liver: box .*(volume ratio' "$work/.err" || fail "crop printed no summary: $(cat "$work/.err")"
  check_json "$work/rec.json" "
assert j['format'] == 'slicenav-crop-record' and j['format_version'] == 1
assert j['region']['name'] == 'liver' and j['margins']['superior_atlas_mm'] > 0
assert j['original']['size'] == [64, 64, 60] and j['original']['pixel_type'] == 'short'
assert j['coverage']['status'] in ('full', 'partial') and j['coverage']['partial'] == (j['coverage']['status'] == 'partial')
assert all(0 <= b < e <= n for b, e, n in zip(j['box']['index_begin'], j['box']['index_end'], j['original']['size']))
assert j['cropped']['size'] == j['box']['size'] and j['volume_ratio'] > 1
"
  ok uncrop "$work/crop.nii.gz" --record "$work/rec.json" -o "$work/full.nii.gz"
  # Bit-exact inside the box, 0 outside, int16 kept (NIfTI read with the standard library).
  "$py" - "$work/b.nii.gz" "$work/crop.nii.gz" "$work/full.nii.gz" "$work/rec.json" <<'PY' || fail "uncrop is not the original inside the box"
import array, gzip, json, struct, sys
def nifti(path):
    b = gzip.open(path).read()
    dims = struct.unpack('<8h', b[40:56])[1:4]
    datatype = struct.unpack('<h', b[70:72])[0]
    offset = int(struct.unpack('<f', b[108:112])[0])
    assert datatype == 4, f"{path}: datatype {datatype}, not int16"
    a = array.array('h'); a.frombytes(b[offset:offset + 2 * dims[0] * dims[1] * dims[2]])
    return dims, a
(n, orig), (c, crop), (m, full) = nifti(sys.argv[1]), nifti(sys.argv[2]), nifti(sys.argv[3])
r = json.load(open(sys.argv[4])); b, e = r['box']['index_begin'], r['box']['index_end']
assert m == n and list(c) == r['box']['size']
for k in range(n[2]):
    for j in range(n[1]):
        for i in range(n[0]):
            at = i + n[0] * (j + n[1] * k)
            inside = all(b[a] <= x < e[a] for a, x in enumerate((i, j, k)))
            assert full[at] == (orig[at] if inside else 0), (i, j, k)
            if inside:
                assert crop[(i - b[0]) + c[0] * ((j - b[1]) + c[1] * (k - b[2]))] == orig[at]
PY
  # The original scan is not on the cropped grid.
  expect_error 1 'cropped grid.*size' uncrop "$work/b.nii.gz" --record "$work/rec.json" -o "$work/x.nii.gz"
  expect_error 2 'does not exist' uncrop "$work/crop.nii.gz" --record "$work/none.json" -o "$work/x.nii.gz"
  only_files "$work" b.nii.gz crop.nii.gz rec.json full.nii.gz
  ;;

crop_readonly_output)
  ok phantom -o "$work/b.nii.gz" "${nav_b_args[@]}"
  mkdir "$work/ro"
  if [ "$(id -u)" = 0 ]; then
    command -v chattr >/dev/null && chattr +i "$work/ro" 2>/dev/null || skip "running as root without chattr +i: cannot make a read-only directory"
    trap 'chattr -i "$work/ro"' EXIT
  else
    chmod 555 "$work/ro"
    trap 'chmod 755 "$work/ro"' EXIT
  fi
  expect_error 3 'ro' crop "$work/b.nii.gz" --region liver -o "$work/ro/crop.nii.gz" --record "$work/rec.json"
  [ -z "$(ls -A "$work/ro")" ] || fail "a read-only output directory got files: $(ls -A "$work/ro")"
  # The crop is written first; when its record cannot be written the crop is removed too.
  expect_error 3 'ro' crop "$work/b.nii.gz" --region liver -o "$work/crop.nii.gz" --record "$work/ro/rec.json"
  [ -z "$(ls -A "$work/ro")" ] || fail "a read-only output directory got files: $(ls -A "$work/ro")"
  only_files "$work" b.nii.gz ro
  ;;

crop_unknown_region)
  ok phantom -o "$work/b.nii.gz" "${nav_b_args[@]}"
  expect_error 1 "unknown region or organ 'spleen'.*the model crops .*head-neck" crop "$work/b.nii.gz" --region spleen -o "$work/c.nii.gz" --record "$work/r.json"
  expect_error 3 'missing' crop "$work/b.nii.gz" --region liver -o "$work/c.nii.gz" --record "$work/missing/r.json"
  only_files "$work" b.nii.gz
  ;;

nnunet_crop_dataset)
  raw=$work/raw
  src=$raw/Dataset101_Phantoms
  out=$raw/Dataset102_PhantomsLiver
  nnunet_phantoms "$src"
  ok nnunet crop-dataset --in "$src" --region liver --out "$out" --jobs 2
  [ ! -s "$work/.out" ] || fail "crop-dataset wrote to stdout: $(cat "$work/.out")"
  grep -Eq '^\[3/3\] ' "$work/.err" || fail "no progress on stderr: $(cat "$work/.err")"
  grep -Eq '^batch: 3 done, 0 skipped, 0 failed of 3 cases$' "$work/.err" || fail "unexpected summary: $(cat "$work/.err")"
  grep -Eq "^nnunet: 2 case\(s\) hold region 'liver' only in part.*: p1, t1$" "$work/.err" ||
    fail "partly covered cases not listed: $(cat "$work/.err")"
  only_files "$out" dataset.json imagesTr labelsTr imagesTs crop_records
  only_files "$out/imagesTr" p1_0000.nii.gz p1_0001.nii.gz p2_0000.nii.gz p2_0001.nii.gz
  only_files "$out/labelsTr" p1.nii.gz p2.nii.gz
  only_files "$out/imagesTs" t1_0000.nii.gz t1_0001.nii.gz
  only_files "$out/crop_records" p1.json p2.json t1.json
  check_json "$out/dataset.json" "
assert j['name'] == 'PhantomsLiver'
assert j['channel_names'] == {'0': 'CT', '1': 'noisy'}
assert j['labels'] == {'background': 0, 'body': 1}
assert j['numTraining'] == 2 and j['file_ending'] == '.nii.gz' and j['licence'] == 'CC0'
assert j['slicenav_crop'] == {'source': 'Dataset101_Phantoms', 'region': 'liver', 'method': 'insertion', 'crop_records': 'crop_records'}
"
  # Every channel and the label map of a case share one grid, smaller than the source's.
  same_grid "$out/imagesTr/p1_0000.nii.gz" "$out/imagesTr/p1_0001.nii.gz" "$out/labelsTr/p1.nii.gz"
  same_grid "$out/imagesTr/p2_0000.nii.gz" "$out/imagesTr/p2_0001.nii.gz" "$out/labelsTr/p2.nii.gz"
  same_grid "$out/imagesTs/t1_0000.nii.gz" "$out/imagesTs/t1_0001.nii.gz"
  for c in imagesTr/p1 imagesTr/p2 imagesTs/t1; do
    ok info "$src/${c}_0000.nii.gz" -o "$work/source.json"
    ok info "$out/${c}_0000.nii.gz" -o "$work/cropped.json"
    "$py" -c '
import json, sys
s, c = (json.load(open(p)) for p in sys.argv[1:3])
n = lambda g: g["size"][0] * g["size"][1] * g["size"][2]
assert n(c) < n(s) and all(a <= b for a, b in zip(c["size"], s["size"])), (s["size"], c["size"])
' "$work/source.json" "$work/cropped.json" || fail "$c was not cropped"
  done
  check_json "$out/crop_records/p2.json" "
assert j['format'] == 'slicenav-crop-record'
assert j['region']['name'] == 'liver'
assert j['original']['size'] == [64, 64, 90]
"
  # A second run skips every case and changes nothing.
  cp "$out/imagesTr/p1_0000.nii.gz" "$work/p1_first.nii.gz"
  ok nnunet crop-dataset --in "$src" --region liver --out "$out" --jobs 2
  grep -Eq '^batch: 0 done, 3 skipped, 0 failed of 3 cases$' "$work/.err" || fail "rerun did not skip: $(cat "$work/.err")"
  cmp -s "$out/imagesTr/p1_0000.nii.gz" "$work/p1_first.nii.gz" || fail "a skipped case changed"

  # Restore: nnU-Net's predictions (with its .npz/.pkl/.json side files) back onto the original grids.
  mkdir "$work/pred"
  cp "$out/labelsTr/p1.nii.gz" "$out/labelsTr/p2.nii.gz" "$work/pred/"
  cp "$out/imagesTs/t1_0001.nii.gz" "$work/pred/t1.nii.gz"
  for f in p1.npz p1.pkl dataset.json plans.json predict_from_raw_data_args.json; do echo x >"$work/pred/$f"; done
  ok nnunet restore --pred "$work/pred" --records "$out/crop_records" --out "$work/restored" --jobs 2
  grep -Eq '^batch: 3 done, 0 skipped, 0 failed of 3 cases$' "$work/.err" || fail "unexpected restore summary: $(cat "$work/.err")"
  only_files "$work/restored" p1.nii.gz p2.nii.gz t1.nii.gz
  same_grid "$work/restored/p1.nii.gz" "$src/labelsTr/p1.nii.gz"
  same_grid "$work/restored/p2.nii.gz" "$src/labelsTr/p2.nii.gz"
  same_grid "$work/restored/t1.nii.gz" "$src/imagesTs/t1_0001.nii.gz"
  # A prediction without a record fails alone; the others are skipped as done.
  cp "$work/pred/p1.nii.gz" "$work/pred/ghost.nii.gz"
  run nnunet restore --pred "$work/pred" --records "$out/crop_records" --out "$work/restored"
  [ "$rc" -eq 10 ] || fail "restore with an unknown case exited $rc, expected 10: $(cat "$work/.err")"
  grep -Eq "ghost: FAILED: not found: no crop record .*ghost\.json" "$work/.err" || fail "ghost not reported: $(cat "$work/.err")"
  grep -Eq '^batch: 0 done, 3 skipped, 1 failed of 4 cases; failed: ghost$' "$work/.err" ||
    fail "unexpected restore summary: $(cat "$work/.err")"
  only_files "$work/restored" p1.nii.gz p2.nii.gz t1.nii.gz
  ;;

nnunet_shards_missing_channel)
  src=$work/raw/Dataset103_Phantoms
  nnunet_phantoms "$src"
  cp "$src/imagesTr/p2_0000.nii.gz" "$src/imagesTr/p3_0000.nii.gz"
  cp "$src/imagesTr/p2_0001.nii.gz" "$src/imagesTr/p3_0001.nii.gz"
  cp "$src/labelsTr/p2.nii.gz" "$src/labelsTr/p3.nii.gz"
  rm "$src/imagesTr/p1_0001.nii.gz"
  # Cases in order p1 p2 p3 t1: shard 0/2 holds p1 (no channel 1) and p3, shard 1/2 holds p2 and t1.
  out=$work/raw/Dataset104_Shards
  run nnunet crop-dataset --in "$src" --region liver --out "$out" --shard 0/2
  [ "$rc" -eq 10 ] || fail "shard 0/2 with a missing channel exited $rc, expected 10: $(cat "$work/.err")"
  grep -Eq "p1: FAILED: not found: missing channel 1 \('noisy'\): .*p1_0001\.nii\.gz' does not exist" "$work/.err" ||
    fail "missing channel not reported: $(cat "$work/.err")"
  grep -Eq '^batch: 1 done, 0 skipped, 1 failed of 2 cases; failed: p1$' "$work/.err" || fail "unexpected summary: $(cat "$work/.err")"
  only_files "$out/imagesTr" p3_0000.nii.gz p3_0001.nii.gz
  only_files "$out/labelsTr" p3.nii.gz
  only_files "$out/crop_records" p3.json
  ok nnunet crop-dataset --in "$src" --region liver --out "$out" --shard 1/2 --jobs 2
  grep -Eq '^batch: 2 done, 0 skipped, 0 failed of 2 cases$' "$work/.err" || fail "unexpected summary: $(cat "$work/.err")"
  only_files "$out/crop_records" p2.json p3.json t1.json
  only_files "$out" dataset.json imagesTr labelsTr imagesTs crop_records
  # Unsharded: the done cases are skipped, p1 still fails, until its channel is back.
  run nnunet crop-dataset --in "$src" --region liver --out "$out"
  grep -Eq '^batch: 0 done, 3 skipped, 1 failed of 4 cases; failed: p1$' "$work/.err" || fail "unexpected summary: $(cat "$work/.err")"
  cp "$src/imagesTr/p1_0000.nii.gz" "$src/imagesTr/p1_0001.nii.gz"
  ok nnunet crop-dataset --in "$src" --region liver --out "$out"
  grep -Eq '^batch: 1 done, 3 skipped, 0 failed of 4 cases$' "$work/.err" || fail "unexpected summary: $(cat "$work/.err")"
  only_files "$out/crop_records" p1.json p2.json p3.json t1.json
  ;;

nnunet_errors)
  raw=$work/raw
  src=$raw/Dataset105_Phantoms
  nnunet_phantoms "$src"
  expect_error 2 'Dataset199_None' nnunet crop-dataset --in "$raw/Dataset199_None" --region liver --out "$raw/Dataset106_X"
  expect_error 1 'DatasetXXX_Name' nnunet crop-dataset --in "$src" --region liver --out "$raw/cropped"
  expect_error 1 'already has id 105' nnunet crop-dataset --in "$src" --region liver --out "$raw/Dataset105_Crop"
  expect_error 1 'the model crops .*liver' nnunet crop-dataset --in "$src" --region nope --out "$raw/Dataset106_X"
  echo '{"channel_names": {"0": "CT"}, "labels": {}, "numTraining": 0, "file_ending": ".png"}' >"$work/bad.json"
  mkdir -p "$raw/Dataset107_Png" && cp "$work/bad.json" "$raw/Dataset107_Png/dataset.json"
  expect_error 4 "file_ending '.png'" nnunet crop-dataset --in "$raw/Dataset107_Png" --region liver --out "$raw/Dataset108_X"
  only_files "$raw" Dataset105_Phantoms Dataset107_Png
  # An output folder holds one crop: resuming it with another region is refused. (An empty shard writes
  # only dataset.json.)
  ok nnunet crop-dataset --in "$src" --region liver --out "$raw/Dataset106_X" --shard 7/8
  only_files "$raw/Dataset106_X" dataset.json imagesTr labelsTr imagesTs crop_records
  expect_error 1 "region 'liver'.*another output folder" nnunet crop-dataset --in "$src" --region lungs --out "$raw/Dataset106_X"
  echo x >"$work/file"
  expect_error 3 'cannot create' nnunet crop-dataset --in "$src" --region liver --out "$work/file/Dataset109_X"
  expect_error 2 'no_records' nnunet restore --pred "$src/labelsTr" --records "$work/no_records" --out "$work/restored"
  expect_error 2 'no_pred' nnunet restore --pred "$work/no_pred" --records "$src" --out "$work/restored"
  expect_error 1 'must differ' nnunet restore --pred "$src/labelsTr" --records "$src" --out "$src/labelsTr"
  for args in "nnunet" "nnunet crop-dataset --in $src --out $raw/Dataset110_X" "nnunet crop-dataset --in $src --region liver --out $raw/Dataset110_X --jobs 0" \
              "nnunet crop-dataset --in $src --region liver --out $raw/Dataset110_X --shard 2/2" \
              "nnunet crop-dataset --in $src --region liver --out $raw/Dataset110_X --method bogus" "nnunet restore --pred $src"; do
    # shellcheck disable=SC2086
    run $args
    [ "$rc" -ge 100 ] || fail "'slicenav $args' exited $rc, expected a usage error (>= 100)"
  done
  ;;

nnunet_readonly_output)
  src=$work/Dataset113_Phantoms
  nnunet_phantoms "$src"
  mkdir "$work/ro" "$work/raw"
  # read_only DIR / writable DIR: root ignores permissions, so it needs the immutable flag.
  if [ "$(id -u)" = 0 ]; then
    command -v chattr >/dev/null && chattr +i "$work/ro" 2>/dev/null || skip "running as root without chattr +i: cannot make a read-only directory"
    read_only() { chattr +i "$1"; }
    writable() { chattr -i "$1"; }
  else
    read_only() { chmod 555 "$1"; }
    writable() { chmod 755 "$1"; }
    read_only "$work/ro"
  fi
  trap 'writable "$work/ro"; writable "$work/raw/Dataset114_Crop/imagesTr" 2>/dev/null' EXIT
  # A read-only nnUNet_raw: the run stops before any case, writing nothing.
  expect_error 3 'cannot create' nnunet crop-dataset --in "$src" --region liver --out "$work/ro/Dataset114_Crop"
  only_files "$work/ro"
  # A read-only imagesTr: its cases fail without leaving files (the test case still gets done).
  out=$work/raw/Dataset114_Crop
  ok nnunet crop-dataset --in "$src" --region liver --out "$out" --shard 5/6
  read_only "$out/imagesTr"
  run nnunet crop-dataset --in "$src" --region liver --out "$out" --jobs 2
  [ "$rc" -eq 10 ] || fail "crop-dataset into a read-only imagesTr exited $rc, expected 10: $(cat "$work/.err")"
  grep -Eq 'p1: FAILED: i/o error: cannot write .*imagesTr/p1_0000\.nii\.gz' "$work/.err" || fail "no i/o error for p1: $(cat "$work/.err")"
  grep -Eq '^batch: 1 done, 0 skipped, 2 failed of 3 cases; failed: p1, p2$' "$work/.err" || fail "unexpected summary: $(cat "$work/.err")"
  only_files "$out" dataset.json imagesTr labelsTr imagesTs crop_records
  only_files "$out/imagesTr"
  only_files "$out/labelsTr"
  only_files "$out/crop_records" t1.json
  writable "$out/imagesTr"
  ok nnunet crop-dataset --in "$src" --region liver --out "$out" --jobs 2
  only_files "$out/crop_records" p1.json p2.json t1.json
  ;;

nnunet_real_dataset)
  # Two training cases (liver masks as labels) and a test case of real CT, cropped to the liver with 2 jobs.
  src=$work/raw/Dataset111_RealLiver
  out=$work/raw/Dataset112_RealLiverCrop
  mkdir -p "$src/imagesTr" "$src/labelsTr" "$src/imagesTs"
  for c in ircad_1_17 ts_example_ct; do
    ct=$(require_data ct/$c/ct.nii.gz) || exit $?
    mask=$(require_data ct/$c/masks/liver.nii.gz) || exit $?
    cp "$ct" "$src/imagesTr/${c}_0000.nii.gz" && cp "$ct" "$src/imagesTr/${c}_0001.nii.gz" && cp "$mask" "$src/labelsTr/$c.nii.gz"
  done
  ct=$(require_data ct/ircad_1_01/ct.nii.gz) || exit $?
  cp "$ct" "$src/imagesTs/ircad_1_01_0000.nii.gz" && cp "$ct" "$src/imagesTs/ircad_1_01_0001.nii.gz"
  printf '{"channel_names": {"0": "CT", "1": "CT_again"}, "labels": {"background": 0, "liver": 1}, "numTraining": 2, "file_ending": ".nii.gz"}\n' >"$src/dataset.json"
  ok nnunet crop-dataset --in "$src" --region liver --out "$out" --jobs 2
  grep -Eq '^batch: 3 done, 0 skipped, 0 failed of 3 cases$' "$work/.err" || fail "unexpected summary: $(cat "$work/.err")"
  only_files "$out/crop_records" ircad_1_17.json ts_example_ct.json ircad_1_01.json
  for c in ircad_1_17 ts_example_ct; do
    same_grid "$out/imagesTr/${c}_0000.nii.gz" "$out/imagesTr/${c}_0001.nii.gz" "$out/labelsTr/$c.nii.gz"
  done
  same_grid "$out/imagesTs/ircad_1_01_0000.nii.gz" "$out/imagesTs/ircad_1_01_0001.nii.gz"
  check_json "$out/crop_records/ircad_1_17.json" "
assert j['region']['name'] == 'liver'
assert j['coverage']['status'] == 'full', j['coverage']['status']
assert j['box']['size'][2] < j['original']['size'][2]
"
  mkdir "$work/pred"
  cp "$out/labelsTr/"*.nii.gz "$work/pred/"
  ok nnunet restore --pred "$work/pred" --records "$out/crop_records" --out "$work/restored"
  only_files "$work/restored" ircad_1_17.nii.gz ts_example_ct.nii.gz
  for c in ircad_1_17 ts_example_ct; do same_grid "$work/restored/$c.nii.gz" "$src/labelsTr/$c.nii.gz"; done
  ;;

*)
  fail "unknown case '$case_name'"
  ;;
esac
echo "PASS [$case_name]"

#!/usr/bin/env bash
# End-to-end tests of the slicenav command-line tool.
#
#   cli_test.sh CASE SLICENAV_BINARY WORK_DIR DATA_DIR PROJECT_VERSION
#
# Runs one case (see the case statement at the bottom) in an emptied WORK_DIR. Exit 0 pass, 1 fail,
# 77 skip (real data absent). $SLICENAV_DATA overrides DATA_DIR. JSON is checked with the system
# Python (/usr/bin/python3), standard library only.
set -u

case_name=$1
cli=$2
work=$3
data_root=${SLICENAV_DATA:-$4}
project_version=$5
py=/usr/bin/python3

fail() { echo "FAIL [$case_name]: $*" >&2; exit 1; }
skip() { echo "SKIP [$case_name]: $*" >&2; exit 77; }

rm -rf "$work" && mkdir -p "$work" || fail "cannot create work directory $work"

# Runs the tool, keeping stdout in $work/.out (outside listings: see only_files) and stderr in $work/.err;
# sets $rc.
run() {
  "$cli" "$@" >"$work/.out" 2>"$work/.err"
  rc=$?
}
# run, then require exit code 0.
ok() {
  run "$@"
  [ "$rc" -eq 0 ] || fail "'slicenav $*' exited $rc: $(cat "$work/.err")"
}
# expect_error CODE PATTERN ARGS...: the tool must exit CODE, print nothing on stdout, and print one
# "slicenav: <status name>: <message>" line on stderr whose message matches PATTERN (grep -E -i).
expect_error() {
  local code=$1 pattern=$2
  shift 2
  run "$@"
  [ "$rc" -eq "$code" ] || fail "'slicenav $*' exited $rc, expected $code; stderr: $(cat "$work/.err")"
  [ ! -s "$work/.out" ] || fail "'slicenav $*' wrote to stdout on error: $(cat "$work/.out")"
  grep -Eq '^slicenav: [a-z/ ]+: .+' "$work/.err" || fail "'slicenav $*': no 'slicenav: <status>: <message>' on stderr: $(cat "$work/.err")"
  grep -Eiq -- "$pattern" "$work/.err" || fail "'slicenav $*': stderr does not match /$pattern/: $(cat "$work/.err")"
}
# check_json FILE ASSERTIONS: each line of ASSERTIONS is Python run with j = the parsed JSON and
# near(a, b, tol=1e-3); a line that raises fails the test and is printed.
check_json() {
  "$py" - "$1" "$2" <<'PY' || fail "JSON check failed on $1"
import json, sys
path, code = sys.argv[1], sys.argv[2]
try:
    with open(path) as f:
        j = json.load(f)
except Exception as e:
    sys.exit(f"{path}: not valid JSON: {e}")
def near(a, b, tol=1e-3):
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(near(x, y, tol) for x, y in zip(a, b))
    return abs(a - b) <= tol
env = {"j": j, "near": near}
for line in code.strip().splitlines():
    line = line.strip()
    if not line:
        continue
    try:
        exec(line, env)
    except Exception as e:
        sys.exit(f"{path}: failed: {line}  ({type(e).__name__}: {e})\n{json.dumps(j, indent=1)[:2000]}")
PY
}
# only_files DIR NAME...: DIR holds exactly these entries (hidden ones included: no stray temp files),
# ignoring this script's own .out and .err.
only_files() {
  local dir=$1
  shift
  local actual expected
  actual=$(cd "$dir" && ls -A | grep -vxE '\.out|\.err' | LC_ALL=C sort | tr '\n' ' ')
  expected=$( (($# > 0)) && printf '%s\n' "$@" | LC_ALL=C sort | tr '\n' ' ')
  [ "$actual" = "$expected" ] || fail "$dir holds [$actual], expected [$expected]"
}
require_data() {
  local path="$data_root/$1"
  [ -e "$path" ] || skip "real data '$1' not found under '$data_root': set SLICENAV_DATA or place the data in ../shared/data"
  echo "$path"
}

# is_png FILE: FILE exists and starts with the PNG signature.
is_png() {
  [ -f "$1" ] && [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ]
}
# Small noiseless phantoms for the navigation cases (64 x 64 voxels of 4 mm, 5 mm slices): A, 30 LPS
# slices from z = -50 down to -195; B, 60 RAI slices from z = 0 (the phantom's lung apex) down to -295, which
# holds A and which the bundled model recognises.
nav_a_args=(--size 64 64 30 --spacing 4 4 5 --top-z -50 --noise 0 --orientation LPS)
nav_b_args=(--size 64 64 60 --spacing 4 4 5 --top-z 0 --noise 0 --orientation RAI)

# Phantom geometry shared by the round-trip cases: 40 x 32 x 50 voxels, 4 x 4 x 5 mm, top slice at z=100.
phantom_args=(--size 40 32 50 --spacing 4 4 5 --top-z 100 --noise 0)
lps_z_range="[100 - 49 * 5, 100]"

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

insert_phantoms)
  ok phantom -o "$work/a.nii.gz" "${nav_a_args[@]}"
  ok phantom -o "$work/b.nii.gz" "${nav_b_args[@]}"
  ok insert "$work/a.nii.gz" "$work/b.nii.gz" -o "$work/insert.json" --qc "$work/heat.png" --distribution
  [ ! -s "$work/.out" ] || fail "insert -o also wrote to stdout"
  is_png "$work/heat.png" || fail "--qc did not write a PNG"
  check_json "$work/insert.json" "
assert j['query'] == '$work/a.nii.gz' and j['target'] == '$work/b.nii.gz'
s = j['slices']
assert len(s) == 30, len(s)
assert [x['query_slice'] for x in s] == list(range(30))
assert all(x['where'] in ('inside', 'above', 'below') for x in s)
# LPS: file slice k is k * 5 mm above the bottom slice.
assert all(near(x['query_world_z_mm'], -195 + 5 * x['query_slice']) for x in s)
ins = [x for x in s if x['where'] == 'inside']
assert len(ins) > 0
assert all(isinstance(x[k], (int, float)) for x in ins for k in ('target_slice', 'target_canonical_slice', 'target_world_z_mm'))
assert all(-295 - 1e-6 <= x['target_world_z_mm'] <= 1e-6 for x in ins)
assert all(x['target_slice'] is None and x['target_world_z_mm'] is None for x in s if x['where'] != 'inside')
assert all(0 < x['peak'] <= 1 for x in s)
d = j['distribution']
slots = d['target_canonical_slices']
assert 0 < len(slots) <= 60 and slots == sorted(slots) and all(0 <= c < 60 for c in slots)
rows = d['rows_in_query_canonical_order']
assert len(rows) == 30, len(rows)
assert all(len(r) == len(slots) + 2 for r in rows)
assert all(abs(sum(r) - 1) < 1e-4 for r in rows), [sum(r) for r in rows]
assert all(min(r) >= 0 for r in rows)
"
  # Without -o, --qc or --distribution: the same slices on stdout, no distribution.
  ok insert "$work/a.nii.gz" "$work/b.nii.gz"
  check_json "$work/.out" "
assert len(j['slices']) == 30
assert 'distribution' not in j
"
  only_files "$work" a.nii.gz b.nii.gz insert.json heat.png
  ;;

score_phantom)
  ok phantom -o "$work/b.nii.gz" "${nav_b_args[@]}"
  ok score "$work/b.nii.gz" -o "$work/score.json"
  [ ! -s "$work/.out" ] || fail "score -o also wrote to stdout"
  check_json "$work/score.json" "
import math
s = j['slices']
assert len(s) == 60, len(s)
assert [x['slice'] for x in s] == list(range(60))
assert all(isinstance(x['score'], (int, float)) and math.isfinite(x['score']) for x in s)
# RAI: file slice k is k * 5 mm below the top slice.
assert all(near(x['world_z_mm'], -5 * x['slice']) for x in s)
assert j['image'] == '$work/b.nii.gz'
"
  only_files "$work" b.nii.gz score.json
  ;;

locate_phantom)
  ok phantom -o "$work/b.nii.gz" "${nav_b_args[@]}"
  for method in insertion score; do
    ok locate "$work/b.nii.gz" --method $method -o "$work/$method.json" --qc "$work/$method.png"
    is_png "$work/$method.png" || fail "locate --qc did not write a PNG ($method)"
    check_json "$work/$method.json" "
assert j['method'] == '$method'
assert isinstance(j['recognised'], bool)
lm = j['landmarks']
assert len(lm) > 0
assert all(isinstance(x['name'], str) and x['name'] for x in lm)
assert len({x['name'] for x in lm}) == len(lm)
assert 'lung_apex' in {x['name'] for x in lm}
assert all(x['where'] in ('inside', 'above', 'below') for x in lm)
assert all((x['world_z_mm'] is None) == (x['where'] != 'inside') for x in lm)
assert all(-295 - 2.5 <= x['world_z_mm'] <= 2.5 for x in lm if x['where'] == 'inside')
assert all(0 <= x['confidence'] <= 1 for x in lm)
assert j['recognised'] or all(x['confidence'] == 0 for x in lm)
"
  done
  only_files "$work" b.nii.gz insertion.json insertion.png score.json score.png
  ;;

coverage_phantom)
  ok phantom -o "$work/b.nii.gz" "${nav_b_args[@]}"
  ok coverage "$work/b.nii.gz" --region liver -o "$work/liver.json"
  check_json "$work/liver.json" "
assert j['region'] == 'liver'
assert j['coverage'] in ('full', 'partial', 'none')
assert isinstance(j['recognised'], bool)
assert j['superior_end']['name'] == 'liver:superior' and j['inferior_end']['name'] == 'liver:inferior'
assert j['coverage'] != 'full' or (j['superior_end']['where'] == 'inside' and j['inferior_end']['where'] == 'inside')
"
  ok coverage "$work/b.nii.gz" --region lungs --method score
  check_json "$work/.out" "
assert j['region'] == 'lungs' and j['method'] == 'score'
assert j['coverage'] in ('full', 'partial', 'none')
"
  only_files "$work" b.nii.gz liver.json
  ;;

coverage_unknown_region)
  ok phantom -o "$work/b.nii.gz" "${nav_b_args[@]}"
  expect_error 1 'known regions' coverage "$work/b.nii.gz" --region nope
  grep -q 'liver' "$work/.err" || fail "the unknown-region message does not list the regions: $(cat "$work/.err")"
  only_files "$work" b.nii.gz
  ;;

error_navigation_inputs)
  ok phantom -o "$work/b.nii.gz" "${nav_b_args[@]}"
  expect_error 2 'nope\.nii\.gz' score "$work/nope.nii.gz"
  expect_error 2 'nope\.nii\.gz' insert "$work/nope.nii.gz" "$work/b.nii.gz"
  expect_error 2 'nope\.nii\.gz' insert "$work/b.nii.gz" "$work/nope.nii.gz"
  expect_error 3 'missing' score "$work/b.nii.gz" -o "$work/missing/s.json"
  expect_error 3 'missing' locate "$work/b.nii.gz" --qc "$work/missing/l.png"
  expect_error 3 'missing' insert "$work/b.nii.gz" "$work/b.nii.gz" --qc "$work/missing/h.png"
  expect_error 2 'no_model\.snm' score "$work/b.nii.gz" --model "$work/no_model.snm"
  expect_error 4 'cuda' score "$work/b.nii.gz" --device cuda:0
  expect_error 1 'tpu' score "$work/b.nii.gz" --device tpu
  for args in "locate $work/b.nii.gz --method bogus" "score" "insert $work/b.nii.gz" "coverage $work/b.nii.gz" \
              "score $work/b.nii.gz --threads -1"; do
    # shellcheck disable=SC2086
    run $args
    [ "$rc" -ge 100 ] || fail "'slicenav $args' exited $rc, expected a usage error (>= 100)"
  done
  only_files "$work" b.nii.gz
  ;;

batch_score_resume)
  mkdir "$work/cases" "$work/out"
  ok phantom -o "$work/cases/p1.nii.gz" "${nav_a_args[@]}"
  ok phantom -o "$work/cases/p2.nii.gz" --size 64 64 30 --spacing 4 4 5 --top-z -50 --noise 0 --orientation RAI
  head -c 300 /dev/urandom >"$work/cases/broken.nii.gz"
  run score --batch "$work/cases" -o "$work/out"
  [ "$rc" -eq 10 ] || fail "batch with a broken case exited $rc, expected 10; stderr: $(cat "$work/.err")"
  [ ! -s "$work/.out" ] || fail "batch wrote to stdout: $(cat "$work/.out")"
  only_files "$work/out" p1.json p2.json
  grep -Eq 'broken: FAILED' "$work/.err" || fail "stderr does not name the failed case: $(cat "$work/.err")"
  grep -Eq '^batch: 2 done, 0 skipped, 1 failed of 3 cases; failed: broken$' "$work/.err" ||
    fail "unexpected batch summary: $(cat "$work/.err")"
  for c in p1 p2; do
    check_json "$work/out/$c.json" "
assert len(j['slices']) == 30
assert j['image'].endswith('/cases/$c.nii.gz')
"
  done
  cp "$work/out/p1.json" "$work/p1.first"
  # Again: the two done cases are skipped, the broken one fails again.
  run score --batch "$work/cases" -o "$work/out"
  [ "$rc" -eq 10 ] || fail "second batch run exited $rc, expected 10; stderr: $(cat "$work/.err")"
  grep -Eq 'p1: skipped' "$work/.err" && grep -Eq 'p2: skipped' "$work/.err" ||
    fail "second run did not skip the done cases: $(cat "$work/.err")"
  grep -Eq '^batch: 0 done, 2 skipped, 1 failed of 3 cases' "$work/.err" ||
    fail "unexpected batch summary: $(cat "$work/.err")"
  cmp -s "$work/out/p1.json" "$work/p1.first" || fail "a skipped case's output changed"
  only_files "$work/out" p1.json p2.json
  # Once the broken case is gone, the batch succeeds.
  rm "$work/cases/broken.nii.gz"
  ok score --batch "$work/cases" -o "$work/out"
  ;;

batch_shards)
  mkdir "$work/cases" "$work/o0" "$work/o1"
  for c in c0 c1 c2; do ok phantom -o "$work/cases/$c.nii.gz" "${nav_a_args[@]}"; done
  # A LIST works like the DIR: relative to the list's directory, comments and blank lines ignored.
  printf '# cases\ncases/c0.nii.gz\n\n  cases/c1.nii.gz  \ncases/c2.nii.gz\n' >"$work/list.txt"
  ok score --batch "$work/cases" -o "$work/o0" --shard 0/2
  only_files "$work/o0" c0.json c2.json
  ok score --batch "$work/list.txt" -o "$work/o1" --shard 1/2
  only_files "$work/o1" c1.json
  # More shards than cases: an empty shard succeeds at once.
  mkdir "$work/o5"
  ok score --batch "$work/cases" -o "$work/o5" --shard 4/5
  only_files "$work/o5"
  ;;

batch_locate_coverage)
  # locate and coverage run in batch mode too; locate writes one --qc picture per case into a directory.
  mkdir "$work/cases" "$work/out" "$work/qc" "$work/cov"
  ok phantom -o "$work/cases/p1.nii.gz" "${nav_a_args[@]}"
  ok phantom -o "$work/cases/p2.mha" "${nav_b_args[@]}"
  ok locate --batch "$work/cases" -o "$work/out" --qc "$work/qc" --method score
  only_files "$work/out" p1.json p2.json
  only_files "$work/qc" p1.png p2.png
  is_png "$work/qc/p2.png" || fail "batch --qc did not write PNGs"
  check_json "$work/out/p2.json" "
assert j['method'] == 'score' and len(j['landmarks']) > 0
"
  expect_error 2 'missing_qc' locate --batch "$work/cases" -o "$work/out" --qc "$work/missing_qc"
  ok coverage --batch "$work/cases" -o "$work/cov" --region lungs
  only_files "$work/cov" p1.json p2.json
  check_json "$work/cov/p1.json" "assert j['region'] == 'lungs' and j['coverage'] in ('full', 'partial', 'none')"
  ;;

batch_usage_errors)
  mkdir "$work/cases" "$work/out"
  ok phantom -o "$work/cases/p.nii.gz" "${nav_a_args[@]}"
  expect_error 2 'no_such_dir' score --batch "$work/no_such_dir" -o "$work/out"
  expect_error 1 '-o' score --batch "$work/cases"
  expect_error 2 'not_a_dir' score --batch "$work/cases" -o "$work/not_a_dir"
  mkdir "$work/empty"
  expect_error 1 'empty|no case' score --batch "$work/empty" -o "$work/out"
  for args in "score --batch $work/cases -o $work/out --shard 2/2" "score $work/cases/p.nii.gz --batch $work/cases -o $work/out" \
              "score $work/cases/p.nii.gz --shard 0/2"; do
    # shellcheck disable=SC2086
    run $args
    [ "$rc" -ge 100 ] || fail "'slicenav $args' exited $rc, expected a usage error (>= 100)"
  done
  only_files "$work/out"
  ;;

real_locate_lung1)
  file=$(require_data ct/lung1_001/ct.nii.gz) || exit $?
  truth=$(require_data ct/lung1_001/landmarks.json) || exit $?
  ok locate "$file" -o "$work/locate.json"
  apex_z=$("$py" -c 'import json,sys; print(next(l["z_mm"] for l in json.load(open(sys.argv[1]))["landmarks"] if l["name"] == "lung_apex"))' "$truth") ||
    fail "no lung_apex in $truth"
  check_json "$work/locate.json" "
assert j['recognised'] is True
a = next(x for x in j['landmarks'] if x['name'] == 'lung_apex')
assert a['where'] == 'inside', a
assert abs(a['world_z_mm'] - ($apex_z)) <= 40, (a['world_z_mm'], $apex_z)
"
  ;;

real_locate_ood)
  file=$(require_data ood/ibsi_sts_001/ct.nii.gz) || exit $?
  ok locate "$file" -o "$work/locate.json"
  check_json "$work/locate.json" "
assert j['recognised'] is False
assert len(j['landmarks']) > 0
assert all(x['confidence'] == 0 for x in j['landmarks'])
"
  ;;

*)
  fail "unknown case '$case_name'"
  ;;
esac
echo "PASS [$case_name]"

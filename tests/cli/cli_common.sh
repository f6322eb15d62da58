# What the end-to-end tests of the slicenav command-line tool share (sourced by tests/cli/cli_*_test.sh):
# the arguments, an emptied work directory, and the helpers that run the tool and check what it wrote.
#
#   cli_<group>_test.sh CASE SLICENAV_BINARY WORK_DIR DATA_DIR PROJECT_VERSION
#
# Each script runs one case of its own in an emptied WORK_DIR. Exit 0 pass, 1 fail,
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
# locate_real CASE FILE NAMES TOL [CHECK]: `slicenav locate` on ct/CASE recognises the scan and puts each landmark
# of the Python tuple NAMES inside it within TOL mm of its z in ct/CASE/FILE; CHECK is more check_json code,
# with the located landmarks in `found`.
locate_real() {
  local file truth
  file=$(require_data "ct/$1/ct.nii.gz") || exit $?
  truth=$(require_data "ct/$1/$2") || exit $?
  ok locate "$file" -o "$work/locate.json"
  truth=$(truth_of "$truth") || fail "cannot read $truth"
  check_json "$work/locate.json" "
truth = $truth
assert j['recognised'] is True
found = {x['name']: x for x in j['landmarks']}
assert all(found[n]['where'] == 'inside' for n in $3), found
assert all(abs(found[n]['world_z_mm'] - truth[n]) <= $4 for n in $3), (found, truth)
${5:-}
"
}

# truth_of FILE: the landmarks of a landmark file (landmarks.json, manual_landmarks.json) as a Python dict
# literal {name: z_mm}, for check_json.
truth_of() {
  "$py" -c 'import json,sys; print({l["name"]: l["z_mm"] for l in json.load(open(sys.argv[1]))["landmarks"] if l.get("z_mm") is not None})' "$1"
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

# nnunet_phantoms DIR: an nnU-Net raw dataset of phantoms with 2 channels (CT; the same with noise), training
# cases p1 and p2 (the noiseless CT copied as a stand-in label map on the same grid) and test case t1. The
# liver is partly in p1 and t1 and wholly in p2.
nnunet_phantoms() {
  local dir=$1 spec
  mkdir -p "$dir/imagesTr" "$dir/labelsTr" "$dir/imagesTs"
  for spec in "imagesTr p1 60 0 RAI" "imagesTr p2 90 50 LPS" "imagesTs t1 60 -20 LPS"; do
    # shellcheck disable=SC2086
    set -- $spec
    ok phantom -o "$dir/$1/$2_0000.nii.gz" --size 64 64 "$3" --spacing 4 4 5 --top-z "$4" --orientation "$5" --noise 0
    ok phantom -o "$dir/$1/$2_0001.nii.gz" --size 64 64 "$3" --spacing 4 4 5 --top-z "$4" --orientation "$5" --noise 25 --seed 3
    if [ "$1" = imagesTr ]; then cp "$dir/$1/$2_0000.nii.gz" "$dir/labelsTr/$2.nii.gz"; fi
  done
  printf '{"channel_names": {"0": "CT", "1": "noisy"}, "labels": {"background": 0, "body": 1}, "numTraining": 2, "file_ending": ".nii.gz", "name": "Phantoms", "licence": "CC0"}\n' >"$dir/dataset.json"
}
# same_grid FILE...: the images share one grid (size, spacing, origin, direction), as `slicenav info` gives it.
same_grid() {
  local f i=0
  for f in "$@"; do
    ok info "$f" -o "$work/.grid$i.json"
    i=$((i + 1))
  done
  "$py" - "$work"/.grid*.json <<'PY' || fail "not one grid: $*"
import json, sys
grids = [json.load(open(p)) for p in sys.argv[1:]]
key = lambda g: (g['size'], [round(x, 3) for x in g['spacing'] + g['origin']], [round(x, 4) for x in g['direction']])
assert all(key(g) == key(grids[0]) for g in grids), [key(g) for g in grids]
PY
  rm -f "$work"/.grid*.json
}

#!/bin/sh
# slicenav's three jobs on real CT, one command each: the key slices of a scan with a QC picture; two scans of
# one patient prealigned into an elastix initial transform (-t0), then registered by elastix when it is
# installed; a scan cropped to the liver for a segmentation network, and the crop put back on the original grid.
#
#   main_job.sh [-s SLICENAV] [-w WORKDIR] [DATA]
#
# DATA is the data folder (default: $SLICENAV_DATA, then ../shared/data): the scans are its ct/ts_example_ct and
# pairs/ts_example_ct_sm, a 30-slice part of the same scan whose header z is 246 mm too low (the prealignment's
# known answer: -246 mm). Without the data it makes two synthetic phantoms instead (no accuracy claim rests on
# them). Every command is printed before it runs; the script stops at the first failure and ends by listing
# what it wrote.
set -eu

slicenav=slicenav
work=
while getopts s:w: opt; do
  case $opt in
    s) slicenav=$OPTARG ;;
    w) work=$OPTARG ;;
    *) echo "usage: $0 [-s SLICENAV] [-w WORKDIR] [DATA]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
data=${1:-${SLICENAV_DATA:-../shared/data}}
[ -n "$work" ] || work=$(mktemp -d "${TMPDIR:-/tmp}/slicenav-main-job.XXXXXX")
mkdir -p "$work"

run() {
  printf '\n$ %s\n' "$*"
  "$@"
}

ct=$data/ct/ts_example_ct/ct.nii.gz
part=$data/pairs/ts_example_ct_sm.nii.gz
if [ -f "$ct" ] && [ -f "$part" ]; then
  echo "slicenav on real CT from $data (TotalSegmentator's example scan: lung bases to femoral heads, 3 mm)"
  expected="-246 mm (the part's header is 82 slices x 3 mm too low)"
else
  echo "no real CT at $data (set SLICENAV_DATA or pass DATA): using synthetic phantoms"
  ct=$work/phantom.nii.gz
  part=$work/phantom_part.nii.gz
  run "$slicenav" phantom -o "$ct" --size 64 64 120 --spacing 5 5 4 --top-z 0
  run "$slicenav" phantom -o "$part" --size 64 64 30 --spacing 5 5 4 --top-z -200 --orientation RAI
  expected="0 mm (both phantoms place the same anatomy at the same world z)"
fi

# 1. Key slices, with a QC picture (coronal and sagittal views, key slices drawn).
run "$slicenav" locate "$ct" -o "$work/key_slices.json" --qc "$work/key_slices.png"

# 2. Prealign the part (moving) to the whole scan (fixed): an elastix -t0 file and an ITK .tfm.
run "$slicenav" prealign "$ct" "$part" -o "$work/init.txt" --tfm "$work/init.tfm" --json "$work/prealign.json"
elastix=${SLICENAV_ELASTIX:-$(command -v elastix || true)}
if [ -n "$elastix" ]; then
  run "$slicenav" register "$ct" "$part" -o "$work/registration" --resample
else
  echo "elastix is not installed: registration skipped (Debian: apt-get install elastix)"
fi

# 3. Crop to the liver for a segmentation network; a network's label map on the cropped grid goes back through
#    uncrop the same way (here the crop itself stands in for it).
run "$slicenav" crop "$ct" --region liver -o "$work/liver.nii.gz" --record "$work/liver.json"
run "$slicenav" uncrop "$work/liver.nii.gz" --record "$work/liver.json" -o "$work/liver_restored.nii.gz"

echo
echo "What slicenav did (outputs in $work):"
echo "  key slices          key_slices.json, QC picture key_slices.png"
echo "  prealignment        init.txt (elastix -t0), init.tfm (ITK), prealign.json; expected z $expected"
if [ -n "$elastix" ]; then
  echo "  registration        registration/ (elastix result from init.txt; resampled.nii.gz on the fixed grid)"
fi
echo "  crop to the liver   liver.nii.gz with its record liver.json; put back: liver_restored.nii.gz"

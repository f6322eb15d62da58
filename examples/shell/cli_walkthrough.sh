#!/bin/sh
# A walk through the slicenav command line: describe a scan, score its slices, find its key slices, check that
# it covers a region, place a follow-up scan in it, prealign the two for elastix, and crop to a region and back.
#
#   cli_walkthrough.sh [-s SLICENAV] [-w WORKDIR] [CT FOLLOW_UP]
#
# Without CT and FOLLOW_UP it makes two synthetic phantoms (a torso, and a shorter scan of its chest in another
# orientation); with them it uses your scans (two scans of one patient; image files or DICOM directories).
# SLICENAV is the slicenav command (default: slicenav on PATH); WORKDIR receives every output (default: a new
# temporary directory). Every command is printed before it runs; the script stops at the first failure.
set -eu

slicenav=slicenav
work=
while getopts s:w: opt; do
  case $opt in
    s) slicenav=$OPTARG ;;
    w) work=$OPTARG ;;
    *) echo "usage: $0 [-s SLICENAV] [-w WORKDIR] [CT FOLLOW_UP]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ -n "$work" ] || work=$(mktemp -d)
mkdir -p "$work"

run() {
  printf '\n$ %s\n' "$*"
  "$@"
}

echo "slicenav walkthrough in $work"
run "$slicenav" --version

if [ $# -eq 2 ]; then
  ct=$1
  follow_up=$2
elif [ $# -eq 0 ]; then
  # Synthetic scans: no accuracy claim rests on them. Both place the same anatomy at the same world z.
  ct="$work/ct.nii.gz"
  follow_up="$work/follow_up.nii.gz"
  run "$slicenav" phantom -o "$ct" --size 64 64 60 --spacing 4 4 5 --top-z 0 --orientation RAI
  run "$slicenav" phantom -o "$follow_up" --size 64 64 40 --spacing 4 4 5 --top-z -100 --orientation LPS
else
  echo "usage: $0 [-s SLICENAV] [-w WORKDIR] [CT FOLLOW_UP]" >&2
  exit 2
fi

# 1. What is this scan? Geometry, canonical slice order, warnings (JSON on stdout).
run "$slicenav" info "$ct"

# 2. A body-part score for every slice (atlas mm, lung apex = 0, superior positive).
run "$slicenav" score "$ct" -o "$work/scores.json"

# 3. Key slices (lung apex, carina, liver dome, ...) with a QC picture.
run "$slicenav" locate "$ct" -o "$work/landmarks.json" --qc "$work/landmarks.png"

# 4. Does the scan cover the liver: full, partial or none?
run "$slicenav" coverage "$ct" --region liver

# 5. Where does every slice of the follow-up belong in the first scan?
run "$slicenav" insert "$follow_up" "$ct" -o "$work/insert.json" --qc "$work/insert.png"

# 6. The z translation between the scans, as an elastix initial transform (elastix -t0) and an ITK .tfm.
run "$slicenav" prealign "$ct" "$follow_up" -o "$work/init.txt" --tfm "$work/init.tfm" --json "$work/prealign.json"
run cat "$work/prealign.json"

# 7. Crop to the liver for a segmentation network, and paste a result on the cropped grid back. (Here the
#    "result" is the crop itself; a network's label map goes through uncrop the same way.)
run "$slicenav" crop "$ct" --region liver -o "$work/liver.nii.gz" --record "$work/liver.json"
run "$slicenav" uncrop "$work/liver.nii.gz" --record "$work/liver.json" -o "$work/liver_restored.nii.gz"
run "$slicenav" info "$work/liver_restored.nii.gz" -o "$work/liver_restored.json"

# 8. Many scans at once: a folder of scans (here links to the two above), resumable, one output per case.
link_as() {  # link_as NAME SCAN: links SCAN into the batch folder as NAME plus SCAN's image extension
  case $2 in
    *.nii.gz|*.NII.GZ) ext=.nii.gz ;;
    *.*) ext=".${2##*.}" ;;
    *) ext= ;;  # a DICOM directory
  esac
  ln -sfn "$(cd "$(dirname "$2")" && pwd)/$(basename "$2")" "$work/batch/$1$ext"
}
mkdir -p "$work/batch" "$work/batch_scores"
link_as first "$ct"
link_as second "$follow_up"
run "$slicenav" score --batch "$work/batch" -o "$work/batch_scores"
run ls "$work/batch_scores"

echo
echo "walkthrough: done; outputs in $work"

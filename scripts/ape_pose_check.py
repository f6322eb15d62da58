#!/usr/bin/python3
"""How the head-and-neck organ crops hold up when the head is tilted (docs/ape.md, "Head poses").

    PYTHONPATH=build/python scripts/ape_pose_check.py [--model M] [--data DIR] [--angles -20,-10,10,20]

Every OpenKBP crop of the data folder (set hn of cases.tsv) and its organ masks are rotated about the
left-right axis through the scan's centre (trilinear for the CT, air outside; nearest for the masks):
positive angles tilt the chin down and back (flexion), negative ones up (extension), as
`slicenav-ape-boxes --tilts` counts them. Each offered
head-and-neck organ is cropped with the model (Model.crop_plan, as `slicenav crop --region ORGAN`) and the
recall of its rotated mask is counted. The model's templates include each scan's own, unrotated, so the
recall at 0 degrees is optimistic: what falls away with the angle is the effect of the pose alone.
Prints one line per organ and angle: scans, scans boxed (the APE box used), and among those the lowest recall
and the number below 0.99. Needs numpy and scipy (scripts/install-deps.sh installs both).
"""
import argparse
import csv
import os

import numpy as np
import scipy.ndimage

import slicenav

ORGAN_MASKS = {
    "brainstem": ["brainstem"],
    "larynx": ["larynx"],
    "mandible": ["mandible"],
    "parotids": ["parotid_left", "parotid_right"],
}


def rotated(array, spacing, degrees, order, outside):
    """`array` (z, y, x) tilted by `degrees` about the left-right axis through its centre (positive: the
    anterior side down)."""
    t = np.deg2rad(-degrees)
    scale = np.diag([spacing[2], spacing[1], spacing[0]])
    rotation = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1.0]])
    matrix = np.linalg.inv(scale) @ rotation.T @ scale  # output index -> input index
    centre = (np.array(array.shape) - 1) / 2
    return scipy.ndimage.affine_transform(array, matrix, offset=centre - matrix @ centre, order=order,
                                          cval=outside)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="model file (default: the bundled model)")
    parser.add_argument("--data", default=os.environ.get("SLICENAV_DATA", "../shared/data"))
    parser.add_argument("--angles", default="-20,-10,0,10,20", help="degrees, comma-separated")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    model = slicenav.Model(args.model, threads=args.threads)
    organs = [o for o in ORGAN_MASKS if o in model.organs()]
    angles = [float(a) for a in args.angles.split(",")]
    with open(os.path.join(args.data, "cases.tsv")) as f:
        cases = [row for row in csv.DictReader(f, delimiter="\t") if row["set"] == "hn"]
    results = {}  # (organ, angle) -> [(recall, boxed)]
    for case in cases:
        folder = os.path.join(args.data, case["path"])
        volume = slicenav.Volume.read(os.path.join(folder, "ct.nii.gz"))
        ct = volume.to_numpy().astype(np.float32)
        masks = {}
        for organ in organs:
            files = [os.path.join(folder, "masks", n + ".nii.gz") for n in ORGAN_MASKS[organ]]
            parts = [slicenav.Volume.read(f).to_numpy() > 0 for f in files if os.path.exists(f)]
            if parts and np.logical_or.reduce(parts).any():
                masks[organ] = np.logical_or.reduce(parts).astype(np.float32)
        for angle in angles:
            scan = slicenav.Volume.from_numpy(rotated(ct, volume.spacing, angle, 1, -1000.0), volume.spacing,
                                              volume.origin, volume.direction)
            for organ, mask in masks.items():
                truth = rotated(mask, volume.spacing, angle, 0, 0.0) > 0.5
                try:
                    record = model.crop_plan(scan, organ).to_dict()
                except slicenav.UnsupportedInputError:
                    continue  # the region is refused: no crop to measure
                lo, hi = record["box"]["index_begin"], record["box"]["index_end"]
                kept = truth[lo[2]:hi[2], lo[1]:hi[1], lo[0]:hi[0]].sum() / truth.sum()
                results.setdefault((organ, angle), []).append((kept, record["ape"]["used"]))
        print(case["case_id"], "done", flush=True)
    print("| organ | degrees | scans | boxed | lowest recall, boxed | boxed below 0.99 |")
    print("|---|---:|---:|---:|---:|---:|")
    for (organ, angle), found in sorted(results.items()):
        boxed = [k for k, used in found if used]
        lowest = f"{min(boxed):.3f}" if boxed else "-"
        print(f"| {organ} | {angle:+.0f} | {len(found)} | {len(boxed)} | {lowest} | {sum(k < 0.99 for k in boxed)} |")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Crop a folder of CT scans to one region for a segmentation network, then restore its predictions onto the
original scans, with the slicenav Python package (no files other than the images, no subprocesses).

    crop_for_segmentation.py INPUT_DIR WORK_DIR [--region liver] [--method insertion|score]

For every image in INPUT_DIR (.nii, .nii.gz, .mha, .mhd, .nrrd; sorted by name), WORK_DIR receives:
    cropped/<case>_0000.nii.gz   the scan cropped to the region (nnU-Net's input naming), voxel type kept
    records/<case>.json          the crop record: all that is needed to undo the crop
    predictions/<case>.nii.gz    the segmentation network's output on the cropped grid
    restored/<case>.nii.gz       that prediction pasted back onto the original scan's grid (background 0)
and a summary line per case goes to stdout as JSON. The "network" here is a stand-in (voxels above -500 HU
inside the crop, i.e. the body); put a real one (nnU-Net, TotalSegmentator, ...) in `segment()`.

A scan that does not show the region, or that the model does not recognise, is reported and skipped; the exit
status is 1 when any case was skipped, 0 otherwise.
"""

import argparse
import json
import pathlib
import sys

import numpy

import slicenav

EXTENSIONS = (".nii.gz", ".nii", ".mha", ".mhd", ".nrrd")


def case_name(path):
    name = path.name
    for ext in EXTENSIONS:
        if name.endswith(ext):
            return name[: -len(ext)]
    return None


def segment(image):
    """The segmentation network's stand-in: a label map (1 = body) on the cropped image's grid."""
    labels = (image.to_numpy() > -500).astype(numpy.uint8)  # to_numpy() is (z, y, x), a view without copy
    return slicenav.Volume.from_numpy(labels, image.spacing, image.origin, image.direction)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input_dir", type=pathlib.Path)
    parser.add_argument("work_dir", type=pathlib.Path)
    parser.add_argument("--region", default="liver")
    parser.add_argument("--method", default="insertion", choices=["insertion", "score"])
    args = parser.parse_args()

    cases = sorted((case_name(p), p) for p in args.input_dir.iterdir() if case_name(p))
    if not cases:
        parser.error(f"no images in {args.input_dir}")
    dirs = {name: args.work_dir / name for name in ("cropped", "records", "predictions", "restored")}
    for d in dirs.values():
        d.mkdir(parents=True, exist_ok=True)

    model = slicenav.Model()  # the bundled model, loaded once for every case
    skipped = 0
    for case, path in cases:
        try:
            scan = slicenav.Volume.read(path)
            record = model.crop_plan(scan, args.region, method=args.method)
        except (slicenav.UnsupportedInputError, slicenav.SlicenavIOError) as e:
            print(json.dumps({"case": case, "skipped": str(e)}))
            skipped += 1
            continue
        cropped = dirs["cropped"] / f"{case}_0000.nii.gz"
        record.write(dirs["records"] / f"{case}.json")
        record.crop_file(path, cropped)

        # Later, possibly elsewhere: segment the crop, then restore with nothing but the record.
        prediction = dirs["predictions"] / f"{case}.nii.gz"
        segment(slicenav.Volume.read(cropped)).write(prediction)
        restored = dirs["restored"] / f"{case}.nii.gz"
        slicenav.CropRecord.read(dirs["records"] / f"{case}.json").uncrop_file(prediction, restored)

        back = slicenav.Volume.read(restored)
        if back.size != scan.size or not numpy.allclose(back.origin, scan.origin, atol=1e-3):
            raise SystemExit(f"{case}: the restored prediction is not on the original grid")
        box = record.to_dict()["box"]
        print(json.dumps({
            "case": case,
            "region": args.region,
            "partial": record.partial,
            "original_size": list(scan.size),
            "cropped_size": box["size"],
            "voxels_kept": round(1.0 / record.to_dict()["volume_ratio"], 3),
            "restored": str(restored),
            "restored_labelled_voxels": int((back.to_numpy() > 0).sum()),
        }))
    return 1 if skipped else 0


if __name__ == "__main__":
    sys.exit(main())

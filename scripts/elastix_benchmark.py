#!/usr/bin/python3
"""Registration with elastix from different starts: slicenav's prealignment (-t0; the z prealignment and
the rigid one) versus elastix's own AutomaticTransformInitialization (GeometricalCenter, CenterOfGravity)
versus none. Final error (mm) against
known answers and elastix's runtime, side by side, as the markdown table of docs/benchmarks.md.

    /usr/bin/python3 scripts/elastix_benchmark.py --slicenav build/bin/slicenav [--data ../shared/data]
        [--work /tmp/slicenav-elastix-benchmark] [--threads 1] [--preset rigid]

Needs elastix and transformix on PATH and Debian's python3-numpy and python3-nibabel. Pairs (all real
images; the known answers are described in docs/benchmarks.md):
  ts_example_ct_sm   ct/ts_example_ct vs pairs/ts_example_ct_sm, whose header z is 246 mm off
  lung_masks         pairs/elastix_3DCT_lung baseline vs follow-up lung masks, 100 landmark pairs
  lung_identity      pairs/elastix_3DCT_lung 3DCT_lung.mha vs the downsampled baseline (same frame)
  <case>_sub         a z sub-volume of ct/<case> with its header z moved by a known amount
  <case>_rot         ct/<case> against itself moved by a known rotation and shift (an oblique grid)
  <a>_into_<b>       two patients (held out from the model's training): ct/<a> fixed, ct/<b> moving; scored in
                     z only, at the key slices both cases list (landmarks.json, manual_landmarks.json)
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import nibabel
import numpy as np

INITS = ["prealign", "prealign-rigid", "geometric-centre", "centre-of-gravity", "none"]
# Initialisations as slicenav register arguments.
INIT_ARGS = {"prealign-rigid": ["--init", "prealign", "--rigid"]}
# Held-out sub-volume pairs: case, first and last fraction of the slices kept, header z change (mm).
SUBVOLUMES = [("lung1_001", 0.55, 0.9, 180.0), ("crlm_1004", 0.1, 0.45, -150.0), ("lidc_0001", 0.3, 0.7, 300.0)]
# Held-out scans moved rigidly: case, Euler angles about x, y, z (degrees, R = Rz Rx Ry), shift (LPS mm).
ROTATIONS = [("lidc_0001", (6.0, -4.0, 12.0), (30.0, -20.0, 80.0)), ("crlm_1004", (-4.0, 5.0, -10.0), (-40.0, 25.0, -60.0))]
# Pairs of two patients: fixed case, moving case.
PATIENT_PAIRS = [("lidc_0002", "lidc_0003"), ("cptac_C3N-00247", "onko_thorax_ccb2be4e"), ("hnpetct_chus005", "lidc_0002")]


def lps_points_in_box(img, k_range, count=3):
    """A count^3 grid of world LPS points inside the image, slices k_range (voxel centres, inset 20 %)."""
    shape = img.shape
    axes = [np.linspace(0.2 * (n - 1), 0.8 * (n - 1), count) for n in shape[:2]]
    ks = np.linspace(k_range[0] + 0.2 * (k_range[1] - k_range[0]), k_range[1] - 0.2 * (k_range[1] - k_range[0]), count)
    pts = []
    for i in axes[0]:
        for j in axes[1]:
            for k in ks:
                x, y, z = img.affine.dot([i, j, k, 1.0])[:3]
                pts.append([-x, -y, z])  # RAS -> LPS
    return np.array(pts)


def read_points(path):
    with open(path) as f:
        lines = f.read().split("\n")
    n = int(lines[1])
    return np.array([[float(v) for v in lines[2 + i].split()] for i in range(n)])


def transformix_points(transform, points, work):
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(work, "points.txt"), "w") as f:
        f.write("point\n%d\n" % len(points))
        for p in points:
            f.write("%.6f %.6f %.6f\n" % tuple(p))
    subprocess.run(["transformix", "-def", os.path.join(work, "points.txt"), "-out", work, "-tp", transform],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = []
    with open(os.path.join(work, "outputpoints.txt")) as f:
        for line in f:
            tail = line.split("OutputPoint = [")[1]
            out.append([float(v) for v in tail.split("]")[0].split()])
    return np.array(out)


def make_subvolume(data, case, lo, hi, dz, work):
    img = nibabel.load(os.path.join(data, "ct", case, "ct.nii.gz"))
    n = img.shape[2]
    k0, k1 = int(lo * n), int(hi * n)
    sub = np.asanyarray(img.dataobj)[:, :, k0:k1]
    affine = img.affine.copy()
    affine[:3, 3] = img.affine.dot([0, 0, k0, 1.0])[:3]
    affine[2, 3] -= dz  # header z = true z - dz
    path = os.path.join(work, "%s_sub.nii.gz" % case)
    nibabel.save(nibabel.Nifti1Image(sub, affine), path)
    points = lps_points_in_box(img, (k0, k1 - 1))
    return os.path.join(data, "ct", case, "ct.nii.gz"), path, points, points + [0.0, 0.0, -dz]


def key_slices(case_dir):
    """{name: world z} of a case's key slices: landmarks.json (status ok) first, then manual_landmarks.json;
    side-specific names left out."""
    z = {}
    for name in ("landmarks.json", "manual_landmarks.json"):
        path = os.path.join(case_dir, name)
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for entry in json.load(f).get("landmarks", []):
                n = entry.get("name", "")
                if entry.get("status", "ok") != "ok" or not isinstance(entry.get("z_mm"), (int, float)):
                    continue
                if "left" in n.split("_") or "right" in n.split("_"):
                    continue
                z.setdefault(n, float(entry["z_mm"]))
    return z


def patient_pair(data, fixed_case, moving_case):
    """Points at the fixed scan's in-plane centre at each key slice both cases list, and their truth: the same
    points at the moving case's z of that key slice (only z is known across patients)."""
    fixed = os.path.join(data, "ct", fixed_case, "ct.nii.gz")
    img = nibabel.load(fixed)
    fz, mz = key_slices(os.path.dirname(fixed)), key_slices(os.path.join(data, "ct", moving_case))
    centre = img.affine.dot([(img.shape[0] - 1) / 2.0, (img.shape[1] - 1) / 2.0, 0.0, 1.0])[:3]
    shared = sorted(set(fz) & set(mz))
    p = np.array([[-centre[0], -centre[1], fz[n]] for n in shared])
    q = np.array([[-centre[0], -centre[1], mz[n]] for n in shared])
    return fixed, os.path.join(data, "ct", moving_case, "ct.nii.gz"), p, q


def rotation(euler_deg):
    """R = Rz Rx Ry (elastix EulerTransform, ComputeZYX false)."""
    x, y, z = np.radians(euler_deg)
    rx = np.array([[1, 0, 0], [0, np.cos(x), -np.sin(x)], [0, np.sin(x), np.cos(x)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rz = np.array([[np.cos(z), -np.sin(z), 0], [np.sin(z), np.cos(z), 0], [0, 0, 1]])
    return rz @ rx @ ry


def make_rotated(data, case, euler_deg, shift, work):
    """ct/<case> with every world point p moved to R (p - c) + c + t (c: the scan's centre), written with the
    moved affine; error points: a grid inside the scan and where the motion takes them."""
    fixed = os.path.join(data, "ct", case, "ct.nii.gz")
    img = nibabel.load(fixed)
    flip = np.diag([-1.0, -1.0, 1.0])  # LPS <-> RAS
    centre_ras = img.affine.dot(list((np.array(img.shape[:3]) - 1) / 2.0) + [1.0])[:3]
    r_ras = flip @ rotation(euler_deg) @ flip
    motion = np.eye(4)
    motion[:3, :3] = r_ras
    motion[:3, 3] = centre_ras - r_ras @ centre_ras + flip @ np.array(shift)
    path = os.path.join(work, "%s_rot.nii.gz" % case)
    nibabel.save(nibabel.Nifti1Image(np.asanyarray(img.dataobj), motion @ img.affine), path)
    p = lps_points_in_box(img, (0, img.shape[2] - 1))
    c = flip @ centre_ras
    q = (rotation(euler_deg) @ (p - c).T).T + c + np.array(shift)
    return fixed, path, p, q


def pairs(data, work):
    out = []
    full = os.path.join(data, "ct/ts_example_ct/ct.nii.gz")
    img = nibabel.load(full)
    pts = lps_points_in_box(img, (82, 111))  # the 30 slices the subset holds
    out.append(("ts_example_ct_sm", full, os.path.join(data, "pairs/ts_example_ct_sm.nii.gz"), pts, pts + [0, 0, -246.0]))
    lung = os.path.join(data, "pairs/elastix_3DCT_lung")
    base = read_points(os.path.join(lung, "3DCT_lung_baseline_landmarks.txt"))
    follow = read_points(os.path.join(lung, "3DCT_lung_groundtruth_point.txt"))
    out.append(("lung_masks", os.path.join(lung, "3DCT_lung_baseline_mask.mha"),
                os.path.join(lung, "3DCT_lung_followup_mask.mha"), base, follow))
    out.append(("lung_identity", os.path.join(lung, "3DCT_lung.mha"), os.path.join(lung, "3DCT_lung_baseline_small.mha"),
                base, base))
    for case, lo, hi, dz in SUBVOLUMES:
        if os.path.exists(os.path.join(data, "ct", case, "ct.nii.gz")):
            fixed, moving, p, q = make_subvolume(data, case, lo, hi, dz, work)
            out.append((case + "_sub", fixed, moving, p, q))
    for case, euler, shift in ROTATIONS:
        if os.path.exists(os.path.join(data, "ct", case, "ct.nii.gz")):
            out.append((case + "_rot",) + make_rotated(data, case, euler, shift, work))
    for a, b in PATIENT_PAIRS:
        if os.path.exists(os.path.join(data, "ct", a, "ct.nii.gz")) and os.path.exists(os.path.join(data, "ct", b, "ct.nii.gz")):
            out.append((a + "_into_" + b,) + patient_pair(data, a, b))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--slicenav", required=True)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "../../shared/data"))
    ap.add_argument("--work", default="/tmp/slicenav-elastix-benchmark")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--preset", default="rigid")
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    help_text = subprocess.run([args.slicenav, "register", "--help"], capture_output=True, text=True).stdout
    init_line = next((l for l in help_text.split("\n") if "--init" in l), "")
    rows = []
    for name, fixed, moving, p, q in pairs(args.data, args.work):
        z_only = "_into_" in name  # two patients: only the key slices' z is known
        distance = (lambda a, b: np.abs(a[:, 2] - b[:, 2])) if z_only else (lambda a, b: np.linalg.norm(a - b, axis=1))
        start_error = distance(q, p).mean()
        for init in INITS:
            init_args = INIT_ARGS.get(init, ["--init", init])
            if init_args[1] not in init_line or ("--rigid" in init_args and "--rigid" not in help_text):
                rows.append((name, init, start_error, None, None, None, "not measured (no %s in this build)" % " ".join(init_args)))
                continue
            out = os.path.join(args.work, name, init)
            shutil.rmtree(out, ignore_errors=True)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            t0 = time.time()
            r = subprocess.run([args.slicenav, "register", fixed, moving, "-o", out] + init_args +
                               ["--preset", args.preset, "--threads", str(args.threads)], capture_output=True, text=True)
            wall = time.time() - t0
            if r.returncode != 0:
                first = r.stderr.strip().split("\n")[0][:100]
                rows.append((name, init, start_error, None, None, wall, "failed: " + first))
                continue
            summary = json.loads(r.stdout)
            mapped = transformix_points(os.path.join(out, "TransformParameters.0.txt"), p, os.path.join(out, "points"))
            err = distance(mapped, q)
            note = "z only, %d key slices" % len(p) if z_only else ""
            if init.startswith("prealign"):
                rot = summary["init"].get("rotation_rad", [0.0, 0.0, 0.0])
                what = "prealign (%s) %.1f mm z" % (summary["init"]["method"], summary["init"]["translation_mm"][2])
                if any(rot):
                    what += ", rotation (%s) deg" % ", ".join("%.1f" % np.degrees(a) for a in rot)
                note = "; ".join(x for x in [note, what] if x)
            rows.append((name, init, start_error, err.mean(), err.max(), wall, note, summary["elastix"]["runtime_s"]))
            print(name, init, "%.2f mm" % err.mean(), "%.1f s" % wall, file=sys.stderr)
    print("| pair | init | error before (mm) | final mean error (mm) | final max error (mm) | elastix (s) | total (s) | note |")
    print("|---|---|---|---|---|---|---|---|")
    for row in rows:
        name, init, before, mean, mx, wall, note = row[:7]
        elx = row[7] if len(row) > 7 else None
        f = lambda v, d=1: "-" if v is None else ("%." + str(d) + "f") % v
        print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (name, init, f(before), f(mean, 2), f(mx, 2), f(elx), f(wall), note))


if __name__ == "__main__":
    main()

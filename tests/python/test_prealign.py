"""slicenav.prealign and the transform files (elastix -t0, ITK .tfm)."""

import json
import os
import re
import signal
import threading

import numpy as np
import pytest

import slicenav
from conftest import require_data, shifted


def elastix_entries(path):
    """{key: [values]} of an elastix parameter file's "(Key v1 v2 ...)" lines."""
    entries = {}
    for line in path.read_text().splitlines():
        m = re.match(r"^\((\w+)\s+(.*)\)\s*$", line.strip())
        if m:
            entries[m.group(1)] = m.group(2).split()
    return entries


def test_prealign_finds_a_known_shift(model, phantom):
    # The moving scan shows the same anatomy 100 mm higher in world z: translation z = z_m - z_f = +100.
    moving = shifted(phantom, 100.0)
    for method in ("auto", "score", "insertion", "embedding", "key-slices", "intensity"):
        r = model.prealign(phantom, moving, method=method)
        assert r.method == method if method != "auto" else r.method in ("embedding", "key-slices", "intensity")
        assert r.shared_anatomy, (method, r.note)
        assert r.translation_mm[0] == 0.0 and r.translation_mm[1] == 0.0
        assert r.translation_mm[2] == pytest.approx(100.0, abs=10.0), method
        assert 0.0 <= r.confidence <= 1.0
        d = json.loads(json.dumps(r.to_dict()))
        assert d["translation_mm"] == list(r.translation_mm)
        assert d["details"]["shifts_tried"] == r.shifts_tried
        # Each method's evidence is in its own fields, and the other methods' fields are 0.
        evidence = {
            "score": ("shifts_tried",),
            "embedding": ("shifts_tried",),
            "intensity": ("shifts_tried",),
            "insertion": ("line_inliers",),
            "key-slices": ("key_slices_shared",),
        }
        for answered, fields in evidence.items():
            for field in fields:
                assert (getattr(r, field) > 0) == (field in evidence[r.method]), (method, r.method, field)


def test_intensity_method_needs_no_model(phantom):
    moving = shifted(phantom, -60.0)
    r = slicenav.prealign(phantom, moving, method="intensity")
    assert r.translation_mm[2] == pytest.approx(-60.0, abs=10.0)
    assert r.fixed_recognised and r.moving_recognised  # always, for the intensity method
    with pytest.raises(slicenav.InvalidArgumentError, match="model is NULL"):
        slicenav.prealign(phantom, moving)  # the default method, auto, needs one
    with pytest.raises(slicenav.InvalidArgumentError, match="unknown method 'rigid'"):
        slicenav.prealign(phantom, moving, method="rigid")
    with pytest.raises(slicenav.InvalidArgumentError, match="min_overlap_mm"):
        slicenav.prealign(phantom, moving, method="intensity", min_overlap_mm=-1.0)


def test_in_plane_translation(phantom):
    v = phantom.to_numpy()
    moved = slicenav.Volume.from_numpy(v, phantom.spacing, np.asarray(phantom.origin) + [12.0, -8.0, 0.0],
                                       phantom.direction)
    r = slicenav.prealign(phantom, moved, method="intensity", in_plane=True)
    np.testing.assert_allclose(r.translation_mm[:2], [12.0, -8.0], atol=2.0)


def test_elastix_and_itk_transform_files(phantom, tmp_path):
    t = slicenav.RigidTransform(translation_mm=(1.5, -2.25, -246.0))
    path = tmp_path / "init.txt"
    slicenav.write_elastix_transform(t, phantom, path)
    e = elastix_entries(path)
    assert e["Transform"] == ['"TranslationTransform"']
    assert [float(x) for x in e["TransformParameters"]] == [1.5, -2.25, -246.0]
    assert [int(x) for x in e["Size"]] == list(phantom.size)
    assert [float(x) for x in e["Spacing"]] == list(phantom.spacing)
    np.testing.assert_allclose([float(x) for x in e["Origin"]], phantom.origin)
    # elastix lists the direction column by column.
    np.testing.assert_allclose([float(x) for x in e["Direction"]], phantom.direction.T.reshape(-1))

    euler = slicenav.RigidTransform(translation_mm=(0.0, 0.0, 35.0), rotation_rad=(0.01, -0.02, 0.125),
                                    centre_mm=(1.0, 2.0, 3.0))
    slicenav.write_elastix_transform(euler, phantom, path)
    assert elastix_entries(path)["Transform"] == ['"EulerTransform"']
    tfm = tmp_path / "init.tfm"
    slicenav.write_itk_transform(euler, tfm)
    assert tfm.read_text().startswith("#Insight Transform File V1.0")
    assert "Euler3DTransform_double_3_3" in tfm.read_text()

    # A Prealignment is accepted as it is.
    r = slicenav.prealign(phantom, shifted(phantom, 50.0), method="intensity")
    slicenav.write_elastix_transform(r, phantom, path)
    assert float(elastix_entries(path)["TransformParameters"][2]) == pytest.approx(r.translation_mm[2])


def test_transform_file_errors(phantom, tmp_path):
    bad = slicenav.RigidTransform(translation_mm=(0.0, float("nan"), 0.0))
    with pytest.raises(slicenav.InvalidArgumentError, match="finite"):
        slicenav.write_elastix_transform(bad, phantom, tmp_path / "bad.txt")
    assert not (tmp_path / "bad.txt").exists()
    good = slicenav.RigidTransform(translation_mm=(0.0, 0.0, 1.0))
    with pytest.raises(slicenav.SlicenavIOError):
        slicenav.write_itk_transform(good, tmp_path / "no_such_dir" / "t.tfm")
    with pytest.raises(slicenav.InvalidArgumentError, match="translation_mm must have 3 values"):
        slicenav.write_itk_transform(slicenav.RigidTransform(translation_mm=(1.0, 2.0)), tmp_path / "t.tfm")
    with pytest.raises(TypeError, match="RigidTransform"):
        slicenav.write_itk_transform((0.0, 0.0, 1.0), tmp_path / "t.tfm")


def test_real_pair_with_a_known_offset(model):
    fixed_path = require_data("ct/ts_example_ct/ct.nii.gz")
    moving_path = require_data("pairs/ts_example_ct_sm.nii.gz")
    truth = json.loads((moving_path.parent / "ts_example_ct_sm_offset.json").read_text())
    fixed = slicenav.Volume.read(fixed_path)
    moving = slicenav.Volume.read(moving_path)
    r = model.prealign(fixed, moving)
    # The moving header places every slice true_z_offset_mm too low: z_m - z_f = -offset.
    assert r.shared_anatomy
    assert r.translation_mm[2] == pytest.approx(-truth["true_z_offset_mm"], abs=15.0)


def _rotation(e):
    """R = Rz Rx Ry of Euler angles (radians), elastix's EulerTransform convention."""
    cx, sx, cy, sy, cz, sz = np.cos(e[0]), np.sin(e[0]), np.cos(e[1]), np.sin(e[1]), np.cos(e[2]), np.sin(e[2])
    return np.array([[cz * cy - sz * sx * sy, -sz * cx, cz * sy + sz * sx * cy],
                     [sz * cy + cz * sx * sy, cz * cx, sz * sy - cz * sx * cy],
                     [-cx * sy, sx, cx * cy]])


def test_prealign_rigid_finds_a_known_rotation(model, tmp_path):
    fixed = slicenav.Volume.read(require_data("ct/lidc_0003/ct.nii.gz"))  # not among the model's training cases
    # The same voxels with every world position p moved to R (p - c) + c + t.
    euler, t = np.deg2rad([6.0, -4.0, 11.0]), np.array([25.0, -35.0, 70.0])
    d = np.asarray(fixed.direction).reshape(3, 3)
    size = np.array(fixed.to_numpy().shape[::-1])
    c = np.asarray(fixed.origin) + d @ ((size - 1) / 2 * np.asarray(fixed.spacing))
    r_true = _rotation(euler)
    moving = slicenav.Volume.from_numpy(fixed.to_numpy(), fixed.spacing, r_true @ (np.asarray(fixed.origin) - c) + c + t,
                                        (r_true @ d).reshape(-1))
    r = slicenav.prealign_rigid(fixed, moving, model)
    assert r.shared_anatomy and r.confidence > 0.5, r.note
    r_fit = _rotation(r.rotation_rad)
    angle = np.degrees(np.arccos(np.clip((np.trace(r_fit.T @ r_true) - 1) / 2, -1, 1)))
    assert angle < 2.0
    at_centre = r_fit @ (c - np.asarray(r.centre_mm)) + np.asarray(r.centre_mm) + np.asarray(r.translation_mm)
    assert np.linalg.norm(at_centre - (c + t)) < 5.0
    assert r.inliers <= r.consistent <= r.points
    assert model.prealign_rigid(fixed, moving).rotation_rad == r.rotation_rad  # seeded: the same answer
    slicenav.write_elastix_transform(r, fixed, tmp_path / "init.txt")
    entries = elastix_entries(tmp_path / "init.txt")
    assert entries["Transform"] == ['"EulerTransform"']
    np.testing.assert_allclose([float(v) for v in entries["TransformParameters"]],
                               list(r.rotation_rad) + list(r.translation_mm), rtol=1e-12)
    assert json.loads(json.dumps(r.to_dict()))["inliers"] == r.inliers
    with pytest.raises(TypeError, match="slicenav.Model"):
        slicenav.prealign_rigid(fixed, moving, None)
    with pytest.raises(slicenav.InvalidArgumentError, match="points"):
        slicenav.prealign_rigid(fixed, moving, model, points=2)


class _Stop(Exception):
    pass


def _raise_stop(signum, frame):
    raise _Stop()


def test_a_signal_stops_a_long_call(model):
    # A signal that arrives while the engine runs (the call takes about 0.8 s here) is handled at the call's
    # next progress point, where the binding takes the GIL: its handler's exception (KeyboardInterrupt for
    # Ctrl-C) is raised from the call, which returns no result, and the model stays usable.
    volume = slicenav.phantom(size=(128, 128, 160), spacing=(2.5, 2.5, 2.5), noise_hu=0.0)
    previous = signal.signal(signal.SIGUSR1, _raise_stop)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGUSR1))
    results = []
    try:
        timer.start()
        with pytest.raises(_Stop):
            results.append(model.prealign_rigid(volume, volume, points=3000))
    finally:
        timer.cancel()
        signal.signal(signal.SIGUSR1, previous)
    assert results == []
    # The model still works after a stopped call.
    assert model.prealign(volume, volume, method="intensity").shared_anatomy

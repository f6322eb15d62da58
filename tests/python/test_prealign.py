"""slicenav.prealign and the transform files (elastix -t0, ITK .tfm)."""

import json
import re

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
        assert d["details"]["samples"] == r.samples


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

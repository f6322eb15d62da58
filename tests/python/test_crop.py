"""Crop records: Model.crop_plan, CropRecord.read/write/to_dict, crop_file and uncrop_file."""

import json

import nibabel
import numpy as np
import pytest

import slicenav
from conftest import PHANTOM


@pytest.fixture(scope="module")
def record(model, phantom):
    return model.crop_plan(phantom, "liver")


def box_slices(record):
    """The record's box as numpy (z, y, x) slices: ITK index ranges reversed."""
    box = record.to_dict()["box"]
    return tuple(slice(b, e) for b, e in zip(reversed(box["index_begin"]), reversed(box["index_end"])))


def test_plan_gives_a_json_record(record, phantom):
    d = record.to_dict()
    assert d["format"] == "slicenav-crop-record"
    assert d["region"]["name"] == "liver"
    assert d["model"]["method"] == "insertion"
    assert d["original"]["size"] == list(phantom.size)
    assert record.partial == d["coverage"]["partial"]
    box = d["box"]
    assert all(0 <= b < e <= n for b, e, n in zip(box["index_begin"], box["index_end"], phantom.size))
    assert box["size"] != list(phantom.size)  # something was cut away
    assert json.loads(record.json) == d
    assert "liver" in repr(record)


def test_write_read_round_trip(record, tmp_path):
    path = tmp_path / "record.json"
    record.write(path)
    back = slicenav.CropRecord.read(path)
    assert back.json == record.json
    assert back.partial == record.partial


def test_crop_and_uncrop_files(record, phantom, tmp_path):
    image = tmp_path / "ct.nii.gz"
    phantom.write(image)
    cropped = tmp_path / "ct_cropped.nii.gz"
    record.crop_file(image, cropped)
    c = slicenav.Volume.read(cropped)
    assert list(c.size) == record.to_dict()["box"]["size"]
    np.testing.assert_array_equal(c.to_numpy(), phantom.to_numpy()[box_slices(record)])
    # Every voxel keeps its world position: the cropped origin is the box's first voxel.
    np.testing.assert_allclose(c.origin, record.to_dict()["box"]["world_first_voxel_mm"], atol=1e-4)

    # A "prediction" on the cropped grid: uint8 labels, pasted back with background 0, type kept.
    labels = (c.to_numpy() > 0).astype(np.uint8)
    prediction = tmp_path / "prediction.nii.gz"
    nibabel.save(nibabel.Nifti1Image(labels.T, c.ras_affine), str(prediction))
    restored = tmp_path / "restored.nii.gz"
    record.uncrop_file(prediction, restored)
    img = nibabel.load(str(restored))
    assert img.get_data_dtype() == np.uint8
    full = np.asanyarray(img.dataobj).T  # (z, y, x)
    assert full.shape == phantom.shape
    np.testing.assert_array_equal(full[box_slices(record)], labels)
    outside = np.ones(phantom.shape, bool)
    outside[box_slices(record)] = False
    assert not full[outside].any()
    np.testing.assert_allclose(img.affine, phantom.ras_affine, atol=1e-4)


def test_crop_errors(model, phantom, record, tmp_path):
    with pytest.raises(slicenav.InvalidArgumentError, match="head-neck"):
        model.crop_plan(phantom, "spleen")
    other = tmp_path / "other.nii.gz"
    slicenav.phantom(**dict(PHANTOM, size=(32, 32, 20))).write(other)
    with pytest.raises(slicenav.InvalidArgumentError):
        record.crop_file(other, tmp_path / "out.nii.gz")
    assert not (tmp_path / "out.nii.gz").exists()
    with pytest.raises(slicenav.NotFoundError):
        record.crop_file(tmp_path / "missing.nii.gz", tmp_path / "out.nii.gz")
    with pytest.raises(slicenav.NotFoundError):
        slicenav.CropRecord.read(tmp_path / "missing.json")
    not_a_record = tmp_path / "not_a_record.json"
    not_a_record.write_text('{"format": "something else"}')
    with pytest.raises(slicenav.InvalidArgumentError):
        slicenav.CropRecord.read(not_a_record)
    with pytest.raises(TypeError):
        slicenav.CropRecord("not a handle")


def test_region_not_in_the_scan(model, phantom):
    # The phantom's upper 20 slices (z 0 .. -95 mm) hold no pelvis.
    top = slicenav.Volume.from_numpy(phantom.to_numpy()[:20], phantom.spacing, phantom.origin, phantom.direction)
    with pytest.raises(slicenav.UnsupportedInputError):
        model.crop_plan(top, "pelvis")

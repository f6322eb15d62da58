"""Model.ape_map and Model.write_ape_map: the anatomical positional embedding map as numpy, its grid, its file,
and bad input; an organ crop on a tilted head (real data)."""

import gzip
import importlib.util
import pathlib
import struct

import numpy as np
import pytest

import slicenav
from conftest import require_data


def test_ape_map_is_three_channels_on_a_4mm_world_grid(model, phantom):
    ape = model.ape_map(phantom)
    assert isinstance(ape, slicenav.ApeMap)
    assert ape.values.dtype == np.float32 and ape.values.ndim == 4 and ape.values.shape[0] == 3
    assert ape.spacing_mm == 4.0
    # The phantom: 64 x 64 x 60 voxels of 4 x 4 x 5 mm span 252 x 252 x 295 mm: 64 x 64 x 74 voxels of 4 mm.
    assert ape.values.shape == (3, 74, 64, 64)
    assert np.isfinite(ape.values).all()
    assert ape.to_dict()["size"] == [64, 64, 74]
    x, y, z = ape.world(1, 2, 3)
    assert (x, y, z) == pytest.approx((ape.origin[0] + 4, ape.origin[1] + 8, ape.origin[2] + 12))


def test_write_ape_map_writes_a_vector_nifti(model, phantom, tmp_path):
    out = tmp_path / "ape.nii.gz"
    model.write_ape_map(phantom, out)
    header = gzip.open(out).read(352)
    dim = struct.unpack("<8h", header[40:56])
    assert dim[0] == 5 and dim[1:4] == (64, 64, 74) and dim[5] == 3
    # The voxels are the map's values, channel-first, x fastest: numpy's (3, z, y, x) in C order.
    stored = np.frombuffer(gzip.open(out).read()[352:], dtype="<f4").reshape(3, 74, 64, 64)
    np.testing.assert_array_equal(stored, model.ape_map(phantom).values)
    with pytest.raises(slicenav.UnsupportedInputError, match=r"\.nii"):
        model.write_ape_map(phantom, tmp_path / "ape.mha")
    assert not (tmp_path / "ape.mha").exists()


def test_ape_map_refuses_what_is_not_ct(model):
    mr = slicenav.Volume.from_numpy(np.full((8, 16, 16), 300.0, np.float32), (2.0, 2.0, 4.0), (0.0, 0.0, 0.0))
    with pytest.raises(slicenav.UnsupportedInputError, match="CT"):
        model.ape_map(mr)
    with pytest.raises(TypeError):
        model.ape_map("not a volume")


def test_mandible_crop_keeps_a_head_tilted_by_10_degrees(model):
    """The head-and-neck factors are calibrated on scans tilted by 10 degrees either way too (docs/ape.md,
    "Tilted heads"): the mandible of a head bent forward or back stays in its crop. Calibrated on neutral heads
    alone, this scan bent forward kept 0.980 of it."""
    folder = require_data("hn/openkbp_pt001")
    script = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "ape_pose_check.py"
    spec = importlib.util.spec_from_file_location("ape_pose_check", script)
    pose = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pose)
    volume = slicenav.Volume.read(folder / "ct.nii.gz")
    ct = volume.to_numpy().astype(np.float32)
    mask = (slicenav.Volume.read(folder / "masks" / "mandible.nii.gz").to_numpy() > 0).astype(np.float32)
    for degrees in (10, -10):
        scan = slicenav.Volume.from_numpy(pose.rotated(ct, volume.spacing, degrees, 1, -1000.0), volume.spacing,
                                          volume.origin, volume.direction)
        truth = pose.rotated(mask, volume.spacing, degrees, 0, 0.0) > 0.5
        record = model.crop_plan(scan, "mandible").to_dict()
        assert record["ape"]["used"], (degrees, record["ape"]["note"])
        lo, hi = record["box"]["index_begin"], record["box"]["index_end"]
        kept = truth[lo[2]:hi[2], lo[1]:hi[1], lo[0]:hi[0]].sum() / truth.sum()
        assert kept >= 0.99, (degrees, kept)

"""Model.ape_map and Model.write_ape_map: the anatomical positional embedding map as numpy, its grid, its file,
and bad input."""

import gzip
import struct

import numpy as np
import pytest

import slicenav


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

"""slicenav.Volume: numpy in and out ((z, y, x) against ITK's (x, y, z)), nibabel arrays and affines, files,
geometry, slice mapping, and errors."""

import gc
import json

import nibabel
import numpy as np
import pytest

import slicenav
from conftest import PHANTOM, require_data

SPACING = (0.75, 0.8, 2.5)
ORIGIN = (-10.5, 20.25, -300.0)


def ramp(shape=(5, 3, 4), dtype=np.float32):
    """HU values -1000 + 7 n in C order: distinct, integer, so every axis mix-up shows."""
    return (-1000 + 7 * np.arange(np.prod(shape))).reshape(shape).astype(dtype)


def test_from_numpy_takes_zyx_and_geometry_in_xyz():
    a = ramp((5, 3, 4))
    v = slicenav.Volume.from_numpy(a, SPACING, ORIGIN)
    assert v.size == (4, 3, 5)
    assert v.shape == (5, 3, 4)
    assert v.spacing == SPACING
    assert v.origin == ORIGIN
    assert np.array_equal(v.direction, np.eye(3))
    assert v.orientation == "LPS"
    assert v.format == "memory"
    assert v.source_path == ""
    np.testing.assert_array_equal(v.to_numpy(), a)


def test_numpy_order_agrees_with_an_independent_reader(tmp_path):
    # nibabel indexes [i, j, k] = ITK (x, y, z): voxel a[k, j, i] of the numpy array is nibabel's [i, j, k],
    # and the file's affine is the volume's geometry.
    a = ramp((5, 3, 4))
    v = slicenav.Volume.from_numpy(a, SPACING, ORIGIN)
    path = tmp_path / "ramp.nii.gz"
    v.write(path)
    img = nibabel.load(str(path))
    data = np.asanyarray(img.dataobj)
    assert data.shape == (4, 3, 5)
    for i, j, k in [(0, 0, 0), (3, 0, 0), (0, 2, 0), (0, 0, 4), (3, 2, 4), (1, 2, 3)]:
        assert data[i, j, k] == a[k, j, i]
    np.testing.assert_allclose(img.affine, v.ras_affine, atol=1e-5)
    # RAS: x and y negated relative to LPS.
    np.testing.assert_allclose(img.affine[:3, 3], [10.5, -20.25, -300.0], atol=1e-5)


def test_written_nifti_has_matching_qform_and_sform_for_an_oblique_left_handed_frame(tmp_path):
    # slicenav writes the NIfTI header itself: both transforms, codes 1 (scanner), read here by nibabel.
    c, s = np.cos(0.2), np.sin(0.2)
    direction = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, -1.0]])  # determinant -1
    v = slicenav.Volume.from_numpy(ramp((5, 3, 4)), SPACING, ORIGIN, direction)
    path = tmp_path / "oblique.nii.gz"
    v.write(path)
    header = nibabel.load(str(path)).header
    qform, qcode = header.get_qform(coded=True)
    sform, scode = header.get_sform(coded=True)
    assert (int(qcode), int(scode)) == (1, 1)
    np.testing.assert_allclose(qform, v.ras_affine, atol=1e-5)
    np.testing.assert_allclose(sform, v.ras_affine, atol=1e-5)


def test_to_numpy_is_a_read_only_view_that_keeps_the_volume_alive():
    v = slicenav.Volume.from_numpy(ramp(), SPACING, ORIGIN)
    first = v.to_numpy()
    second = v.to_numpy()
    assert first.dtype == np.float32
    assert first.flags.c_contiguous
    assert not first.flags.owndata
    assert np.shares_memory(first, second)  # both view the volume's own voxels: no copy
    assert not first.flags.writeable
    with pytest.raises(ValueError):
        first[0, 0, 0] = 1.0
    del v, second
    gc.collect()
    np.testing.assert_array_equal(first, ramp())  # still valid: the view's base holds the volume


def test_from_numpy_copies_so_later_changes_do_not_reach_the_volume():
    a = ramp()
    v = slicenav.Volume.from_numpy(a, SPACING, ORIGIN)
    a[0, 0, 0] = 500.0
    assert v.to_numpy()[0, 0, 0] == -1000.0
    assert not np.shares_memory(a, v.to_numpy())


@pytest.mark.parametrize("view", ["transpose", "reversed", "strided", "fortran"])
def test_from_numpy_accepts_non_contiguous_arrays(view):
    base = ramp((6, 8, 10))
    a = {
        "transpose": base.transpose(2, 1, 0),
        "reversed": base[::-1, :, ::-1],
        "strided": base[::2, 1:, ::3],
        "fortran": np.asfortranarray(base),
    }[view]
    v = slicenav.Volume.from_numpy(a, SPACING, ORIGIN)
    assert v.shape == a.shape
    assert v.size == a.shape[::-1]
    np.testing.assert_array_equal(v.to_numpy(), a)


@pytest.mark.parametrize("dtype", ["int16", "uint8", "int32", "float32", "float64", ">i2", ">f8", "int8", "uint16",
                                   "float16", "int64", "uint32"])
def test_from_numpy_accepts_every_real_dtype(dtype):
    values = np.arange(60).reshape(5, 3, 4) - (0 if np.dtype(dtype).kind == "u" else 30)
    a = values.astype(dtype)
    v = slicenav.Volume.from_numpy(a, SPACING, ORIGIN)
    assert v.to_numpy().dtype == np.float32
    np.testing.assert_array_equal(v.to_numpy(), values.astype(np.float32))


@pytest.mark.parametrize("array", [np.zeros((4, 4)), np.zeros((2, 3, 4, 1)), np.zeros(7), np.float32(3)])
def test_from_numpy_rejects_other_dimensions(array):
    with pytest.raises(slicenav.InvalidArgumentError, match="3 dimensions"):
        slicenav.Volume.from_numpy(array, SPACING, ORIGIN)


@pytest.mark.parametrize("array", [np.zeros((2, 3, 4), bool), np.zeros((2, 3, 4), complex),
                                   np.full((2, 3, 4), "a"), np.empty((2, 3, 4), object)])
def test_from_numpy_rejects_non_numeric_dtypes(array):
    with pytest.raises(slicenav.InvalidArgumentError, match="dtype"):
        slicenav.Volume.from_numpy(array, SPACING, ORIGIN)


def test_from_numpy_rejects_bad_values_and_geometry_with_the_library_message():
    a = ramp()
    a[1, 2, 3] = np.nan
    with pytest.raises(slicenav.InvalidArgumentError, match="not finite") as info:
        slicenav.Volume.from_numpy(a, SPACING, ORIGIN)
    assert "slicenav_volume_from_buffer" in str(info.value)
    assert isinstance(info.value, ValueError)
    with pytest.raises(slicenav.InvalidArgumentError, match="dims"):
        slicenav.Volume.from_numpy(np.zeros((0, 3, 4), np.float32), SPACING, ORIGIN)
    with pytest.raises(slicenav.InvalidArgumentError, match=r"spacing\[1\]"):
        slicenav.Volume.from_numpy(ramp(), (1.0, 0.0, 1.0), ORIGIN)
    with pytest.raises(slicenav.InvalidArgumentError, match="spacing must have 3 values"):
        slicenav.Volume.from_numpy(ramp(), (1.0, 1.0), ORIGIN)
    with pytest.raises(slicenav.InvalidArgumentError, match="origin"):
        slicenav.Volume.from_numpy(ramp(), SPACING, (0.0, np.inf, 0.0))
    with pytest.raises(slicenav.InvalidArgumentError, match="direction must have 9 values"):
        slicenav.Volume.from_numpy(ramp(), SPACING, ORIGIN, np.eye(2))
    with pytest.raises(slicenav.InvalidArgumentError, match="geometry|direction"):
        slicenav.Volume.from_numpy(ramp(), SPACING, ORIGIN, np.zeros((3, 3)))


def test_direction_and_orientation_round_trip():
    # Index axes: x -> right (-L), y -> inferior (-S), z -> anterior (-P): "RIA".
    direction = np.array([[-1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, -1.0, 0.0]])
    v = slicenav.Volume.from_numpy(ramp((5, 3, 4)), SPACING, ORIGIN, direction)
    assert v.orientation == "RIA"
    np.testing.assert_array_equal(v.direction, direction)
    back = slicenav.Volume.from_numpy(v.to_numpy(), v.spacing, v.origin, v.direction)
    assert back.orientation == "RIA"
    assert back.to_dict() == v.to_dict()
    # The canonical (axial) slices run along index y here: 3 of them, most superior first.
    assert v.canonical_slice_count == 3
    z = v.canonical_world_z()
    assert np.all(np.diff(z) < 0)
    assert v.world_z_range_mm == pytest.approx((z.min(), z.max()))


def test_slice_mapping_takes_scalars_and_arrays():
    v = slicenav.phantom(**PHANTOM)  # RAI: original slice k runs inferiorly, as canonical order does
    assert v.canonical_to_world_z(0) == pytest.approx(0.0)
    assert v.canonical_to_world_z(2.5) == pytest.approx(-12.5)
    assert v.world_z_to_canonical(-12.5) == pytest.approx(2.5)
    k = np.array([[0.0, 1.0], [10.0, 59.0]])
    original = v.canonical_to_original(k)
    assert original.shape == (2, 2)
    np.testing.assert_allclose(v.original_to_canonical(original), k)
    flipped = slicenav.phantom(**dict(PHANTOM, orientation="LPS"))  # k runs superiorly
    assert flipped.canonical_to_original(0) == pytest.approx(59.0)
    with pytest.raises(slicenav.InvalidArgumentError, match="not finite"):
        v.canonical_to_world_z(np.nan)


@pytest.mark.parametrize("extension", [".nii", ".nii.gz", ".mha", ".nrrd"])
def test_write_read_round_trip(tmp_path, extension):
    direction = np.diag([1.0, -1.0, -1.0])
    v = slicenav.Volume.from_numpy(ramp((5, 3, 4)), SPACING, ORIGIN, direction)
    path = tmp_path / f"volume{extension}"
    v.write(path)
    back = slicenav.Volume.read(path)
    assert back.source_path == str(path)
    assert back.size == v.size
    np.testing.assert_allclose(back.spacing, v.spacing, rtol=1e-6)
    np.testing.assert_allclose(back.origin, v.origin, atol=1e-4)
    np.testing.assert_allclose(back.direction, direction, atol=1e-6)
    np.testing.assert_array_equal(back.to_numpy(), v.to_numpy())


def test_from_nibabel_converts_ras_affines_and_xyz_arrays():
    xyz = np.asfortranarray(ramp((5, 3, 4)).T)  # as nibabel returns file data: (x, y, z), Fortran order
    affine = np.array([[-0.75, 0.0, 0.0, 10.5],   # RAS affine of an LPS-stored volume
                       [0.0, -0.8, 0.0, -20.25],
                       [0.0, 0.0, 2.5, -300.0],
                       [0.0, 0.0, 0.0, 1.0]])
    v = slicenav.Volume.from_nibabel(xyz, affine)
    assert v.size == (4, 3, 5)
    assert v.orientation == "LPS"
    np.testing.assert_allclose(v.spacing, SPACING)
    np.testing.assert_allclose(v.origin, ORIGIN)
    np.testing.assert_allclose(v.direction, np.eye(3), atol=1e-12)
    np.testing.assert_array_equal(v.to_numpy(), ramp((5, 3, 4)))
    np.testing.assert_allclose(v.ras_affine, affine, atol=1e-12)
    # A RAS-stored file (the usual NIfTI) comes out "RAS".
    ras = np.diag([0.75, 0.8, 2.5, 1.0])
    assert slicenav.Volume.from_nibabel(xyz, ras).orientation == "RAS"


def test_from_nibabel_rejects_bad_affines_and_arrays():
    xyz = ramp((5, 3, 4)).T
    with pytest.raises(slicenav.InvalidArgumentError, match="4x4"):
        slicenav.Volume.from_nibabel(xyz, np.eye(3))
    with pytest.raises(slicenav.InvalidArgumentError, match="zero column"):
        slicenav.Volume.from_nibabel(xyz, np.diag([1.0, 0.0, 1.0, 1.0]))
    sheared = np.eye(4)
    sheared[0, 1] = 0.5
    with pytest.raises(slicenav.InvalidArgumentError):
        slicenav.Volume.from_nibabel(xyz, sheared)
    with pytest.raises(slicenav.InvalidArgumentError, match="3 dimensions"):
        slicenav.Volume.from_nibabel(xyz[..., np.newaxis], np.eye(4))


def test_nibabel_file_round_trip_matches_read(tmp_path):
    v = slicenav.phantom(**dict(PHANTOM, size=(16, 12, 10), orientation="RAI"))
    path = tmp_path / "phantom.nii.gz"
    v.write(path)
    img = nibabel.load(str(path))
    for array in (np.asanyarray(img.dataobj), img.get_fdata()):
        from_nib = slicenav.Volume.from_nibabel(array, img.affine)
        read = slicenav.Volume.read(path)
        assert from_nib.orientation == read.orientation == "RAI"
        np.testing.assert_allclose(from_nib.origin, read.origin, atol=1e-4)
        np.testing.assert_allclose(from_nib.direction, read.direction, atol=1e-6)
        np.testing.assert_allclose(from_nib.spacing, read.spacing, rtol=1e-6)
        np.testing.assert_array_equal(from_nib.to_numpy(), read.to_numpy())


def test_read_errors_map_to_their_exception_classes(tmp_path):
    missing = tmp_path / "no_such_volume.nii.gz"
    with pytest.raises(slicenav.NotFoundError, match="no_such_volume") as info:
        slicenav.Volume.read(missing)
    assert isinstance(info.value, FileNotFoundError)
    unknown = tmp_path / "volume.xyz"
    unknown.write_text("not an image")
    with pytest.raises(slicenav.UnsupportedInputError, match="volume.xyz"):
        slicenav.Volume.read(unknown)
    truncated = tmp_path / "truncated.nii.gz"
    slicenav.phantom(**PHANTOM).write(truncated)
    truncated.write_bytes(truncated.read_bytes()[:2000])
    with pytest.raises(slicenav.SlicenavIOError, match="truncated.nii.gz") as info:
        slicenav.Volume.read(truncated)
    assert isinstance(info.value, OSError)
    with pytest.raises(TypeError, match="path"):
        slicenav.Volume.read(42)


def test_gzip_level(tmp_path):
    # 0 (stored) to 12, per call; a higher level writes a smaller file of the same voxels.
    array = (np.arange(16 * 64 * 64).reshape(16, 64, 64) // 64 % 37 * 20 - 1000).astype(np.float32)
    volume = slicenav.Volume.from_numpy(array, spacing=(1.0, 1.0, 2.0), origin=(0.0, 0.0, 0.0))
    with pytest.raises(slicenav.InvalidArgumentError, match="0-12"):
        volume.write(tmp_path / "l13.nii.gz", gzip_level=13)
    assert not (tmp_path / "l13.nii.gz").exists()
    sizes = {}
    for level in (0, 1, 9):
        volume.write(tmp_path / f"l{level}.nii.gz", gzip_level=level)
        sizes[level] = (tmp_path / f"l{level}.nii.gz").stat().st_size
        assert np.array_equal(slicenav.Volume.read(tmp_path / f"l{level}.nii.gz").to_numpy(), array)
    volume.write(tmp_path / "default.nii.gz")
    assert (tmp_path / "default.nii.gz").stat().st_size == sizes[1]
    assert sizes[0] > array.size * 2 > 20 * sizes[9]


def test_write_errors(tmp_path):
    v = slicenav.Volume.from_numpy(ramp(), SPACING, ORIGIN)
    with pytest.raises(slicenav.UnsupportedInputError, match="xyz"):
        v.write(tmp_path / "volume.xyz")
    with pytest.raises(slicenav.SlicenavIOError):
        v.write(tmp_path / "no_such_dir" / "volume.nii.gz")
    assert not (tmp_path / "no_such_dir").exists()


def test_to_dict_is_json_and_matches_properties():
    v = slicenav.phantom(**PHANTOM)
    d = json.loads(json.dumps(v.to_dict()))
    assert d["size"] == [64, 64, 60]
    assert d["orientation"] == "RAI"
    assert d["format"] == "phantom"
    assert d["patient_position"] == "HFS"
    assert d["modality"] is None or isinstance(d["modality"], str)
    assert d["canonical_slice_count"] == 60
    assert d["slice_step_mm"] == pytest.approx(5.0)
    assert d["world_z_range_mm"] == pytest.approx([-295.0, 0.0])
    assert "RAI" in repr(v) and "(60, 64, 64)" in repr(v)


def test_phantom_options_and_landmarks():
    defaults = slicenav.phantom_defaults()
    assert set(defaults) == {"size", "spacing", "orientation", "top_z_mm", "patient_position", "noise_hu", "seed"}
    landmarks = slicenav.phantom_landmarks(**PHANTOM)
    assert landmarks["lung_apex"] == pytest.approx(0.0)
    assert all(isinstance(z, float) for z in landmarks.values())
    with pytest.raises(slicenav.InvalidArgumentError, match="unknown phantom option 'colour'"):
        slicenav.phantom(colour="red")
    with pytest.raises(slicenav.InvalidArgumentError, match="orientation"):
        slicenav.phantom(orientation="XYZ")
    with pytest.raises(TypeError):
        slicenav.Volume("not a handle")


def test_real_nifti_read_and_from_nibabel_agree():
    path = require_data("ct/lung1_002/ct.nii.gz")
    read = slicenav.Volume.read(path)
    img = nibabel.load(str(path))
    from_nib = slicenav.Volume.from_nibabel(np.asanyarray(img.dataobj), img.affine)
    assert read.size == img.shape
    assert from_nib.size == read.size
    np.testing.assert_allclose(from_nib.origin, read.origin, atol=1e-3)
    np.testing.assert_allclose(from_nib.direction, read.direction, atol=1e-5)
    np.testing.assert_allclose(from_nib.spacing, read.spacing, rtol=1e-5)
    np.testing.assert_array_equal(from_nib.to_numpy(), read.to_numpy())
    # The file's int16 HU, (x, y, z) in nibabel, (z, y, x) here.
    np.testing.assert_array_equal(read.to_numpy(), np.asanyarray(img.dataobj).T)


def test_real_dicom_series():
    path = require_data("dicom/lung1_002")
    v = slicenav.Volume.read(path)
    assert v.format == "dicom"
    assert v.modality == "CT"
    assert v.patient_position == "HFS"
    assert v.canonical_slice_count == 111
    assert v.to_numpy().shape == v.shape
    with pytest.raises(slicenav.Error):
        slicenav.Volume.read(path, series_uid="1.2.3.4.no.such.series")
    # The directory's series, listed without reading them (the RTSTRUCT beside the slices has no image).
    (series,) = slicenav.dicom_series(path)
    assert series["modality"] == "CT" and series["file_count"] == 111
    assert slicenav.Volume.read(path, series_uid=series["series_uid"]).canonical_slice_count == 111


def test_dicom_series_errors(tmp_path):
    with pytest.raises(slicenav.NotFoundError):
        slicenav.dicom_series(tmp_path / "missing")
    (tmp_path / "notes.txt").write_text("not DICOM")
    with pytest.raises(slicenav.UnsupportedInputError, match="DICOM"):
        slicenav.dicom_series(tmp_path)


def test_reads_nibabel_files_that_itk_refuses(tmp_path):
    # nibabel's default header (sform code 2, qform code 0): ITK 5.2 refuses it for many origins, slicenav reads the
    # sform and says so.
    affine = np.array([[-0.8, 0, 0, 204.4], [0, -0.8, 0, 204.4], [0, 0, 1.0, -259.0], [0, 0, 0, 1]])
    data = np.arange(24, dtype=np.int16).reshape(4, 3, 2)
    nibabel.save(nibabel.Nifti1Image(data, affine), str(tmp_path / "nib.nii.gz"))
    v = slicenav.Volume.read(tmp_path / "nib.nii.gz")
    np.testing.assert_allclose(v.ras_affine, affine, atol=1e-4)
    np.testing.assert_array_equal(v.to_numpy(), data.T)
    assert any("sform (code 2)" in w for w in v.warnings)

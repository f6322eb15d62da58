"""slicenav.Volume: a CT volume (float HU voxels with LPS world geometry), and the phantom.

NUMPY AXIS ORDER. A numpy array of a volume is indexed ``array[z, y, x]``: its shape is ITK's size
reversed, ``(size[2], size[1], size[0])``, exactly as SimpleITK's ``GetArrayFromImage``. Geometry
(``spacing``, ``origin``, ``size``, ``direction``) is always given in ITK's (x, y, z) index-axis order.
"x, y, z" here name the file's index axes i, j, k, whatever anatomy they point to: in a sagittal file k
runs left to right. nibabel arrays are (x, y, z) instead: use ``Volume.from_nibabel``.
"""

import os

import numpy as np

from . import _slicenav
from ._errors import InvalidArgumentError

# Pixel types the C API converts itself (slicenav_pixel_type); other real types are converted here first.
_DIRECT_DTYPES = tuple(np.dtype(t) for t in (np.int16, np.uint8, np.int32, np.float32, np.float64))
# RAS <-> LPS: negate x and y.
_RAS_FROM_LPS = np.diag([-1.0, -1.0, 1.0])


def _c_array(array):
    """``array`` as a C-contiguous 3D array of a type the C API takes, copied only when it is not one already."""
    a = np.asarray(array)
    if a.ndim != 3:
        raise InvalidArgumentError(f"array must have 3 dimensions (z, y, x), got {a.ndim} (shape {a.shape})")
    if a.dtype.kind not in "iuf":
        raise InvalidArgumentError(f"array dtype {a.dtype} is not an integer or floating-point type")
    native = a.dtype.newbyteorder("=")
    if native in _DIRECT_DTYPES:
        target = native
    elif a.dtype.itemsize <= 2:  # int8, uint16, float16: exact in float32
        target = np.dtype(np.float32)
    else:  # int64, uint32, uint64, longdouble: float64 (exact to 2**53; the C API checks the float range)
        target = np.dtype(np.float64)
    return np.ascontiguousarray(a, dtype=target)


def _vector(values, count, name):
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if v.size != count:
        raise InvalidArgumentError(f"{name} must have {count} values, got {v.size}")
    return [float(x) for x in v]


def _path(path, name="path"):
    """A path argument as the file system's bytes (str, bytes or os.PathLike; any file name the OS allows)."""
    try:
        encoded = os.fsencode(path)
    except TypeError:
        raise TypeError(f"{name} must be a str, bytes or os.PathLike, got {type(path).__name__}") from None
    if b"\0" in encoded:
        raise InvalidArgumentError(f"{name} contains a NUL byte: {path!r}")
    return encoded


def dicom_series(directory):
    """The image series of a DICOM directory (not recursive), in the order of their UIDs: one dict per series
    with ``series_uid``, ``modality``, ``description`` and ``file_count``. Pass a ``series_uid`` to
    ``Volume.read``. Raises NotFoundError (no such directory) or UnsupportedInputError (no DICOM image in it)."""
    return _slicenav.dicom_series(_path(directory, "directory"))


class Volume:
    """A CT volume: float32 HU voxels with world geometry (LPS mm, +z superior). Immutable.

    Make one with :meth:`read`, :meth:`from_numpy`, :meth:`from_nibabel` or :func:`slicenav.phantom`. Geometry
    is in ITK's (x, y, z) order; :meth:`to_numpy` is (z, y, x) (see the module documentation).
    """

    __slots__ = ("_handle", "_info")

    def __init__(self, handle):
        if not isinstance(handle, _slicenav.VolumeHandle):
            raise TypeError("use Volume.read, Volume.from_numpy, Volume.from_nibabel or slicenav.phantom")
        self._handle = handle
        self._info = _slicenav.volume_info(handle)

    # ---- Creation ------------------------------------------------------------------------------------

    @classmethod
    def read(cls, path, series_uid=None):
        """Reads a NIfTI (.nii, .nii.gz), MetaImage (.mha, .mhd) or NRRD (.nrrd, .nhdr) file, or a directory
        holding a DICOM series (``series_uid`` picks one SeriesInstanceUID; default: the directory's only CT
        series). Raises NotFoundError, SlicenavIOError, UnsupportedInputError or InvalidArgumentError."""
        return cls(_slicenav.volume_read(_path(path), series_uid))

    @classmethod
    def from_numpy(cls, array, spacing, origin, direction=None):
        """A volume from a numpy array of HU values indexed ``array[z, y, x]``.

        THE ARRAY IS (z, y, x); ``spacing`` and ``origin`` ARE (x, y, z). ``array.shape`` is ITK's size
        reversed, as SimpleITK's ``GetArrayFromImage`` gives it, so ``from_numpy(v.to_numpy(), v.spacing,
        v.origin, v.direction)`` rebuilds ``v``.

        spacing    3 values > 0, mm between voxel centres along x, y, z.
        origin     3 values, world LPS position (mm) of voxel ``array[0, 0, 0]``'s centre.
        direction  3x3 (or 9 values, row-major); column a is the world LPS direction of index axis a
                   (x, y, z). None: identity.

        The voxels are copied once, by the C API, into the volume's float32 storage; later changes to
        ``array`` do not affect the volume. int16, uint8, int32, float32 and float64 arrays that are
        C-contiguous in native byte order go to the C API as they are; others (a transposed or strided view,
        another integer or float type, big-endian data) are first converted by numpy, a second copy.
        Raises InvalidArgumentError for another number of dimensions, a non-numeric dtype, non-finite values
        or bad geometry.
        """
        c = _c_array(array)
        d = None if direction is None else _vector(direction, 9, "direction")
        return cls(_slicenav.volume_from_buffer(c, _vector(spacing, 3, "spacing"), _vector(origin, 3, "origin"), d))

    @classmethod
    def from_nibabel(cls, array, affine):
        """A volume from a nibabel-style array indexed ``array[x, y, z]`` (``img.get_fdata()`` or
        ``np.asanyarray(img.dataobj)``) and its 4x4 voxel-to-world affine in RAS+ (``img.affine``).

        The affine is converted to LPS (x and y negated) and split into spacing (its columns' lengths),
        direction and origin; ``array.T``, a (z, y, x) view, goes to :meth:`from_numpy`. nibabel keeps file data
        in Fortran order, so ``array.T`` is C-contiguous and only the C API's copy is made. An affine with
        shear or a zero column is InvalidArgumentError.
        """
        a = np.asarray(array)
        if a.ndim != 3:
            raise InvalidArgumentError(f"array must have 3 dimensions (x, y, z), got {a.ndim} (shape {a.shape})")
        affine = np.asarray(affine, dtype=np.float64)
        if affine.shape != (4, 4):
            raise InvalidArgumentError(f"affine must be 4x4, got shape {affine.shape}")
        if not np.all(np.isfinite(affine)):
            raise InvalidArgumentError("affine has non-finite values")
        columns = _RAS_FROM_LPS @ affine[:3, :3]
        spacing = np.linalg.norm(columns, axis=0)
        if np.any(spacing == 0):
            raise InvalidArgumentError(f"affine has a zero column (voxel sizes {spacing.tolist()})")
        origin = _RAS_FROM_LPS @ affine[:3, 3]
        return cls.from_numpy(a.T, spacing, origin, columns / spacing)

    # ---- Voxels ----------------------------------------------------------------------------------------

    def to_numpy(self):
        """The voxels as a read-only float32 array indexed ``[z, y, x]`` (shape ``self.shape``), a view of the
        volume's own storage: no copy is made, and the array keeps that storage alive after the Volume object
        is gone. Use ``.copy()`` for a writable array."""
        return _slicenav.volume_voxels(self._handle)

    def write(self, path, gzip_level=1):
        """Writes .nii, .nii.gz, .mha or .nrrd atomically (int16 when every voxel is an integer in range, else
        float32). ``gzip_level`` (.nii.gz only): 0 (no compression, fastest) to 12 (smallest, slowest); 1 suits
        intermediate files. InvalidArgumentError outside 0-12."""
        _slicenav.volume_write(self._handle, _path(path), int(gzip_level))

    # ---- Geometry --------------------------------------------------------------------------------------

    @property
    def size(self):
        """Voxels along the index axes (x, y, z), ITK order."""
        return self._info["size"]

    @property
    def shape(self):
        """The numpy shape (z, y, x) of :meth:`to_numpy`: ``size`` reversed."""
        return tuple(reversed(self._info["size"]))

    @property
    def spacing(self):
        """mm between voxel centres along (x, y, z)."""
        return self._info["spacing"]

    @property
    def origin(self):
        """World LPS position (mm) of voxel (0, 0, 0)'s centre."""
        return self._info["origin"]

    @property
    def direction(self):
        """3x3 array; column a is the world LPS direction of index axis a (x, y, z)."""
        return np.array(self._info["direction"]).reshape(3, 3)

    @property
    def ras_affine(self):
        """The 4x4 voxel-to-world affine in RAS+ for (x, y, z) indices, as nibabel uses it:
        ``nibabel.Nifti1Image(v.to_numpy().T, v.ras_affine)``."""
        affine = np.eye(4)
        affine[:3, :3] = _RAS_FROM_LPS @ (self.direction * np.asarray(self.spacing))
        affine[:3, 3] = _RAS_FROM_LPS @ np.asarray(self.origin)
        return affine

    @property
    def orientation(self):
        """"To" letters of the index axes, e.g. "LPS" (DICOM axial), "RAS" (typical NIfTI), "SLA"."""
        return self._info["orientation"]

    @property
    def obliquity_deg(self):
        return self._info["obliquity_deg"]

    @property
    def canonical_slice_count(self):
        """Axial slices in canonical order (0 = most superior); the length of ``Model.score``'s answer."""
        return self._info["canonical_slice_count"]

    @property
    def slice_step_mm(self):
        return self._info["slice_step_mm"]

    @property
    def world_z_range_mm(self):
        """(min, max) world z of the most inferior and most superior slice centres."""
        return self._info["world_z_range_mm"]

    # ---- Source ----------------------------------------------------------------------------------------

    @property
    def source_path(self):
        """The file or directory read; "" for volumes made in memory."""
        return self._info["source_path"]

    @property
    def format(self):
        """"nifti", "metaimage", "nrrd", "dicom", "memory" or "phantom"."""
        return self._info["format"]

    @property
    def modality(self):
        """DICOM Modality, or None when unknown."""
        return self._info["modality"] or None

    @property
    def patient_position(self):
        """DICOM PatientPosition ("HFS", "FFS", ...), or None when unknown."""
        return self._info["patient_position"] or None

    @property
    def warnings(self):
        """What the reader noticed: gantry tilt, uneven slices, non-CT modality, resliced data, ..."""
        return list(self._info["warnings"])

    # ---- Slice mapping ---------------------------------------------------------------------------------

    def _map(self, kind, values):
        v = np.asarray(values, dtype=np.float64)
        out = _slicenav.volume_map(self._handle, kind, v.reshape(-1)).reshape(v.shape)
        return float(out) if out.ndim == 0 else out

    def canonical_to_original(self, canonical_slice):
        """Canonical slice index (0 = most superior; fractional allowed; scalar or array) -> index along the
        file's slice axis."""
        return self._map("canonical_to_original", canonical_slice)

    def original_to_canonical(self, original_slice):
        return self._map("original_to_canonical", original_slice)

    def canonical_to_world_z(self, canonical_slice):
        """Canonical slice index -> world z (mm, superior positive)."""
        return self._map("canonical_to_world_z", canonical_slice)

    def world_z_to_canonical(self, world_z_mm):
        return self._map("world_z_to_canonical", world_z_mm)

    def canonical_world_z(self):
        """World z (mm) of every canonical slice, most superior first: the z of ``Model.score``'s values."""
        return self.canonical_to_world_z(np.arange(self.canonical_slice_count, dtype=np.float64))

    def to_dict(self):
        """The fields of ``slicenav info`` (docs/cli.md), JSON-ready."""
        info = self._info
        return {
            "source_path": info["source_path"],
            "format": info["format"],
            "modality": self.modality,
            "patient_position": self.patient_position,
            "size": list(info["size"]),
            "spacing": list(info["spacing"]),
            "origin": list(info["origin"]),
            "direction": list(info["direction"]),
            "orientation": info["orientation"],
            "obliquity_deg": info["obliquity_deg"],
            "canonical_slice_count": info["canonical_slice_count"],
            "slice_step_mm": info["slice_step_mm"],
            "world_z_range_mm": list(info["world_z_range_mm"]),
            "warnings": list(info["warnings"]),
        }

    def __repr__(self):
        source = self.source_path or self.format
        return (
            f"<slicenav.Volume {source}: size {self.size} (numpy shape {self.shape}), spacing "
            f"{tuple(round(s, 4) for s in self.spacing)}, {self.orientation}>"
        )


def _handle(volume, name):
    if not isinstance(volume, Volume):
        raise TypeError(f"{name} must be a slicenav.Volume, got {type(volume).__name__}")
    return volume._handle


def phantom_defaults():
    """The phantom's default options (slicenav_phantom_default_params)."""
    return _slicenav.phantom_defaults()


def phantom(**options):
    """A deterministic synthetic torso CT for tests and demos; no accuracy claim rests on it (experimental C API,
    slicenav_experimental.h). Options (any left out or None take :func:`phantom_defaults`): ``size`` and
    ``spacing`` (x, y, z), ``orientation`` (the "to" letters of the index axes: "LPS", "RAI", "SLA", ...),
    ``top_z_mm`` (world z of the most superior slice), ``patient_position`` (recorded only), ``noise_hu``,
    ``seed``. An unknown option is InvalidArgumentError."""
    return Volume(_slicenav.phantom(options))


def phantom_landmarks(**options):
    """The phantom's known landmark levels for the same options as :func:`phantom`: {name: world z (mm)}."""
    return dict(_slicenav.phantom_landmarks(options))

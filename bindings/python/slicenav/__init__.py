"""slicenav: slice-level anatomical navigation in body CT, from Python.

    import slicenav
    model = slicenav.Model()                       # the bundled model
    ct = slicenav.Volume.read("ct.nii.gz")         # or Volume.from_numpy / Volume.from_nibabel
    landmarks = model.locate(ct)
    print(landmarks["carina"].world_z_mm)
    print(model.coverage(ct, "liver").status)

Numpy arrays of volumes are indexed [z, y, x] (ITK's x, y, z reversed); geometry is always (x, y, z). World
coordinates are LPS mm, +z superior. Every failed call raises a subclass of slicenav.Error carrying the
library's message. docs/python.md describes every call.

The package is a client of the stable C API (libslicenav, slicenav.h) like the slicenav command.
"""

from . import _slicenav
from ._errors import (
    BufferTooSmallError,
    CancelledError,
    Error,
    InternalError,
    InvalidArgumentError,
    ModelFormatError,
    NotFoundError,
    SlicenavIOError,
    UnsupportedInputError,
    VersionMismatchError,
)
from ._model import CropRecord, Model, Scan, prealign, prealign_rigid, write_elastix_transform, write_itk_transform
from ._results import (
    ApeMap,
    Coverage,
    Insertion,
    Landmark,
    Landmarks,
    Position,
    Prealignment,
    RigidPrealignment,
    RigidTransform,
)
from ._volume import Volume, dicom_series, phantom, phantom_defaults, phantom_landmarks

__version__ = _slicenav.version()


def version():
    """The version of the libslicenav actually loaded ("MAJOR.MINOR.PATCH")."""
    return _slicenav.version()


__all__ = [
    "ApeMap",
    "BufferTooSmallError",
    "CancelledError",
    "Coverage",
    "CropRecord",
    "Error",
    "Insertion",
    "InternalError",
    "InvalidArgumentError",
    "Landmark",
    "dicom_series",
    "Position",
    "Landmarks",
    "Model",
    "ModelFormatError",
    "NotFoundError",
    "Prealignment",
    "RigidPrealignment",
    "RigidTransform",
    "Scan",
    "SlicenavIOError",
    "UnsupportedInputError",
    "VersionMismatchError",
    "Volume",
    "phantom",
    "phantom_defaults",
    "phantom_landmarks",
    "prealign",
    "prealign_rigid",
    "version",
    "write_elastix_transform",
    "write_itk_transform",
]

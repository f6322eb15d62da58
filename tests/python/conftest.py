"""Shared fixtures of the Python package's tests: the bundled model, small phantoms, and the real data
(../shared/data or $SLICENAV_DATA; tests that need it skip with a message when it is absent).

Run through ctest (tests/python/CMakeLists.txt sets PYTHONPATH to the build-tree package), or by hand:
    PYTHONPATH=build/python /usr/bin/python3 -m pytest -p no:cacheprovider tests/python
"""

import os
import pathlib

import numpy as np
import pytest

import slicenav


def data_dir():
    """The real-data directory, or None: $SLICENAV_DATA when set, else the configured default (ctest passes it as
    $SLICENAV_TEST_DEFAULT_DATA), else ../shared/data beside the source tree."""
    env = os.environ.get("SLICENAV_DATA")
    if env:
        return pathlib.Path(env) if pathlib.Path(env).is_dir() else None
    for candidate in (os.environ.get("SLICENAV_TEST_DEFAULT_DATA"),
                      pathlib.Path(__file__).resolve().parents[2] / ".." / "shared" / "data"):
        if candidate and pathlib.Path(candidate).is_dir():
            return pathlib.Path(candidate)
    return None


def require_data(relative):
    """The path of a file or directory under the data directory; skips the test when it is absent."""
    root = data_dir()
    path = None if root is None else root / relative
    if path is None or not path.exists():
        pytest.skip(f"real data '{relative}' not found: set SLICENAV_DATA or place the data in ../shared/data")
    return path


# 60 noiseless RAI slices of 64 x 64 voxels (4 x 4 x 5 mm) from z = 0 (the phantom's lung apex) down to -295 mm;
# the bundled model recognises it (as in tests/capi/crop_test.c).
PHANTOM = dict(size=(64, 64, 60), spacing=(4.0, 4.0, 5.0), orientation="RAI", top_z_mm=0.0, noise_hu=0.0)


@pytest.fixture(scope="session")
def model():
    return slicenav.Model(threads=1)


@pytest.fixture(scope="session")
def phantom():
    return slicenav.phantom(**PHANTOM)


def shifted(volume, dz_mm):
    """The same voxels and axes with every world position moved dz_mm along +z (superior)."""
    origin = np.asarray(volume.origin) + np.array([0.0, 0.0, dz_mm])
    return slicenav.Volume.from_numpy(volume.to_numpy(), volume.spacing, origin, volume.direction)

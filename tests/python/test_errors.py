"""Every C status code has its own exception class, a subclass of slicenav.Error, raised with the library's
message."""

import os
import pathlib
import struct
import zlib

import pytest

import slicenav
from slicenav import _errors, _slicenav

CLASSES = {
    -1: slicenav.InvalidArgumentError,
    -2: slicenav.NotFoundError,
    -3: slicenav.SlicenavIOError,
    -4: slicenav.UnsupportedInputError,
    -5: slicenav.ModelFormatError,
    -6: slicenav.VersionMismatchError,
    -7: slicenav.BufferTooSmallError,
    -8: slicenav.CancelledError,
    -9: slicenav.InternalError,
}


def test_one_class_per_status_all_subclasses_of_error():
    assert len(set(CLASSES.values())) == len(CLASSES)
    for status, cls in CLASSES.items():
        assert issubclass(cls, slicenav.Error)
        assert cls.status == status
        assert _errors.error_class(status) is cls
        assert cls.status_name == _slicenav.status_name(status)  # the C library's own names
    # A code this version does not know is still an Error.
    assert _errors.error_class(-1000) is slicenav.InternalError


def test_classes_also_derive_from_the_matching_builtin():
    assert issubclass(slicenav.InvalidArgumentError, ValueError)
    assert issubclass(slicenav.NotFoundError, FileNotFoundError)
    assert issubclass(slicenav.SlicenavIOError, OSError)
    assert not issubclass(slicenav.ModelFormatError, OSError)


def test_versions_agree():
    assert slicenav.version() == _slicenav.header_version == slicenav.__version__


def test_raised_errors_carry_the_library_message(tmp_path):
    with pytest.raises(slicenav.NotFoundError) as info:
        slicenav.Model(tmp_path / "no_such_model.snm")
    message = str(info.value)
    assert message.startswith("slicenav_model_load: ")
    assert "no_such_model.snm" in message


def test_model_argument_errors():
    with pytest.raises(slicenav.InvalidArgumentError, match="threads"):
        slicenav.Model(threads=-1)
    with pytest.raises(slicenav.UnsupportedInputError, match="CUDA"):
        slicenav.Model(device="cuda:0")
    with pytest.raises(slicenav.InvalidArgumentError, match="unknown device 'tpu'"):
        slicenav.Model(device="tpu")


def test_damaged_and_newer_model_files(tmp_path):
    junk = tmp_path / "junk.snm"
    junk.write_text("this is not a slicenav model\n")
    with pytest.raises(slicenav.ModelFormatError, match="junk.snm"):
        slicenav.Model(junk)

    source = pathlib.Path(__file__).resolve().parents[2] / "models" / "default.snm"
    data = bytearray(source.read_bytes())
    # Format version 2 (u32 at byte 8) with a valid CRC-32 trailer: a newer format, not a damaged file.
    struct.pack_into("<I", data, 8, 2)
    struct.pack_into("<I", data, len(data) - 4, zlib.crc32(bytes(data[:-4])))
    newer = tmp_path / "newer.snm"
    newer.write_bytes(bytes(data))
    with pytest.raises(slicenav.VersionMismatchError, match="version"):
        slicenav.Model(newer)
    # Version 1 again, one byte flipped, checksum stale: damaged.
    struct.pack_into("<I", data, 8, 1)
    data[len(data) // 2] ^= 0x5A
    damaged = tmp_path / "damaged.snm"
    damaged.write_bytes(bytes(data))
    with pytest.raises(slicenav.ModelFormatError, match="checksum"):
        slicenav.Model(damaged)


def test_paths_need_not_be_utf8(tmp_path):
    # A file name the OS allows but UTF-8 does not: written, read back, named in messages.
    path = os.path.join(os.fsencode(tmp_path), b"ct-\xff\xfe.nii.gz")
    slicenav.phantom(size=(8, 8, 4)).write(path)
    volume = slicenav.Volume.read(path)
    assert os.fsencode(volume.source_path) == path
    os.remove(path)
    with pytest.raises(slicenav.NotFoundError, match="ct-"):
        slicenav.Volume.read(os.fsdecode(path))  # str with surrogates, as os.listdir gives it
    with pytest.raises(slicenav.InvalidArgumentError, match="NUL"):
        slicenav.Volume.read("ct\0.nii.gz")

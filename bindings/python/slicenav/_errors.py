"""slicenav's exceptions: one class per C status code (slicenav.h), all subclasses of :class:`Error`.

Each carries the library's message (``slicenav_last_error()``) as ``str(e)`` and its status code as the class
attribute ``status``. Three also derive from the built-in exception Python code already catches for that
situation: ``InvalidArgumentError`` is a ``ValueError``, ``NotFoundError`` a ``FileNotFoundError`` and
``SlicenavIOError`` an ``OSError``.
"""


class Error(Exception):
    """A failed slicenav call. ``status`` is the C status code, ``status_name`` its short name."""

    status = 0
    status_name = "ok"


class InvalidArgumentError(Error, ValueError):
    """Bad arguments: wrong shapes, sizes, geometry, an unknown region or method name, ..."""

    status = -1
    status_name = "invalid argument"


class NotFoundError(Error, FileNotFoundError):
    """A file or directory does not exist (also: no bundled model)."""

    status = -2
    status_name = "not found"


class SlicenavIOError(Error, OSError):
    """An unreadable, truncated or unwritable file."""

    status = -3
    status_name = "i/o error"


class UnsupportedInputError(Error):
    """Readable, but not something slicenav can use (not CT HU, not a 3D scalar image, a region not in the scan)."""

    status = -4
    status_name = "unsupported input"


class ModelFormatError(Error):
    """A damaged or foreign model file."""

    status = -5
    status_name = "model format"


class VersionMismatchError(Error):
    """A model file from a newer format version."""

    status = -6
    status_name = "version mismatch"


class BufferTooSmallError(Error):
    """A buffer smaller than the data (the Python package sizes its buffers, so this means a library bug)."""

    status = -7
    status_name = "buffer too small"


class CancelledError(Error):
    """The call was cancelled."""

    status = -8
    status_name = "cancelled"


class InternalError(Error):
    """A failure inside the library (out of memory, an unexpected engine error)."""

    status = -9
    status_name = "internal error"


_BY_STATUS = {
    cls.status: cls
    for cls in (
        InvalidArgumentError,
        NotFoundError,
        SlicenavIOError,
        UnsupportedInputError,
        ModelFormatError,
        VersionMismatchError,
        BufferTooSmallError,
        CancelledError,
        InternalError,
    )
}


def error_class(status):
    """The exception class of a C status code; :class:`InternalError` for a code this version does not know."""
    return _BY_STATUS.get(int(status), InternalError)

"""slicenav.Model (navigation: insert, score, locate, coverage, crop plans), prepared scans, prealignment,
transform files and crop records.

Every call that runs the engine releases the GIL, so threads calling one model at once run in parallel and get
the same answers as serial calls (a loaded model is immutable).
"""

import json

from . import _slicenav
from ._errors import InvalidArgumentError
from ._results import (
    COVERAGE_STATUS,
    ApeMap,
    Coverage,
    Insertion,
    Landmark,
    Position,
    Landmarks,
    Prealignment,
    RigidPrealignment,
    RigidTransform,
)
from ._volume import Volume, _handle, _path, _vector

# slicenav_locate_method and slicenav_prealign_method by name (the slicenav command's --method values).
LOCATE_METHODS = {"insertion": 0, "score": 1}
PREALIGN_METHODS = {"score": 0, "three-slice": 1, "insertion": 2, "intensity": 3, "embedding": 4, "key-slices": 5,
                    "auto": 6}


def _method(name, methods):
    if name not in methods:
        raise InvalidArgumentError(f"unknown method {name!r}; use one of: {', '.join(methods)}")
    return methods[name]


def _optional_path(path, name):
    return None if path is None else _path(path, name)


class Scan:
    """A volume prepared once for one model (slicenav_scan): its canonical slices, slice embeddings and scores.

    Make one with :meth:`Model.prepare`. Every navigation call of that model takes it in place of the volume and
    then skips the preparation, which is most of a call's cost: prepare a scan once to insert it into several
    targets, locate key slices and check coverage of several regions. Answers are the same as with the volume.
    A scan belongs to its model: another model raises InvalidArgumentError. Immutable; share between threads.
    """

    __slots__ = ("_handle", "_model", "volume")

    def __init__(self, model, volume):
        if not isinstance(model, Model):
            raise TypeError(f"model must be a slicenav.Model, got {type(model).__name__}")
        self._handle = _slicenav.scan_prepare(model._handle, _handle(volume, "volume"))
        self._model = model
        self.volume = volume
        """The Volume the scan was prepared from (kept for QC pictures)."""

    def scores(self):
        """The slice scores, as :meth:`Model.score` gives them, without inference."""
        return _slicenav.scan_scores(self._handle)

    def __len__(self):
        return len(self.scores())

    def __repr__(self):
        return f"<slicenav.Scan {len(self)} slices>"


def _scan(model, scan_or_volume, name):
    """The ScanHandle of a Scan, or of a Volume prepared now."""
    if isinstance(scan_or_volume, Scan):
        return scan_or_volume._handle
    if isinstance(scan_or_volume, Volume):
        return _slicenav.scan_prepare(model._handle, scan_or_volume._handle)
    raise TypeError(f"{name} must be a slicenav.Volume or slicenav.Scan, got {type(scan_or_volume).__name__}")


class Model:
    """A loaded navigation model: insertion network, slice scores, key-slice templates and regions.

    path     model file; None for the bundled model ($SLICENAV_MODEL, then share/slicenav/models of the
             installed tree, then the source tree).
    threads  LibTorch intra-op threads, 0 = hardware threads. LibTorch's pool is process-wide: this sets it
             for every model in the process.
    device   "cpu"; "cuda:N" needs a CUDA-enabled LibTorch build (otherwise UnsupportedInputError).

    Raises NotFoundError, SlicenavIOError, ModelFormatError, VersionMismatchError, InvalidArgumentError or
    UnsupportedInputError. Immutable: share one Model between threads.
    """

    __slots__ = ("_handle", "_metadata")

    def __init__(self, path=None, threads=0, device="cpu"):
        self._handle = _slicenav.model_load(_optional_path(path, "path"), int(threads), str(device))
        self._metadata = None

    @property
    def metadata(self):
        """The model's metadata (architecture, preprocessing, atlas, templates, training, metrics) as a dict;
        a fresh copy on every access."""
        if self._metadata is None:
            self._metadata = _slicenav.model_metadata_json(self._handle)
        return json.loads(self._metadata)

    def regions(self):
        """Names of the regions :meth:`coverage` and :meth:`crop_plan` know ("lungs", "liver", ...)."""
        return _slicenav.model_regions(self._handle)

    def organs(self):
        """Names of the organs the model boxes with its anatomical positional embeddings (docs/ape.md);
        :meth:`crop_plan` takes them besides the regions and cuts the organ's region to the organ's box."""
        return _slicenav.model_organs(self._handle)

    def prepare(self, volume):
        """Prepares ``volume`` once for this model; see :class:`Scan`. Raises UnsupportedInputError for
        intensities that are not CT HU."""
        return Scan(self, volume)

    def insert(self, query, target, distribution=False, qc=None):
        """Where every slice of ``query`` belongs in ``target`` (Volumes or prepared :class:`Scan` objects; their
        orientations may differ). Returns an :class:`Insertion` (numpy columns, one row per query canonical
        slice). ``distribution=True`` keeps every slice's whole distribution; ``qc`` names a PNG to write the heat
        map to."""
        d = _slicenav.insert(self._handle, _scan(self, query, "query"), _scan(self, target, "target"),
                             bool(distribution), _optional_path(qc, "qc"))
        return Insertion._from_c(d)

    def score(self, volume):
        """One body-part score per canonical slice (0 = most superior), in atlas mm (superior positive, lung
        apex = 0), as a float64 numpy array; ``volume.canonical_world_z()`` gives each slice's world z. Takes a
        Volume or a :class:`Scan`."""
        return _slicenav.scan_scores(_scan(self, volume, "volume"))

    def locate(self, volume, method="insertion", qc=None):
        """Locates every key slice the model's templates label (lung_apex, carina, liver_dome, ...) in a Volume or
        :class:`Scan`. ``method`` is "insertion" (templates inserted into the scan, ensembled) or "score" (a
        robust line through the slice scores). ``qc`` names a PNG for coronal and sagittal views with the key
        slices drawn. Returns :class:`Landmarks`."""
        image = volume.volume if isinstance(volume, Scan) else volume
        d = _slicenav.locate(self._handle, _scan(self, volume, "volume"), _method(method, LOCATE_METHODS),
                             _optional_path(qc, "qc"), image._handle if isinstance(image, Volume) else None)
        return Landmarks(
            method=method,
            recognised=d["recognised"],
            score_slope=d["score_slope"],
            landmarks=tuple(Landmark._from_c(l) for l in d["landmarks"]),
        )

    def coverage(self, volume, region, method="insertion"):
        """Whether ``volume`` (a Volume or :class:`Scan`) covers ``region`` (one of :meth:`regions`; an unknown
        one is InvalidArgumentError listing the known ones). Returns :class:`Coverage`."""
        d = _slicenav.coverage(self._handle, _scan(self, volume, "volume"), str(region),
                               _method(method, LOCATE_METHODS))
        return Coverage(
            region=str(region),
            method=method,
            status=COVERAGE_STATUS[d["status"]],
            recognised=d["recognised"],
            superior_end=Position._from_c(d["superior"]),
            inferior_end=Position._from_c(d["inferior"]),
        )

    def prealign(self, fixed, moving, method="auto", min_overlap_mm=None, in_plane=False):
        """:func:`slicenav.prealign` with this model."""
        return prealign(fixed, moving, model=self, method=method, min_overlap_mm=min_overlap_mm, in_plane=in_plane)

    def prealign_rigid(self, fixed, moving, points=None, max_rotation_deg=None, seed=None):
        """:func:`slicenav.prealign_rigid` with this model."""
        return prealign_rigid(fixed, moving, self, points=points, max_rotation_deg=max_rotation_deg, seed=seed)

    def crop_plan(self, volume, region, method="insertion"):
        """Decides the crop box of ``region`` in ``volume`` (along z the region's located ends plus its
        calibrated margins, in-plane the body plus a margin). ``region`` may also be one of :meth:`organs`: its
        region's box cut to the organ's APE box (``record.to_dict()["ape"]`` says whether the box was used).
        Returns a :class:`CropRecord`. A region partly outside the scan gives the part that exists
        (``record.partial``); a region not in the scan, or a scan the model does not recognise, is
        UnsupportedInputError; an unknown name InvalidArgumentError."""
        handle = _slicenav.crop_plan(self._handle, _handle(volume, "volume"), str(region),
                                     _method(method, LOCATE_METHODS))
        return CropRecord(handle)

    def ape_map(self, volume):
        """The anatomical positional embedding map of a CT (docs/ape.md): three values per voxel of a grid
        aligned with the world axes, 4 mm apart, whose distances follow the anatomy's distances in an average
        patient. Returns :class:`ApeMap` (``values``: float32 array (3, z, y, x)). A model without the APE
        network, or intensities that are not CT HU, is UnsupportedInputError."""
        values, grid = _slicenav.ape_map(self._handle, _handle(volume, "volume"))
        return ApeMap(values=values, spacing_mm=grid["spacing_mm"], origin=tuple(grid["origin"]))

    def write_ape_map(self, volume, path, gzip_level=1):
        """Writes :meth:`ape_map` of ``volume`` atomically as a .nii or .nii.gz image of 3 float components."""
        _slicenav.ape_write(self._handle, _handle(volume, "volume"), _path(path), int(gzip_level))

    def __repr__(self):
        return f"<slicenav.Model {len(self.regions())} regions>"


def prealign(fixed, moving, model=None, method="auto", min_overlap_mm=None, in_plane=False):
    """The translation taking a point of ``fixed`` to the same anatomy in ``moving`` (docs/prealign.md).

    method          "auto" (the default: embedding, key slices or intensity, chosen by their evidence; one
                    patient's scans and two patients' alike), "score" (slice-score curves matched by shift),
                    "three-slice", "insertion", "embedding" (slice embeddings matched by shift), "key-slices"
                    (the key slices located in both scans), or "intensity" (a model-free baseline: the only
                    method that works with ``model=None``).
    min_overlap_mm  shifts with less overlap are not considered; None: the library default (30 mm).
    in_plane        also x and y, from body-mask centroids over the shared z range.

    Returns :class:`Prealignment`; ``result.transform()`` feeds :func:`write_elastix_transform`.
    A learned method without a model is InvalidArgumentError.
    """
    m = None if model is None else model._handle
    d = _slicenav.prealign(m, _handle(fixed, "fixed"), _handle(moving, "moving"), _method(method, PREALIGN_METHODS),
                           None if min_overlap_mm is None else float(min_overlap_mm), bool(in_plane))
    d["method"] = next(name for name, value in PREALIGN_METHODS.items() if value == d["method"])
    return Prealignment(**d)


def prealign_rigid(fixed, moving, model, points=None, max_rotation_deg=None, seed=None):
    """Rotation and translation taking a point of ``fixed`` to the same anatomy in ``moving``, from anatomical
    points matched in the model's voxel embedding (docs/prealign.md, "Rigid"). ``points`` (default 1500)
    fixed-scan points are matched; rotations beyond ``max_rotation_deg`` (default 25) come back with
    confidence at most 0.2; ``seed`` fixes the sampling. Returns :class:`RigidPrealignment`;
    ``result.transform()`` feeds :func:`write_elastix_transform` (an EulerTransform)."""
    if not isinstance(model, Model):
        raise TypeError(f"model must be a slicenav.Model, got {type(model).__name__}")
    d = _slicenav.prealign_rigid(model._handle, _handle(fixed, "fixed"), _handle(moving, "moving"),
                                 None if points is None else int(points),
                                 None if max_rotation_deg is None else float(max_rotation_deg),
                                 None if seed is None else int(seed))
    return RigidPrealignment(**d)


def _rigid(transform):
    if isinstance(transform, (Prealignment, RigidPrealignment)):
        transform = transform.transform()
    if not isinstance(transform, RigidTransform):
        raise TypeError(f"transform must be a slicenav.RigidTransform or Prealignment, got {type(transform).__name__}")
    return (_vector(transform.translation_mm, 3, "translation_mm"), _vector(transform.rotation_rad, 3, "rotation_rad"),
            _vector(transform.centre_mm, 3, "centre_mm"))


def write_elastix_transform(transform, fixed, path):
    """Writes an elastix TransformParameters file usable as elastix's initial transform (``-t0``) and by
    transformix, atomically: a TranslationTransform (an EulerTransform when a rotation is non-zero) with the
    fixed image's grid. ``transform`` is a :class:`RigidTransform`, :class:`Prealignment` or
    :class:`RigidPrealignment`; ``fixed`` the
    registration's fixed Volume. Give elastix an absolute path."""
    _slicenav.write_elastix_transform(*_rigid(transform), _handle(fixed, "fixed"), _path(path))


def write_itk_transform(transform, path):
    """Writes the same transform as an ITK transform file (.tfm), atomically."""
    _slicenav.write_itk_transform(*_rigid(transform), _path(path))


class CropRecord:
    """Where a scan was cropped to one region and how to undo it (slicenav_crop_record): the original grid, the
    box in index and world coordinates, the region, the model version, the margins, and whether the region was
    fully covered. Its JSON (``to_dict()``, :meth:`write`) is all :meth:`uncrop_file` needs.

    Make one with ``Model.crop_plan`` or :meth:`read`.
    """

    __slots__ = ("_handle",)

    def __init__(self, handle):
        if not isinstance(handle, _slicenav.CropRecordHandle):
            raise TypeError("use Model.crop_plan or CropRecord.read")
        self._handle = handle

    @classmethod
    def read(cls, path):
        """Reads a record written by :meth:`write` (or ``slicenav crop --record``). An inconsistent record is
        InvalidArgumentError naming the field."""
        return cls(_slicenav.crop_record_read(_path(path)))

    def write(self, path):
        """Writes the record as JSON, atomically."""
        _slicenav.crop_record_write(self._handle, _path(path))

    @property
    def json(self):
        """The record as JSON text."""
        return _slicenav.crop_record_json(self._handle)

    def to_dict(self):
        return json.loads(self.json)

    @property
    def partial(self):
        """True when the region is not fully covered by the scan (the crop holds the part that exists)."""
        return _slicenav.crop_record_partial(self._handle)

    def crop_file(self, image_path, out_path, gzip_level=1):
        """Crops an image on the record's original grid (the CT, or a label map: the voxel type is kept) to the
        box and writes it atomically; every voxel keeps its world position. An image on another grid is
        InvalidArgumentError naming the mismatch. ``gzip_level`` as in :meth:`Volume.write`."""
        _slicenav.crop_file(
            self._handle, _path(image_path, "image_path"), _path(out_path, "out_path"), int(gzip_level)
        )

    def uncrop_file(self, prediction_path, out_path, gzip_level=1):
        """Pastes an image on the cropped grid (a segmentation or probabilities; the voxel type is kept) back into
        the original grid, background 0, and writes it atomically. Crop then uncrop is bit-exact inside the
        box. ``gzip_level`` as in :meth:`Volume.write`."""
        _slicenav.uncrop_file(
            self._handle, _path(prediction_path, "prediction_path"), _path(out_path, "out_path"), int(gzip_level)
        )

    def __repr__(self):
        return f"<slicenav.CropRecord {self.to_dict()['region']['name']}{' (partial)' if self.partial else ''}>"

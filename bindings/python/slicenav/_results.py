"""Result objects of slicenav's calls: small frozen dataclasses and numpy arrays.

Every result has ``to_dict()``, which returns plain Python types only (numbers, strings, booleans, None,
lists, dicts), so ``json.dumps(result.to_dict())`` always works and gives the same field names as the
``slicenav`` command's JSON (docs/cli.md). Positions that do not exist (a key slice above or below the scan)
are None in objects and dictionaries, and NaN in numpy arrays.
"""

import dataclasses
import math
from typing import Optional, Tuple

import numpy as np

# slicenav_where, in C enum order.
WHERE = ("inside", "above", "below")
# slicenav_coverage_status, in C enum order.
COVERAGE_STATUS = ("none", "partial", "full")


def _plain(value):
    """A JSON-safe copy: numpy scalars and arrays as Python numbers and lists, NaN as None."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclasses.dataclass(frozen=True)
class Landmark:
    """A located key slice (slicenav_landmark).

    ``where`` is "inside", "above" (superior to the scan's first slice) or "below"; the three positions are
    None unless it is inside. ``original_slice`` is the fractional index along the file's slice axis,
    ``canonical_slice`` the fractional canonical index (0 = most superior slice), ``world_z_mm`` LPS z
    (superior positive). ``confidence`` is 0..1 (0 whenever the scan is not recognised); ``spread_mm`` and
    ``votes`` say how much the contributing templates (or slices, for the score method) agree. ``measured`` is
    True when the position is the key slice measured in the image (lung apex and base, carina) rather than
    the model's answer (``locate`` only).
    """

    name: str
    where: str
    world_z_mm: Optional[float]
    original_slice: Optional[float]
    canonical_slice: Optional[float]
    confidence: float
    spread_mm: float
    votes: int
    measured: bool = False

    @classmethod
    def _from_c(cls, d):
        inside = d["where"] == 0
        return cls(
            name=d["name"],
            where=WHERE[d["where"]],
            world_z_mm=d["world_z_mm"] if inside else None,
            original_slice=d["original_slice"] if inside else None,
            canonical_slice=d["canonical_slice"] if inside else None,
            confidence=float(d["confidence"]),
            spread_mm=float(d["spread_mm"]),
            votes=int(d["votes"]),
            measured=bool(d.get("measured", False)),
        )

    @property
    def inside(self):
        return self.where == "inside"

    def to_dict(self):
        return _plain(dataclasses.asdict(self))


@dataclasses.dataclass(frozen=True)
class Position:
    """A level along a scan (slicenav_position): a region's end in ``Model.coverage``. ``where`` and the three
    positions as in :class:`Landmark`; ``confidence`` 0..1."""

    where: str
    world_z_mm: Optional[float]
    original_slice: Optional[float]
    canonical_slice: Optional[float]
    confidence: float

    @classmethod
    def _from_c(cls, d):
        inside = d["where"] == 0
        return cls(
            where=WHERE[d["where"]],
            world_z_mm=d["world_z_mm"] if inside else None,
            original_slice=d["original_slice"] if inside else None,
            canonical_slice=d["canonical_slice"] if inside else None,
            confidence=float(d["confidence"]),
        )

    @property
    def inside(self):
        return self.where == "inside"

    def to_dict(self):
        return _plain(dataclasses.asdict(self))


@dataclasses.dataclass(frozen=True)
class Landmarks:
    """The key slices located in one scan (``Model.locate``).

    ``recognised`` is False when the scan does not show body anatomy the model knows (an extremity, anatomy
    beyond the atlas): every confidence is then 0. ``score_slope`` is the robust slope of
    slice score over world z behind that test (docs/navigation.md, "Recognition"). Index by name
    (``result["carina"]``) or iterate over the landmarks.
    """

    method: str
    recognised: bool
    score_slope: float
    landmarks: Tuple[Landmark, ...]

    def __getitem__(self, name):
        for landmark in self.landmarks:
            if landmark.name == name:
                return landmark
        raise KeyError(f"no landmark '{name}'; located: {', '.join(self.names)}")

    def __contains__(self, name):
        return any(landmark.name == name for landmark in self.landmarks)

    def __iter__(self):
        return iter(self.landmarks)

    def __len__(self):
        return len(self.landmarks)

    @property
    def names(self):
        return [landmark.name for landmark in self.landmarks]

    def to_dict(self):
        return {
            "method": self.method,
            "recognised": self.recognised,
            "score_slope": _plain(self.score_slope),
            "landmarks": [landmark.to_dict() for landmark in self.landmarks],
        }


@dataclasses.dataclass(frozen=True)
class Coverage:
    """Whether a scan covers a region (``Model.coverage``): ``status`` is "full", "partial" or "none", and the
    region's two ends are located like key slices (named "<region>:superior" and "<region>:inferior")."""

    region: str
    method: str
    status: str
    recognised: bool
    superior_end: Position
    inferior_end: Position

    def to_dict(self):
        return {
            "region": self.region,
            "method": self.method,
            "coverage": self.status,
            "recognised": self.recognised,
            "superior_end": self.superior_end.to_dict(),
            "inferior_end": self.inferior_end.to_dict(),
        }


@dataclasses.dataclass(frozen=True, eq=False)
class Insertion:
    """Where every slice of a query scan belongs in a target scan (``Model.insert``), as numpy columns.

    Row r is the query's canonical slice r (0 = most superior), as in ``Model.score``; ``query_slice`` is
    that slice's index along the query file's slice axis. ``where`` holds "inside", "above" or "below";
    the target positions (``target_slice``: fractional index along the target file's slice axis,
    ``target_canonical_slice``, ``target_world_z_mm``) are NaN unless inside. ``peak`` and ``entropy``
    (nats) describe each slice's distribution. With ``distribution=True``: ``distribution`` is
    (query slices x (len(slots) + 2)) float32, each row summing to 1; column 0 is "above the target",
    the last "below", and column s in between is target canonical slice ``slots[s - 1]``.
    """

    query_slice: np.ndarray
    query_world_z_mm: np.ndarray
    where: np.ndarray
    target_slice: np.ndarray
    target_canonical_slice: np.ndarray
    target_world_z_mm: np.ndarray
    peak: np.ndarray
    entropy: np.ndarray
    distribution: Optional[np.ndarray] = None
    slots: Optional[np.ndarray] = None

    @classmethod
    def _from_c(cls, d):
        where = np.array(WHERE)[d["where"]]
        outside = where != "inside"
        columns = {}
        for key in ("target_slice", "target_canonical_slice", "target_world_z_mm"):
            column = d[key]
            column[outside] = np.nan
            columns[key] = column
        return cls(
            query_slice=d["query_slice"],
            query_world_z_mm=d["query_world_z_mm"],
            where=where,
            peak=d["peak"],
            entropy=d["entropy"],
            distribution=d.get("distribution"),
            slots=d.get("slots"),
            **columns,
        )

    def __len__(self):
        return len(self.where)

    def to_dict(self):
        rows = [
            {
                "query_slice": int(round(self.query_slice[r])),
                "query_world_z_mm": float(self.query_world_z_mm[r]),
                "where": str(self.where[r]),
                "target_slice": _plain(float(self.target_slice[r])),
                "target_canonical_slice": _plain(float(self.target_canonical_slice[r])),
                "target_world_z_mm": _plain(float(self.target_world_z_mm[r])),
                "peak": float(self.peak[r]),
                "entropy": float(self.entropy[r]),
            }
            for r in range(len(self))
        ]
        out = {"slices": rows}
        if self.distribution is not None:
            out["distribution"] = {
                "slots": "above, then the target canonical slices listed, then below",
                "target_canonical_slices": _plain(self.slots),
                "rows_in_query_canonical_order": _plain(self.distribution),
            }
        return out


@dataclasses.dataclass(frozen=True)
class RigidTransform:
    """A rigid transform in the elastix/ITK convention: it maps a point p of the fixed image to the point
    T(p) = R (p - centre_mm) + centre_mm + translation_mm of the moving image (LPS mm; R = Rz Rx Ry, elastix
    EulerTransform). With all angles 0, T(p) = p + translation_mm."""

    translation_mm: Tuple[float, float, float]
    rotation_rad: Tuple[float, float, float] = (0.0, 0.0, 0.0)
    centre_mm: Tuple[float, float, float] = (0.0, 0.0, 0.0)

    def to_dict(self):
        return _plain(dataclasses.asdict(self))


@dataclasses.dataclass(frozen=True)
class RigidPrealignment:
    """Rotation and translation taking a point of the fixed scan to the same anatomy in the moving scan
    (``slicenav.prealign_rigid``; docs/prealign.md, "Rigid"): T(p) = R (p - centre_mm) + centre_mm +
    translation_mm, R = Rz Rx Ry from ``rotation_rad`` (elastix EulerTransform). ``shared_anatomy`` False
    means no common anatomy was found and the transform means nothing; ``note`` says why a confidence is low.
    ``points`` fixed-scan points were matched, ``consistent`` of them forward-backward, ``inliers`` of those
    agree with the transform within ``residual_mm`` (RMS)."""

    translation_mm: Tuple[float, float, float]
    rotation_rad: Tuple[float, float, float]
    centre_mm: Tuple[float, float, float]
    confidence: float
    shared_anatomy: bool
    points: int
    consistent: int
    inliers: int
    residual_mm: float
    note: str

    def transform(self):
        """The transform as a :class:`RigidTransform` (for ``write_elastix_transform``)."""
        return RigidTransform(translation_mm=self.translation_mm, rotation_rad=self.rotation_rad,
                              centre_mm=self.centre_mm)

    def to_dict(self):
        return _plain(dataclasses.asdict(self))


@dataclasses.dataclass(frozen=True)
class Prealignment:
    """The z translation (and, with ``in_plane``, x and y) taking a point of the fixed scan to the same anatomy
    in the moving scan (``slicenav.prealign``; docs/prealign.md): an anatomical level at world z_f in the
    fixed scan and z_m in the moving one gives ``translation_mm[2] = z_m - z_f``, elastix's ``-t0``
    convention. ``shared_anatomy`` False means the scans show no common anatomy and the translation means
    nothing; ``note`` says why a confidence is low. ``method`` is the method that answered (for "auto", the
    one it chose). The evidence of the method that answered is in its own fields (those of the other methods
    are 0): ``shifts_tried``, ``match_cost`` and ``match_contrast`` (score, embedding, intensity),
    ``line_inliers`` and ``off_line_share`` (insertion), ``key_slices_shared`` and ``key_slice_deviation_mm``
    (key slices), ``fixed_score_slope`` (three-slice); slicenav.h's slicenav_prealignment says what each
    means."""

    method: str
    translation_mm: Tuple[float, float, float]
    confidence: float
    overlap_mm: float
    shared_anatomy: bool
    shifts_tried: int
    match_cost: float
    match_contrast: float
    line_inliers: int
    off_line_share: float
    key_slices_shared: int
    key_slice_deviation_mm: float
    fixed_score_slope: float
    fixed_recognised: bool
    moving_recognised: bool
    note: str

    def transform(self):
        """The translation as a :class:`RigidTransform` (for ``write_elastix_transform``)."""
        return RigidTransform(translation_mm=self.translation_mm)

    def to_dict(self):
        return {
            "method": self.method,
            "convention": "fixed point p -> moving point p + translation_mm (elastix -t0, ITK), LPS mm",
            "translation_mm": list(self.translation_mm),
            "confidence": self.confidence,
            "overlap_mm": self.overlap_mm,
            "shared_anatomy": self.shared_anatomy,
            "details": _plain(
                {
                    "shifts_tried": self.shifts_tried,
                    "match_cost": self.match_cost,
                    "match_contrast": self.match_contrast,
                    "line_inliers": self.line_inliers,
                    "off_line_share": self.off_line_share,
                    "key_slices_shared": self.key_slices_shared,
                    "key_slice_deviation_mm": self.key_slice_deviation_mm,
                    "fixed_score_slope": self.fixed_score_slope,
                    "fixed_recognised": self.fixed_recognised,
                    "moving_recognised": self.moving_recognised,
                    "note": self.note,
                }
            ),
        }


@dataclasses.dataclass(frozen=True, eq=False)
class ApeMap:
    """A CT's anatomical positional embedding map (``Model.ape_map``; docs/ape.md). ``values`` is float32
    (3, z, y, x) on a grid aligned with the world (LPS) axes: voxel [:, z, y, x] lies at ``origin`` +
    ``spacing_mm`` * (x, y, z)."""

    values: np.ndarray
    spacing_mm: float
    origin: Tuple[float, float, float]

    def world(self, x, y, z):
        """World position (LPS mm) of voxel (x, y, z)."""
        return tuple(o + self.spacing_mm * i for o, i in zip(self.origin, (x, y, z)))

    def to_dict(self):
        return {"size": list(self.values.shape[:0:-1]), "spacing_mm": self.spacing_mm, "origin": list(self.origin)}

"""slicenav.Model: the bundled model, insert, score, locate, coverage, prepared scans; JSON results; several threads on one
model; agreement with the slicenav command."""

import json
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import slicenav
from conftest import PHANTOM, require_data, shifted


def test_bundled_model_metadata_and_regions(model):
    metadata = model.metadata
    assert isinstance(metadata, dict) and metadata
    metadata.clear()  # a copy: the model's own stays
    assert model.metadata
    regions = model.regions()
    assert {"lungs", "heart", "liver", "kidneys", "abdomen", "pelvis", "head-neck"} <= set(regions)
    organs = model.organs()
    assert {"brainstem", "femur_heads", "larynx", "mandible", "parotids", "urinary_bladder"} <= set(organs)
    assert not set(organs) & set(regions)


def test_score_is_one_value_per_canonical_slice(model, phantom):
    scores = model.score(phantom)
    assert isinstance(scores, np.ndarray) and scores.dtype == np.float64
    assert scores.shape == (phantom.canonical_slice_count,)
    assert np.all(np.isfinite(scores))
    # Canonical order runs superior to inferior, and scores are superior-positive: they fall along the scan.
    assert scores[:10].mean() > scores[-10:].mean()
    z = phantom.canonical_world_z()
    assert z[0] == pytest.approx(0.0) and z[-1] == pytest.approx(-295.0)


def test_locate_on_a_phantom(model, phantom, tmp_path):
    qc = tmp_path / "overlay.png"
    result = model.locate(phantom, qc=qc)
    assert result.method == "insertion"
    assert result.recognised
    assert result.score_slope > 0.25
    assert len(result) > 0 and "lung_apex" in result
    for landmark in result:
        assert 0.0 <= landmark.confidence <= 1.0
        if landmark.inside:
            assert -295.0 - 1e-6 <= landmark.world_z_mm <= 1e-6
            assert phantom.canonical_to_world_z(landmark.canonical_slice) == pytest.approx(landmark.world_z_mm)
        else:
            assert landmark.where in ("above", "below")
            assert landmark.world_z_mm is None and landmark.original_slice is None
    with pytest.raises(KeyError, match="no landmark 'spleen_tip'"):
        result["spleen_tip"]
    assert qc.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    d = json.loads(json.dumps(result.to_dict()))
    assert d["recognised"] is True
    assert [l["name"] for l in d["landmarks"]] == result.names
    assert model.locate(phantom, method="score").method == "score"
    with pytest.raises(slicenav.InvalidArgumentError, match="unknown method 'atlas'"):
        model.locate(phantom, method="atlas")


def test_locate_follows_a_shift_of_the_world(model, phantom):
    # The same voxels 100 mm higher: every key slice found inside moves 100 mm up, at the same slices.
    a = model.locate(phantom)
    b = model.locate(shifted(phantom, 100.0))
    for la in a:
        lb = b[la.name]
        assert lb.where == la.where
        if la.inside:
            assert lb.world_z_mm == pytest.approx(la.world_z_mm + 100.0, abs=1e-3)
            assert lb.canonical_slice == pytest.approx(la.canonical_slice, abs=1e-4)


def test_coverage(model, phantom):
    c = model.coverage(phantom, "lungs")
    assert c.region == "lungs" and c.method == "insertion"
    assert c.status in ("full", "partial")
    assert c.recognised
    # The scan starts at the lung apex: the lungs' upper end is at or above its first slice, the lower one inside.
    assert isinstance(c.superior_end, slicenav.Position) and c.inferior_end.inside
    assert c.superior_end.where == "above" or c.superior_end.world_z_mm > c.inferior_end.world_z_mm
    assert (c.status == "full") == (c.superior_end.inside and c.inferior_end.inside)
    d = json.loads(json.dumps(c.to_dict()))
    assert d["coverage"] == c.status
    assert set(d["superior_end"]) == {"where", "world_z_mm", "original_slice", "canonical_slice", "confidence"}
    # The scan starts at the lung apex's level: head-neck's upper end (apex + 230 mm) lies far above it.
    head_neck = model.coverage(phantom, "head-neck")
    assert head_neck.status in ("none", "partial")
    assert head_neck.superior_end.where == "above" and head_neck.superior_end.world_z_mm is None
    with pytest.raises(slicenav.InvalidArgumentError, match="head-neck") as info:
        model.coverage(phantom, "spleen")
    assert "spleen" in str(info.value)


def test_insert_part_of_a_scan_into_the_whole(model, phantom, tmp_path):
    # Query: canonical slices 20..39 of the phantom, as a volume of their own (same world positions).
    voxels = phantom.to_numpy()  # RAI: numpy axis 0 is k, which runs inferiorly like canonical order
    part = slicenav.Volume.from_numpy(voxels[20:40], phantom.spacing,
                                      np.asarray(phantom.origin) + phantom.direction[:, 2] * 20 * phantom.spacing[2],
                                      phantom.direction)
    assert part.canonical_to_world_z(0) == pytest.approx(phantom.canonical_to_world_z(20))
    qc = tmp_path / "heatmap.png"
    r = model.insert(part, phantom, distribution=True, qc=qc)
    assert len(r) == 20
    np.testing.assert_allclose(r.query_world_z_mm, part.canonical_world_z())
    np.testing.assert_allclose(r.query_slice, np.arange(20))
    assert set(r.where) == {"inside"}
    # Each slice lands inside the whole scan (how near its own level is measured on a real scan below).
    np.testing.assert_allclose(phantom.canonical_to_world_z(r.target_canonical_slice), r.target_world_z_mm, atol=1e-6)
    # Distributions: rows sum to 1, peak is each row's maximum, slots are target canonical slices.
    assert r.distribution.shape == (20, len(r.slots) + 2)
    np.testing.assert_allclose(r.distribution.sum(axis=1), 1.0, atol=1e-4)
    np.testing.assert_allclose(r.peak, r.distribution.max(axis=1), atol=1e-5)
    assert r.slots.min() >= 0 and r.slots.max() < phantom.canonical_slice_count
    assert qc.read_bytes()[:4] == b"\x89PNG"
    d = json.loads(json.dumps(r.to_dict()))
    assert len(d["slices"]) == 20 and len(d["distribution"]["rows_in_query_canonical_order"]) == 20
    plain = model.insert(part, phantom)
    assert plain.distribution is None and plain.slots is None
    np.testing.assert_allclose(plain.target_world_z_mm, r.target_world_z_mm, atol=1e-3)


def test_insert_reports_slices_outside_the_target(model, phantom):
    # The query is the phantom's upper half, the target its lowest quarter: the query lies above it.
    voxels = phantom.to_numpy()
    top = slicenav.Volume.from_numpy(voxels[:30], phantom.spacing, phantom.origin, phantom.direction)
    bottom = slicenav.Volume.from_numpy(voxels[45:], phantom.spacing,
                                        np.asarray(phantom.origin) + phantom.direction[:, 2] * 45 * phantom.spacing[2],
                                        phantom.direction)
    r = model.insert(top, bottom)
    above = r.where == "above"
    assert above.mean() > 0.5
    outside = r.where != "inside"
    assert np.all(np.isnan(r.target_world_z_mm[outside]))
    assert np.all(np.isnan(r.target_slice[outside]))
    assert np.all(np.isfinite(r.target_world_z_mm[~outside]))
    d = r.to_dict()
    assert all(row["target_world_z_mm"] is None for row in d["slices"] if row["where"] != "inside")
    json.dumps(d, allow_nan=False)


def test_prepared_scan_gives_the_volume_answers(model, phantom, tmp_path):
    part = slicenav.Volume.from_numpy(phantom.to_numpy()[20:40], phantom.spacing,
                                      np.asarray(phantom.origin) + phantom.direction[:, 2] * 20 * phantom.spacing[2],
                                      phantom.direction)
    scan = model.prepare(phantom)
    assert isinstance(scan, slicenav.Scan) and scan.volume is phantom
    assert len(scan) == phantom.canonical_slice_count
    np.testing.assert_array_equal(scan.scores(), model.score(phantom))
    np.testing.assert_array_equal(model.score(scan), model.score(phantom))
    direct, prepared = model.insert(part, phantom), model.insert(model.prepare(part), scan)
    for column in ("target_world_z_mm", "peak", "entropy"):
        np.testing.assert_array_equal(getattr(prepared, column), getattr(direct, column))
    qc = tmp_path / "scan.png"
    assert model.locate(scan, qc=qc).to_dict() == model.locate(phantom).to_dict()
    assert qc.read_bytes()[:4] == b"\x89PNG"
    assert model.coverage(scan, "lungs").to_dict() == model.coverage(phantom, "lungs").to_dict()
    # A scan belongs to the model that prepared it.
    other = slicenav.Model(threads=1)
    with pytest.raises(slicenav.InvalidArgumentError, match="another model"):
        other.locate(scan)
    with pytest.raises(TypeError, match="slicenav.Scan"):
        model.locate(phantom.to_numpy())
    mr_like = slicenav.Volume.from_numpy(np.full((8, 16, 16), 100.0, np.float32), (1, 1, 1), (0, 0, 0))
    with pytest.raises(slicenav.UnsupportedInputError, match="CT"):
        model.prepare(mr_like)


def test_navigation_argument_errors(model, phantom):
    with pytest.raises(TypeError, match="slicenav.Volume or slicenav.Scan"):
        model.score(phantom.to_numpy())
    with pytest.raises(TypeError, match="query"):
        model.insert(None, phantom)
    mr_like = slicenav.Volume.from_numpy(np.full((8, 16, 16), 100.0, np.float32), (1, 1, 1), (0, 0, 0))
    with pytest.raises(slicenav.UnsupportedInputError, match="CT"):
        model.score(mr_like)


def test_threads_share_one_model_and_get_serial_answers(model):
    volumes = [slicenav.phantom(**dict(PHANTOM, top_z_mm=z, noise_hu=5.0, seed=s)) for z, s in ((0, 1), (-40, 2))]
    serial = [(model.score(v), model.locate(v).to_dict(), model.coverage(v, "liver").to_dict()) for v in volumes]
    results = {}
    errors = []

    def work(t):
        try:
            v = volumes[t % 2]
            results[t] = (model.score(v), model.locate(v).to_dict(), model.coverage(v, "liver").to_dict())
        except Exception as e:  # reported below with the thread's number
            errors.append((t, e))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors
    for t, (scores, located, covered) in results.items():
        expected = serial[t % 2]
        np.testing.assert_allclose(scores, expected[0], atol=1e-6)
        assert _close(located, expected[1])
        assert _close(covered, expected[2])


@pytest.mark.parametrize("call", ["score", "locate", "coverage", "insert", "prealign", "crop_plan", "model_load"])
def test_long_calls_release_the_gil(model, phantom, call):
    # With forced GIL switches made rare, the main thread can run while the worker is inside the call only if
    # the call releases the GIL; otherwise the worker keeps it until it has finished and set `done`.
    run = {
        "score": lambda: model.score(phantom),
        "locate": lambda: model.locate(phantom),
        "coverage": lambda: model.coverage(phantom, "liver"),
        "insert": lambda: model.insert(phantom, phantom),
        "prealign": lambda: model.prealign(phantom, phantom),
        "crop_plan": lambda: model.crop_plan(phantom, "liver"),
        "model_load": lambda: slicenav.Model(threads=1),
    }[call]
    started = threading.Event()
    state = {"done": False}

    def work():
        started.set()
        run()
        state["done"] = True

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        worker = threading.Thread(target=work)
        worker.start()
        started.wait()
        done_while_main_ran = state["done"]
        worker.join()
    finally:
        sys.setswitchinterval(interval)
    assert state["done"]
    assert not done_while_main_ran, f"{call} kept the GIL"


def _close(a, b, tol=1e-4):
    """Equal JSON trees, numbers within tol."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], tol) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_close(x, y, tol) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, (int, float)):
        return abs(a - b) <= tol
    return a == b


def test_results_match_the_slicenav_command(model, phantom, tmp_path):
    cli = os.environ.get("SLICENAV_CLI")
    if not cli or not os.path.exists(cli):
        pytest.skip("SLICENAV_CLI (the slicenav command, set by ctest) not available")
    path = tmp_path / "phantom.nii.gz"
    phantom.write(path)
    volume = slicenav.Volume.read(path)
    out = subprocess.run([cli, "locate", str(path), "--threads", "1"], check=True, capture_output=True, text=True)
    located = json.loads(out.stdout)
    ours = model.locate(volume).to_dict()
    assert located["recognised"] == ours["recognised"]
    assert _close(located["landmarks"], ours["landmarks"])
    out = subprocess.run([cli, "coverage", str(path), "--region", "liver", "--threads", "1"], check=True,
                         capture_output=True, text=True)
    covered = json.loads(out.stdout)
    ours = model.coverage(volume, "liver").to_dict()
    for key in ("coverage", "recognised", "superior_end", "inferior_end"):
        assert _close(covered[key], ours[key]), key


def test_real_held_out_scan_key_slices(model):
    # ircad_1_17 is a validation case of the bundled model (docs/model-card.md); a loose bound on its key slices
    # shows the package runs the real model on real data (accuracy itself is measured in benchmarks).
    path = require_data("ct/ircad_1_17/ct.nii.gz")
    truth = json.loads((path.parent / "landmarks.json").read_text())
    volume = slicenav.Volume.read(path)
    result = model.locate(volume)
    assert result.recognised
    known = {l["name"]: l["z_mm"] for l in truth["landmarks"] if l.get("status") == "ok" and "z_mm" in l}
    checked = [(l.name, l.world_z_mm - known[l.name]) for l in result if l.inside and l.name in known]
    assert checked, "no located key slice has a reference level"
    assert np.median([abs(e) for _, e in checked]) < 30.0, checked


def test_real_held_out_head_neck_and_pelvis_scans(model):
    # Validation patients of the bundled model: a head-and-neck PET/CT shows the skull base and C7, an
    # abdomen-pelvis CT the femoral heads; each is recognised and covers its own region only.
    head = slicenav.Volume.read(require_data("ct/hnpetct_chus005/ct.nii.gz"))
    located = {l.name: l for l in model.locate(head)}
    assert located["skull_base"].inside and located["c7"].inside
    assert located["skull_base"].world_z_mm > located["c7"].world_z_mm
    # The carina is measured in the image (the airway's split; annotated at -520 mm by eye), and so is the
    # skull base (the bone around the foramen magnum; -304 mm by eye); C7 is not.
    assert located["carina"].measured and abs(located["carina"].world_z_mm + 520.0) <= 5.0
    assert located["skull_base"].measured and abs(located["skull_base"].world_z_mm + 304.0) <= 10.0
    assert not located["c7"].measured
    assert model.coverage(head, "head-neck").status != "none"
    assert model.coverage(head, "pelvis").status == "none"

    pelvis = slicenav.Volume.read(require_data("ct/ts_example_ct/ct.nii.gz"))
    located = model.locate(pelvis)
    assert located.recognised
    femoral_heads = {l.name: l for l in located}["femur_head_top"]
    # Measured in the bone (a pair of domes); annotated at 148.3 mm.
    assert femoral_heads.inside and femoral_heads.measured and abs(femoral_heads.world_z_mm - 148.3) <= 10.0
    assert model.coverage(pelvis, "pelvis").status != "none"
    assert model.coverage(pelvis, "head-neck").status == "none"


def test_real_held_out_scan_part_inserted_into_the_whole(model):
    # The middle half of a chest CT of a validation patient, as a volume of its own, inserted into the whole
    # scan: each slice lands near its own level.
    whole = slicenav.Volume.read(require_data("ct/lidc_0003/ct.nii.gz"))
    voxels = whole.to_numpy()
    n = voxels.shape[0]
    first, last = n // 4, 3 * n // 4
    part = slicenav.Volume.from_numpy(voxels[first:last], whole.spacing,
                                      np.asarray(whole.origin) + whole.direction[:, 2] * first * whole.spacing[2],
                                      whole.direction)
    r = model.insert(part, whole)
    assert set(r.where) == {"inside"}
    errors = np.abs(r.target_world_z_mm - r.query_world_z_mm)
    assert np.median(errors) < 15.0, errors

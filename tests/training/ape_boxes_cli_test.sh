#!/bin/bash
# slicenav-ape-boxes on the real data's head-and-neck crops and extremity crops: every organ of the OpenKBP masks
# gets a leave-one-patient-out measurement, a factor, a threshold, its controls (the extremity crops) and the
# corroboration of each held-out box by the region's other offered organs, and the model it writes holds one
# template per labelled scan.
set -euo pipefail
tool=$1
model=$2
data=${SLICENAV_DATA:-$3}
out=$4
if [ ! -f "$data/cases.tsv" ]; then
  echo "SKIP: real data not found at $data (set SLICENAV_DATA)"
  exit 77
fi
rm -rf "$out" && mkdir -p "$out"
"$tool" --model "$model" --data "$data" --sets hn ood --threads 1 --report "$out/boxes.json" \
  --write-model "$out/boxes.snm" > "$out/table.md" 2> "$out/log" || { cat "$out/log"; exit 1; }
grep -qE "^\| (\*\*)?parotids(\*\*)? \| 30 \| 30 \| (region|scan) \|" "$out/table.md" || { cat "$out/table.md"; exit 1; }
/usr/bin/python3 "$(dirname "$0")/../../scripts/model_metadata.py" "$out/boxes.snm" ape_organs > "$out/organs.json"
/usr/bin/python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
full = json.load(open(out + "/boxes.json"))
report = full["organs"]
organs = json.load(open(out + "/organs.json"))
for organ in ("parotids", "brainstem", "spinal_cord", "mandible", "larynx", "esophagus"):
    r = report[organ]
    assert r["factor"] >= 1 and r["max_distance"] > 0, r
    # Each scan is held out as read, and the head-and-neck organs' scans tilted by -10 and 10 degrees too
    # (those of them whose organ stays wholly inside the tilted scan).
    tilts = {}
    for h in r["held_out"]:
        tilts.setdefault(h["tilt_deg"], []).append(h["case"])
    assert len(tilts[0]) == len(set(tilts[0])) == r["cases"] >= 10, (organ, r["cases"])
    if r["region"] == "head-neck":
        assert set(tilts) == {-10, 0, 10} and all(set(tilts[t]) <= set(tilts[0]) for t in tilts), tilts.keys()
        assert r["tilted"]["scans"] == len(tilts[-10]) + len(tilts[10]) >= r["cases"], r["tilted"]
    else:
        assert set(tilts) == {0} and r["tilted"]["scans"] == 0, (organ, tilts.keys())
    for h in r["held_out"]:
        assert 0 <= h["iou"] <= 1 and h["volume_ratio"] >= 1, h
        assert h["factor_needed"] is None or min(h["factor_needed"], 100) <= r["factor"], h
    # The factor is a 75% upper confidence bound on the upper end of the patients' needs (each the largest
    # of its scans, tilted or not), from the two largest: x1 + 3 (x1 - x2), within [1, 100]; one at the cap
    # is not offered.
    by_patient = {}
    for h in r["held_out"]:
        if h["factor_needed"] is not None:
            by_patient[h["patient"]] = max(by_patient.get(h["patient"], 0), min(h["factor_needed"], 100))
    needs = sorted(by_patient.values())
    assert abs(r["factor"] - min(max(4 * needs[-1] - 3 * needs[-2], 1), 100)) < 1e-9, (r["factor"], needs[-2:])
    # A tilted copy keeps what its recall says with the factor the other patients set.
    tilted = [h["recall_with_others_factor"] for h in r["held_out"] if h["tilt_deg"] != 0]
    if tilted:
        assert (r["tilted"]["worst_recall"], r["tilted"]["below"]) == (min(tilted), sum(t < 0.99 for t in tilted))
    assert r["factor"] < 100 or not r["offered"], r
    if organ in ("spinal_cord", "esophagus"):  # run through several regions: measured, never offered as a crop
        assert r["region"] == "" and r["search"] == "scan" and not r["offered"] and organ not in organs, r
        assert list(r["worst_recall_by_search"]) == ["scan"], r
        continue
    assert r["region"] == "head-neck" and r["search"] in ("region", "scan"), r
    # A held-out box counts only where the region is wholly in the scan and another offered organ of the region
    # is found in it too (plan_crop keeps the region's crop otherwise, and the volume ratio is that crop's).
    others = [o for o in organs if o != organ and organs[o]["region"] == r["region"]]
    uncorroborated = partial = 0
    for h in r["held_out"]:
        assert h["corroborated_by"] is None or h["corroborated_by"] in others, (h["corroborated_by"], others)
        uncorroborated += h["tilt_deg"] == 0 and others != [] and h["corroborated_by"] is None
        partial += h["tilt_deg"] == 0 and h["region_partial"]  # counted on the scans as read
        if h["region_partial"] or (others and h["corroborated_by"] is None):
            assert h["volume_ratio"] == h["key_slice_crop"]["volume_ratio"], h
    assert (r["uncorroborated"], r["region_partial"]) == (uncorroborated, partial), (organ, r, uncorroborated, partial)
    # Both searches are measured; the one kept keeps at least as much of the worst held-out organ (and, where
    # both keep as much, the smaller crops).
    worst = r["worst_recall_by_search"]
    assert set(worst) == {"region", "scan"} and worst[r["search"]] == max(worst.values()), worst
    # The extremity crops are controls: an organ offered is never boxed on them (plan_crop refuses them or
    # keeps the region's crop); one that boxes a control is not offered, whatever its recall.
    assert len(r["controls"]) == 3 and all(c["answer"] in ("refused", "not found", "boxed") for c in r["controls"])
    if any(c["answer"] == "boxed" for c in r["controls"]):
        assert not r["offered"] and "control" in r["note"], r
    assert (organ in organs) == r["offered"], (organ, r["offered"])
    if r["offered"]:
        assert organs[organ]["factor"] == r["factor"] and organs[organ]["region"] == "head-neck"
        assert organs[organ]["search"] == r["search"]
        assert len(organs[organ]["templates"]) == r["cases"]  # the scans as read: tilted copies are no templates
        assert all(len(t["edges"]) == 6 for t in organs[organ]["templates"])
# The head-and-neck region as the union of its offered organs' crops, against its key-slice crop: the union
# lies inside the region's crop, is the region's crop wherever one organ is not boxed, and stands for the
# region only where it keeps >= 0.99 of every mask the region's crop keeps, on 3 or more patients.
assert list(full["regions"]) == ["head-neck"], list(full["regions"])
region = full["regions"]["head-neck"]
assert region["organs"] == sorted(o for o in organs if organs[o]["region"] == "head-neck"), region["organs"]
assert len(region["scans"]) == region["patients"] >= 20, region["patients"]
below = 0
for s in region["scans"]:
    kept = s["recall_of_region_crop"]
    assert kept and all(0 <= r <= 1 + 1e-12 for r in kept.values()), s
    assert s["volume_ratio"] >= s["key_slice_volume_ratio"] - 1e-9, s
    if not s["boxed"]:
        assert s["volume_ratio"] == s["key_slice_volume_ratio"] and min(kept.values()) == 1, s
    below += min(kept.values()) < 0.99
worst = min(min(s["recall_of_region_crop"].values()) for s in region["scans"])
assert (region["scans_below"], region["worst_recall_of_region_crop"]) == (below, worst), (region, below, worst)
boxed_patients = sum(s["boxed"] for s in region["scans"])
assert region["boxed_patients"] == boxed_patients, region
assert region["crop"] == ("organ boxes" if boxed_patients >= 3 and below == 0 else "key slices"), region
PY

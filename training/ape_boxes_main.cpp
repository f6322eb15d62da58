// slicenav-ape-boxes: few-shot organ boxes from the model's APE map (docs/ape.md, "Organ boxes"), measured
// leave-one-patient-out on every development mask, and their templates written into a copy of the model.
//
//   slicenav-ape-boxes --model runs/ape/latest.snm --data ../shared/data --report boxes.json
//                      [--write-model out.snm] [--sets ct hn ood] [--tilts -10 10] [--threads N]
//
// For every organ of the table below and every case of sets ct and hn whose masks show it (lungs, kidneys,
// femoral heads and parotids as left and right together), the six edge points of the mask and its centroid
// are embedded in the case's APE map: those are the case's template. Then, for each case, the boxes come
// from the templates of the other patients only (ape_organ_box), and the report gives per organ:
//   - the seed's landmark retrieval error: mean radial error (mm) of the edge points (MRE_ep) and of the
//     centroid (MRE_c), each template's point retrieved by nearest neighbour against the case's true one;
//   - the IoU of the box with the mask's bounding box;
//   - the organ crop (crop.hpp: the organ's region crop cut to its box enlarged about its centre): the
//     enlargement each case needs for 0.99 recall, the organ's factor (a 75% upper confidence bound on the
//     upper end of the patients' needs, each the largest of its cases', from the two largest: upper_end; at
//     most 100),
//     the recall each case gets with the factor calibrated on the other cases alone, and the volume ratio
//     (scan voxels / crop voxels on the scan's own grid) at the organ's factor (VR@99), beside the region's
//     key-slice crop (z range and body box) alone on the same scan.
// The head-and-neck organs' cases are held out tilted too (--tilts, degrees about the left-right axis;
// tilt.hpp), as the head turns on the neck between scans: each tilted copy is one more held-out case of its
// patient, never a template, and the report's "tilted" gives the recall the copies keep.
// An organ held by a region is measured with its edges searched for in the region's crop and in the whole
// scan; the search kept (the report's "search", with both worst recalls) is the region's unless the whole
// scan keeps more of the worst held-out organ with the others' factor, or as much with a larger mean VR@99.
// The organ's "not found" threshold is 1.25 x the 90th percentile of the held-out cases' median edge-point
// match distances. Control scans, certain not to show the organ (is_control), are cropped to it by
// plan_crop with the model holding it and the organs offered, and the report counts its answers: refused
// (the region is not in the scan), not found (the region's crop kept: its edges do not match, or no other
// offered organ of its region is found to corroborate them) or boxed (a false box).
// The organs offered are those held by one region, measured on 3 or more held-out patients, with recall
// >= 0.95 on each with the others' factor (kMinOfferedRecall) and a factor below the cap, less those that box
// a control (tried again whenever the set changes, as it changes what corroborates a box). Each held-out
// case's VR@99 is that of the crop plan_crop would make with the offered organs: the region's crop where the
// region is only partly in the scan, or where no other offered organ of the region is found in it with the
// other patients' templates ("not corroborated").
// Each region holding offered organs is then measured as the union of their crops against its key-slice
// crop (the second table and the report's "regions"): on every scan where the region's crop is made, the
// union of the offered organs' held-out crops (the region's crop wherever one of them is not boxed), its
// volume ratio, and its recall of each of the scan's masks relative to what the region's crop keeps of it.
// The union could stand for the region only where it keeps >= 0.99 of every mask, on 3 or more patients.
// --write-model writes the organs offered into the model's "ape_organs" metadata (ape.hpp): every case's
// template, the factor, the threshold and the search.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "dataset.hpp"
#include "slicenav/ape.hpp"
#include "slicenav/crop.hpp"
#include "slicenav/error.hpp"
#include "slicenav/io.hpp"
#include "slicenav/model.hpp"
#include "slicenav/navigation.hpp"
#include "tilt.hpp"

namespace {

using nlohmann::json;
using namespace slicenav;
namespace fs = std::filesystem;

constexpr double kRecall = 0.99;
constexpr double kMaxFactor = 100;
// An organ is written into the model when every held-out scan keeps at least this recall with the factor
// the other scans alone set (a new patient's crop loses little more than 5% at worst).
constexpr double kMinOfferedRecall = 0.95;
// ... and was measured on at least this many held-out patients: with two, the model's box (both patients'
// templates) is not the box that was calibrated (one patient's), and a pelvis CT's own prostate crop kept 0.92.
constexpr std::size_t kMinOfferedPatients = 3;
// The not-found threshold: this times the 90th percentile of the held-out scans' median edge-point match
// distances (their largest with fewer than 10 scans). A scan the threshold wrongly calls "not found" keeps
// its region's crop, so it costs volume, not recall.
constexpr double kMatchMargin = 1.25;

// Organs, the mask files (masks/NAME.nii.gz) that make each up, and the key-slice crop region (regions.hpp)
// that holds each: an organ crop is its region's crop cut to the organ's box. The aorta, the spinal cord and
// the esophagus run through several regions: their retrieval is measured, and no crop is offered.
struct OrganMasks {
  std::string organ;
  std::vector<std::string> masks;
  std::string region;
};

const std::vector<OrganMasks>& organ_table() {
  static const std::vector<OrganMasks> table{
      {"lungs", {"lung_left", "lung_right"}, "lungs"},
      {"heart", {"heart"}, "heart"},
      {"liver", {"liver"}, "liver"},
      {"kidneys", {"kidney_left", "kidney_right"}, "kidneys"},
      {"spleen", {"spleen"}, "abdomen"},
      {"pancreas", {"pancreas"}, "abdomen"},
      {"aorta", {"aorta"}, ""},
      {"urinary_bladder", {"urinary_bladder"}, "pelvis"},
      {"prostate", {"prostate"}, "pelvis"},
      {"rectum", {"rectum"}, "pelvis"},
      {"femur_heads", {"femur_left", "femur_right"}, "pelvis"},
      {"parotids", {"parotid_left", "parotid_right"}, "head-neck"},
      {"brainstem", {"brainstem"}, "head-neck"},
      {"spinal_cord", {"spinal_cord"}, ""},
      {"mandible", {"mandible"}, "head-neck"},
      {"larynx", {"larynx"}, "head-neck"},
      {"esophagus", {"esophagus"}, ""},
  };
  return table;
}

const std::string& region_of(const std::string& organ) {
  const auto& t = organ_table();
  return std::find_if(t.begin(), t.end(), [&](const OrganMasks& o) { return o.organ == organ; })->region;
}

struct Settings {
  std::string model, data, report, write_model;
  std::vector<std::string> sets{"ct", "hn", "ood"};
  int threads = 2;
  std::vector<double> tilts{-10, 10};  // degrees: each case's tilted copies, held out (tilted())
};

// One organ in one case.
struct Sample {
  std::string case_id, patient;
  double tilt_deg = 0;  // a tilted copy of the case (tilted()): held out, never a template
  std::size_t scan = 0;  // index into the scans
  WorldBox within = WorldBox::everything();  // the part of the scan searched: the region's crop (world_box)
  ApeOrganTemplate edges;
  ApeEmbedding centre_embedding{};
  std::array<Vec3, 6> true_edges{};
  Vec3 true_centre{0, 0, 0};
  WorldBox truth;
  std::vector<Vec3> voxels;  // world positions of the mask's voxels
  // The key-slice crop of the organ's region (crop.hpp) on the same scan: "" when it was made, else why not.
  std::string key_slice_crop_refused;
  IndexBox key_slice_box;
  double key_slice_ratio = 0, key_slice_recall = 0;
  bool key_slice_partial = false;  // the region is only partly in the scan: plan_crop keeps its crop
};

struct Scan {
  std::string case_id, patient, set, region, path;
  double tilt_deg = 0;  // tilted by the tool (tilted()): not the file at `path`
  fs::path masks;  // the case's masks folder
  Geometry original;  // the scan's own grid
  ApeMap map;  // none for a control only
  std::map<std::string, CropRecord> region_crops;  // the key-slice crops made of its organs' regions
};

// Scans certain not to show an organ, as controls of its "not found" answer: the extremity crops for every
// organ, with the head-and-neck crops for the organs of the abdominal and pelvic regions, and the pelvis
// scans for those of the head-and-neck region (the organ table's regions).
bool is_control(const Scan& scan, const std::string& organ) {
  static const std::set<std::string> below_chest{"liver", "kidneys", "abdomen", "pelvis"};
  if (scan.set == "ood") return true;
  const std::string& region = region_of(organ);
  if (region == "head-neck") return scan.region == "pelvis";
  return below_chest.count(region) != 0 && scan.set == "hn";
}

Scan scan_of(const training::CaseInfo& c, const Geometry& original) {
  Scan scan;
  scan.case_id = c.case_id;
  scan.patient = c.patient_key;
  scan.set = c.set;
  scan.region = c.region;
  scan.path = (fs::path(c.path) / "ct.nii.gz").string();
  scan.masks = fs::path(c.path) / "masks";
  scan.original = original;
  return scan;
}

// The union of the organ's masks in a case as world voxel positions; empty when none of its files exists.
std::vector<Vec3> mask_voxels(const fs::path& masks, const std::vector<std::string>& names) {
  std::vector<std::int16_t> inside;
  Geometry geometry;
  for (const std::string& name : names) {
    const fs::path file = masks / (name + ".nii.gz");
    if (!fs::exists(file)) continue;
    const Volume m = read_volume(file.string());
    if (inside.empty()) {
      geometry = m.geometry();
      inside.assign(m.voxel_count(), 0);
    } else if (m.geometry().size != geometry.size) {
      fail(Status::invalid_argument, file.string() + " is not on the grid of the case's other masks");
    }
    for (std::size_t i = 0; i < inside.size(); ++i) {
      if (m.at(i) >= 0.5f) inside[i] = 1;
    }
  }
  std::vector<Vec3> out;
  const auto& s = geometry.size;
  for (std::size_t i = 0; i < inside.size(); ++i) {
    if (inside[i] == 0) continue;
    out.push_back(geometry.index_to_world({static_cast<double>(i % s[0]), static_cast<double>((i / s[0]) % s[1]),
                                           static_cast<double>(i / (s[0] * s[1]))}));
  }
  return out;
}

// Whether a world point lies on a grid (within half a voxel of its voxels' centres).
bool on_grid(const Geometry& g, const Vec3& world) {
  const Vec3 i = g.world_to_index(world);
  for (std::size_t a = 0; a < 3; ++a) {
    if (!(i[a] >= -0.5 && i[a] < static_cast<double>(g.size[a]) - 0.5)) return false;
  }
  return true;
}

double distance(const Vec3& a, const Vec3& b) {
  return std::sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}

bool inside(const Geometry& g, const IndexBox& box, const Vec3& world) {
  const Vec3 i = g.world_to_index(world);
  for (std::size_t a = 0; a < 3; ++a) {
    const double r = std::round(i[a]);
    if (r < static_cast<double>(box.begin[a]) || r >= static_cast<double>(box.end[a])) return false;
  }
  return true;
}

// The fraction of world points that fall in a box of a grid's voxels.
double recall_in(const Geometry& g, const IndexBox& box, const std::vector<Vec3>& points) {
  std::size_t kept = 0;
  for (const Vec3& p : points) kept += inside(g, box, p) ? 1 : 0;
  return points.empty() ? 1 : static_cast<double>(kept) / static_cast<double>(points.size());
}

// The enlargement each voxel needs to fall inside the box enlarged about its centre, sorted; infinite for a
// voxel outside `keep` (the key-slice crop that the organ crop cuts).
std::vector<double> needed_enlargements(const WorldBox& box, const std::vector<Vec3>& voxels, const Geometry& g,
                                        const IndexBox& keep) {
  const Vec3 c = box.centre();
  std::vector<double> need;
  need.reserve(voxels.size());
  for (const Vec3& p : voxels) {
    double n = 0;
    for (std::size_t a = 0; a < 3; ++a) {
      const double half = std::max((box.hi[a] - box.lo[a]) / 2, 1.0);
      n = std::max(n, std::abs(p[a] - c[a]) / half);
    }
    need.push_back(inside(g, keep, p) ? n : std::numeric_limits<double>::infinity());
  }
  std::sort(need.begin(), need.end());
  return need;
}

double match_quantile(std::vector<double> matches) {
  std::sort(matches.begin(), matches.end());
  if (matches.size() < 10) return matches.back();
  return matches[static_cast<std::size_t>(std::ceil(0.9 * static_cast<double>(matches.size()))) - 1];
}

// The region whose organs are also held out tilted (Settings::tilts): the head turns on the neck between
// scans (a head rest or none, a flexed head on a PET/CT with the arms up), while the trunk lies on the table.
constexpr const char kTiltedRegion[] = "head-neck";

// The confidence with which the factor is at least the upper end of the needs (upper_end).
constexpr double kEndpointConfidence = 0.75;

// An upper confidence bound on the upper end of the distribution a sample comes from, from its two largest
// values x1 >= x2: x1 + (x1 - x2) c / (1 - c) bounds it with confidence c (Robson and Whitlock, Biometrika
// 1964; c = 0.5 gives their point estimate, x1 + (x1 - x2)). The largest need alone is exceeded by a new
// patient's with probability 1 / (n + 1): calibrated that way, the case that needs the most is never covered
// by the others' factor. The largest value for a sample of one; 0 for none.
double upper_end(std::vector<double> values) {
  if (values.size() < 2) return values.empty() ? 0 : values.front();
  std::partial_sort(values.begin(), values.begin() + 2, values.end(), std::greater<>());
  return values[0] + (values[0] - values[1]) * kEndpointConfidence / (1 - kEndpointConfidence);
}

double recall_at(const std::vector<double>& sorted_need, double factor) {
  return static_cast<double>(std::upper_bound(sorted_need.begin(), sorted_need.end(), factor) - sorted_need.begin()) /
         static_cast<double>(sorted_need.size());
}

std::string fixed(double v, int digits) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(digits) << v;
  return o.str();
}

// The organ's crop on a control scan as plan_crop makes it: "refused" (the region is not in the scan, or
// the scan is not recognised), "not found" (the region's crop kept, the APE box not used) or "boxed", with
// the edges' median match distance where the region's crop was made.
json control_answer(const Model& model, const PreparedScan& prepared, const Volume& volume,
                    const std::string& organ) {
  try {
    const CropRecord r = plan_crop(model, prepared, volume, organ);
    return {{"answer", r.ape.used ? "boxed" : "not found"}, {"match_distance", r.ape.match_distance}};
  } catch (const Error& e) {
    if (e.status() != Status::unsupported_input) throw;
    return {{"answer", "refused"}};
  }
}

// One held-out case of an organ: its box from the other patients' templates, and what it measures.
struct Held {
  const Sample* sample = nullptr;
  double mre_ep = 0, mre_c = 0, iou = 0, need = 0, match = 0;
  double loo = std::nan("");  // the recall with the factor the other cases set (none with fewer than 2)
  std::vector<double> sorted_need;
  WorldBox box;
  std::string corroborated_by;  // an offered organ of the region found in the scan
  bool corroborated = true;     // false: plan_crop keeps the region's crop (no other organ of it found)
};

// An organ as calibrated: the organ as the model would store it (factor, threshold, search), its held-out
// cases, and whether it passes the held-out tests for being offered.
struct Calibration {
  ApeOrgan organ;
  std::vector<Held> held;
  std::size_t patients = 0;
  bool candidate = false;
};

// The templates of an organ's cases (tilted copies aside) from patients other than `patient`.
std::vector<ApeOrganTemplate> templates_without(const std::vector<Sample>& list, const std::string& patient) {
  std::vector<ApeOrganTemplate> out;
  for (const Sample& y : list) {
    if (y.patient != patient && y.tilt_deg == 0) out.push_back(y.edges);
  }
  return out;
}

// An organ's box in a held-out scan from the templates of the patients other than the scan's, searched as
// the model searches it: in the region's crop (`region`) or over the whole scan. Not found where no other
// patient has a template.
OrganBox held_out_box(const ApeOrgan& organ, const std::vector<Sample>& list, const ApeMap& map,
                      const WorldBox& region, const std::string& patient) {
  ApeOrgan from_others = organ;
  from_others.templates = templates_without(list, patient);
  if (from_others.templates.empty()) return {};
  return ape_organ_box(from_others, map, organ.search_region ? region : WorldBox::everything());
}

// The factor a set of held-out cases calibrates: an upper bound on the upper end of the factors the patients
// need, each patient's the largest its scans (tilted copies included) need, from the two largest patients'
// (upper_end), within [1, 100]; a scan whose key-slice crop already loses more than 1% needs an infinite one
// and does not set it. `without`: a patient left out ("" for none).
double factor_of(const std::vector<Held>& held, const std::string& without) {
  std::map<std::string, double> by_patient;
  for (const Held& h : held) {
    if (h.sample->patient == without || !std::isfinite(h.need)) continue;
    double& need = by_patient[h.sample->patient];
    need = std::max(need, std::min(h.need, kMaxFactor));
  }
  std::vector<double> needs;
  for (const auto& [patient, need] : by_patient) needs.push_back(need);
  return std::clamp(upper_end(needs), 1.0, kMaxFactor);
}

// The lowest recall a held-out case keeps with the factor the others set (1 with fewer than 2 cases).
double worst_recall(const std::vector<Held>& held) {
  double worst = 1;
  for (const Held& h : held) {
    if (!std::isnan(h.loo)) worst = std::min(worst, h.loo);
  }
  return worst;
}

// The volume ratio of a held-out case's organ crop at a factor: scan voxels over crop voxels.
double ratio_at(const std::vector<Scan>& scans, const Held& h, double factor) {
  const Sample& x = *h.sample;
  const Geometry& g = scans[x.scan].original;
  const IndexBox cut = intersection(x.key_slice_box, index_box(g, h.box.enlarged(factor)));
  return static_cast<double>(g.voxel_count()) / static_cast<double>(std::max<std::size_t>(cut.voxel_count(), 1));
}

// The calibrated organs held by a region that are `offered`, or are `also`, as the model stores them.
std::vector<ApeOrgan> offered_organs(const std::map<std::string, Calibration>& calibrations,
                                     const std::set<std::string>& offered, const std::string& also) {
  std::vector<ApeOrgan> out;
  for (const auto& [organ, cal] : calibrations) {
    if (!cal.held.empty() && !cal.organ.region.empty() && (offered.count(organ) != 0 || organ == also)) {
      out.push_back(cal.organ);
    }
  }
  return out;
}

// The answers of plan_crop on the control scans of every calibrated organ held by a region, by organ, each
// organ cropped with the model holding it and the `offered` organs.
std::map<std::string, json> control_answers(Model& model, const std::vector<Scan>& scans,
                                            const std::map<std::string, Calibration>& calibrations,
                                            const std::set<std::string>& offered) {
  std::map<std::string, json> out;
  for (const Scan& scan : scans) {
    if (scan.tilt_deg != 0) continue;  // a tilted copy of a scan with masks, never a control
    std::vector<std::string> controlled;
    for (const auto& [organ, cal] : calibrations) {
      if (!cal.held.empty() && !cal.organ.region.empty() && is_control(scan, organ)) controlled.push_back(organ);
    }
    if (controlled.empty()) continue;
    const Volume volume = read_volume(scan.path);
    const PreparedScan prepared = prepare_scan(model, volume, kWithoutMeasurement);
    for (const std::string& organ : controlled) {
      model.set_metadata_section("ape_organs", ape_organs_to_json(offered_organs(calibrations, offered, organ)));
      json answer = control_answer(model, prepared, volume, organ);
      answer["case"] = scan.case_id;
      out[organ].push_back(answer);
    }
  }
  return out;
}

int run(const Settings& s) {
  set_inference_threads(s.threads);
  Model model = Model::load(s.model);
  if (!model.has_ape_network()) fail(Status::unsupported_input, s.model + " holds no APE network");
  model.set_metadata_section("ape_organs", "{}");  // region crops only until the organs are calibrated
  std::vector<Scan> scans;
  std::map<std::string, std::vector<Sample>> samples;  // by organ
  // One scan, as read or tilted, and a sample of each organ present in it (world voxel positions).
  const auto add_scan = [&](const training::CaseInfo& c, const Volume& volume, double degrees,
                            std::vector<std::pair<std::string, std::vector<Vec3>>> present) {
    Scan scan = scan_of(c, volume.geometry());
    scan.tilt_deg = degrees;
    scan.map = ape_map(model, volume);
    const PreparedScan prepared = prepare_scan(model, volume, kWithoutMeasurement);
    // The key-slice crop of each region the scan's organs belong to, planned once: the record, or why it was refused.
    std::map<std::string, std::pair<std::optional<CropRecord>, std::string>> region_crops;
    const auto region_crop = [&](const std::string& region) -> const auto& {
      auto it = region_crops.find(region);
      if (it == region_crops.end()) {
        std::pair<std::optional<CropRecord>, std::string> crop;
        try {
          crop.first = plan_crop(model, prepared, volume, region);
        } catch (const Error& e) {
          if (e.status() != Status::unsupported_input) throw;
          crop.second = e.what();
        }
        it = region_crops.emplace(region, std::move(crop)).first;
      }
      return it->second;
    };
    for (auto& [organ, voxels] : present) {
      Sample x;
      x.key_slice_box.end = volume.geometry().size;  // an organ without a region: the whole scan
      x.key_slice_ratio = x.key_slice_recall = 1;
      if (!region_of(organ).empty()) {
        const auto& [record, refused] = region_crop(region_of(organ));
        if (record) {
          x.key_slice_box = record->box;
          x.key_slice_ratio = record->volume_ratio();
          x.key_slice_recall = recall_in(volume.geometry(), record->box, voxels);
          x.key_slice_partial = record->partial;
          x.within = world_box(volume.geometry(), record->box);
        } else {
          x.key_slice_crop_refused = refused;
        }
      }
      x.case_id = c.case_id;
      x.patient = c.patient_key;
      x.tilt_deg = degrees;
      x.scan = scans.size();
      x.true_edges = edge_points(voxels);
      x.edges.case_id = c.case_id;
      for (std::size_t e = 0; e < 6; ++e) x.edges.edges[e] = ape_at(scan.map, x.true_edges[e]);
      x.truth = {{1e300, 1e300, 1e300}, {-1e300, -1e300, -1e300}};
      for (const Vec3& p : voxels) {
        for (std::size_t a = 0; a < 3; ++a) {
          x.true_centre[a] += p[a] / static_cast<double>(voxels.size());
          x.truth.lo[a] = std::min(x.truth.lo[a], p[a]);
          x.truth.hi[a] = std::max(x.truth.hi[a], p[a]);
        }
      }
      x.centre_embedding = ape_at(scan.map, x.true_centre);
      x.voxels = std::move(voxels);
      samples[organ].push_back(std::move(x));
    }
    std::cerr << c.case_id;
    if (degrees != 0) std::cerr << " tilted " << degrees << " degrees";
    std::cerr << ":";
    for (const auto& p : present) std::cerr << " " << p.first;
    std::cerr << "\n";
    for (auto& [region, crop] : region_crops) {
      if (crop.first) scan.region_crops.emplace(region, std::move(*crop.first));
    }
    scans.push_back(std::move(scan));
  };
  for (const auto& c : training::read_cases(s.data, s.sets)) {
    const fs::path masks = fs::path(c.path) / "masks";
    if (c.set == "ood") {
      scans.push_back(scan_of(c, Geometry{}));  // a control only: plan_crop reads it again
      continue;
    }
    if (!fs::is_directory(masks)) continue;
    std::vector<std::pair<std::string, std::vector<Vec3>>> present;
    for (const auto& [organ, names, region] : organ_table()) {
      std::vector<Vec3> voxels = mask_voxels(masks, names);
      if (!voxels.empty()) present.emplace_back(organ, std::move(voxels));
    }
    if (present.empty()) continue;
    const Volume volume = read_volume(scan_of(c, Geometry{}).path);
    add_scan(c, volume, 0, present);
    const Vec3 centre = training::grid_centre(volume.geometry());
    for (const double degrees : s.tilts) {
      if (degrees == 0) continue;  // the scan as read is held out already
      // The head-and-neck organs wholly inside the tilted scan.
      std::vector<std::pair<std::string, std::vector<Vec3>>> moved;
      for (const auto& [organ, voxels] : present) {
        if (region_of(organ) != kTiltedRegion) continue;
        std::vector<Vec3> t;
        for (const Vec3& p : voxels) t.push_back(training::tilt(p, centre, degrees));
        if (std::all_of(t.begin(), t.end(), [&](const Vec3& p) { return on_grid(volume.geometry(), p); })) {
          moved.emplace_back(organ, std::move(t));
        }
      }
      if (!moved.empty()) add_scan(c, training::tilted(volume, degrees, -1000.0f), degrees, std::move(moved));
    }
  }

  json report = json::object();
  std::map<std::string, Calibration> calibrations;  // by organ
  for (const auto& [organ, list] : samples) {
    Calibration& cal = calibrations[organ];
    ApeOrgan& stored_organ = cal.organ;
    stored_organ.name = organ;
    stored_organ.region = region_of(organ);
    stored_organ.templates = templates_without(list, "");
    // Every held-out case (another patient's templates exist, and its region's crop was made), its edges
    // searched for in its region's crop or in the whole scan.
    const auto hold = [&, &list = list](bool in_region) {
      std::vector<Held> held;
      for (const Sample& x : list) {
        ApeOrgan from_others;
        from_others.name = stored_organ.name;
        from_others.templates = templates_without(list, x.patient);
        if (from_others.templates.empty() || !x.key_slice_crop_refused.empty()) continue;
        std::vector<ApeEmbedding> centres;
        for (const Sample& y : list) {
          if (y.patient != x.patient && y.tilt_deg == 0) centres.push_back(y.centre_embedding);
        }
        const Scan& scan = scans[x.scan];
        const WorldBox within = in_region ? x.within : WorldBox::everything();
        Held h;
        h.sample = &x;
        const OrganBox b = ape_organ_box(from_others, scan.map, within);
        for (std::size_t k = 0; k < b.edges.size(); ++k) h.mre_ep += distance(b.edges[k].world, x.true_edges[k % 6]);
        h.mre_ep /= static_cast<double>(b.edges.size());
        for (const ApeMatch& m : ape_nearest(scan.map, centres, within)) h.mre_c += distance(m.world, x.true_centre);
        h.mre_c /= static_cast<double>(centres.size());
        h.box = b.retrieved;
        h.match = b.match_distance;
        const double inter = intersection(h.box, x.truth).volume();
        h.iou = inter / (h.box.volume() + x.truth.volume() - inter);
        h.sorted_need = needed_enlargements(h.box, x.voxels, scan.original, x.key_slice_box);
        const auto k = static_cast<std::size_t>(std::ceil(kRecall * static_cast<double>(h.sorted_need.size()))) - 1;
        h.need = h.sorted_need[std::min(k, h.sorted_need.size() - 1)];
        held.push_back(std::move(h));
      }
      std::set<std::string> patients;
      for (const Held& h : held) patients.insert(h.sample->patient);
      if (patients.size() > 1) {
        for (Held& h : held) h.loo = recall_at(h.sorted_need, factor_of(held, h.sample->patient));
      }
      return held;
    };
    const auto mean_ratio = [&](const std::vector<Held>& held) {
      const double factor = factor_of(held, "");
      double sum = 0;
      for (const Held& h : held) sum += ratio_at(scans, h, factor) / static_cast<double>(held.size());
      return sum;
    };
    // An organ held by a region is searched for in its region's crop, unless the whole scan keeps more of
    // the held-out organs with the others' factor, or as much with smaller crops.
    std::vector<Held> held = hold(false);
    const double worst_scan = worst_recall(held);
    json worst_by_search{{"scan", held.size() > 1 ? json(worst_scan) : json(nullptr)}};
    if (!stored_organ.region.empty()) {
      std::vector<Held> in_region = hold(true);
      const double worst_region = worst_recall(in_region);
      worst_by_search["region"] = in_region.size() > 1 ? json(worst_region) : json(nullptr);
      if (worst_region > worst_scan ||
          (worst_region == worst_scan && mean_ratio(in_region) >= mean_ratio(held))) {
        held = std::move(in_region);
        stored_organ.search_region = true;
      }
    }
    std::size_t refused = 0;
    for (const Sample& x : list) refused += x.tilt_deg == 0 && !x.key_slice_crop_refused.empty() ? 1 : 0;
    std::set<std::string> patients;
    for (const Sample& x : list) patients.insert(x.patient);
    cal.patients = patients.size();
    json& entry = report[organ];
    entry = {{"cases", stored_organ.templates.size()},
             {"templates", stored_organ.templates.size()},
             {"region", stored_organ.region},
             {"search", ape_search_name(stored_organ.search_region)},
             {"worst_recall_by_search", worst_by_search},
             {"refused_with_region", refused},
             {"held_out", json::array()}};
    if (held.empty()) {
      entry["note"] = "no held-out case (one patient only, or every region crop refused): no calibrated factor";
      continue;
    }
    std::vector<double> matches;
    for (const Held& h : held) matches.push_back(h.match);
    stored_organ.factor = factor_of(held, "");
    stored_organ.max_distance = kMatchMargin * match_quantile(matches);
    std::set<std::string> held_patients;
    for (const Held& h : held) held_patients.insert(h.sample->patient);
    // A factor at the cap is one the needs could not bound: the box then keeps the organ by luck, if at all.
    cal.candidate = !stored_organ.region.empty() && held_patients.size() >= kMinOfferedPatients &&
                    worst_recall(held) >= kMinOfferedRecall && stored_organ.factor < kMaxFactor;
    if (stored_organ.factor >= kMaxFactor) entry["note"] = "not offered: its factor reached the cap of 100";
    cal.held = std::move(held);
  }

  // Offered: the candidates, less any that boxes a control scan (a box where the organ is not is a confident
  // wrong answer). Each organ is tried on the controls with the model holding it and the organs offered:
  // the others of its region are what corroborates a box (plan_crop), so a change to the offered set is
  // tried again.
  std::set<std::string> offered;
  for (const auto& [organ, cal] : calibrations) {
    if (cal.candidate) offered.insert(organ);
  }
  std::map<std::string, json> controls;  // organ -> answers
  for (;;) {
    controls = control_answers(model, scans, calibrations, offered);
    std::vector<std::string> boxed;
    for (const std::string& organ : offered) {
      for (const json& a : controls[organ]) {
        if (a.at("answer") == "boxed") {
          boxed.push_back(organ);
          break;
        }
      }
    }
    if (boxed.empty()) break;
    for (const std::string& organ : boxed) {
      offered.erase(organ);
      report[organ]["note"] = "not offered: a control scan, which does not show the organ, was boxed";
    }
  }

  // Each offered organ's box in a held-out scan (held_out_box), searched once for the corroboration of the
  // organ crops and for the regions' unions; `region` is the scan's crop of the organ's region.
  std::map<std::pair<std::string, std::size_t>, OrganBox> held_out_boxes;  // by organ and scan
  const auto held_out_box_of = [&](const std::string& organ, std::size_t scan,
                                   const WorldBox& region) -> const OrganBox& {
    auto it = held_out_boxes.find({organ, scan});
    if (it == held_out_boxes.end()) {
      OrganBox b = held_out_box(calibrations.at(organ).organ, samples.at(organ), scans[scan].map, region,
                                scans[scan].patient);
      it = held_out_boxes.emplace(std::make_pair(organ, scan), std::move(b)).first;
    }
    return it->second;
  };

  // Each held-out case as plan_crop would crop it, the model holding the organ and those offered: the box is
  // used only where another offered organ of its region is found too, from the other patients' templates.
  for (auto& [organ, cal] : calibrations) {
    if (cal.organ.region.empty()) continue;  // no crop, nothing to corroborate
    for (Held& h : cal.held) {
      const Sample& x = *h.sample;
      bool sought = false;
      for (const std::string& other : offered) {
        if (other == organ || calibrations.at(other).organ.region != cal.organ.region) continue;
        sought = true;
        if (held_out_box_of(other, x.scan, x.within).found) {
          h.corroborated_by = other;
          break;
        }
      }
      h.corroborated = !sought || !h.corroborated_by.empty();
    }
  }

  // Each region as the union of its offered organs' crops, against its key-slice crop: on every scan where
  // the region's crop was made, each offered organ of the region cropped as plan_crop would crop it from the
  // other patients' templates and factors (the region's crop wherever one of them is not found, or the region
  // is only partly in the scan), and the union's recall of each of the scan's masks relative to the part of
  // it the region's crop keeps. The union could stand for the region only where it keeps >= 0.99 of every
  // mask on every scan, measured on kMinOfferedPatients or more patients.
  json regions_report = json::object();
  std::map<std::string, std::vector<std::string>> offered_by_region;
  for (const std::string& organ : offered) offered_by_region[calibrations.at(organ).organ.region].push_back(organ);
  std::map<std::string, std::string> region_rows;
  for (const auto& [region, organs] : offered_by_region) {
    json& entry = regions_report[region];
    entry = {{"organs", organs}, {"scans", json::array()}};
    std::set<std::string> patients, boxed_patients;
    double key_ratio = 0, union_ratio = 0, worst = 1;
    std::string worst_at = "-";
    std::size_t short_scans = 0, boxed_scans = 0;
    for (std::size_t i = 0; i < scans.size(); ++i) {
      const Scan& scan = scans[i];
      const auto crop = scan.region_crops.find(region);
      if (crop == scan.region_crops.end() || scan.tilt_deg != 0) continue;
      const CropRecord& key = crop->second;
      CropRecord hull = key;
      bool boxed = !key.partial;
      for (std::size_t k = 0; boxed && k < organs.size(); ++k) {
        const Calibration& cal = calibrations.at(organs[k]);
        const OrganBox& b = held_out_box_of(organs[k], i, world_box(scan.original, key.box));
        const auto h = std::find_if(cal.held.begin(), cal.held.end(), [&](const Held& x) { return x.sample->scan == i; });
        const double factor = h == cal.held.end() ? cal.organ.factor : factor_of(cal.held, scan.patient);
        const IndexBox box = intersection(key.box, index_box(scan.original, b.retrieved.enlarged(factor)));
        boxed = b.found && box.voxel_count() > 0;
        for (std::size_t a = 0; boxed && a < 3; ++a) {
          hull.box.begin[a] = k == 0 ? box.begin[a] : std::min(hull.box.begin[a], box.begin[a]);
          hull.box.end[a] = k == 0 ? box.end[a] : std::max(hull.box.end[a], box.end[a]);
        }
      }
      if (!boxed) hull.box = key.box;
      std::vector<fs::path> files;
      for (const auto& f : fs::directory_iterator(scan.masks)) files.push_back(f.path());
      std::sort(files.begin(), files.end());
      json kept = json::object();
      double scan_worst = 1;
      for (const fs::path& file : files) {
        const std::string name = file.filename().string().substr(0, file.filename().string().find('.'));
        if (name == "body" || name == "skin") continue;  // the body, not an organ: the in-plane crop cuts it
        const Volume mask = read_volume(file.string());
        const double in_region = crop_recall(key, mask);
        if (in_region == 0) continue;  // the mask lies beyond the region's crop
        const double r = crop_recall(hull, mask) / in_region;
        kept[name] = r;
        if (r < scan_worst) scan_worst = r;
        if (r < worst) {
          worst = r;
          worst_at = name + ", " + scan.case_id;
        }
      }
      patients.insert(scan.patient);
      if (boxed) {
        boxed_patients.insert(scan.patient);
        ++boxed_scans;
      }
      short_scans += scan_worst < kRecall ? 1 : 0;
      key_ratio += key.volume_ratio();
      union_ratio += hull.volume_ratio();
      entry["scans"].push_back({{"case", scan.case_id},
                                {"boxed", boxed},
                                {"key_slice_volume_ratio", key.volume_ratio()},
                                {"volume_ratio", hull.volume_ratio()},
                                {"recall_of_region_crop", kept}});
    }
    const std::size_t n = entry["scans"].size();
    const bool union_kept = boxed_patients.size() >= kMinOfferedPatients && short_scans == 0;
    entry["patients"] = patients.size();
    entry["boxed_patients"] = boxed_patients.size();
    entry["worst_recall_of_region_crop"] = worst;
    entry["scans_below"] = short_scans;
    entry["crop"] = union_kept ? "organ boxes" : "key slices";
    if (n == 0) continue;
    region_rows[region] = std::to_string(n) + " (" + std::to_string(patients.size()) + ") | " +
                          std::to_string(boxed_scans) + " (" + std::to_string(boxed_patients.size()) + ") | " +
                          fixed(key_ratio / static_cast<double>(n), 2) + ", " +
                          fixed(union_ratio / static_cast<double>(n), 2) + " | " + fixed(worst, 3) + " (" + worst_at +
                          ") | " + std::to_string(short_scans) + " | " + (union_kept ? "organ boxes" : "key slices") +
                          " |";
  }

  std::map<std::string, std::string> rows;  // the table's rows, by organ
  for (const auto& [organ, cal] : calibrations) {
    json& entry = report[organ];
    std::map<std::string, std::size_t> answers;
    for (const json& a : controls[organ]) ++answers[a.at("answer").get<std::string>()];
    if (controls.count(organ) != 0) entry["controls"] = controls[organ];
    const std::string counts = std::to_string(answers["refused"]) + ", " + std::to_string(answers["not found"]) +
                               ", " + std::to_string(answers["boxed"]) + " |";
    const std::string head = std::to_string(cal.organ.templates.size()) + " | " + std::to_string(cal.patients) + " | ";
    if (cal.held.empty()) {
      rows[organ] = head + "- | - | - | - | - | - | - | - | - | - | " + counts;
      continue;
    }
    const double factor = cal.organ.factor;
    entry["offered"] = offered.count(organ) != 0;
    entry["factor"] = factor;
    entry["max_distance"] = cal.organ.max_distance;
    // The table's figures are of the scans as read; the tilted copies add the recall they keep.
    double mre_ep = 0, mre_c = 0, iou = 0, vr = 0, vr_min = 1e300, loo_mean = 0, ks_vr = 0, ks_recall_min = 1;
    double tilted_worst = 1, neutral_worst = 1;
    std::size_t uncorroborated = 0, partial = 0, neutral = 0, tilted_scans = 0, tilted_below = 0;
    for (const Held& h : cal.held) {
      const Sample& x = *h.sample;
      // The crop plan_crop makes: the region's where the region is only partly in the scan or the box is not
      // corroborated.
      const bool boxed = h.corroborated && !x.key_slice_partial;
      const double ratio = boxed ? ratio_at(scans, h, factor) : x.key_slice_ratio;
      entry["held_out"].push_back({{"case", x.case_id},
                                   {"patient", x.patient},
                                   {"tilt_deg", x.tilt_deg},
                                   {"mre_edges_mm", h.mre_ep},
                                   {"mre_centre_mm", h.mre_c},
                                   {"iou", h.iou},
                                   {"factor_needed", h.need},
                                   {"match_distance", h.match},
                                   {"recall_with_others_factor", std::isnan(h.loo) ? json(nullptr) : json(h.loo)},
                                   {"corroborated_by", h.corroborated_by.empty() ? json(nullptr) : json(h.corroborated_by)},
                                   {"region_partial", x.key_slice_partial},
                                   {"volume_ratio", ratio},
                                   {"key_slice_crop", {{"volume_ratio", x.key_slice_ratio}, {"recall", x.key_slice_recall}}}});
      if (x.tilt_deg != 0) {
        ++tilted_scans;
        if (!std::isnan(h.loo)) {
          tilted_worst = std::min(tilted_worst, h.loo);
          tilted_below += h.loo < kRecall ? 1 : 0;
        }
        continue;
      }
      ++neutral;
      if (!std::isnan(h.loo)) neutral_worst = std::min(neutral_worst, h.loo);
      uncorroborated += h.corroborated ? 0 : 1;
      partial += x.key_slice_partial ? 1 : 0;
      mre_ep += h.mre_ep;
      mre_c += h.mre_c;
      iou += h.iou;
      vr += ratio;
      vr_min = std::min(vr_min, ratio);
      ks_vr += x.key_slice_ratio;
      ks_recall_min = std::min(ks_recall_min, x.key_slice_recall);
      if (!std::isnan(h.loo)) loo_mean += h.loo;
    }
    const auto n = static_cast<double>(neutral);
    loo_mean /= n;
    entry["mre_edges_mm"] = mre_ep / n;
    entry["mre_centre_mm"] = mre_c / n;
    entry["iou"] = iou / n;
    entry["volume_ratio"] = vr / n;
    entry["uncorroborated"] = uncorroborated;
    entry["region_partial"] = partial;
    entry["key_slice_volume_ratio"] = ks_vr / n;
    entry["tilted"] = {{"scans", tilted_scans}, {"worst_recall", tilted_worst}, {"below", tilted_below}};
    const bool loo = !std::isnan(cal.held.front().loo);  // more than one patient: each has the others' factor
    rows[organ] = head + ape_search_name(cal.organ.search_region) + " | " + fixed(mre_ep / n, 1) + " | " +
                  fixed(mre_c / n, 1) + " | " + fixed(iou / n, 2) + " | " + fixed(factor, 2) + " | " +
                  (loo ? fixed(neutral_worst, 3) + " (" + fixed(loo_mean, 3) + ")" : std::string("-")) +
                  " | " + (loo && tilted_scans > 0 ? fixed(tilted_worst, 3) + ", " + std::to_string(tilted_below) +
                                                        " of " + std::to_string(tilted_scans)
                                                  : std::string("-")) +
                  " | " + fixed(vr / n, 1) + " (" + fixed(vr_min, 1) + ") | " + std::to_string(partial) + ", " +
                  std::to_string(uncorroborated) + " | " + fixed(ks_vr / n, 1) + ", " + fixed(ks_recall_min, 3) + " (" +
                  std::to_string(neutral) + ") | " + counts;
  }
  std::cout << "| organ | cases | patients | search | MRE_ep, mm | MRE_c, mm | IoU | factor | recall, factor from the others: "
               "min (mean) | tilted copies: min recall, scans below 0.99 | VR@99: mean (min) | region's crop kept: region partly in the scan, not corroborated | key-slice crop: VR, min recall (scans) | controls: "
               "refused, not found, boxed |\n"
            << "|---|---:|---:|---|---:|---:|---:|---:|---|---|---|---|---|---|\n";
  for (const auto& [organ, row] : rows) {
    std::cout << (offered.count(organ) != 0 ? "| **" + organ + "** | " : "| " + organ + " | ") << row << "\n";
  }
  std::cout << "\n| region | organs offered | scans (patients) | union of organ crops made (patients) | VR: "
               "key-slice crop, union (mean) | union's recall of what the region's crop keeps: worst (mask, case) | "
               "scans below 0.99 | region's crop |\n"
            << "|---|---|---:|---:|---|---|---:|---|\n";
  for (const auto& [region, row] : region_rows) {
    std::string organs;
    for (const std::string& o : offered_by_region.at(region)) organs += (organs.empty() ? "" : ", ") + o;
    std::cout << "| " << region << " | " << organs << " | " << row << "\n";
  }
  if (!s.report.empty()) {
    const fs::path tmp = s.report + ".tmp";
    std::ofstream(tmp) << json{{"organs", report}, {"regions", regions_report}}.dump(2) << "\n";
    fs::rename(tmp, s.report);
  }
  if (!s.write_model.empty()) {
    model.set_metadata_section("ape_organs", ape_organs_to_json(offered_organs(calibrations, offered, "")));
    model.save(s.write_model);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Few-shot organ boxes from the APE map: templates, leave-one-patient-out accuracy, enlargement",
               "slicenav-ape-boxes"};
  Settings s;
  s.data = SLICENAV_DEFAULT_DATA_DIR;
  app.add_option("--model", s.model, "model file with the APE network")->required();
  app.add_option("--data", s.data, "data folder with cases.tsv");
  app.add_option("--sets", s.sets, "cases.tsv sets to read (default: ct hn ood)");
  app.add_option("--report", s.report, "JSON report of every held-out case");
  app.add_option("--write-model", s.write_model, "copy of the model with the organs' templates and factors");
  app.add_option("--threads", s.threads, "LibTorch threads")->check(CLI::PositiveNumber);
  app.add_option("--tilts", s.tilts,
                 "degrees: each scan's head-and-neck organs are also held out with the scan tilted by each "
                 "about the left-right axis (positive: flexion; default -10 10; 0 alone for none)")
      ->check(CLI::Range(-45.0, 45.0));
  CLI11_PARSE(app, argc, argv);
  try {
    return run(s);
  } catch (const std::exception& e) {
    std::cerr << "slicenav-ape-boxes: " << e.what() << "\n";
    return 1;
  }
}

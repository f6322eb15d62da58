#include "key_slices.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <map>
#include <numeric>
#include <random>

#include <nlohmann/json.hpp>

#include "slicenav/error.hpp"
#include "slicenav/io.hpp"
#include "stats.hpp"

namespace slicenav::training {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Answers of one group, with their patients, summarised; the interval resamples patients with replacement.
json summarise(const std::vector<const KeySliceAnswer*>& group, std::mt19937_64& rng, int resamples) {
  std::map<std::string, std::vector<double>> by_patient;
  std::vector<double> errors;
  std::size_t within_10 = 0, wrong_side = 0;
  for (const KeySliceAnswer* a : group) {
    by_patient[a->patient_key].push_back(a->error_mm);
    errors.push_back(a->error_mm);
    within_10 += a->error_mm <= 10.0;
    wrong_side += a->where != InsertedSlice::Where::inside;
  }
  if (errors.empty()) return json{{"n", 0}};
  std::vector<const std::vector<double>*> patients;
  for (const auto& [key, e] : by_patient) patients.push_back(&e);
  std::vector<double> means;
  std::uniform_int_distribution<std::size_t> pick(0, patients.size() - 1);
  for (int r = 0; r < resamples; ++r) {
    double sum = 0;
    std::size_t n = 0;
    for (std::size_t i = 0; i < patients.size(); ++i) {
      const auto& e = *patients[pick(rng)];
      sum += std::accumulate(e.begin(), e.end(), 0.0);
      n += e.size();
    }
    means.push_back(sum / static_cast<double>(n));
  }
  const double mean = std::accumulate(errors.begin(), errors.end(), 0.0) / static_cast<double>(errors.size());
  return json{{"n", errors.size()},
              {"patients", patients.size()},
              {"mean_mm", mean},
              {"median_mm", stats::median(errors)},
              {"ci95_mm", {stats::quantile(means, 0.025), stats::quantile(means, 0.975)}},
              {"within_10mm", static_cast<double>(within_10) / static_cast<double>(errors.size())},
              {"wrong_side", wrong_side}};
}

}  // namespace

std::string region_group(const std::string& region) {
  const auto has = [&](const char* word) { return region.find(word) != std::string::npos; };
  if (region.rfind("head-neck", 0) == 0) return "head-neck";
  if (has("chest") && has("pelvis")) return "whole-body";
  if (has("pelvis")) return "pelvis";
  if (region.rfind("abdomen", 0) == 0) return "abdomen";
  return "chest";
}

std::vector<KeySliceAnswer> locate_key_slices(const Model& model, const std::vector<CaseInfo>& cases) {
  if (model.templates().empty())
    fail(Status::unsupported_input, "the model has no templates to locate key slices with");
  const auto& atlas = model.atlas().position_mm;
  std::vector<KeySliceAnswer> out;
  for (const CaseInfo& info : cases) {
    const auto truth = read_case_landmarks(info.path);
    if (std::none_of(truth.begin(), truth.end(), [&](const Landmark& l) { return atlas.count(l.name) > 0; })) continue;
    std::cerr << "key slices: " << info.case_id << "\n";
    const PreparedScan scan = prepare_scan(model, read_volume((fs::path(info.path) / "ct.nii.gz").string()));
    PreparedScan learned_only = scan;
    learned_only.measured.clear();
    const double top = scan.mapping.world_z(0.0);
    const double bottom = scan.mapping.world_z(static_cast<double>(scan.slice_count()) - 1.0);
    const auto answer = [&](const Landmark& t, const char* method, const ScanPosition& p, float confidence) {
      KeySliceAnswer a{info.case_id, info.patient_key, region_group(info.region), t.name, method, t.z_mm};
      a.where = p.where;
      a.confidence = confidence;
      a.error_mm = p.where == InsertedSlice::Where::inside  ? std::abs(p.world_z_mm - t.z_mm)
                   : p.where == InsertedSlice::Where::above ? std::abs(top - t.z_mm)
                                                            : std::abs(t.z_mm - bottom);
      out.push_back(std::move(a));
    };
    const std::pair<const char*, std::pair<const PreparedScan*, LocateMethod>> runs[] = {
        {kInsertion, {&scan, LocateMethod::insertion}},
        {kInsertionLearned, {&learned_only, LocateMethod::insertion}},
        {kScore, {&scan, LocateMethod::score}}};
    for (const auto& [method, run] : runs) {
      std::map<std::string, LocatedLandmark> found;
      for (auto& l : locate(model, *run.first, run.second)) found[l.name] = l;
      for (const Landmark& t : truth) {
        const auto it = found.find(t.name);
        if (it != found.end()) answer(t, method, it->second.position, it->second.confidence);  // else not in the atlas
      }
    }
    for (const Landmark& t : truth) {
      for (const MeasuredKeySlice& m : scan.measured) {
        if (m.name != t.name || atlas.count(t.name) == 0) continue;
        ScanPosition p;
        p.world_z_mm = m.world_z_mm;
        p.canonical_slice = m.canonical_slice;
        answer(t, kMeasured, p, 1.0f);
      }
    }
  }
  return out;
}

std::string summarise_key_slices(const std::vector<KeySliceAnswer>& answers, std::uint64_t seed, int resamples) {
  std::mt19937_64 rng(seed);
  json doc = json::object();
  for (const char* method : {kInsertion, kInsertionLearned, kScore, kMeasured}) {
    std::map<std::string, std::vector<const KeySliceAnswer*>> by_landmark, by_region;
    std::vector<const KeySliceAnswer*> all;
    for (const KeySliceAnswer& a : answers) {
      if (a.method != method) continue;
      by_landmark[a.landmark].push_back(&a);
      by_region[a.region].push_back(&a);
      all.push_back(&a);
    }
    json m = json::object();
    m["all"] = summarise(all, rng, resamples);
    for (const auto& [name, group] : by_landmark) m["per_landmark"][name] = summarise(group, rng, resamples);
    for (const auto& [name, group] : by_region) m["per_region"][name] = summarise(group, rng, resamples);
    json details = json::array();
    for (const KeySliceAnswer* a : all) {
      details.push_back({{"case", a->case_id},
                         {"landmark", a->landmark},
                         {"truth_z_mm", a->truth_z_mm},
                         {"where", where_name(a->where)},
                         {"error_mm", a->error_mm},
                         {"confidence", a->confidence}});
    }
    m["answers"] = details;
    if (!all.empty()) doc[method] = m;
  }
  return doc.dump();
}

}  // namespace slicenav::training

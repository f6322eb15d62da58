#include "dataset.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "slicenav/error.hpp"
#include "slicenav/io.hpp"
#include "slicenav/orientation.hpp"

namespace slicenav::training {
namespace fs = std::filesystem;

std::set<std::string> model_training_cases(const Model& model) {
  const auto training = nlohmann::json::parse(model.metadata_section("training"));
  if (!training.is_object() || !training.contains("training_cases")) return {};
  return training.at("training_cases").get<std::set<std::string>>();
}

std::vector<CaseInfo> read_cases(const std::string& data_dir, const std::vector<std::string>& sets) {
  const fs::path tsv = fs::path(data_dir) / "cases.tsv";
  std::ifstream in(tsv);
  if (!in) fail(Status::not_found, "cannot open " + tsv.string());
  std::string line;
  std::getline(in, line);
  std::map<std::string, std::size_t> column;
  {
    std::istringstream header(line);
    std::string name;
    for (std::size_t i = 0; std::getline(header, name, '\t'); ++i) column[name] = i;
  }
  for (const char* need : {"case_id", "patient_key", "set", "region", "path"}) {
    if (!column.count(need)) fail(Status::io, tsv.string() + " has no '" + need + "' column");
  }
  std::vector<CaseInfo> out;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::istringstream row(line);
    std::string cell;
    while (std::getline(row, cell, '\t')) f.push_back(cell);
    if (f.size() <= column["path"]) fail(Status::io, tsv.string() + ": short row: " + line.substr(0, 60));
    CaseInfo c{f[column["case_id"]], f[column["patient_key"]], f[column["set"]], f[column["region"]],
               (fs::path(data_dir) / f[column["path"]]).string()};
    if (std::find(sets.begin(), sets.end(), c.set) != sets.end()) out.push_back(std::move(c));
  }
  return out;
}

bool is_validation_patient(const std::string& patient_key, double val_fraction, std::uint64_t seed) {
  // FNV-1a over the seed and the key, then a 64-bit mix: stable across platforms and runs.
  std::uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char ch : patient_key) h = (h ^ ch) * 1099511628211ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return static_cast<double>(h >> 11) / static_cast<double>(1ull << 53) < val_fraction;
}

Corpus load_corpus(const std::vector<CaseInfo>& infos, const PreprocessOptions& options, double val_fraction,
                   std::uint64_t split_seed) {
  Corpus corpus;
  for (const CaseInfo& info : infos) {
    const auto canonical = canonicalize(read_volume((fs::path(info.path) / "ct.nii.gz").string()));
    const std::size_t n = canonical.mapping.slice_count();
    std::vector<std::size_t> all(n);
    for (std::size_t k = 0; k < n; ++k) all[k] = k;
    Case c;
    c.info = info;
    c.slices = model_input(CanonicalView(canonical), all, options, Centring::scan);
    c.slice_step_mm = canonical.mapping.slice_step_mm();
    if (info.set != "hn") c.landmarks = read_case_landmarks(info.path);
    c.validation = is_validation_patient(info.patient_key, val_fraction, split_seed);
    std::cerr << "loaded " << info.case_id << " (" << n << " slices, " << c.landmarks.size() << " landmarks, "
              << (c.validation ? "validation" : "training") << ")\n";
    corpus.cases.push_back(std::move(c));
  }
  std::vector<std::vector<Landmark>> training_landmarks;
  for (const Case& c : corpus.cases) {
    if (!c.validation && !c.landmarks.empty()) training_landmarks.push_back(c.landmarks);
  }
  corpus.atlas = fit_atlas(training_landmarks);
  for (Case& c : corpus.cases) c.map = AnatomicalMap::fit(c.landmarks, corpus.atlas);
  return corpus;
}

}  // namespace slicenav::training

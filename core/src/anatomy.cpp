#include "slicenav/anatomy.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>
#include <tuple>

#include <nlohmann/json.hpp>

#include "slicenav/error.hpp"
#include "stats.hpp"

namespace slicenav {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// True when one of the '_'-separated words of the name is "left" or "right".
bool is_side_specific(const std::string& name) {
  std::istringstream words(name);
  for (std::string word; std::getline(words, word, '_');) {
    if (word == "left" || word == "right") return true;
  }
  return false;
}

// Adds the usable entries of one landmark file to `into` (names already there are kept).
void read_landmark_file(const fs::path& path, std::map<std::string, double>& into) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return;
  const std::string where = "landmark file '" + path.string() + "'";
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(Status::io, "cannot open " + where);
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) fail(Status::io, "cannot read " + where);
  const json doc = json::parse(text.str(), nullptr, false);
  if (doc.is_discarded()) fail(Status::io, where + " is not valid JSON");
  if (!doc.is_object() || !doc.contains("landmarks") || !doc["landmarks"].is_array()) {
    fail(Status::io, where + " has no \"landmarks\" list");
  }
  std::map<std::string, double> found;
  for (const json& entry : doc["landmarks"]) {
    if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string()) {
      fail(Status::io, where + " has a landmark without a string \"name\"");
    }
    const std::string name = entry["name"].get<std::string>();
    const auto status = entry.find("status");
    if (status != entry.end() && !(status->is_string() && status->get<std::string>() == "ok")) continue;
    const auto z = entry.find("z_mm");
    if (z == entry.end() || z->is_null()) continue;
    if (!z->is_number() || !std::isfinite(z->get<double>())) {
      fail(Status::io, where + ": landmark '" + name + "' has a z_mm that is not a finite number");
    }
    if (name.empty() || is_side_specific(name)) continue;
    found.emplace(name, z->get<double>());  // the first entry of a name wins
  }
  for (const auto& [name, z] : found) into.emplace(name, z);
}

void check_landmarks(const std::vector<Landmark>& landmarks, const char* what) {
  std::set<std::string> names;
  for (const Landmark& l : landmarks) {
    if (l.name.empty()) fail(Status::invalid_argument, std::string(what) + ": a landmark has an empty name");
    if (!std::isfinite(l.z_mm)) {
      fail(Status::invalid_argument, std::string(what) + ": landmark '" + l.name + "' has a non-finite z");
    }
    if (!names.insert(l.name).second) {
      fail(Status::invalid_argument, std::string(what) + ": landmark '" + l.name + "' appears twice in one case");
    }
  }
}

// Piecewise-linear through (xs, ys), both strictly increasing, slope 1 beyond the ends.
double interpolate(const std::vector<double>& xs, const std::vector<double>& ys, double x) {
  if (x <= xs.front()) return ys.front() + (x - xs.front());
  if (x >= xs.back()) return ys.back() + (x - xs.back());
  const std::size_t i = static_cast<std::size_t>(std::upper_bound(xs.begin(), xs.end(), x) - xs.begin()) - 1;
  return ys[i] + (x - xs[i]) * (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i]);
}

struct Knot {
  double world;
  double atlas;
  std::string name;
  double offset() const { return atlas - world; }
};

}  // namespace

std::vector<Landmark> read_case_landmarks(const std::string& case_dir) {
  std::error_code ec;
  if (!fs::is_directory(case_dir, ec)) fail(Status::not_found, "case directory '" + case_dir + "' does not exist");
  std::map<std::string, double> by_name;
  read_landmark_file(fs::path(case_dir) / "landmarks.json", by_name);  // first: mask / auto values win
  read_landmark_file(fs::path(case_dir) / "manual_landmarks.json", by_name);
  std::vector<Landmark> out;
  for (const auto& [name, z] : by_name) out.push_back({name, z});
  std::stable_sort(out.begin(), out.end(), [](const Landmark& a, const Landmark& b) { return a.z_mm > b.z_mm; });
  return out;
}

Atlas fit_atlas(const std::vector<std::vector<Landmark>>& cases, const std::string& anchor) {
  for (const auto& c : cases) check_landmarks(c, "fit_atlas");

  // Names (sorted) and the groups of names linked through cases with >= 2 landmarks (union-find).
  std::map<std::string, std::size_t> index;
  for (const auto& c : cases) {
    if (c.size() < 2) continue;
    for (const Landmark& l : c) index.emplace(l.name, 0);
  }
  if (index.empty()) return {};
  std::vector<std::string> names;
  for (auto& [name, i] : index) {
    i = names.size();
    names.push_back(name);
  }
  std::vector<std::size_t> parent(names.size());
  std::iota(parent.begin(), parent.end(), 0);
  const auto root = [&](std::size_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  };
  std::vector<std::size_t> observations(names.size(), 0);
  for (const auto& c : cases) {
    if (c.size() < 2) continue;
    for (const Landmark& l : c) {
      ++observations[index[l.name]];
      const std::size_t a = root(index[c.front().name]), b = root(index[l.name]);
      parent[std::max(a, b)] = std::min(a, b);  // the root is the alphabetically first name of the group
    }
  }
  std::size_t group;
  if (const auto it = index.find(anchor); it != index.end()) {
    group = root(it->second);
  } else {  // the most names, then the most observations, then the alphabetically first name
    std::map<std::size_t, std::pair<std::size_t, std::size_t>> size;  // root -> (names, observations)
    for (std::size_t i = 0; i < names.size(); ++i) {
      ++size[root(i)].first;
      size[root(i)].second += observations[i];
    }
    group = size.begin()->first;
    for (const auto& [r, s] : size) {
      if (s > size[group]) group = r;
    }
  }

  // The observations inside the chosen group: per case, (name index, z).
  std::vector<std::vector<std::pair<std::size_t, double>>> obs;
  for (const auto& c : cases) {
    if (c.size() < 2 || root(index[c.front().name]) != group) continue;
    obs.emplace_back();
    for (const Landmark& l : c) obs.back().emplace_back(index[l.name], l.z_mm);
  }

  // Alternating least squares (Gauss-Seidel on the normal equations): converges to a minimiser.
  std::vector<double> position(names.size(), 0.0), offset(obs.size(), 0.0), sum(names.size());
  constexpr double kTolerance = 1e-10;
  constexpr int kMaxSweeps = 1000000;
  for (int sweep = 0; sweep < kMaxSweeps; ++sweep) {
    for (std::size_t c = 0; c < obs.size(); ++c) {
      double s = 0.0;
      for (const auto& [l, z] : obs[c]) s += z - position[l];
      offset[c] = s / static_cast<double>(obs[c].size());
    }
    std::fill(sum.begin(), sum.end(), 0.0);
    for (std::size_t c = 0; c < obs.size(); ++c) {
      for (const auto& [l, z] : obs[c]) sum[l] += z - offset[c];
    }
    double change = 0.0;
    for (std::size_t l = 0; l < names.size(); ++l) {
      if (observations[l] == 0 || root(l) != group) continue;
      const double p = sum[l] / static_cast<double>(observations[l]);
      change = std::max(change, std::abs(p - position[l]));
      position[l] = p;
    }
    if (change <= kTolerance) break;
  }

  double zero = -HUGE_VAL;
  for (std::size_t l = 0; l < names.size(); ++l) {
    if (root(l) == group) zero = std::max(zero, position[l]);
  }
  if (const auto it = index.find(anchor); it != index.end()) zero = position[it->second];
  Atlas atlas;
  for (std::size_t l = 0; l < names.size(); ++l) {
    if (root(l) == group) atlas.position_mm[names[l]] = position[l] - zero;
  }
  return atlas;
}

AnatomicalMap AnatomicalMap::fit(const std::vector<Landmark>& landmarks, const Atlas& atlas) {
  check_landmarks(landmarks, "AnatomicalMap::fit");
  std::vector<Knot> knots;
  for (const Landmark& l : landmarks) {
    if (const auto it = atlas.position_mm.find(l.name); it != atlas.position_mm.end()) {
      knots.push_back({l.z_mm, it->second, l.name});
    }
  }
  AnatomicalMap map;
  if (knots.empty()) return map;
  std::sort(knots.begin(), knots.end(),
            [](const Knot& a, const Knot& b) { return std::tie(a.world, a.name) < std::tie(b.world, b.name); });

  // Rule 1: longest chain strictly increasing in world z and atlas mm; ties -> least total |offset - median|,
  // then the earliest predecessor.
  std::vector<double> offsets;
  for (const Knot& k : knots) offsets.push_back(k.offset());
  const double m = stats::median(offsets);
  const std::size_t n = knots.size();
  std::vector<std::size_t> length(n, 1), previous(n, n);
  std::vector<double> cost(n);
  for (std::size_t i = 0; i < n; ++i) {
    cost[i] = std::abs(knots[i].offset() - m);
    for (std::size_t j = 0; j < i; ++j) {
      if (!(knots[j].world < knots[i].world && knots[j].atlas < knots[i].atlas)) continue;
      const double c = cost[j] + std::abs(knots[i].offset() - m);
      if (length[j] + 1 > length[i] || (length[j] + 1 == length[i] && c < cost[i])) {
        length[i] = length[j] + 1;
        cost[i] = c;
        previous[i] = j;
      }
    }
  }
  std::size_t end = 0;
  for (std::size_t i = 1; i < n; ++i) {
    if (length[i] > length[end] || (length[i] == length[end] && cost[i] < cost[end])) end = i;
  }
  std::vector<Knot> chain;
  for (std::size_t i = end; i != n; i = previous[i]) chain.push_back(knots[i]);
  std::reverse(chain.begin(), chain.end());

  // Rule 2: greedy removal until every segment slope is within [kMinSlope, kMaxSlope].
  while (chain.size() >= 2) {
    std::size_t worst = 0;
    double worst_excess = 0.0;
    for (std::size_t i = 0; i + 1 < chain.size(); ++i) {
      const double slope = (chain[i + 1].atlas - chain[i].atlas) / (chain[i + 1].world - chain[i].world);
      const double excess = slope > kMaxSlope   ? std::log(slope / kMaxSlope)
                            : slope < kMinSlope ? std::log(kMinSlope / slope)
                                                : 0.0;
      if (excess > worst_excess) {
        worst_excess = excess;
        worst = i;
      }
    }
    if (worst_excess <= 0.0) break;
    offsets.clear();
    for (const Knot& k : chain) offsets.push_back(k.offset());
    const double mk = stats::median(offsets);
    const bool drop_lower = std::abs(chain[worst].offset() - mk) > std::abs(chain[worst + 1].offset() - mk);
    chain.erase(chain.begin() + static_cast<std::ptrdiff_t>(drop_lower ? worst : worst + 1));
  }

  for (const Knot& k : chain) {
    map.world_.push_back(k.world);
    map.atlas_.push_back(k.atlas);
    map.used_.push_back({k.name, k.world});
  }
  std::reverse(map.used_.begin(), map.used_.end());
  return map;
}

double AnatomicalMap::to_atlas(double world_z_mm) const {
  if (!valid()) fail(Status::invalid_argument, "the anatomical map is empty (the case has no atlas landmark)");
  return interpolate(world_, atlas_, world_z_mm);
}

double AnatomicalMap::to_world(double atlas_mm) const {
  if (!valid()) fail(Status::invalid_argument, "the anatomical map is empty (the case has no atlas landmark)");
  return interpolate(atlas_, world_, atlas_mm);
}

std::string atlas_to_json(const Atlas& atlas) {
  json doc = json::object();
  for (const auto& [name, mm] : atlas.position_mm) doc[name] = mm;
  return doc.dump();
}

Atlas atlas_from_json(const std::string& text) {
  const json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) fail(Status::model_format, "atlas metadata is not a JSON object");
  Atlas atlas;
  for (const auto& [name, value] : doc.items()) {
    if (name.empty() || !value.is_number() || !std::isfinite(value.get<double>())) {
      fail(Status::model_format, "atlas metadata entry '" + name + "' is not a named finite number");
    }
    atlas.position_mm[name] = value.get<double>();
  }
  return atlas;
}

}  // namespace slicenav

#include "slicenav/ape.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include <nlohmann/json.hpp>

#include "ape_network.hpp"
#include "atomic_file.hpp"
#include "nifti.hpp"
#include "slice_network.hpp"
#include "slicenav/error.hpp"
#include "slicenav/navigation.hpp"
#include "stats.hpp"
#include "text.hpp"

namespace slicenav {

namespace {

detail::ApeNetImpl& ape_network(const Model& model) {
  if (!model.has_ape_network()) {
    fail(Status::unsupported_input, "the model holds no anatomical positional embedding network (slicenav-train-ape)");
  }
  return *model.impl().ape;
}

// The network's first convolution makes one cell of each 4 x 4 x 4 voxels: a scan that spans fewer voxels
// than that along a world axis (a single slice, a 2D image, a sliver) is mostly the air it is padded with,
// and its map would be a confident answer about nothing.
void require_ape_extent(const WorldGrid& grid) {
  static const char* const axis[] = {"x (left-right)", "y (front-back)", "z (head-feet)"};
  for (std::size_t a = 0; a < 3; ++a) {
    if (grid.size[a] < static_cast<std::size_t>(detail::kApeStride)) {
      fail(Status::unsupported_input,
           "the scan spans " + std::to_string(grid.size[a]) + " voxel(s) of " + detail::fixed_decimals(grid.spacing_mm, 1) +
               " mm along world axis " + axis[a] + "; an APE map needs at least " + std::to_string(detail::kApeStride) +
               " (one cell of the network's first convolution)");
    }
  }
}

}  // namespace

WorldGrid ape_grid(const Model& model, const Volume& volume) {
  WorldGrid grid = world_grid_geometry(volume, ape_network(model).config.voxel_mm);
  require_ape_extent(grid);
  return grid;
}

ApeMap ape_map(const Model& model, const Volume& volume) {
  detail::ApeNetImpl& net = ape_network(model);
  require_ct(volume);
  const detail::ApeNetConfig& c = net.config;
  WorldGrid grid = resample_to_world_grid(volume, c.voxel_mm);
  require_ape_extent(grid);
  c10::InferenceMode guard;
  const auto sx = static_cast<std::int64_t>(grid.size[0]), sy = static_cast<std::int64_t>(grid.size[1]),
             sz = static_cast<std::int64_t>(grid.size[2]);
  const auto padded = [](std::int64_t n) { return (n + detail::kApeStride - 1) / detail::kApeStride * detail::kApeStride; };
  const torch::Tensor hu = torch::from_blob(grid.values.data(), {1, 1, sz, sy, sx}, torch::kFloat);
  // Air beyond the grid up to the network's stride.
  const torch::Tensor input = torch::constant_pad_nd(
      ((hu.clamp(c.hu_low, c.hu_high) - c.hu_low) / (c.hu_high - c.hu_low)) * 2.0 - 1.0,
      {0, padded(sx) - sx, 0, padded(sy) - sy, 0, padded(sz) - sz}, -1.0);
  const torch::Tensor out = net.forward(input)[0]
                                .narrow(1, 0, sz)
                                .narrow(2, 0, sy)
                                .narrow(3, 0, sx)
                                .contiguous();  // [3, z, y, x]
  ApeMap map;
  map.grid.size = grid.size;
  map.grid.spacing_mm = grid.spacing_mm;
  map.grid.origin = grid.origin;
  map.grid.values.assign(out.data_ptr<float>(), out.data_ptr<float>() + out.numel());
  return map;
}

void check_ape_map_output(const std::string& path, int gzip_level) {
  check_gzip_level(gzip_level);
  if (format_for_path(path) != "nifti") {
    fail(Status::unsupported_input, "cannot write '" + path + "': an APE map is written as .nii or .nii.gz");
  }
}

void write_ape_map(const ApeMap& map, const std::string& path, int gzip_level) {
  check_ape_map_output(path, gzip_level);
  if (map.voxel_count() == 0 || map.grid.values.size() != kApeChannels * map.voxel_count()) {
    fail(Status::invalid_argument, "cannot write '" + path + "': the APE map's values do not fill its grid");
  }
  Geometry g;
  g.size = map.grid.size;
  g.spacing = {map.grid.spacing_mm, map.grid.spacing_mm, map.grid.spacing_mm};
  g.origin = map.grid.origin;
  detail::write_atomically(path, [&](const std::string& temp) {
    detail::write_nifti(temp, path, detail::is_gzip_path(path), g, 16,
                        reinterpret_cast<const unsigned char*>(map.grid.values.data()),
                        map.grid.values.size() * sizeof(float), gzip_level, kApeChannels);
  });
}

std::array<Vec3, 6> mask_edge_points(const Volume& mask) {
  const Geometry& g = mask.geometry();
  std::vector<Vec3> points;
  for (std::size_t k = 0; k < g.size[2]; ++k) {
    for (std::size_t j = 0; j < g.size[1]; ++j) {
      for (std::size_t i = 0; i < g.size[0]; ++i) {
        if (mask.at(i, j, k) >= 0.5f) {
          points.push_back(
              g.index_to_world({static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)}));
        }
      }
    }
  }
  return edge_points(points);
}

std::array<Vec3, 6> edge_points(const std::vector<Vec3>& points) {
  constexpr double kSlabMm = 2.0;
  if (points.empty()) fail(Status::invalid_argument, "the mask has no voxel >= 0.5: it has no edge points");
  std::array<Vec3, 6> edges{};
  for (std::size_t a = 0; a < 3; ++a) {
    const auto [lo, hi] = std::minmax_element(points.begin(), points.end(),
                                              [a](const Vec3& p, const Vec3& q) { return p[a] < q[a]; });
    const double low = (*lo)[a], high = (*hi)[a];
    for (int side = 0; side < 2; ++side) {
      Vec3 sum{0, 0, 0};
      std::size_t n = 0;
      for (const Vec3& p : points) {
        if (side == 0 ? p[a] <= low + kSlabMm : p[a] >= high - kSlabMm) {
          for (std::size_t b = 0; b < 3; ++b) sum[b] += p[b];
          ++n;
        }
      }
      for (std::size_t b = 0; b < 3; ++b) edges[2 * a + side][b] = sum[b] / static_cast<double>(n);
    }
  }
  return edges;
}

ApeEmbedding ape_at(const ApeMap& map, const Vec3& world) {
  const WorldGrid& g = map.grid;
  std::size_t i0[3], i1[3];
  double f[3];
  for (std::size_t a = 0; a < 3; ++a) {
    const double last = static_cast<double>(g.size[a] - 1);
    const double x = std::clamp((world[a] - g.origin[a]) / g.spacing_mm, 0.0, last);
    i0[a] = static_cast<std::size_t>(x);
    i1[a] = std::min(i0[a] + 1, g.size[a] - 1);
    f[a] = x - static_cast<double>(i0[a]);
  }
  ApeEmbedding e{};
  for (std::size_t c = 0; c < kApeChannels; ++c) {
    double v = 0;
    for (int corner = 0; corner < 8; ++corner) {
      double w = 1;
      std::size_t idx[3];
      for (std::size_t a = 0; a < 3; ++a) {
        const bool high = (corner >> a) & 1;
        idx[a] = high ? i1[a] : i0[a];
        w *= high ? f[a] : 1 - f[a];
      }
      if (w > 0) v += w * map.at(c, idx[0], idx[1], idx[2]);
    }
    e[c] = static_cast<float>(v);
  }
  return e;
}

std::vector<ApeMatch> ape_nearest(const ApeMap& map, const std::vector<ApeEmbedding>& embeddings,
                                  const WorldBox& within) {
  const std::size_t n = map.voxel_count();
  if (n == 0 || map.grid.values.size() != kApeChannels * n) {
    fail(Status::invalid_argument, "the APE map's values do not fill its grid");
  }
  std::vector<float> best(embeddings.size(), std::numeric_limits<float>::infinity());
  std::vector<std::size_t> where(embeddings.size(), 0);
  const float* c0 = map.grid.values.data();
  const float* c1 = c0 + n;
  const float* c2 = c1 + n;
  const WorldGrid& g = map.grid;
  // The grid voxels whose cells (the voxel +- half a spacing) overlap the box: [first, end) along each axis.
  // A box inside the map's extent, however thin, holds at least one.
  std::array<std::size_t, 3> first{}, end{};
  for (std::size_t a = 0; a < 3; ++a) {
    const auto count = static_cast<double>(g.size[a]);
    first[a] = static_cast<std::size_t>(std::clamp(std::ceil((within.lo[a] - g.origin[a]) / g.spacing_mm - 0.5), 0.0, count));
    end[a] = static_cast<std::size_t>(
        std::clamp(std::floor((within.hi[a] - g.origin[a]) / g.spacing_mm + 0.5) + 1.0, 0.0, count));
    if (first[a] >= end[a]) fail(Status::invalid_argument, "no voxel of the APE map lies within the box searched");
  }
  for (std::size_t z = first[2]; z < end[2]; ++z) {
    for (std::size_t y = first[1]; y < end[1]; ++y) {
      for (std::size_t x = first[0]; x < end[0]; ++x) {
        const std::size_t v = x + g.size[0] * (y + g.size[1] * z);
        for (std::size_t q = 0; q < embeddings.size(); ++q) {
          const float d0 = c0[v] - embeddings[q][0], d1 = c1[v] - embeddings[q][1], d2 = c2[v] - embeddings[q][2];
          const float d = d0 * d0 + d1 * d1 + d2 * d2;
          if (d < best[q]) {
            best[q] = d;
            where[q] = v;
          }
        }
      }
    }
  }
  std::vector<ApeMatch> out;
  out.reserve(embeddings.size());
  for (std::size_t q = 0; q < where.size(); ++q) {
    const std::size_t v = where[q];
    out.push_back({g.world({static_cast<double>(v % g.size[0]), static_cast<double>((v / g.size[0]) % g.size[1]),
                            static_cast<double>(v / (g.size[0] * g.size[1]))}),
                   std::sqrt(static_cast<double>(best[q]))});
  }
  return out;
}

namespace {

// The mean of each template's box (the bounding box of its six matches, in template order).
WorldBox mean_box(const std::vector<ApeMatch>& found, std::size_t templates) {
  WorldBox mean;
  for (std::size_t t = 0; t < templates; ++t) {
    WorldBox box{{1e300, 1e300, 1e300}, {-1e300, -1e300, -1e300}};
    for (std::size_t e = 0; e < 6; ++e) {
      for (std::size_t a = 0; a < 3; ++a) {
        box.lo[a] = std::min(box.lo[a], found[6 * t + e].world[a]);
        box.hi[a] = std::max(box.hi[a], found[6 * t + e].world[a]);
      }
    }
    for (std::size_t a = 0; a < 3; ++a) {
      mean.lo[a] += box.lo[a] / static_cast<double>(templates);
      mean.hi[a] += box.hi[a] / static_cast<double>(templates);
    }
  }
  return mean;
}

std::vector<ApeEmbedding> edge_queries(const std::vector<ApeOrganTemplate>& templates) {
  if (templates.empty()) fail(Status::invalid_argument, "an APE box needs at least one template");
  std::vector<ApeEmbedding> queries;
  for (const ApeOrganTemplate& t : templates) queries.insert(queries.end(), t.edges.begin(), t.edges.end());
  return queries;
}

}  // namespace

WorldBox ape_box(const ApeMap& map, const std::vector<ApeOrganTemplate>& templates, const WorldBox& within) {
  return mean_box(ape_nearest(map, edge_queries(templates), within), templates.size());
}

const char* ape_search_name(bool search_region) { return search_region ? "region" : "scan"; }

bool ape_search_region(const std::string& name) {
  if (name != "region" && name != "scan") {
    fail(Status::invalid_argument, "'search' must be \"region\" or \"scan\", not '" + name + "'");
  }
  return name == "region";
}

std::vector<ApeOrgan> ape_organs_from_json(const std::string& text) {
  const auto bad = [](const std::string& what) { fail(Status::invalid_argument, "ape_organs: " + what); };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    bad(std::string("not JSON: ") + e.what());
  }
  if (!j.is_object()) bad("not an object of organs");
  std::vector<ApeOrgan> organs;
  for (const auto& [name, o] : j.items()) {
    const auto number = [&, &name = name, &o = o](const char* key) {
      if (!o.is_object() || !o.contains(key) || !o.at(key).is_number()) bad(name + ": no number '" + key + "'");
      return o.at(key).get<double>();
    };
    ApeOrgan organ;
    organ.name = name;
    if (!o.is_object() || !o.contains("region") || !o.at("region").is_string() ||
        o.at("region").get<std::string>().empty()) {
      bad(name + ": no 'region' name");
    }
    organ.region = o.at("region").get<std::string>();
    organ.factor = number("factor");
    organ.max_distance = number("max_distance");
    if (!(std::isfinite(organ.factor) && organ.factor >= 1.0 && organ.factor <= 100.0)) {
      bad(name + ": factor must be in [1, 100]");
    }
    if (!(std::isfinite(organ.max_distance) && organ.max_distance >= 0.0)) bad(name + ": max_distance must be >= 0");
    if (o.contains("search")) {
      const nlohmann::json& search = o.at("search");
      if (!search.is_string()) bad(name + ": 'search' is not a string");
      try {
        organ.search_region = ape_search_region(search.get<std::string>());
      } catch (const Error& e) {
        bad(name + ": " + e.what());
      }
    }
    if (!o.contains("templates") || !o.at("templates").is_array() || o.at("templates").empty()) {
      bad(name + ": no templates");
    }
    for (const auto& t : o.at("templates")) {
      ApeOrganTemplate tpl;
      if (!t.is_object() || !t.contains("case") || !t.at("case").is_string()) bad(name + ": a template without its case");
      tpl.case_id = t.at("case").get<std::string>();
      const nlohmann::json edges = t.contains("edges") ? t.at("edges") : nlohmann::json();
      if (!edges.is_array() || edges.size() != 6) bad(name + ": template " + tpl.case_id + " needs 6 edges");
      for (std::size_t e = 0; e < 6; ++e) {
        if (!edges[e].is_array() || edges[e].size() != kApeChannels) bad(name + ": an edge is not 3 numbers");
        for (std::size_t c = 0; c < kApeChannels; ++c) {
          if (!edges[e][c].is_number() || !std::isfinite(edges[e][c].get<double>())) {
            bad(name + ": an edge is not 3 finite numbers");
          }
          tpl.edges[e][c] = edges[e][c].get<float>();
        }
      }
      organ.templates.push_back(std::move(tpl));
    }
    organs.push_back(std::move(organ));
  }
  return organs;
}

std::string ape_organs_to_json(const std::vector<ApeOrgan>& organs) {
  nlohmann::json j = nlohmann::json::object();
  for (const ApeOrgan& o : organs) {
    nlohmann::json templates = nlohmann::json::array();
    for (const ApeOrganTemplate& t : o.templates) {
      nlohmann::json edges = nlohmann::json::array();
      for (const ApeEmbedding& e : t.edges) edges.push_back({e[0], e[1], e[2]});
      templates.push_back({{"case", t.case_id}, {"edges", edges}});
    }
    j[o.name] = {{"region", o.region},
                 {"factor", o.factor},
                 {"max_distance", o.max_distance},
                 {"search", ape_search_name(o.search_region)},
                 {"templates", templates}};
  }
  return j.dump();
}

std::vector<ApeOrgan> ape_organs(const Model& model) {
  const std::string section = model.metadata_section("ape_organs");
  return section == "null" ? std::vector<ApeOrgan>{} : ape_organs_from_json(section);
}

OrganBox ape_organ_box(const Model& model, const ApeMap& map, const std::string& organ, const WorldBox& within) {
  const std::vector<ApeOrgan> organs = ape_organs(model);
  if (organs.empty()) fail(Status::unsupported_input, "the model holds no APE organ templates (slicenav-ape-boxes)");
  const auto it = std::find_if(organs.begin(), organs.end(), [&](const ApeOrgan& o) { return o.name == organ; });
  if (it == organs.end()) {
    std::string names;
    for (const ApeOrgan& o : organs) names += (names.empty() ? "" : ", ") + o.name;
    fail(Status::invalid_argument, "no APE organ '" + organ + "'; the model boxes " + names);
  }
  return ape_organ_box(*it, map, within);
}

OrganBox ape_organ_box(const ApeOrgan& organ, const ApeMap& map, const WorldBox& within) {
  OrganBox out;
  out.organ = organ.name;
  out.templates = organ.templates.size();
  out.factor = organ.factor;
  out.edges = ape_nearest(map, edge_queries(organ.templates), within);
  std::vector<double> distances;
  for (const ApeMatch& m : out.edges) distances.push_back(m.distance);
  out.match_distance = stats::median(std::move(distances));
  out.retrieved = mean_box(out.edges, organ.templates.size());
  const WorldGrid& g = map.grid;
  const Vec3 last = g.world({static_cast<double>(g.size[0] - 1), static_cast<double>(g.size[1] - 1),
                             static_cast<double>(g.size[2] - 1)});
  const WorldBox enlarged = out.retrieved.enlarged(organ.factor);
  for (std::size_t a = 0; a < 3; ++a) {
    out.box.lo[a] = std::max({enlarged.lo[a], g.origin[a], within.lo[a]});
    out.box.hi[a] = std::min({enlarged.hi[a], last[a], within.hi[a]});
    out.partial = out.partial || enlarged.lo[a] < g.origin[a] || enlarged.hi[a] > last[a];
  }
  out.found = out.match_distance <= organ.max_distance;
  if (!out.found) {
    out.note = organ.name + " not found: its edge points match the scan at distance " +
               std::to_string(out.match_distance) + " (at most " + std::to_string(organ.max_distance) +
               " when the organ is there)";
  } else if (out.partial) {
    out.note = organ.name + "'s box reaches beyond the scan and is cut to it";
  }
  return out;
}

}  // namespace slicenav

// Anatomical positional embeddings (seed anatomical-positional-embeddings, APE): three values per voxel
// whose distances follow the distances between the anatomy of an average patient, from the model's 3D
// network (trained self-supervised by slicenav-train-ape, docs/training.md). The same organ gets nearby
// embeddings in every patient, so an organ's edge points labelled in a few scans can be retrieved in a new
// one by nearest neighbour. docs/ape.md.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "slicenav/io.hpp"
#include "slicenav/model.hpp"
#include "slicenav/rigid.hpp"
#include "slicenav/volume.hpp"

namespace slicenav {

constexpr std::size_t kApeChannels = 3;

// The embedding map of a scan on a grid aligned with the world (LPS) axes, the model's APE spacing (4 mm)
// apart, covering the scan's bounding box: `grid` gives the geometry, and grid.values holds the three
// channels one after another (channel c of voxel (x, y, z) at c * n + x + size[0] * (y + size[1] * z),
// n = the grid's voxel count).
struct ApeMap {
  WorldGrid grid;
  std::size_t voxel_count() const { return grid.size[0] * grid.size[1] * grid.size[2]; }
  // Channel c at voxel (x, y, z).
  float at(std::size_t c, std::size_t x, std::size_t y, std::size_t z) const {
    return grid.values[c * voxel_count() + x + grid.size[0] * (y + grid.size[1] * z)];
  }
};

// The APE map of a CT. Throws Error(unsupported_input) when the model holds no APE network
// (Model::has_ape_network), for intensities that are not CT HU (navigation.hpp, require_ct) or when the grid
// would exceed 64 million voxels.
ApeMap ape_map(const Model& model, const Volume& volume);

// The grid ape_map would give `volume` (values empty), without running the network. Throws like ape_map.
WorldGrid ape_grid(const Model& model, const Volume& volume);

// Writes the map atomically as a .nii or .nii.gz vector image of 3 float components on its grid (world LPS
// axes, identity direction), gzip at `gzip_level` (io.hpp). Throws Error(unsupported_input) for another
// extension, Error(invalid_argument) for a map whose values do not fill its grid or a gzip level outside
// 0-12, Error(io) when the file cannot be written (nothing is left at `path`).
void write_ape_map(const ApeMap& map, const std::string& path, int gzip_level = kDefaultGzipLevel);
using ApeEmbedding = std::array<float, kApeChannels>;

// The six edge points of a mask (voxels >= 0.5 on its volume's grid), world LPS mm, in the order -x, +x, -y,
// +y, -z, +z: along each world axis the centroid of the mask voxels within 2 mm of its lowest and of its
// highest coordinate (the seed's two edge points per axis). Throws Error(invalid_argument) for an empty mask.
std::array<Vec3, 6> mask_edge_points(const Volume& mask);
// The same from the world positions of a mask's voxels (for a caller that has already collected them).
std::array<Vec3, 6> edge_points(const std::vector<Vec3>& voxels);

// The map's embedding at a world point: trilinear between grid voxels, the nearest voxel's beyond the grid.
ApeEmbedding ape_at(const ApeMap& map, const Vec3& world);

// The map voxel whose embedding is nearest to a query: its world position and the Euclidean distance.
struct ApeMatch {
  Vec3 world{0, 0, 0};
  double distance = 0;
};

// For each embedding, the nearest map voxel whose cell (the voxel +- half the map's spacing) overlaps
// `within` (one pass over those voxels for all of them). Throws Error(invalid_argument) for an empty map or a
// box beyond the map's cells.
std::vector<ApeMatch> ape_nearest(const ApeMap& map, const std::vector<ApeEmbedding>& embeddings,
                                  const WorldBox& within = WorldBox::everything());

// An organ's six edge embeddings in one labelled scan (mask_edge_points, then ape_at).
struct ApeOrganTemplate {
  std::string case_id;
  std::array<ApeEmbedding, 6> edges{};
};

// An organ the model can box: its templates (one per labelled development scan), the key-slice region
// (regions.hpp) that holds it, and two calibrations of slicenav-ape-boxes (docs/ape.md, "Organ boxes"),
// both leave-one-patient-out on the development masks. An organ crop (crop.hpp) is the region's crop cut to
// the organ's enlarged box, so `factor` is calibrated for that cut box.
struct ApeOrgan {
  std::string name;
  std::string region;
  double factor = 1;        // enlargement about the retrieved box's centre that keeps recall >= 0.99
  double max_distance = 0;  // median edge-point match distance beyond which the organ counts as not found
  std::vector<ApeOrganTemplate> templates;
  bool search_region = false;  // its edges are searched for in its region's crop (true) or the whole scan
};

// Where an organ's edges are searched, as model metadata and crop records name it: "region"
// (ApeOrgan::search_region) or "scan". Reading another name throws Error(invalid_argument).
const char* ape_search_name(bool search_region);
bool ape_search_region(const std::string& name);

// The model's organs (metadata section "ape_organs"), by name; empty when it has none.
std::vector<ApeOrgan> ape_organs(const Model& model);
// The "ape_organs" section's JSON and back: {"liver": {"region": r, "factor": f, "max_distance": d, "search":
// "region" | "scan", "templates": [{"case": id, "edges": [[e0, e1, e2] x 6]}, ...]}, ...}; a section without
// "search" (written before it existed) searches the whole scan. Parsing throws Error(invalid_argument)
// naming what is wrong (no region name, factor outside [1, 100], a negative distance, another "search", no
// templates, an edge that is not 3 finite numbers).
std::vector<ApeOrgan> ape_organs_from_json(const std::string& text);
std::string ape_organs_to_json(const std::vector<ApeOrgan>& organs);

// Few-shot retrieval (the seed's organ localisation): every template's six edge embeddings are found in the
// map by nearest neighbour (ape_nearest), the bounding box of the six voxels found is
// that template's box, and the boxes are averaged (each face separately). Throws Error(invalid_argument)
// without templates or for an empty map.
WorldBox ape_box(const ApeMap& map, const std::vector<ApeOrganTemplate>& templates,
                 const WorldBox& within = WorldBox::everything());

// An organ's box in a scan (ape_organ_box).
struct OrganBox {
  std::string organ;
  bool found = false;       // false: the edge points do not match the scan (the organ is not in it)
  WorldBox retrieved;       // ape_box of the organ's templates
  WorldBox box;             // retrieved, enlarged by the organ's factor, cut to the map's extent and `within`
  bool partial = false;     // the enlarged box reaches beyond the map's extent (cut)
  double match_distance = 0;  // median distance of the retrieved edge points to their template embeddings
  std::vector<ApeMatch> edges;  // the retrieved edge points: six per template, in the templates' order
  double factor = 1;
  std::size_t templates = 0;
  std::string note;  // why the organ is not found, or that the box is cut
};

// The box of one of the model's organs in a scan's map. `within`: the part of the scan searched, and the box
// is cut to it too (an organ crop, plan_crop, passes its region's crop for an organ with search_region, and
// everything otherwise). Throws Error(invalid_argument) naming the model's organs when `organ` is not one
// of them (none at all: unsupported_input).
OrganBox ape_organ_box(const Model& model, const ApeMap& map, const std::string& organ,
                       const WorldBox& within = WorldBox::everything());
OrganBox ape_organ_box(const ApeOrgan& organ, const ApeMap& map, const WorldBox& within = WorldBox::everything());

// The checks write_ape_map makes of its path and gzip level before anything is computed or written.
void check_ape_map_output(const std::string& path, int gzip_level);

}  // namespace slicenav

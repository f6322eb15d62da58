// The slice-navigation models: an insertion network (slice CNN -> positional encoding -> shared
// self-attention -> cross-attention -> one output attention over the target's slices, framed by an
// artificial start and end slice) and a slice-score head (body-part regression) on the same slice
// encoder. LibTorch stays behind this header (pimpl).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "slicenav/anatomy.hpp"
#include "slicenav/preprocess.hpp"

namespace slicenav {

namespace detail {
struct ModelImpl;
}

enum class PositionalEncoding {
  absolute,        // position = slice index in the sampled sequence (the seed's default)
  spacing_scaled,  // position = distance in mm from the first sampled slice
};

struct ModelConfig {
  // Input grid, HU window and the most slices one sequence holds (128: the bundled model's setting).
  PreprocessOptions preprocess{96, 5.0, -1000.0f, 1000.0f, 128};
  std::vector<int> encoder_widths{16, 24, 48, 96, 128};  // stem, then one stride-2 residual stage each
  int d_model = 128;
  int heads = 4;
  int ffn = 256;
  int self_layers = 2;   // shared by query and target
  int cross_layers = 2;  // query attends to the framed target
  double dropout = 0.1;
  PositionalEncoding positional_encoding = PositionalEncoding::absolute;
  double score_scale_mm = 100.0;  // the score head's output times this is the score in atlas mm

  // Throws Error(invalid_argument) naming the first bad field.
  void validate() const;
};

// Probabilities for inserting each query slice into the framed target: row m holds the
// target_slots() = target slices + 2 values for query slice m; slot 0 is "above the target",
// slot target_slots() - 1 is "below", slot s in between is target slice s - 1 of the stack.
struct InsertionDistribution {
  std::size_t query_slices = 0;
  std::size_t target_slots = 0;
  std::vector<float> probabilities;  // query_slices x target_slots, row-major, each row sums to 1
  const float* row(std::size_t m) const { return probabilities.data() + m * target_slots; }
};

// Where one query slice goes: argmax slot, then a fractional position from the probability-weighted
// mean over the two slots either side of it (within the target's slices).
struct InsertedSlice {
  enum class Where { inside, above, below } where = Where::inside;
  double position = 0;    // fractional index into the target stack (inside only)
  double world_z_mm = 0;  // target world z at that position; for above/below the artificial slot's
                          // z, one slice step beyond the target's first/last slice
  float peak = 0;         // highest slot probability
  float entropy = 0;      // of the row, nats
};

// Decodes every row of an insertion distribution against the world z of the target slices it was computed
// for (superior first). Throws Error(invalid_argument) when the sizes do not match.
std::vector<InsertedSlice> decode_insertion(const InsertionDistribution& d,
                                            const std::vector<double>& target_world_z_mm);

// Context-free slice embeddings (the slice encoder's output) of one stack. Computed once, they let a scan
// be inserted against many others, and they are what a bundled template scan keeps.
struct SliceEmbeddings {
  std::size_t dim = 0;
  std::vector<float> values;       // slice_count() x dim, row-major
  std::vector<double> world_z_mm;  // of each slice, superior first
  std::size_t slice_count() const { return world_z_mm.size(); }
  // The given rows, in the given order. Throws Error(invalid_argument) for an out-of-range row.
  SliceEmbeddings select(const std::vector<std::size_t>& rows) const;
};

// A labelled scan bundled in the model file for locating key slices: the embeddings of up to max_slices of
// its slices and the world z of its key slices.
struct Template {
  std::string name;  // the source case
  SliceEmbeddings slices;
  std::vector<Landmark> landmarks;
};

// An immutable, loaded model. Copies share the weights; inference calls are const and may run from any
// number of threads at once.
class Model {
 public:
  // Fresh weights from a seeded initialisation (training starts here). Throws like config.validate().
  explicit Model(const ModelConfig& config, std::uint64_t seed = 0);

  // Reads a model file (see model_file.hpp); throws Error(not_found, io, model_format,
  // version_mismatch) with the path, including for weights that do not match the architecture.
  static Model load(const std::string& path);
  // Writes weights and metadata atomically; save then load is bit-exact.
  void save(const std::string& path) const;

  const ModelConfig& config() const;
  // The metadata object stored with the weights (architecture and preprocessing are always current;
  // other sections are whatever was set).
  std::string metadata_json() const;
  // Sets one top-level metadata section (e.g. "training", "metrics", "atlas") to a JSON value; throws
  // Error(invalid_argument) for bad JSON or for the reserved "architecture"/"preprocessing" keys.
  void set_metadata_section(const std::string& key, const std::string& json_value);
  std::string metadata_section(const std::string& key) const;  // "null" when absent

  std::size_t parameter_count() const;

  // Slice embeddings of a stack of any length (encoded in chunks of max_slices). Throws
  // Error(invalid_argument) for an empty stack or one not made with the model's preprocessing.
  SliceEmbeddings embed(const SliceStack& stack) const;

  // Score of every slice, in atlas mm (superior positive). Scores need no context: any length.
  std::vector<double> score(const SliceStack& stack) const;
  std::vector<double> score(const SliceEmbeddings& slices) const;

  // Inserts every query slice into the target. Both must hold between 1 and config().preprocess.max_slices
  // slices (of the model's image size, or embeddings of the model's width); throws Error(invalid_argument)
  // otherwise.
  InsertionDistribution insert(const SliceStack& query, const SliceStack& target) const;
  InsertionDistribution insert(const SliceEmbeddings& query, const SliceEmbeddings& target) const;
  // Several queries into one target in one batched pass; result i belongs to queries[i].
  std::vector<InsertionDistribution> insert(const std::vector<const SliceEmbeddings*>& queries,
                                            const SliceEmbeddings& target) const;

  // The atlas the score unit and the templates' landmarks refer to (metadata section "atlas"); empty when
  // the model has none.
  const Atlas& atlas() const;
  // Labelled template scans bundled with the weights (stored in the model file); empty for a fresh model.
  const std::vector<Template>& templates() const;
  // Replaces the templates and the atlas. Throws Error(invalid_argument) for embeddings that do not match
  // the model's width, a template without slices, or non-finite values.
  void set_templates(std::vector<Template> templates, const Atlas& atlas);

  // Whether the model holds the voxel embedding network that rigid prealignment needs (rigid.hpp).
  bool has_voxel_network() const;
  // Whether the model holds the anatomical positional embedding network that ape.hpp needs.
  bool has_ape_network() const;

  // Training and internal code reach the network through this.
  detail::ModelImpl& impl() const { return *impl_; }

 private:
  explicit Model(std::shared_ptr<detail::ModelImpl> impl);
  std::shared_ptr<detail::ModelImpl> impl_;
};

// The bundled default model, found with no configuration. Tried in order: $SLICENAV_MODEL (when set
// it must exist); share/slicenav/models/default.snm beside the binary that holds this library
// (<prefix>/lib/.. for an installed or moved tree); the install prefix it was configured with; the
// source tree's models/ (build trees). Throws Error(not_found) listing every place tried.
std::string default_model_path();

// The model's version as recorded in crop records: "<training steps> steps, <templates> templates, regions
// <bundled|model>, <FNV-1a hash of the metadata>", enough to tell two models apart.
std::string model_version(const Model& model);

// Sets the number of threads LibTorch uses for intra-op work in this process (0 = hardware threads).
void set_inference_threads(int threads);

}  // namespace slicenav

#include "slicenav/model.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "json_number.hpp"
#include "model_metadata.hpp"
#include "slice_network.hpp"
#include "slicenav/ape.hpp"
#include "slicenav/error.hpp"
#include "slicenav/model_file.hpp"

namespace slicenav {
namespace {

using nlohmann::json;

std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ULL;
  }
  return hash;
}

// Every float tensor of a network by name; BatchNorm's integer step counters are not weights.
std::vector<std::pair<std::string, torch::Tensor>> state_tensors(torch::nn::Module& net) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : net.named_parameters(true)) out.emplace_back(p.key(), p.value());
  for (const auto& b : net.named_buffers(true)) {
    if (b.value().scalar_type() == torch::kFloat) out.emplace_back(b.key(), b.value());
  }
  return out;
}

void check_stack(const SliceStack& s, const ModelConfig& c, const char* what, bool limit_length) {
  const std::size_t n = c.preprocess.image_size;
  if (s.slice_count() == 0) fail(Status::invalid_argument, std::string(what) + " has no slices");
  if (s.image_size != n || s.pixels.size() != s.slice_count() * n * n || s.world_z_mm.size() != s.slice_count()) {
    fail(Status::invalid_argument, std::string(what) + " is not a " + std::to_string(n) + "x" + std::to_string(n) +
                                       " slice stack made with the model's preprocessing");
  }
  if (limit_length && s.slice_count() > c.preprocess.max_slices) {
    fail(Status::invalid_argument, std::string(what) + " has " + std::to_string(s.slice_count()) +
                                       " slices; the model takes at most " + std::to_string(c.preprocess.max_slices));
  }
}

void check_embeddings(const SliceEmbeddings& e, const ModelConfig& c, const char* what) {
  if (e.slice_count() == 0) fail(Status::invalid_argument, std::string(what) + " has no slices");
  if (e.dim != static_cast<std::size_t>(c.d_model) || e.values.size() != e.slice_count() * e.dim) {
    fail(Status::invalid_argument,
         std::string(what) + " are not " + std::to_string(c.d_model) + "-wide slice embeddings of this model");
  }
  if (e.slice_count() > c.preprocess.max_slices) {
    fail(Status::invalid_argument, std::string(what) + " has " + std::to_string(e.slice_count()) +
                                       " slices; the model takes at most " + std::to_string(c.preprocess.max_slices));
  }
}

torch::Tensor embeddings_tensor(const SliceEmbeddings& e) {
  return torch::from_blob(const_cast<float*>(e.values.data()),
                          {static_cast<std::int64_t>(e.slice_count()), static_cast<std::int64_t>(e.dim)},
                          torch::kFloat);
}

constexpr const char* kVoxelPrefix = "voxel/";

json voxel_config_json(const detail::VoxelNetConfig& c) {
  return {{"name", "voxel_embedding"}, {"voxel_mm", c.voxel_mm}, {"widths", c.widths},
          {"pyramid", c.pyramid},      {"dim", c.dim},           {"hu_low", c.hu_low},
          {"hu_high", c.hu_high}};
}

detail::VoxelNetConfig voxel_config_from_json(const json& j, const std::string& path) {
  return detail::parse_metadata_section(path, "voxel network", [&] {
    detail::VoxelNetConfig c;
    c.voxel_mm = j.at("voxel_mm").get<double>();
    c.widths = detail::json_numbers<int>(j.at("widths"));
    c.pyramid = detail::json_number<int>(j.at("pyramid"));
    c.dim = detail::json_number<int>(j.at("dim"));
    c.hu_low = detail::json_number<float>(j.at("hu_low"));
    c.hu_high = detail::json_number<float>(j.at("hu_high"));
    c.validate();
    return c;
  });
}

constexpr const char* kApePrefix = "ape/";

json ape_config_json(const detail::ApeNetConfig& c) {
  return {{"name", "anatomical_positional_embedding"},
          {"voxel_mm", c.voxel_mm},
          {"widths", c.widths},
          {"dim", detail::kApeDim},
          {"hu_low", c.hu_low},
          {"hu_high", c.hu_high}};
}

detail::ApeNetConfig ape_config_from_json(const json& j, const std::string& path) {
  return detail::parse_metadata_section(path, "APE network", [&] {
    detail::ApeNetConfig c;
    c.voxel_mm = j.at("voxel_mm").get<double>();
    c.widths = detail::json_numbers<int>(j.at("widths"));
    if (detail::json_number<int>(j.at("dim")) != detail::kApeDim) {
      fail(Status::model_format, "APE embeddings must have " + std::to_string(detail::kApeDim) + " values");
    }
    c.hu_low = detail::json_number<float>(j.at("hu_low"));
    c.hu_high = detail::json_number<float>(j.at("hu_high"));
    c.validate();
    return c;
  });
}

// Copies the file's tensors into the module's, in order, by name and shape; `what` names the network.
void copy_tensors(const std::vector<std::pair<std::string, torch::Tensor>>& into, const std::vector<ModelTensor>& from,
                  const std::string& prefix, const std::string& what, const std::string& path) {
  if (into.size() != from.size()) {
    fail(Status::model_format, path + ": the file holds " + std::to_string(from.size()) + " " + what +
                                   " tensors; the architecture it describes has " + std::to_string(into.size()));
  }
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < into.size(); ++i) {
    const auto& [name, dst] = into[i];
    const ModelTensor& src = from[i];
    if (src.name != prefix + name || src.shape != dst.sizes().vec()) {
      fail(Status::model_format, path + ": tensor " + std::to_string(i) + " is '" + src.name +
                                     "', which does not match the architecture's '" + prefix + name + "'");
    }
    dst.copy_(torch::from_blob(const_cast<float*>(src.values.data()), dst.sizes(), torch::kFloat));
  }
}

}  // namespace

SliceEmbeddings SliceEmbeddings::select(const std::vector<std::size_t>& rows) const {
  SliceEmbeddings out;
  out.dim = dim;
  out.values.reserve(rows.size() * dim);
  for (std::size_t r : rows) {
    if (r >= slice_count()) {
      fail(Status::invalid_argument,
           "embedding row " + std::to_string(r) + " is outside the " + std::to_string(slice_count()) + " slices");
    }
    out.values.insert(out.values.end(), values.begin() + static_cast<std::ptrdiff_t>(r * dim),
                      values.begin() + static_cast<std::ptrdiff_t>((r + 1) * dim));
    out.world_z_mm.push_back(world_z_mm[r]);
  }
  return out;
}

void ModelConfig::validate() const {
  auto bad = [](const std::string& m) { fail(Status::invalid_argument, "model config: " + m); };
  if (preprocess.image_size < 16 || preprocess.image_size > 1024) bad("image_size must be in [16, 1024]");
  if (!(preprocess.pixel_mm > 0.0)) bad("pixel_mm must be positive");
  if (!(preprocess.hu_high > preprocess.hu_low)) bad("hu_high must exceed hu_low");
  if (preprocess.max_slices < 2 || preprocess.max_slices > 4096) bad("max_slices must be in [2, 4096]");
  if (encoder_widths.size() < 2) bad("encoder_widths needs a stem and at least one stage");
  for (int w : encoder_widths) {
    if (w < 1 || w > 4096) bad("encoder widths must be in [1, 4096]");
  }
  if (d_model < 2 || d_model % 2 != 0) bad("d_model must be even and positive");
  if (heads < 1 || d_model % heads != 0) bad("heads must divide d_model");
  if (ffn < 1) bad("ffn must be positive");
  if (self_layers < 0 || cross_layers < 0 || self_layers > 64 || cross_layers > 64)
    bad("layer counts must be in [0, 64]");
  if (!(dropout >= 0.0 && dropout < 1.0)) bad("dropout must be in [0, 1)");
  if (!(score_scale_mm > 0.0)) bad("score_scale_mm must be positive");
}

Model::Model(const ModelConfig& config, std::uint64_t seed) {
  config.validate();
  torch::manual_seed(seed);
  impl_ = std::make_shared<detail::ModelImpl>();
  impl_->config = config;
  impl_->network = detail::InsertionNetwork(config);
  impl_->network->eval();
  impl_->metadata_json = json{{"architecture", detail::architecture_json(config)},
                              {"preprocessing", detail::preprocessing_json(config.preprocess)}}
                             .dump();
}

Model::Model(std::shared_ptr<detail::ModelImpl> impl) : impl_(std::move(impl)) {}

Model Model::load(const std::string& path) {
  ModelFile file = load_model_file(path);
  json meta;
  try {
    meta = json::parse(file.metadata_json);
  } catch (const json::exception& e) {
    fail(Status::model_format, path + ": model metadata is not JSON: " + e.what());
  }
  const ModelConfig config = detail::config_from_json(meta, path);
  auto impl = std::make_shared<detail::ModelImpl>();
  impl->config = config;
  impl->network = detail::InsertionNetwork(config);
  impl->network->eval();
  impl->metadata_json = file.metadata_json;
  // The file's tensors: the network's, then the voxel network's ("voxel/...") and the APE network's
  // ("ape/..."), then the templates'.
  const auto has_prefix = [](const char* prefix) {
    return [prefix](const ModelTensor& t) { return t.name.rfind(prefix, 0) == 0; };
  };
  const auto take = [&](const char* prefix) {
    std::vector<ModelTensor> taken;
    std::copy_if(file.tensors.begin(), file.tensors.end(), std::back_inserter(taken), has_prefix(prefix));
    file.tensors.erase(std::remove_if(file.tensors.begin(), file.tensors.end(), has_prefix(prefix)),
                       file.tensors.end());
    return taken;
  };
  const std::vector<ModelTensor> voxel_tensors = take(kVoxelPrefix), ape_tensors = take(kApePrefix);
  const auto first_template =
      std::find_if(file.tensors.begin(), file.tensors.end(), has_prefix(detail::kTemplatePrefix));
  const std::vector<ModelTensor> template_tensors(first_template, file.tensors.end());
  file.tensors.erase(first_template, file.tensors.end());
  copy_tensors(state_tensors(*impl->network), file.tensors, "", "network", path);
  if (meta.contains("voxel_network")) {
    impl->voxel = detail::VoxelNet(voxel_config_from_json(meta.at("voxel_network"), path));
    impl->voxel->eval();
    copy_tensors(state_tensors(*impl->voxel), voxel_tensors, kVoxelPrefix, "voxel network", path);
  } else if (!voxel_tensors.empty()) {
    fail(Status::model_format, path + ": voxel network tensors without a \"voxel_network\" metadata section");
  }
  if (meta.contains("ape_network")) {
    impl->ape = detail::ApeNet(ape_config_from_json(meta.at("ape_network"), path));
    impl->ape->eval();
    copy_tensors(state_tensors(*impl->ape), ape_tensors, kApePrefix, "APE network", path);
  } else if (!ape_tensors.empty()) {
    fail(Status::model_format, path + ": APE network tensors without an \"ape_network\" metadata section");
  }
  if (meta.contains("ape_organs")) {
    if (!impl->ape) fail(Status::model_format, path + ": APE organ templates without an APE network");
    try {
      ape_organs_from_json(meta.at("ape_organs").dump());
    } catch (const Error& e) {
      fail(Status::model_format, path + ": " + e.what());
    }
  }
  impl->templates = detail::templates_from_file(meta, template_tensors, static_cast<std::size_t>(config.d_model), path);
  if (meta.contains("atlas")) {
    try {
      impl->atlas = atlas_from_json(meta.at("atlas").dump());
    } catch (const Error& e) {
      fail(Status::model_format, path + ": " + e.what());
    }
  }
  return Model(std::move(impl));
}

void Model::save(const std::string& path) const {
  ModelFile file;
  json meta = json::parse(impl_->metadata_json);
  meta["architecture"] = detail::architecture_json(impl_->config);
  meta["preprocessing"] = detail::preprocessing_json(impl_->config.preprocess);
  file.metadata_json = meta.dump();
  const auto add_tensors = [&file](torch::nn::Module& net, const std::string& prefix) {
    for (const auto& [name, t] : state_tensors(net)) {
      auto c = t.detach().contiguous().to(torch::kFloat);
      ModelTensor mt;
      mt.name = prefix + name;
      mt.shape = c.sizes().vec();
      mt.values.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
      file.tensors.push_back(std::move(mt));
    }
  };
  add_tensors(*impl_->network, "");
  if (impl_->voxel) {
    meta["voxel_network"] = voxel_config_json(impl_->voxel->config);
    file.metadata_json = meta.dump();
    add_tensors(*impl_->voxel, kVoxelPrefix);
  }
  if (impl_->ape) {
    meta["ape_network"] = ape_config_json(impl_->ape->config);
    file.metadata_json = meta.dump();
    add_tensors(*impl_->ape, kApePrefix);
  }
  for (std::size_t i = 0; i < impl_->templates.size(); ++i) {
    const SliceEmbeddings& e = impl_->templates[i].slices;
    file.tensors.push_back({detail::kTemplatePrefix + std::to_string(i),
                            {static_cast<std::int64_t>(e.slice_count()), static_cast<std::int64_t>(e.dim)},
                            e.values});
  }
  save_model_file(file, path);
}

const ModelConfig& Model::config() const { return impl_->config; }

bool Model::has_voxel_network() const { return static_cast<bool>(impl_->voxel); }

bool Model::has_ape_network() const { return static_cast<bool>(impl_->ape); }

std::string Model::metadata_json() const { return impl_->metadata_json; }

void Model::set_metadata_section(const std::string& key, const std::string& json_value) {
  if (key == "architecture" || key == "preprocessing" || key == "templates" || key == "voxel_network" ||
      key == "ape_network") {
    fail(Status::invalid_argument, "metadata section '" + key + "' is written from the model's state");
  }
  json value;
  try {
    value = json::parse(json_value);
  } catch (const json::exception& e) {
    fail(Status::invalid_argument, "metadata section '" + key + "' is not JSON: " + e.what());
  }
  if (key == "atlas") {
    try {
      impl_->atlas = atlas_from_json(json_value);
    } catch (const Error& e) {
      fail(Status::invalid_argument, std::string("metadata section 'atlas': ") + e.what());
    }
  }
  if (key == "ape_organs") {
    if (!impl_->ape) fail(Status::invalid_argument, "APE organ templates need the model's APE network");
    ape_organs_from_json(json_value);
  }
  json meta = json::parse(impl_->metadata_json);
  meta[key] = std::move(value);
  impl_->metadata_json = meta.dump();
}

std::string Model::metadata_section(const std::string& key) const {
  const json meta = json::parse(impl_->metadata_json);
  return meta.contains(key) ? meta.at(key).dump() : "null";
}

std::size_t Model::parameter_count() const {
  std::size_t n = 0;
  for (const auto& p : impl_->network->parameters()) n += static_cast<std::size_t>(p.numel());
  return n;
}

SliceEmbeddings Model::embed(const SliceStack& stack) const {
  check_stack(stack, impl_->config, "stack", false);
  c10::InferenceMode guard;
  auto slices = detail::slices_tensor(stack.pixels, stack.image_size);
  const auto chunk = static_cast<std::int64_t>(impl_->config.preprocess.max_slices);
  SliceEmbeddings out;
  out.dim = static_cast<std::size_t>(impl_->config.d_model);
  out.values.reserve(stack.slice_count() * out.dim);
  for (std::int64_t first = 0; first < slices.size(0); first += chunk) {
    const auto n = std::min(chunk, slices.size(0) - first);
    auto e = impl_->network->embed(slices.narrow(0, first, n)).contiguous();
    out.values.insert(out.values.end(), e.data_ptr<float>(), e.data_ptr<float>() + e.numel());
  }
  out.world_z_mm = stack.world_z_mm;
  return out;
}

std::vector<double> Model::score(const SliceStack& stack) const { return score(embed(stack)); }

std::vector<double> Model::score(const SliceEmbeddings& slices) const {
  if (slices.slice_count() == 0 || slices.dim != static_cast<std::size_t>(impl_->config.d_model) ||
      slices.values.size() != slices.slice_count() * slices.dim) {
    fail(Status::invalid_argument, "score input is not a non-empty set of this model's slice embeddings");
  }
  c10::InferenceMode guard;
  const auto s = impl_->network->score(embeddings_tensor(slices)).contiguous();
  return {s.data_ptr<float>(), s.data_ptr<float>() + s.numel()};
}

InsertionDistribution Model::insert(const SliceStack& query, const SliceStack& target) const {
  const ModelConfig& c = impl_->config;
  check_stack(query, c, "query", true);
  check_stack(target, c, "target", true);
  return insert(embed(query), embed(target));
}

InsertionDistribution Model::insert(const SliceEmbeddings& query, const SliceEmbeddings& target) const {
  return std::move(insert(std::vector<const SliceEmbeddings*>{&query}, target).front());
}

std::vector<InsertionDistribution> Model::insert(const std::vector<const SliceEmbeddings*>& queries,
                                                 const SliceEmbeddings& target) const {
  const ModelConfig& c = impl_->config;
  if (queries.empty()) fail(Status::invalid_argument, "insert needs at least one query");
  check_embeddings(target, c, "target");
  std::vector<torch::Tensor> q_emb;
  std::vector<std::vector<float>> q_pos;
  for (const SliceEmbeddings* q : queries) {
    if (q == nullptr) fail(Status::invalid_argument, "insert got a null query");
    check_embeddings(*q, c, "query");
    q_emb.push_back(embeddings_tensor(*q));
    q_pos.push_back(detail::sequence_positions(q->world_z_mm, c.positional_encoding, false));
  }
  c10::InferenceMode guard;
  auto& net = *impl_->network;
  const auto bounds = net.boundary_embeddings();
  const auto t_emb = torch::cat({bounds.narrow(0, 0, 1), embeddings_tensor(target), bounds.narrow(0, 1, 1)});
  const auto t_pos = detail::sequence_positions(target.world_z_mm, c.positional_encoding, true);
  const auto q = detail::pad_sequences(q_emb, q_pos);
  const auto t = detail::pad_sequences({t_emb}, {t_pos});  // one target, shared by every query
  const auto probs = torch::softmax(net.insertion_logits(q, t), -1).contiguous();
  std::vector<InsertionDistribution> out(queries.size());
  for (std::size_t b = 0; b < queries.size(); ++b) {
    InsertionDistribution& d = out[b];
    d.query_slices = queries[b]->slice_count();
    d.target_slots = target.slice_count() + 2;
    const auto rows =
        probs[static_cast<std::int64_t>(b)].narrow(0, 0, static_cast<std::int64_t>(d.query_slices)).contiguous();
    d.probabilities.assign(rows.data_ptr<float>(), rows.data_ptr<float>() + rows.numel());
  }
  return out;
}

const Atlas& Model::atlas() const { return impl_->atlas; }

const std::vector<Template>& Model::templates() const { return impl_->templates; }

void Model::set_templates(std::vector<Template> templates, const Atlas& atlas) {
  const auto dim = static_cast<std::size_t>(impl_->config.d_model);
  for (const auto& t : templates) {
    if (t.slices.slice_count() == 0 || t.slices.dim != dim || t.slices.values.size() != t.slices.slice_count() * dim ||
        t.slices.slice_count() > impl_->config.preprocess.max_slices) {
      fail(Status::invalid_argument,
           "template '" + t.name + "' does not hold 1 to max_slices of this model's embeddings");
    }
    const auto finite = [](double v) { return std::isfinite(v); };
    if (!std::all_of(t.slices.values.begin(), t.slices.values.end(), finite) ||
        !std::all_of(t.slices.world_z_mm.begin(), t.slices.world_z_mm.end(), finite) ||
        !std::all_of(t.landmarks.begin(), t.landmarks.end(), [&](const Landmark& l) { return finite(l.z_mm); })) {
      fail(Status::invalid_argument, "template '" + t.name + "' holds non-finite values");
    }
  }
  json meta = json::parse(impl_->metadata_json);
  meta["atlas"] = json::parse(atlas_to_json(atlas));
  if (templates.empty()) {
    meta.erase("templates");
  } else {
    meta["templates"] = detail::templates_json(templates);
  }
  impl_->metadata_json = meta.dump();
  impl_->atlas = atlas;
  impl_->templates = std::move(templates);
}

std::vector<InsertedSlice> decode_insertion(const InsertionDistribution& d,
                                            const std::vector<double>& target_world_z_mm) {
  const std::size_t n = target_world_z_mm.size();
  if (d.target_slots != n + 2 || d.probabilities.size() != d.query_slices * d.target_slots || n == 0) {
    fail(Status::invalid_argument, "insertion distribution does not match the target stack");
  }
  const auto& z = target_world_z_mm;
  const double first_step = n > 1 ? z[0] - z[1] : 0.0, last_step = n > 1 ? z[n - 2] - z[n - 1] : 0.0;
  std::vector<InsertedSlice> out(d.query_slices);
  for (std::size_t m = 0; m < d.query_slices; ++m) {
    const float* p = d.row(m);
    InsertedSlice& r = out[m];
    const std::size_t best = static_cast<std::size_t>(std::max_element(p, p + d.target_slots) - p);
    r.peak = p[best];
    for (std::size_t s = 0; s < d.target_slots; ++s) {
      if (p[s] > 0) r.entropy -= p[s] * std::log(p[s]);
    }
    if (best == 0) {
      r.where = InsertedSlice::Where::above;
      r.world_z_mm = z[0] + first_step;
      continue;
    }
    if (best == d.target_slots - 1) {
      r.where = InsertedSlice::Where::below;
      r.world_z_mm = z[n - 1] - last_step;
      continue;
    }
    const std::size_t lo = std::max<std::size_t>(1, best >= 2 ? best - 2 : 1), hi = std::min(n, best + 2);
    double sum = 0, weighted = 0;
    for (std::size_t s = lo; s <= hi; ++s) {
      sum += p[s];
      weighted += p[s] * static_cast<double>(s - 1);
    }
    r.position = weighted / sum;
    const auto k = std::min(static_cast<std::size_t>(r.position), n - 1);
    const double f = r.position - static_cast<double>(k);
    r.world_z_mm = k + 1 < n ? z[k] + f * (z[k + 1] - z[k]) : z[k];
  }
  return out;
}

std::string model_version(const Model& model) {
  const json training = json::parse(model.metadata_section("training"));
  const std::string steps = training.is_object() && training.contains("steps") ? training["steps"].dump() : "?";
  const bool own_regions = model.metadata_section("regions") != "null";
  std::ostringstream hash;
  hash << std::hex << fnv1a(model.metadata_json());
  return steps + " steps, " + std::to_string(model.templates().size()) + " templates, regions " +
         (own_regions ? "model" : "bundled") + ", metadata " + hash.str();
}

std::string default_model_path() {
  namespace fs = std::filesystem;
  if (const char* env = std::getenv("SLICENAV_MODEL"); env != nullptr && *env != '\0') {
    if (!fs::is_regular_file(env)) fail(Status::not_found, std::string("$SLICENAV_MODEL names no file: ") + env);
    return env;
  }
  std::vector<fs::path> candidates;
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&default_model_path), &info) != 0 && info.dli_fname != nullptr) {
    const fs::path binary_dir = fs::absolute(info.dli_fname).parent_path();
    candidates.push_back(binary_dir.parent_path() / "share/slicenav/models/default.snm");
  }
  candidates.push_back(fs::path(SLICENAV_INSTALL_MODEL_DIR) / "default.snm");
  candidates.push_back(fs::path(SLICENAV_SOURCE_MODEL_DIR) / "default.snm");
  std::string tried;
  for (const auto& c : candidates) {
    if (fs::is_regular_file(c)) return c.lexically_normal().string();
    tried += "\n  " + c.lexically_normal().string();
  }
  fail(Status::not_found, "no default model found (set $SLICENAV_MODEL or pass a model path); tried:" + tried);
}

void set_inference_threads(int threads) {
  if (threads < 0) fail(Status::invalid_argument, "thread count must be >= 0");
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  torch::set_num_threads(threads == 0 ? static_cast<int>(hw) : threads);
}

}  // namespace slicenav

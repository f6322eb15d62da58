#include "slicenav/models.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <cmath>
#include <thread>

#include <nlohmann/json.hpp>

#include "network.hpp"
#include "slicenav/error.hpp"
#include "slicenav/model_file.hpp"

namespace slicenav {
namespace {

using nlohmann::json;

const char* encoding_name(PositionalEncoding e) {
  return e == PositionalEncoding::absolute ? "absolute" : "spacing_scaled";
}

json architecture_json(const ModelConfig& c) {
  return {{"name", "insertion_network"},
          {"encoder_widths", c.encoder_widths},
          {"d_model", c.d_model},
          {"heads", c.heads},
          {"ffn", c.ffn},
          {"self_layers", c.self_layers},
          {"cross_layers", c.cross_layers},
          {"dropout", c.dropout},
          {"positional_encoding", encoding_name(c.positional_encoding)},
          {"score_scale_mm", c.score_scale_mm},
          {"score_unit", "atlas mm (superior positive, lung apex = 0)"}};
}

json preprocessing_json(const PreprocessOptions& p) {
  return {{"image_size", p.image_size}, {"pixel_mm", p.pixel_mm}, {"hu_low", p.hu_low},
          {"hu_high", p.hu_high},       {"max_slices", p.max_slices},
          {"slices", "canonical axial (superior first), uniform sampling up to max_slices"},
          {"in_plane", "area-averaged onto pixel_mm pixels centred on the body centroid; HU window to [-1, 1]"}};
}

ModelConfig config_from_json(const json& meta, const std::string& path) {
  try {
    const json& a = meta.at("architecture");
    const json& p = meta.at("preprocessing");
    ModelConfig c;
    c.encoder_widths = a.at("encoder_widths").get<std::vector<int>>();
    c.d_model = a.at("d_model").get<int>();
    c.heads = a.at("heads").get<int>();
    c.ffn = a.at("ffn").get<int>();
    c.self_layers = a.at("self_layers").get<int>();
    c.cross_layers = a.at("cross_layers").get<int>();
    c.dropout = a.at("dropout").get<double>();
    const auto pe = a.at("positional_encoding").get<std::string>();
    if (pe != "absolute" && pe != "spacing_scaled") throw std::runtime_error("unknown positional_encoding " + pe);
    c.positional_encoding = pe == "absolute" ? PositionalEncoding::absolute : PositionalEncoding::spacing_scaled;
    c.score_scale_mm = a.at("score_scale_mm").get<double>();
    c.preprocess.image_size = p.at("image_size").get<std::size_t>();
    c.preprocess.pixel_mm = p.at("pixel_mm").get<double>();
    c.preprocess.hu_low = p.at("hu_low").get<float>();
    c.preprocess.hu_high = p.at("hu_high").get<float>();
    c.preprocess.max_slices = p.at("max_slices").get<std::size_t>();
    c.validate();
    return c;
  } catch (const Error& e) {
    fail(Status::model_format, path + ": model metadata describes an invalid architecture: " + e.what());
  } catch (const std::exception& e) {
    fail(Status::model_format, path + ": model metadata lacks a usable architecture: " + e.what());
  }
}

// Every float tensor of the network by name; BatchNorm's integer step counters are not weights.
std::vector<std::pair<std::string, torch::Tensor>> state_tensors(detail::InsertionNetworkImpl& net) {
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

}  // namespace

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
  if (self_layers < 0 || cross_layers < 0 || self_layers > 64 || cross_layers > 64) bad("layer counts must be in [0, 64]");
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
  impl_->metadata_json = json{{"architecture", architecture_json(config)},
                              {"preprocessing", preprocessing_json(config.preprocess)}}.dump();
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
  const ModelConfig config = config_from_json(meta, path);
  auto impl = std::make_shared<detail::ModelImpl>();
  impl->config = config;
  impl->network = detail::InsertionNetwork(config);
  impl->network->eval();
  impl->metadata_json = file.metadata_json;
  auto tensors = state_tensors(*impl->network);
  if (tensors.size() != file.tensors.size()) {
    fail(Status::model_format, path + ": the file holds " + std::to_string(file.tensors.size()) +
                                   " tensors; the architecture it describes has " + std::to_string(tensors.size()));
  }
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const auto& [name, dst] = tensors[i];
    const ModelTensor& src = file.tensors[i];
    if (src.name != name || src.shape != dst.sizes().vec()) {
      fail(Status::model_format, path + ": tensor " + std::to_string(i) + " is '" + src.name +
                                     "', which does not match the architecture's '" + name + "'");
    }
    dst.copy_(torch::from_blob(const_cast<float*>(src.values.data()), dst.sizes(), torch::kFloat));
  }
  return Model(std::move(impl));
}

void Model::save(const std::string& path) const {
  ModelFile file;
  json meta = json::parse(impl_->metadata_json);
  meta["architecture"] = architecture_json(impl_->config);
  meta["preprocessing"] = preprocessing_json(impl_->config.preprocess);
  file.metadata_json = meta.dump();
  for (const auto& [name, t] : state_tensors(*impl_->network)) {
    auto c = t.detach().contiguous().to(torch::kFloat);
    ModelTensor mt;
    mt.name = name;
    mt.shape = c.sizes().vec();
    mt.values.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    file.tensors.push_back(std::move(mt));
  }
  save_model_file(file, path);
}

const ModelConfig& Model::config() const { return impl_->config; }

std::string Model::metadata_json() const { return impl_->metadata_json; }

void Model::set_metadata_section(const std::string& key, const std::string& json_value) {
  if (key == "architecture" || key == "preprocessing") {
    fail(Status::invalid_argument, "metadata section '" + key + "' is written from the model's config");
  }
  json value;
  try {
    value = json::parse(json_value);
  } catch (const json::exception& e) {
    fail(Status::invalid_argument, "metadata section '" + key + "' is not JSON: " + e.what());
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

std::vector<double> Model::score(const SliceStack& stack) const {
  check_stack(stack, impl_->config, "score input", false);
  c10::InferenceMode guard;
  auto slices = detail::slices_tensor(stack.pixels, stack.image_size);
  const auto chunk = static_cast<std::int64_t>(impl_->config.preprocess.max_slices);
  std::vector<double> out;
  out.reserve(stack.slice_count());
  for (std::int64_t first = 0; first < slices.size(0); first += chunk) {
    const auto n = std::min(chunk, slices.size(0) - first);
    auto s = impl_->network->score(impl_->network->embed(slices.narrow(0, first, n))).contiguous();
    out.insert(out.end(), s.data_ptr<float>(), s.data_ptr<float>() + n);
  }
  return out;
}

InsertionDistribution Model::insert(const SliceStack& query, const SliceStack& target) const {
  const ModelConfig& c = impl_->config;
  check_stack(query, c, "query", true);
  check_stack(target, c, "target", true);
  c10::InferenceMode guard;
  auto& net = *impl_->network;
  const auto q_emb = net.embed(detail::slices_tensor(query.pixels, query.image_size));
  const auto bounds = net.boundary_embeddings();
  const auto t_emb = torch::cat({bounds.narrow(0, 0, 1), net.embed(detail::slices_tensor(target.pixels, target.image_size)),
                                 bounds.narrow(0, 1, 1)});
  const auto q = detail::pad_sequences({q_emb}, {detail::sequence_positions(query.world_z_mm, c.positional_encoding, false)});
  const auto t = detail::pad_sequences({t_emb}, {detail::sequence_positions(target.world_z_mm, c.positional_encoding, true)});
  const auto probs = torch::softmax(net.insertion_logits(q, t), -1)[0].contiguous();
  InsertionDistribution d;
  d.query_slices = query.slice_count();
  d.target_slots = target.slice_count() + 2;
  d.probabilities.assign(probs.data_ptr<float>(), probs.data_ptr<float>() + probs.numel());
  return d;
}

std::vector<InsertedSlice> decode_insertion(const InsertionDistribution& d, const SliceStack& target) {
  const std::size_t n = target.slice_count();
  if (d.target_slots != n + 2 || d.probabilities.size() != d.query_slices * d.target_slots || n == 0) {
    fail(Status::invalid_argument, "insertion distribution does not match the target stack");
  }
  const auto& z = target.world_z_mm;
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

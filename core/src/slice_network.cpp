#include "slice_network.hpp"

#include <cmath>

#include "slicenav/error.hpp"

namespace slicenav::detail {

namespace nn = torch::nn;

DownBlockImpl::DownBlockImpl(int in, int out) {
  conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(in, out, 3).stride(2).padding(1).bias(false)));
  bn1 = register_module("bn1", nn::BatchNorm2d(out));
  conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(out, out, 3).padding(1).bias(false)));
  bn2 = register_module("bn2", nn::BatchNorm2d(out));
  shortcut = register_module("shortcut", nn::Conv2d(nn::Conv2dOptions(in, out, 1).stride(2).bias(false)));
  bn_shortcut = register_module("bn_shortcut", nn::BatchNorm2d(out));
}

torch::Tensor DownBlockImpl::forward(const torch::Tensor& x) {
  auto y = torch::relu(bn1(conv1(x)));
  y = bn2(conv2(y));
  return torch::relu(y + bn_shortcut(shortcut(x)));
}

SliceEncoderImpl::SliceEncoderImpl(const ModelConfig& config) {
  const auto& w = config.encoder_widths;
  stem =
      register_module("stem", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, w[0], 3).stride(2).padding(1).bias(false)),
                                             nn::BatchNorm2d(w[0]), nn::ReLU()));
  stages = register_module("stages", nn::Sequential());
  for (std::size_t i = 1; i < w.size(); ++i) stages->push_back(DownBlock(w[i - 1], w[i]));
  project = register_module("project", nn::Linear(w.back(), config.d_model));
}

torch::Tensor SliceEncoderImpl::forward(const torch::Tensor& slices) {
  auto x = stages->forward(stem->forward(slices.contiguous(torch::MemoryFormat::ChannelsLast)));
  return project(x.mean({2, 3}));
}

AttentionBlockImpl::AttentionBlockImpl(const ModelConfig& config, bool is_cross)
    : cross(is_cross), heads(config.heads) {
  const int d = config.d_model;
  norm_x = register_module("norm_x", nn::LayerNorm(nn::LayerNormOptions({d})));
  if (cross) norm_context = register_module("norm_context", nn::LayerNorm(nn::LayerNormOptions({d})));
  norm_ffn = register_module("norm_ffn", nn::LayerNorm(nn::LayerNormOptions({d})));
  q = register_module("q", nn::Linear(d, d));
  k = register_module("k", nn::Linear(d, d));
  v = register_module("v", nn::Linear(d, d));
  out = register_module("out", nn::Linear(d, d));
  ffn1 = register_module("ffn1", nn::Linear(d, config.ffn));
  ffn2 = register_module("ffn2", nn::Linear(config.ffn, d));
  dropout = register_module("dropout", nn::Dropout(config.dropout));
}

torch::Tensor AttentionBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& context,
                                          const torch::Tensor& context_padding) {
  const auto b = x.size(0), l = x.size(1), d = x.size(2);
  const auto h = static_cast<std::int64_t>(heads), dh = d / h;
  const auto xn = norm_x(x);
  const auto cn = cross ? norm_context(context) : xn;
  // The context's batch is x's, or 1: one context shared by every sequence of x (broadcast, not copied).
  const auto bc = cn.size(0), lc = cn.size(1);
  auto qh = q(xn).view({b, l, h, dh}).transpose(1, 2);
  auto kh = k(cn).view({bc, lc, h, dh}).transpose(1, 2);
  auto vh = v(cn).view({bc, lc, h, dh}).transpose(1, 2);
  auto att = torch::matmul(qh, kh.transpose(-2, -1)) / std::sqrt(static_cast<double>(dh));
  att = att.masked_fill(context_padding.view({bc, 1, 1, lc}), -std::numeric_limits<float>::infinity());
  att = dropout(torch::softmax(att, -1));
  auto y = torch::matmul(att, vh).transpose(1, 2).reshape({b, l, d});
  auto z = x + dropout(out(y));
  return z + dropout(ffn2(dropout(torch::gelu(ffn1(norm_ffn(z))))));
}

InsertionNetworkImpl::InsertionNetworkImpl(const ModelConfig& cfg) : config(cfg) {
  config.validate();
  const int d = config.d_model;
  encoder = register_module("encoder", SliceEncoder(config));
  score_head = register_module("score_head", nn::Linear(d, 1));
  self_layers = register_module("self_layers", nn::ModuleList());
  for (int i = 0; i < config.self_layers; ++i) self_layers->push_back(AttentionBlock(config, false));
  self_norm = register_module("self_norm", nn::LayerNorm(nn::LayerNormOptions({d})));
  cross_layers = register_module("cross_layers", nn::ModuleList());
  for (int i = 0; i < config.cross_layers; ++i) cross_layers->push_back(AttentionBlock(config, true));
  cross_norm = register_module("cross_norm", nn::LayerNorm(nn::LayerNormOptions({d})));
  out_query = register_module("out_query", nn::Linear(d, d));
  out_key = register_module("out_key", nn::Linear(d, d));
}

torch::Tensor InsertionNetworkImpl::embed(const torch::Tensor& slices) { return encoder(slices); }

torch::Tensor InsertionNetworkImpl::score(const torch::Tensor& embeddings) {
  return score_head(embeddings).squeeze(-1) * config.score_scale_mm;
}

torch::Tensor InsertionNetworkImpl::boundary_embeddings() {
  const auto n = static_cast<std::int64_t>(config.preprocess.image_size);
  auto start = torch::ones({1, 1, n, n});
  return embed(torch::cat({start, -start}));
}

torch::Tensor InsertionNetworkImpl::contextualize(const Sequences& s) {
  auto x = s.embeddings + sinusoidal_encoding(s.positions, config.d_model);
  for (const auto& layer : *self_layers) x = layer->as<AttentionBlock>()->forward(x, x, s.padding);
  return self_norm(x);
}

torch::Tensor InsertionNetworkImpl::insertion_logits(const Sequences& query, const Sequences& framed_target) {
  auto x = contextualize(query);
  const auto t = contextualize(framed_target);
  for (const auto& layer : *cross_layers) x = layer->as<AttentionBlock>()->forward(x, t, framed_target.padding);
  x = cross_norm(x);
  auto logits =
      torch::matmul(out_query(x), out_key(t).transpose(1, 2)) / std::sqrt(static_cast<double>(config.d_model));
  return logits.masked_fill(framed_target.padding.unsqueeze(1), -std::numeric_limits<float>::infinity());
}

torch::Tensor sinusoidal_encoding(const torch::Tensor& positions, int d_model) {
  const auto half = d_model / 2;
  auto i = torch::arange(half, torch::kFloat);
  auto inv_freq = torch::exp(i * (-std::log(10000.0) * 2.0 / d_model));
  auto angles = positions.unsqueeze(-1).to(torch::kFloat) * inv_freq;  // [B, L, half]
  // Interleave sin and cos: dimension 2i is sin, 2i + 1 is cos.
  return torch::stack({torch::sin(angles), torch::cos(angles)}, -1).flatten(-2);
}

std::vector<float> sequence_positions(const std::vector<double>& world_z_mm, PositionalEncoding encoding, bool framed) {
  const std::size_t n = world_z_mm.size();
  std::vector<float> p;
  p.reserve(n + 2);
  if (encoding == PositionalEncoding::absolute) {
    if (framed) p.push_back(0.0f);
    for (std::size_t i = 0; i < n; ++i) p.push_back(static_cast<float>(i + 1));
    if (framed) p.push_back(static_cast<float>(n + 1));
    return p;
  }
  const double step = n > 1 ? std::abs(world_z_mm.front() - world_z_mm.back()) / static_cast<double>(n - 1) : 1.0;
  if (framed) p.push_back(static_cast<float>(1.0 - step));
  for (std::size_t i = 0; i < n; ++i)
    p.push_back(static_cast<float>(1.0 + std::abs(world_z_mm.front() - world_z_mm[i])));
  if (framed) p.push_back(static_cast<float>(1.0 + std::abs(world_z_mm.front() - world_z_mm.back()) + step));
  return p;
}

Sequences pad_sequences(const std::vector<torch::Tensor>& embeddings,
                        const std::vector<std::vector<float>>& positions) {
  const auto b = static_cast<std::int64_t>(embeddings.size());
  std::int64_t length = 0;
  for (const auto& e : embeddings) length = std::max(length, e.size(0));
  Sequences s;
  std::vector<torch::Tensor> rows;
  s.positions = torch::zeros({b, length});
  s.padding = torch::ones({b, length}, torch::kBool);
  for (std::int64_t i = 0; i < b; ++i) {
    const auto n = embeddings[i].size(0);
    rows.push_back(torch::constant_pad_nd(embeddings[i], {0, 0, 0, length - n}));
    auto pos = torch::tensor(positions[i], torch::kFloat);
    s.positions[i].narrow(0, 0, n).copy_(pos);
    s.padding[i].narrow(0, 0, n).fill_(false);
  }
  s.embeddings = torch::stack(rows);
  return s;
}

torch::Tensor slices_tensor(const std::vector<float>& pixels, std::size_t image_size) {
  const auto n = static_cast<std::int64_t>(image_size);
  const auto count = static_cast<std::int64_t>(pixels.size()) / (n * n);
  return torch::from_blob(const_cast<float*>(pixels.data()), {count, 1, n, n}, torch::kFloat).clone();
}

}  // namespace slicenav::detail

// The insertion network and score head as LibTorch modules. Internal: includes <torch/torch.h>, so only
// the model, loss and training translation units include it.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "slicenav/model.hpp"
#include "ape_network.hpp"
#include "voxel_network.hpp"

namespace slicenav::detail {

// conv3x3 (stride 2) -> BN -> ReLU -> conv3x3 -> BN, plus a 1x1 stride-2 projection, then ReLU.
struct DownBlockImpl : torch::nn::Module {
  DownBlockImpl(int in, int out);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Conv2d conv1{nullptr}, conv2{nullptr}, shortcut{nullptr};
  torch::nn::BatchNorm2d bn1{nullptr}, bn2{nullptr}, bn_shortcut{nullptr};
};
TORCH_MODULE(DownBlock);

// Context-free slice embedding: [S, 1, H, W] in [-1, 1] -> [S, d_model].
struct SliceEncoderImpl : torch::nn::Module {
  explicit SliceEncoderImpl(const ModelConfig& config);
  torch::Tensor forward(const torch::Tensor& slices);
  torch::nn::Sequential stem{nullptr};
  torch::nn::Sequential stages{nullptr};
  torch::nn::Linear project{nullptr};
};
TORCH_MODULE(SliceEncoder);

// Pre-norm residual attention block: x + MHA(LN(x), context) then x + FFN(LN(x)). With no context it
// is self-attention. context_padding is [B, Lc] bool, true where the context element is padding. A cross
// block's context may have batch 1, shared by all B sequences.
struct AttentionBlockImpl : torch::nn::Module {
  AttentionBlockImpl(const ModelConfig& config, bool cross);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& context, const torch::Tensor& context_padding);
  bool cross;
  int heads;
  torch::nn::LayerNorm norm_x{nullptr}, norm_context{nullptr}, norm_ffn{nullptr};
  torch::nn::Linear q{nullptr}, k{nullptr}, v{nullptr}, out{nullptr}, ffn1{nullptr}, ffn2{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(AttentionBlock);

// Sequences handed to the attention stages: embeddings padded to a common length.
struct Sequences {
  torch::Tensor embeddings;  // [B, L, D]
  torch::Tensor positions;   // [B, L] float: slice index or mm (see PositionalEncoding)
  torch::Tensor padding;     // [B, L] bool, true for padding
};

struct InsertionNetworkImpl : torch::nn::Module {
  explicit InsertionNetworkImpl(const ModelConfig& config);

  // [S, 1, H, W] -> [S, D] context-free embeddings.
  torch::Tensor embed(const torch::Tensor& slices);
  // [S, D] -> [S] scores in atlas mm.
  torch::Tensor score(const torch::Tensor& embeddings);
  // Embeddings of the artificial start (+1) and end (-1) slices: [2, D].
  torch::Tensor boundary_embeddings();
  // Adds the positional encoding and runs the shared self-attention layers.
  torch::Tensor contextualize(const Sequences& s);
  // Cross-attention of the query onto the framed target, then the output attention:
  // logits [B, M, N + 2], -inf at padded target slots. A target of batch 1 serves every query and is
  // contextualised once.
  torch::Tensor insertion_logits(const Sequences& query, const Sequences& framed_target);

  ModelConfig config;
  SliceEncoder encoder{nullptr};
  torch::nn::Linear score_head{nullptr};
  torch::nn::ModuleList self_layers{nullptr}, cross_layers{nullptr};
  torch::nn::LayerNorm self_norm{nullptr}, cross_norm{nullptr};
  torch::nn::Linear out_query{nullptr}, out_key{nullptr};
};
TORCH_MODULE(InsertionNetwork);

// Sinusoidal encoding of positions [B, L] -> [B, L, d_model] (Vaswani et al.).
torch::Tensor sinusoidal_encoding(const torch::Tensor& positions, int d_model);

// Positions of one sequence's slices from their world z (superior first): 1, 2, ... (absolute) or
// 1 + mm from the first slice (spacing-scaled); framed sequences get the start slot one step before
// and the end slot one step after.
std::vector<float> sequence_positions(const std::vector<double>& world_z_mm, PositionalEncoding encoding, bool framed);

// Pads per-scan embeddings (each [n_b, D]) into Sequences with the given per-scan positions.
Sequences pad_sequences(const std::vector<torch::Tensor>& embeddings, const std::vector<std::vector<float>>& positions);

// Stacks preprocessed slices (pixel vector of n x size x size) into [n, 1, size, size].
torch::Tensor slices_tensor(const std::vector<float>& pixels, std::size_t image_size);

// The model's state: config, network, metadata (JSON object text), and what the metadata and the extra
// tensors describe: the atlas, the templates and, when present, the voxel embedding and APE networks.
struct ModelImpl {
  ModelConfig config;
  InsertionNetwork network{nullptr};
  VoxelNet voxel{nullptr};  // null when the file holds none
  ApeNet ape{nullptr};      // null when the file holds none
  std::string metadata_json = "{}";
  Atlas atlas;
  std::vector<Template> templates;
};

}  // namespace slicenav::detail

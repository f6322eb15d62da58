#include "sampler.hpp"

#include <algorithm>
#include <cmath>

#include <ATen/CPUGeneratorImpl.h>

#include "slicenav/error.hpp"

namespace slicenav::training {
namespace {

double uniform(std::mt19937_64& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}

std::size_t uniform_index(std::mt19937_64& rng, std::size_t lo, std::size_t hi) {  // inclusive
  return std::uniform_int_distribution<std::size_t>(lo, hi)(rng);
}

}  // namespace

std::vector<double> View::world_z_mm() const {
  std::vector<double> z;
  for (std::size_t k : slices) z.push_back(source->slices.world_z_mm[k]);
  return z;
}

std::vector<float> View::pixels() const {
  const std::size_t area = source->slices.image_size * source->slices.image_size;
  const std::size_t n = source->slices.slice_count();
  std::vector<float> out(slices.size() * area, 0.0f);
  for (std::size_t i = 0; i < slices.size(); ++i) {
    // The slab [k - (slab - 1) / 2, k + slab / 2], cut at the scan's ends.
    const std::size_t first = slices[i] - std::min(slices[i], (slab - 1) / 2);
    const std::size_t last = std::min(n - 1, slices[i] + slab / 2);
    float* dst = out.data() + i * area;
    for (std::size_t k = first; k <= last; ++k) {
      const float* src = source->slices.pixels.data() + k * area;
      for (std::size_t p = 0; p < area; ++p) dst[p] += src[p];
    }
    const float inv = 1.0f / static_cast<float>(last - first + 1);
    for (std::size_t p = 0; p < area; ++p) dst[p] *= inv;
  }
  return out;
}

SliceStack View::stack() const {
  SliceStack s;
  s.image_size = source->slices.image_size;
  s.pixels = pixels();
  s.canonical_slice = slices;
  s.world_z_mm = world_z_mm();
  return s;
}

View spread_view(const Case& c, std::size_t first, std::size_t last, std::size_t max_slices) {
  View v;
  v.source = &c;
  for (std::size_t k : uniform_slices(last - first + 1, max_slices)) v.slices.push_back(first + k);
  return v;
}

View sample_view(const Case& c, const SamplerOptions& o, std::mt19937_64& rng) {
  const std::size_t n = c.slices.slice_count();
  View v;
  v.source = &c;
  if (n <= o.min_slices || uniform(rng, 0, 1) < o.uniform_fraction) {
    v = spread_view(c, 0, n - 1, o.max_slices);
  } else {
    const std::size_t length = uniform_index(rng, o.min_slices, n);
    const std::size_t first = uniform_index(rng, 0, n - length);
    double stride = static_cast<double>(
        uniform_index(rng, 1, std::max<std::size_t>(1, std::min<std::size_t>(3, length / o.min_slices))));
    if (o.z_scale > 0.0) stride = std::max(1.0, stride * uniform(rng, 1.0 - o.z_scale, 1.0 + o.z_scale));
    // A stride of at least one slice keeps the rounded indices strictly ascending.
    for (std::size_t i = 0;; ++i) {
      const auto k = first + static_cast<std::size_t>(std::lround(static_cast<double>(i) * stride));
      if (k >= first + length) break;
      v.slices.push_back(k);
    }
    if (v.slices.size() > o.max_slices) v = spread_view(c, first, first + length - 1, o.max_slices);
  }
  if (v.slices.size() > o.min_slices && uniform(rng, 0, 1) < o.drop_fraction) {
    const std::size_t drop = uniform_index(rng, 1, std::max<std::size_t>(1, v.slices.size() / 10));
    for (std::size_t i = 0; i < drop && v.slices.size() > o.min_slices; ++i) {
      v.slices.erase(v.slices.begin() + static_cast<std::ptrdiff_t>(uniform_index(rng, 1, v.slices.size() - 2)));
    }
  }
  const auto thickest = static_cast<std::size_t>(o.max_slab_mm / std::max(c.slice_step_mm, 1e-3));
  if (thickest >= 2 && uniform(rng, 0, 1) < o.slab_fraction) v.slab = uniform_index(rng, 2, thickest);
  return v;
}

PairSampler::PairSampler(const Corpus& corpus, SamplerOptions options) : options_(options) {
  for (const Case& c : corpus.cases) {
    if (c.validation) continue;
    all_.push_back(&c);
    if (c.map.valid()) mapped_.push_back(&c);
  }
  if (all_.empty()) fail(Status::invalid_argument, "no training cases (every patient fell in validation)");
}

Pair PairSampler::sample(std::mt19937_64& rng) const {
  Pair p;
  const bool inter = mapped_.size() >= 2 && uniform(rng, 0, 1) >= options_.intra_fraction;
  if (!inter) {
    const Case* c = all_[uniform_index(rng, 0, all_.size() - 1)];
    p.query = sample_view(*c, options_, rng);
    p.target = sample_view(*c, options_, rng);
    p.query_z_in_target = p.query.world_z_mm();
    return p;
  }
  const std::size_t a = uniform_index(rng, 0, mapped_.size() - 1);
  std::size_t b = uniform_index(rng, 0, mapped_.size() - 2);
  if (b >= a) ++b;
  p.intra = false;
  p.query = sample_view(*mapped_[a], options_, rng);
  p.target = sample_view(*mapped_[b], options_, rng);
  for (double z : p.query.world_z_mm()) {
    p.query_z_in_target.push_back(mapped_[b]->map.to_world(mapped_[a]->map.to_atlas(z)));
  }
  return p;
}

torch::Tensor augment(const torch::Tensor& slices, std::mt19937_64& rng) {
  const double contrast = uniform(rng, 0.9, 1.1), brightness = uniform(rng, -0.05, 0.05);
  const double noise = uniform(rng, 0.0, 0.03);
  const double scale = uniform(rng, 0.9, 1.1), angle = uniform(rng, -0.14, 0.14);  // about +-8 degrees
  const double tx = uniform(rng, -0.08, 0.08), ty = uniform(rng, -0.08, 0.08);
  const auto n = slices.size(0);
  auto theta = torch::tensor({static_cast<float>(std::cos(angle) / scale), static_cast<float>(-std::sin(angle) / scale),
                              static_cast<float>(tx), static_cast<float>(std::sin(angle) / scale),
                              static_cast<float>(std::cos(angle) / scale), static_cast<float>(ty)})
                   .view({1, 2, 3})
                   .expand({n, 2, 3});
  const auto grid = torch::nn::functional::affine_grid(theta, slices.sizes().vec(), false);
  // Resample in [0, 2] so the zero padding outside the image is air (-1) after shifting back.
  auto moved = torch::nn::functional::grid_sample(slices + 1.0, grid,
                                                  torch::nn::functional::GridSampleFuncOptions()
                                                      .mode(torch::kBilinear)
                                                      .padding_mode(torch::kZeros)
                                                      .align_corners(false)) -
               1.0;
  auto noise_t = torch::randn(moved.sizes(), at::detail::createCPUGenerator(rng())) * noise;
  return (moved * contrast + brightness + noise_t).clamp(-1.0, 1.0);
}

}  // namespace slicenav::training

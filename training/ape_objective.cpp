#include "ape_objective.hpp"

#include <algorithm>
#include <cmath>

namespace slicenav::training {

namespace F = torch::nn::functional;

Vec3 ApePatch::last() const {
  Vec3 p;
  for (std::size_t a = 0; a < 3; ++a) p[a] = origin[a] + spacing[a] * static_cast<double>(size[a] - 1);
  return p;
}

ApePatchPair sample_patch_pair(const Vec3& centre, const ApePatchOptions& o, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const auto patch = [&](const Vec3& c) {
    ApePatch p;
    p.size = o.size;
    const double xy = o.min_xy_mm + (o.max_xy_mm - o.min_xy_mm) * u(rng);
    p.spacing = {xy, xy, o.min_z_mm + (o.max_z_mm - o.min_z_mm) * u(rng)};
    for (std::size_t a = 0; a < 3; ++a) p.origin[a] = c[a] - 0.5 * p.spacing[a] * static_cast<double>(p.size[a] - 1);
    return p;
  };
  ApePatchPair pair;
  pair.a = patch(centre);
  // B's spacing first, then its centre within half of the smaller extent of the two along each axis.
  pair.b = patch(centre);
  Vec3 shift;
  for (std::size_t a = 0; a < 3; ++a) {
    const double smaller = std::min(pair.a.spacing[a], pair.b.spacing[a]) * static_cast<double>(o.size[a] - 1);
    shift[a] = (2.0 * u(rng) - 1.0) * 0.5 * smaller;
    pair.b.origin[a] += shift[a];
  }
  const Vec3 a_last = pair.a.last(), b_last = pair.b.last();
  pair.points.resize(static_cast<std::size_t>(o.points));
  for (Vec3& p : pair.points) {
    for (std::size_t a = 0; a < 3; ++a) {
      const double lo = std::max(pair.a.origin[a], pair.b.origin[a]), hi = std::min(a_last[a], b_last[a]);
      p[a] = lo + (hi - lo) * u(rng);
    }
  }
  return pair;
}

torch::Tensor sample_patch(const ApeScan& scan, const ApePatch& patch) {
  // Normalised grid_sample coordinate of each patch voxel along one axis of the scan.
  const auto axis = [&](std::size_t a, std::int64_t scan_size) {
    return torch::arange(patch.size[a], torch::kDouble)
        .mul(patch.spacing[a])
        .add(patch.origin[a] - scan.origin[a])
        .div(scan.spacing_mm * static_cast<double>(std::max<std::int64_t>(scan_size - 1, 1)))
        .mul(2.0)
        .sub(1.0)
        .to(torch::kFloat);
  };
  const auto grids = torch::meshgrid({axis(2, scan.hu.size(2)), axis(1, scan.hu.size(3)), axis(0, scan.hu.size(4))},
                                     "ij");  // z, y, x
  const torch::Tensor grid = torch::stack({grids[2], grids[1], grids[0]}, -1).unsqueeze(0);
  return F::grid_sample(scan.hu + 1000.0, grid,
                        F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kZeros).align_corners(true)) -
         1000.0;
}

torch::Tensor patch_grid(const ApePatch& patch, const std::vector<Vec3>& points) {
  std::vector<float> v;
  v.reserve(points.size() * 3);
  for (const Vec3& p : points) {
    for (std::size_t a = 0; a < 3; ++a) {
      const double index = (p[a] - patch.origin[a]) / patch.spacing[a];
      v.push_back(static_cast<float>(index / static_cast<double>(patch.size[a] - 1) * 2.0 - 1.0));
    }
  }
  return torch::tensor(v).reshape({1, static_cast<std::int64_t>(points.size()), 1, 1, 3});
}

namespace {

// Separable Gaussian blur of [1, 1, z, y, x], edges replicated.
torch::Tensor blur(const torch::Tensor& x, double sigma) {
  const std::int64_t radius = 2;
  const torch::Tensor t = torch::arange(-radius, radius + 1, torch::kFloat);
  torch::Tensor k = torch::exp(-t * t / (2.0 * sigma * sigma));
  k = k / k.sum();
  torch::Tensor y = x;
  const std::vector<std::vector<std::int64_t>> shapes{{1, 1, 5, 1, 1}, {1, 1, 1, 5, 1}, {1, 1, 1, 1, 5}};
  for (std::size_t a = 0; a < 3; ++a) {
    std::vector<std::int64_t> pad(6, 0);
    pad[4 - 2 * a] = pad[5 - 2 * a] = radius;  // z pads the last pair, x the first
    y = F::conv3d(F::pad(y, F::PadFuncOptions(pad).mode(torch::kReplicate)), k.reshape(shapes[a]));
  }
  return y;
}

}  // namespace

torch::Tensor augment_patch(const torch::Tensor& hu, std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const double low = -1100.0 + 600.0 * u(rng), high = 300.0 + 1200.0 * u(rng);
  torch::Tensor x = (hu.clamp(low, high) - low) / (high - low) * 2.0 - 1.0;
  const double filter = u(rng);
  if (filter < 0.3) {
    x = blur(x, 0.5 + 0.7 * u(rng));
  } else if (filter < 0.5) {
    x = x + (0.3 + 0.7 * u(rng)) * (x - blur(x, 1.0));
  }
  x = x + torch::randn_like(x) * (0.05 * u(rng));
  const int boxes = static_cast<int>(u(rng) * 4.0);
  for (int b = 0; b < boxes; ++b) {
    using torch::indexing::Slice;
    std::vector<torch::indexing::TensorIndex> index{Slice(), Slice()};
    for (std::int64_t d = 2; d < 5; ++d) {
      const auto n = x.size(d);
      const auto length = std::max<std::int64_t>(1, static_cast<std::int64_t>((0.1 + 0.2 * u(rng)) * n));
      const auto first = static_cast<std::int64_t>(u(rng) * static_cast<double>(n - length));
      index.emplace_back(Slice(first, first + length));
    }
    x.index_put_(index, 0.0);
  }
  return x.clamp(-1.5, 1.5);
}

torch::Tensor ape_loss(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& positions, double lambda,
                       double* dist, double* equiv) {
  const torch::Tensor centred = positions - positions.mean(0, true);
  const torch::Tensor scale = (centred.pow(2).sum(1).mean() / 3.0).sqrt().clamp_min(1e-6);
  const torch::Tensor p = centred / scale;
  const torch::Tensor true_distance = torch::cdist(p, p);
  // The small constant keeps the square root differentiable where a_i and b_j coincide.
  const torch::Tensor predicted = ((a.unsqueeze(1) - b.unsqueeze(0)).pow(2).sum(-1) + 1e-8).sqrt();
  const torch::Tensor l_dist = (predicted - true_distance).pow(2).mean();
  const torch::Tensor l_equiv = (a - b).pow(2).sum(1).mean();
  if (dist) *dist = l_dist.item<double>();
  if (equiv) *equiv = l_equiv.item<double>();
  return l_dist + lambda * l_equiv;
}

}  // namespace slicenav::training

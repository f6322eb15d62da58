#include "slicenav/rigid.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include "sampling.hpp"
#include "slice_network.hpp"
#include "slicenav/error.hpp"
#include "slicenav/navigation.hpp"
#include "voxel_network.hpp"

namespace slicenav {
namespace {

// ---- Calibration (docs/prealign.md, "Rigid") ----------------------------------------------------------

// A larger grid than this is refused rather than resampled (64 M voxels: 1 m x 1 m x 4 m at 4 mm).
constexpr std::size_t kMaxGridVoxels = std::size_t{64} << 20;
// A forward match is consistent when its backward match lies within this many output voxels of the start.
constexpr double kConsistentVoxels = 1.0;
// Consensus: random minimal samples, the distance (mm) within which a match agrees with a transform, and
// the refits on the agreeing matches with a tighter distance.
constexpr int kConsensusSamples = 600;
constexpr double kSampleInlierMm = 16.0;
constexpr double kRefitInlierMm = 10.0;
constexpr int kRefits = 3;
// Shared anatomy: at least this many inliers and this share of the consistent matches; the confidence
// rises from 0 at the minimum share to 1 at kFullShare, times the inlier count over kFullInliers.
constexpr std::size_t kMinInliers = 12;
constexpr double kMinShare = 0.25;
constexpr double kFullShare = 0.6;
constexpr double kFullInliers = 40.0;
// Rows of the similarity matrix computed at once (memory: rows x body voxels floats).
constexpr std::int64_t kSimilarityRows = 64;

double clamp01(double x) { return std::clamp(x, 0.0, 1.0); }

Vec3 sub(const Vec3& a, const Vec3& b) { return {a[0] - b[0], a[1] - b[1], a[2] - b[2]}; }
double norm(const Vec3& a) { return std::sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]); }

// The largest eigenvector of a symmetric 4x4 matrix (cyclic Jacobi rotations).
std::array<double, 4> top_eigenvector(std::array<double, 16> a) {
  std::array<double, 16> v{};
  for (int i = 0; i < 4; ++i) v[static_cast<std::size_t>(5 * i)] = 1.0;
  const auto at = [](std::array<double, 16>& m, int r, int c) -> double& {
    return m[static_cast<std::size_t>(4 * r + c)];
  };
  for (int sweep = 0; sweep < 50; ++sweep) {
    double off = 0;
    for (int p = 0; p < 4; ++p) {
      for (int q = p + 1; q < 4; ++q) off += at(a, p, q) * at(a, p, q);
    }
    if (off < 1e-30) break;
    for (int p = 0; p < 4; ++p) {
      for (int q = p + 1; q < 4; ++q) {
        if (std::abs(at(a, p, q)) < 1e-300) continue;
        const double theta = (at(a, q, q) - at(a, p, p)) / (2 * at(a, p, q));
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int k = 0; k < 4; ++k) {  // columns p, q
          const double akp = at(a, k, p), akq = at(a, k, q);
          at(a, k, p) = c * akp - s * akq;
          at(a, k, q) = s * akp + c * akq;
        }
        for (int k = 0; k < 4; ++k) {  // rows p, q
          const double apk = at(a, p, k), aqk = at(a, q, k);
          at(a, p, k) = c * apk - s * aqk;
          at(a, q, k) = s * apk + c * aqk;
        }
        for (int k = 0; k < 4; ++k) {
          const double vkp = at(v, k, p), vkq = at(v, k, q);
          at(v, k, p) = c * vkp - s * vkq;
          at(v, k, q) = s * vkp + c * vkq;
        }
      }
    }
  }
  int best = 0;
  for (int i = 1; i < 4; ++i) {
    if (at(a, i, i) > at(a, best, best)) best = i;
  }
  return {at(v, 0, best), at(v, 1, best), at(v, 2, best), at(v, 3, best)};
}

// ---- Voxel embeddings ------------------------------------------------------------------------------------

// The voxel network's output on a scan: unit embeddings on a grid twice as coarse as the input grid, the
// output voxels that show body (HU above -500 on average), and their world positions.
struct Embedded {
  std::array<std::int64_t, 3> size{0, 0, 0};  // x, y, z
  double spacing_mm = 0;
  Vec3 origin{0.0, 0.0, 0.0};
  torch::Tensor values;            // [voxels, dim], x fastest
  std::vector<std::int64_t> body;  // output voxel indices that show body
  torch::Tensor body_values;       // [body.size(), dim]
  Vec3 world(std::int64_t index) const {
    const std::int64_t x = index % size[0], y = (index / size[0]) % size[1], z = index / (size[0] * size[1]);
    return {origin[0] + spacing_mm * static_cast<double>(x), origin[1] + spacing_mm * static_cast<double>(y),
            origin[2] + spacing_mm * static_cast<double>(z)};
  }
};

// Takes the network by non-const reference only because LibTorch's forward is non-const; inference
// changes nothing in it.
Embedded embed_voxels(detail::VoxelNetImpl& net, const Volume& volume) {
  const detail::VoxelNetConfig& c = net.config;
  const WorldGrid grid = resample_to_world_grid(volume, c.voxel_mm);
  c10::InferenceMode guard;
  const auto sx = static_cast<std::int64_t>(grid.size[0]), sy = static_cast<std::int64_t>(grid.size[1]),
             sz = static_cast<std::int64_t>(grid.size[2]);
  const torch::Tensor hu = torch::from_blob(const_cast<float*>(grid.values.data()), {1, 1, sz, sy, sx}, torch::kFloat);
  const torch::Tensor input = ((hu.clamp(c.hu_low, c.hu_high) - c.hu_low) / (c.hu_high - c.hu_low)) * 2.0 - 1.0;
  const torch::Tensor out = net.forward(input)[0];  // [dim, z, y, x]
  const torch::Tensor body = torch::nn::functional::avg_pool3d(
      (hu > -500.0f).to(torch::kFloat), torch::nn::functional::AvgPool3dFuncOptions(2).stride(2).ceil_mode(true));
  Embedded e;
  e.size = {out.size(3), out.size(2), out.size(1)};
  e.spacing_mm = 2 * grid.spacing_mm;
  e.origin = grid.origin;
  e.values = out.reshape({out.size(0), -1}).t().contiguous();
  const torch::Tensor body_flat = body.reshape({-1}).narrow(0, 0, e.values.size(0)) >= 0.5f;
  const torch::Tensor idx = torch::nonzero(body_flat).reshape({-1}).contiguous();
  e.body.assign(idx.data_ptr<std::int64_t>(), idx.data_ptr<std::int64_t>() + idx.numel());
  e.body_values = e.values.index_select(0, idx).contiguous();
  return e;
}

// For each row of `queries` ([n, dim]), the index into `candidates` ([m, dim]) of the most similar one.
std::vector<std::int64_t> nearest(const torch::Tensor& queries, const torch::Tensor& candidates) {
  std::vector<std::int64_t> out;
  out.reserve(static_cast<std::size_t>(queries.size(0)));
  for (std::int64_t first = 0; first < queries.size(0); first += kSimilarityRows) {
    const auto n = std::min(kSimilarityRows, queries.size(0) - first);
    const torch::Tensor best = torch::matmul(queries.narrow(0, first, n), candidates.t()).argmax(1).contiguous();
    out.insert(out.end(), best.data_ptr<std::int64_t>(), best.data_ptr<std::int64_t>() + best.numel());
  }
  return out;
}

// The match refined to a fraction of an output voxel: along each axis a parabola through the similarities of
// the voxel and its two neighbours (when both lie inside the grid).
Vec3 refined_world(const Embedded& m, std::int64_t index, const torch::Tensor& query) {
  Vec3 p = m.world(index);
  const std::int64_t coord[3] = {index % m.size[0], (index / m.size[0]) % m.size[1], index / (m.size[0] * m.size[1])};
  const std::int64_t stride[3] = {1, m.size[0], m.size[0] * m.size[1]};
  const auto sim = [&](std::int64_t i) { return torch::dot(m.values[i], query).item<double>(); };
  const double centre = sim(index);
  for (int a = 0; a < 3; ++a) {
    if (coord[a] == 0 || coord[a] + 1 >= m.size[static_cast<std::size_t>(a)]) continue;
    const double lo = sim(index - stride[a]), hi = sim(index + stride[a]);
    const double curvature = lo - 2 * centre + hi;
    if (curvature < 0)
      p[static_cast<std::size_t>(a)] += m.spacing_mm * std::clamp(0.5 * (lo - hi) / curvature, -0.5, 0.5);
  }
  return p;
}

struct Consensus {
  PointTransform transform;
  std::vector<std::size_t> inliers;
  double residual_mm = 0;
};

std::vector<std::size_t> agreeing(const PointTransform& t, const std::vector<Vec3>& from, const std::vector<Vec3>& to,
                                  double distance_mm) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < from.size(); ++i) {
    if (norm(sub(t.apply(from[i]), to[i])) <= distance_mm) out.push_back(i);
  }
  return out;
}

// RANSAC over minimal samples of three matches, then least-squares refits on the agreeing matches.
Consensus consensus(const std::vector<Vec3>& from, const std::vector<Vec3>& to, std::uint64_t seed) {
  Consensus best;
  if (from.size() < 3) return best;
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(0, from.size() - 1);
  for (int s = 0; s < kConsensusSamples; ++s) {
    const std::size_t a = pick(rng), b = pick(rng), c = pick(rng);
    if (a == b || b == c || a == c) continue;
    // Skip nearly collinear samples: their rotation about the line is undetermined.
    const Vec3 u = sub(from[b], from[a]), v = sub(from[c], from[a]);
    const Vec3 cross{u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]};
    if (norm(cross) < 0.1 * norm(u) * norm(v) || norm(u) < 30.0 || norm(v) < 30.0) continue;
    const PointTransform t = fit_rigid({from[a], from[b], from[c]}, {to[a], to[b], to[c]});
    std::vector<std::size_t> in = agreeing(t, from, to, kSampleInlierMm);
    if (in.size() > best.inliers.size()) {
      best.transform = t;
      best.inliers = std::move(in);
    }
  }
  for (int r = 0; r < kRefits && best.inliers.size() >= 3; ++r) {
    std::vector<Vec3> f, m;
    for (const std::size_t i : best.inliers) {
      f.push_back(from[i]);
      m.push_back(to[i]);
    }
    best.transform = fit_rigid(f, m);
    std::vector<std::size_t> in = agreeing(best.transform, from, to, kRefitInlierMm);
    if (in.size() < 3) break;
    best.inliers = std::move(in);
  }
  double sum = 0;
  for (const std::size_t i : best.inliers) {
    const double d = norm(sub(best.transform.apply(from[i]), to[i]));
    sum += d * d;
  }
  best.residual_mm = best.inliers.empty() ? 0.0 : std::sqrt(sum / static_cast<double>(best.inliers.size()));
  return best;
}

}  // namespace

Vec3 PointTransform::apply(const Vec3& p) const {
  const Mat3& r = rotation;
  return {r[0] * p[0] + r[1] * p[1] + r[2] * p[2] + translation[0],
          r[3] * p[0] + r[4] * p[1] + r[5] * p[2] + translation[1],
          r[6] * p[0] + r[7] * p[1] + r[8] * p[2] + translation[2]};
}

WorldGrid world_grid_geometry(const Volume& volume, double spacing_mm) {
  if (!std::isfinite(spacing_mm) || spacing_mm <= 0) {
    fail(Status::invalid_argument, "grid spacing must be finite and > 0, got " + std::to_string(spacing_mm));
  }
  const Geometry& g = volume.geometry();
  const WorldBox bounds = world_bounds(g, {0, 0, 0},
                                       {static_cast<double>(g.size[0] - 1), static_cast<double>(g.size[1] - 1),
                                        static_cast<double>(g.size[2] - 1)});
  WorldGrid grid;
  grid.spacing_mm = spacing_mm;
  grid.origin = bounds.lo;
  double voxels = 1;
  for (std::size_t a = 0; a < 3; ++a) {
    grid.size[a] = static_cast<std::size_t>(std::floor((bounds.hi[a] - bounds.lo[a]) / spacing_mm + 1e-9)) + 1;
    voxels *= static_cast<double>(grid.size[a]);
  }
  if (voxels > static_cast<double>(kMaxGridVoxels)) {
    fail(Status::unsupported_input, "the volume spans " + std::to_string(static_cast<long long>(voxels)) +
                                        " voxels of " + std::to_string(spacing_mm) + " mm; at most " +
                                        std::to_string(kMaxGridVoxels) + " are resampled");
  }
  return grid;
}

WorldGrid resample_to_world_grid(const Volume& volume, double spacing_mm) {
  WorldGrid grid = world_grid_geometry(volume, spacing_mm);
  const Geometry& g = volume.geometry();
  grid.values.resize(grid.size[0] * grid.size[1] * grid.size[2]);
  // index(world) = A (world - origin): A's columns are index steps per world mm along x, y and z.
  const Vec3 i0 = g.world_to_index(grid.origin);
  Vec3 step[3];
  for (std::size_t a = 0; a < 3; ++a) {
    Vec3 w = grid.origin;
    w[a] += spacing_mm;
    step[a] = sub(g.world_to_index(w), i0);
  }
  std::size_t out = 0;
  for (std::size_t z = 0; z < grid.size[2]; ++z) {
    for (std::size_t y = 0; y < grid.size[1]; ++y) {
      for (std::size_t x = 0; x < grid.size[0]; ++x, ++out) {
        Vec3 p;
        for (std::size_t a = 0; a < 3; ++a) {
          p[a] = i0[a] + step[0][a] * static_cast<double>(x) + step[1][a] * static_cast<double>(y) +
                 step[2][a] * static_cast<double>(z);
        }
        grid.values[out] = detail::value_at_index(volume, p, -1000.0f);
      }
    }
  }
  return grid;
}

PointTransform fit_rigid(const std::vector<Vec3>& from, const std::vector<Vec3>& to,
                         const std::vector<double>& weights) {
  if (from.size() != to.size() || from.size() < 3) {
    fail(Status::invalid_argument, "a rigid fit needs at least 3 point pairs of equal count, got " +
                                       std::to_string(from.size()) + " and " + std::to_string(to.size()));
  }
  if (!weights.empty() && weights.size() != from.size()) {
    fail(Status::invalid_argument, "a rigid fit needs one weight per point pair");
  }
  double total = 0;
  for (std::size_t i = 0; i < from.size(); ++i) {
    const double w = weights.empty() ? 1.0 : weights[i];
    if (!std::isfinite(w) || w < 0) fail(Status::invalid_argument, "rigid fit weights must be finite and >= 0");
    total += w;
  }
  if (!(total > 0)) fail(Status::invalid_argument, "rigid fit weights are all zero");
  Vec3 cf{0, 0, 0}, ct{0, 0, 0};
  for (std::size_t i = 0; i < from.size(); ++i) {
    const double w = (weights.empty() ? 1.0 : weights[i]) / total;
    for (std::size_t a = 0; a < 3; ++a) {
      cf[a] += w * from[i][a];
      ct[a] += w * to[i][a];
    }
  }
  // Horn's closed form: the rotation is the unit quaternion of the largest eigenvalue of N, built from the
  // cross-covariance S of the centred point sets.
  double s[3][3] = {};
  for (std::size_t i = 0; i < from.size(); ++i) {
    const double w = weights.empty() ? 1.0 : weights[i];
    const Vec3 a = sub(from[i], cf), b = sub(to[i], ct);
    for (int r = 0; r < 3; ++r) {
      for (int c = 0; c < 3; ++c) s[r][c] += w * a[static_cast<std::size_t>(r)] * b[static_cast<std::size_t>(c)];
    }
  }
  const std::array<double, 16> n{
      s[0][0] + s[1][1] + s[2][2],  s[1][2] - s[2][1], s[2][0] - s[0][2], s[0][1] - s[1][0], s[1][2] - s[2][1],
      s[0][0] - s[1][1] - s[2][2],  s[0][1] + s[1][0], s[2][0] + s[0][2], s[2][0] - s[0][2], s[0][1] + s[1][0],
      -s[0][0] + s[1][1] - s[2][2], s[1][2] + s[2][1], s[0][1] - s[1][0], s[2][0] + s[0][2], s[1][2] + s[2][1],
      -s[0][0] - s[1][1] + s[2][2]};
  const auto q = top_eigenvector(n);
  const double qn = std::sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3]);
  const double w = q[0] / qn, x = q[1] / qn, y = q[2] / qn, z = q[3] / qn;
  PointTransform t;
  t.rotation = {1 - 2 * (y * y + z * z), 2 * (x * y - w * z),     2 * (x * z + w * y),
                2 * (x * y + w * z),     1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
                2 * (x * z - w * y),     2 * (y * z + w * x),     1 - 2 * (x * x + y * y)};
  PointTransform centred = t;
  const Vec3 rc = centred.apply(cf);
  t.translation = sub(ct, rc);
  return t;
}

Vec3 euler_angles(const Mat3& r) {
  // R = Rz Rx Ry: R[2][1] = sin x, R[2][0] = -cos x sin y, R[2][2] = cos x cos y, R[0][1] = -sin z cos x,
  // R[1][1] = cos z cos x.
  const double x = std::asin(std::clamp(r[7], -1.0, 1.0));
  return {x, std::atan2(-r[6], r[8]), std::atan2(-r[1], r[4])};
}

Mat3 rotation_matrix(const Vec3& e) {
  const double cx = std::cos(e[0]), sx = std::sin(e[0]), cy = std::cos(e[1]), sy = std::sin(e[1]), cz = std::cos(e[2]),
               sz = std::sin(e[2]);
  // Rz * Rx * Ry
  return {cz * cy - sz * sx * sy,
          -sz * cx,
          cz * sy + sz * sx * cy,
          sz * cy + cz * sx * sy,
          cz * cx,
          sz * sy - cz * sx * cy,
          -cx * sy,
          sx,
          cx * cy};
}

RigidTransform as_rigid_transform(const PointTransform& t, const Vec3& centre) {
  // R p + t0 = R (p - c) + c + (R c + t0 - c)
  RigidTransform r;
  r.rotation_rad = euler_angles(t.rotation);
  r.centre_mm = centre;
  PointTransform rotate_only = t;
  rotate_only.translation = {0.0, 0.0, 0.0};
  const Vec3 rc = rotate_only.apply(centre);
  for (std::size_t a = 0; a < 3; ++a) r.translation_mm[a] = rc[a] + t.translation[a] - centre[a];
  return r;
}

RigidPrealignment prealign_rigid(const Model& model, const Volume& fixed, const Volume& moving,
                                 const RigidOptions& options) {
  if (!model.has_voxel_network()) {
    fail(Status::unsupported_input,
         "the model holds no voxel embedding network; rigid prealignment needs one "
         "(the bundled model has it)");
  }
  if (options.points < 3) fail(Status::invalid_argument, "rigid prealignment needs at least 3 points");
  if (!std::isfinite(options.max_rotation_deg) || options.max_rotation_deg <= 0) {
    fail(Status::invalid_argument, "max_rotation_deg must be finite and > 0");
  }
  require_ct(fixed);
  require_ct(moving);
  detail::VoxelNetImpl& net = *model.impl().voxel;
  options.progress.at(0.0);
  const Embedded f = embed_voxels(net, fixed);
  options.progress.at(0.45);
  const Embedded m = embed_voxels(net, moving);
  options.progress.at(0.9);
  RigidPrealignment r;
  if (f.body.empty() || m.body.empty()) {
    r.note = "no body found in the " + std::string(f.body.empty() ? "fixed" : "moving") + " scan";
    return r;
  }
  // Points: every other body voxel along each axis, at most options.points of them chosen at random.
  std::vector<std::size_t> candidates;
  for (std::size_t b = 0; b < f.body.size(); ++b) {
    const std::int64_t i = f.body[b];
    const std::int64_t x = i % f.size[0], y = (i / f.size[0]) % f.size[1], z = i / (f.size[0] * f.size[1]);
    if (x % 2 == 0 && y % 2 == 0 && z % 2 == 0) candidates.push_back(b);
  }
  std::mt19937_64 rng(options.seed);
  if (candidates.size() > options.points) {
    std::shuffle(candidates.begin(), candidates.end(), rng);
    candidates.resize(options.points);
    std::sort(candidates.begin(), candidates.end());
  }
  r.points = candidates.size();
  c10::InferenceMode guard;
  const std::vector<std::int64_t> rows(candidates.begin(), candidates.end());
  const torch::Tensor queries = f.body_values.index_select(0, torch::tensor(rows, torch::kLong));
  const std::vector<std::int64_t> forward = nearest(queries, m.body_values);
  const std::vector<std::int64_t> backward =
      nearest(m.body_values.index_select(0, torch::tensor(forward, torch::kLong)), f.body_values);
  std::vector<Vec3> from, to;
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    const Vec3 start = f.world(f.body[candidates[i]]);
    const Vec3 back = f.world(f.body[static_cast<std::size_t>(backward[i])]);
    bool consistent = true;
    for (std::size_t a = 0; a < 3; ++a)
      consistent = consistent && std::abs(back[a] - start[a]) <= kConsistentVoxels * f.spacing_mm + 1e-6;
    if (!consistent) continue;
    from.push_back(start);
    to.push_back(refined_world(m, m.body[static_cast<std::size_t>(forward[i])], queries[static_cast<std::int64_t>(i)]));
  }
  r.consistent = from.size();
  options.progress.at(0.95);
  const Consensus c = consensus(from, to, options.seed);
  r.inliers = c.inliers.size();
  r.residual_mm = c.residual_mm;
  Vec3 centre{0.0, 0.0, 0.0};
  for (const std::size_t i : c.inliers) {
    for (std::size_t a = 0; a < 3; ++a) centre[a] += from[i][a] / static_cast<double>(c.inliers.size());
  }
  if (c.inliers.empty()) {
    r.note = "too few consistent matches to fit a transform: no common anatomy";
    return r;
  }
  r.transform = as_rigid_transform(c.transform, centre);
  const double share = r.consistent > 0 ? static_cast<double>(r.inliers) / static_cast<double>(r.consistent) : 0.0;
  r.shared_anatomy = r.inliers >= kMinInliers && share >= kMinShare;
  if (!r.shared_anatomy) {
    r.note = "only " + std::to_string(r.inliers) + " of " + std::to_string(r.consistent) +
             " consistent matches agree on one transform: no common anatomy";
    return r;
  }
  r.confidence =
      clamp01((share - kMinShare) / (kFullShare - kMinShare)) * clamp01(static_cast<double>(r.inliers) / kFullInliers);
  const double limit = options.max_rotation_deg * M_PI / 180.0;
  for (const double angle : r.transform.rotation_rad) {
    if (std::abs(angle) > limit) {
      r.confidence = std::min(r.confidence, RigidPrealignment::kBeyondRangeConfidence);
      r.note = "the rotation exceeds " + std::to_string(static_cast<int>(options.max_rotation_deg)) +
               " degrees about an axis, beyond the range the embedding was trained for";
      break;
    }
  }
  return r;
}

}  // namespace slicenav

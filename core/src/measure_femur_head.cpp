// The top of the femoral heads read off the bone (measure_bone.hpp).
#include "measure_bone.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "body.hpp"

namespace slicenav::detail {
namespace {

// ---- Femoral heads ---------------------------------------------------------------------------------------
// The hip is a ball in a socket. Every bone surface that faces up or down (the head's subchondral plate, the
// acetabular roof) votes along its intensity gradient for the centre of a sphere of radius R, 18-30 mm (the
// femoral head's range), and the vote is moved up by R to the sphere's apex. The votes of a spherical dome pile
// up at its top; flat or cylindrical bone (ilium, shafts, vertebral end plates) spreads them. The heads' top is
// a pair of such apices, one on each side of the body, at one height and a hip width apart.
constexpr double kGridMm = 2.0;                 // isotropic working grid
constexpr float kDomeLowHu = 100.0f;            // bone window: soft tissue and fat are flat ...
constexpr float kDomeHighHu = 700.0f;           // ... and cortex or metal capped
constexpr float kBodyHu = -300.0f;              // body, for its left-right centre
constexpr double kMinEdge = 20.0 * kGridMm;     // |gradient| of a bone edge: 20 HU per mm, per grid voxel
constexpr double kMinFacingUpDown = 0.5;        // |n_z| of a voting surface (>= 30 degrees from vertical)
constexpr int kMinRadius = 9, kMaxRadius = 15;  // 18-30 mm, in grid voxels
constexpr double kMinApexScore = 0.12;          // votes per voxel of sphere area (about a hemisphere's share)
constexpr int kPeakHalfWidth = 2;               // an apex is the maximum of its 5 x 5 x 5 neighbourhood
constexpr std::size_t kCandidatesPerSide = 5;
constexpr double kPairMaxDzMm = 20.0;   // both tops at one height
constexpr double kPairMinDxMm = 110.0;  // head centres a hip width apart (shoulders: 300+ mm)
constexpr double kPairMaxDxMm = 270.0;
constexpr double kPairMaxDyMm = 40.0;            // at one antero-posterior level
constexpr double kPairMaxOffCentreMm = 30.0;     // and either side of the body's midline (a vertebra is on it)
constexpr double kLungsBelowShoulderMm = 150.0;  // a pair with lungs on both sides from 10 mm above it to
constexpr double kLungsAboveShoulderMm = 10.0;   // this far below is a pair of shoulders, not hips
constexpr double kJointMm = 4.0;                 // the apex lies on the acetabular roof, one joint space above
                                                 // the head's bone
// Gaussian smoothing of sigma one grid voxel, truncated at 4 sigma, with mirrored borders.
constexpr int kSmoothRadius = 4;
// Output rows per slab; each slab also reads the rows its votes and filters reach.
constexpr std::size_t kSlabRows = 96;
constexpr std::size_t kRowsAbove = kPeakHalfWidth + kSmoothRadius;                   // acc rows for the peaks
constexpr std::size_t kRowsBelow = kPeakHalfWidth + kSmoothRadius + 2 * kMaxRadius;  // + rows whose votes reach up
constexpr std::size_t kImageMargin = kSmoothRadius + 1;                              // + gradient and smoothing

std::size_t mirrored(std::ptrdiff_t i, std::size_t n) {
  const auto m = static_cast<std::ptrdiff_t>(n);
  while (i < 0 || i >= m) i = i < 0 ? -i - 1 : 2 * m - i - 1;
  return static_cast<std::size_t>(i);
}

// Separable Gaussian smoothing (sigma 1 voxel) of a volume of n[2] x n[1] x n[0] floats, x fastest.
void smooth(std::vector<float>& a, const std::array<std::size_t, 3>& n) {
  std::array<float, 2 * kSmoothRadius + 1> w{};
  float sum = 0;
  for (int d = -kSmoothRadius; d <= kSmoothRadius; ++d)
    sum += w[d + kSmoothRadius] = std::exp(-0.5f * static_cast<float>(d * d));
  for (float& v : w) v /= sum;
  std::vector<float> copy(n[0]);
  for (std::size_t start = 0; start < a.size(); start += n[0]) {  // along x, a line at a time
    std::copy(a.begin() + static_cast<std::ptrdiff_t>(start), a.begin() + static_cast<std::ptrdiff_t>(start + n[0]),
              copy.begin());
    for (std::size_t t = 0; t < n[0]; ++t) {
      float v = 0;
      for (int d = -kSmoothRadius; d <= kSmoothRadius; ++d)
        v += w[d + kSmoothRadius] * copy[mirrored(static_cast<std::ptrdiff_t>(t) + d, n[0])];
      a[start + t] = v;
    }
  }
  std::size_t step = n[0];
  for (std::size_t axis = 1; axis < 3; ++axis) {  // along y, then z: whole rows of x at a time
    const std::size_t len = n[axis];
    copy = a;
    for (std::size_t outer = 0; outer < a.size(); outer += step * len) {
      for (std::size_t t = 0; t < len; ++t) {
        float* out = a.data() + outer + t * step;
        std::fill(out, out + step, 0.0f);
        for (int d = -kSmoothRadius; d <= kSmoothRadius; ++d) {
          const float* in = copy.data() + outer + mirrored(static_cast<std::ptrdiff_t>(t) + d, len) * step;
          const float wd = w[d + kSmoothRadius];
          for (std::size_t i = 0; i < step; ++i) out[i] += wd * in[i];
        }
      }
    }
    step *= len;
  }
}

struct Apex {
  double score = 0;
  std::size_t row = 0, y = 0, x = 0;  // grid voxel: row 0 = slice `first`, going down
};

// Samples canonical slices [first, last] on the 2 mm grid.
class DomeGrid {
 public:
  DomeGrid(const CanonicalView& view, std::size_t first, std::size_t last) : view_(view), first_(first), last_(last) {
    const auto& size = view.size();
    const auto& sp = view.spacing();
    for (std::size_t a = 0; a < 2; ++a) {
      n_[a] = static_cast<std::size_t>(std::floor(static_cast<double>(size[a] - 1) * sp[a] / kGridMm)) + 1;
      index_[a].resize(n_[a]);
      weight_[a].resize(n_[a]);
      for (std::size_t g = 0; g < n_[a]; ++g) {
        const double c = std::min(static_cast<double>(g) * kGridMm / sp[a], static_cast<double>(size[a] - 1));
        index_[a][g] = static_cast<std::size_t>(c);
        weight_[a][g] = static_cast<float>(c - std::floor(c));
      }
    }
    slice_per_row_ = kGridMm / view.mapping().slice_step_mm();
    n_[2] = static_cast<std::size_t>(std::floor(static_cast<double>(last - first) / slice_per_row_)) + 1;
    body_.assign(n_[0] * n_[1], 0);
  }

  const std::array<std::size_t, 3>& size() const { return n_; }
  double canonical_slice(double row) const { return static_cast<double>(first_) + row * slice_per_row_; }
  const std::vector<std::uint8_t>& body() const { return body_; }

  // Rows [lo, hi) in the bone window, trilinear from the voxels clipped to it; marks the body columns.
  std::vector<float> rows(std::size_t lo, std::size_t hi) {
    const std::size_t nx = n_[0], ny = n_[1];
    std::vector<float> out((hi - lo) * nx * ny);
    const std::size_t width = view_.size()[0];
    std::vector<float> buffer(4 * width);
    for (std::size_t r = lo; r < hi; ++r) {
      const double kc = std::min(canonical_slice(static_cast<double>(r)), static_cast<double>(last_));
      const auto k0 = static_cast<std::size_t>(kc);
      const std::size_t k1 = std::min(k0 + 1, last_);
      const auto fk = static_cast<float>(kc - static_cast<double>(k0));
      for (std::size_t y = 0; y < ny; ++y) {
        const std::size_t j0 = index_[1][y], j1 = std::min(j0 + 1, view_.size()[1] - 1);
        const float fj = weight_[1][y];
        const std::size_t row_j[4] = {j0, j1, j0, j1}, row_k[4] = {k0, k0, k1, k1};
        const float* rows[4];
        for (int c = 0; c < 4; ++c) {
          view_.row(row_j[c], row_k[c], buffer.data() + c * width);
          rows[c] = buffer.data() + c * width;
        }
        const float wr[4] = {(1 - fj) * (1 - fk), fj * (1 - fk), (1 - fj) * fk, fj * fk};
        float* o = out.data() + ((r - lo) * ny + y) * nx;
        for (std::size_t x = 0; x < nx; ++x) {
          const std::size_t i0 = index_[0][x], i1 = std::min(i0 + 1, view_.size()[0] - 1);
          const float fi = weight_[0][x];
          float raw = 0, clipped = 0;
          for (int c = 0; c < 4; ++c) {
            const float a = rows[c][i0], b = rows[c][i1];
            raw += wr[c] * ((1 - fi) * a + fi * b);
            clipped += wr[c] * ((1 - fi) * std::clamp(a, kDomeLowHu, kDomeHighHu) +
                                fi * std::clamp(b, kDomeLowHu, kDomeHighHu));
          }
          o[x] = clipped;
          if (raw > kBodyHu) body_[y * nx + x] = 1;
        }
      }
    }
    return out;
  }

 private:
  const CanonicalView& view_;
  std::size_t first_, last_;
  std::array<std::size_t, 3> n_{};
  std::array<std::vector<std::size_t>, 2> index_;
  std::array<std::vector<float>, 2> weight_;
  double slice_per_row_ = 1;
  std::vector<std::uint8_t> body_;
};

// The apices (apex score >= kMinApexScore, maximum of their neighbourhood) of output rows [a, b).
void find_apices(DomeGrid& grid, std::size_t a, std::size_t b, std::vector<Apex>& apices) {
  const std::size_t nx = grid.size()[0], ny = grid.size()[1], nz = grid.size()[2];
  const std::size_t lo = a >= kRowsAbove + kImageMargin ? a - kRowsAbove - kImageMargin : 0;
  const std::size_t hi = std::min(nz, b + kRowsBelow + kImageMargin);
  const std::array<std::size_t, 3> n{nx, ny, hi - lo};
  std::vector<float> image = grid.rows(lo, hi);
  smooth(image, n);
  std::vector<float> acc(image.size(), 0.0f);
  const std::size_t plane = nx * ny;
  const auto at = [&](std::size_t r, std::size_t y, std::size_t x) { return image[(r * ny + y) * nx + x]; };
  // np.gradient: central differences inside, one-sided at the ends.
  const auto derivative = [](float before, float here, float after, bool has_before, bool has_after) {
    if (has_before && has_after) return 0.5f * (after - before);
    return has_after ? after - here : has_before ? here - before : 0.0f;
  };
  const std::size_t edge_lo = std::max(lo, a >= kRowsAbove ? a - kRowsAbove : 0);
  const std::size_t edge_hi = std::min(hi, b + kRowsBelow);
  for (std::size_t gr = edge_lo; gr < edge_hi; ++gr) {
    const std::size_t r = gr - lo;
    for (std::size_t y = 0; y < ny; ++y) {
      for (std::size_t x = 0; x < nx; ++x) {
        const float here = at(r, y, x);
        const float gz =
            derivative(r > 0 ? at(r - 1, y, x) : 0, here, r + 1 < n[2] ? at(r + 1, y, x) : 0, r > 0, r + 1 < n[2]);
        const float gy =
            derivative(y > 0 ? at(r, y - 1, x) : 0, here, y + 1 < ny ? at(r, y + 1, x) : 0, y > 0, y + 1 < ny);
        const float gx =
            derivative(x > 0 ? at(r, y, x - 1) : 0, here, x + 1 < nx ? at(r, y, x + 1) : 0, x > 0, x + 1 < nx);
        const double magnitude = std::sqrt(double(gz) * gz + double(gy) * gy + double(gx) * gx);
        if (magnitude <= kMinEdge) continue;
        const double uz = gz / magnitude, uy = gy / magnitude, ux = gx / magnitude;
        if (std::abs(uz) < kMinFacingUpDown) continue;
        for (int radius = kMinRadius; radius <= kMaxRadius; ++radius) {
          const float weight = 1.0f / static_cast<float>(radius * radius);
          for (const int side : {1, -1}) {  // the head's surface (bone inside) and the socket's (bone outside)
            const double s = side * radius;
            const double cz = std::nearbyint(static_cast<double>(r) + s * uz) - radius;  // the apex
            const double cy = std::nearbyint(static_cast<double>(y) + s * uy);
            const double cx = std::nearbyint(static_cast<double>(x) + s * ux);
            if (cz < 0 || cy < 0 || cx < 0 || cz >= double(n[2]) || cy >= double(ny) || cx >= double(nx)) continue;
            acc[(static_cast<std::size_t>(cz) * ny + static_cast<std::size_t>(cy)) * nx +
                static_cast<std::size_t>(cx)] += weight;
          }
        }
      }
    }
  }
  smooth(acc, n);
  for (std::size_t gr = a; gr < b; ++gr) {
    const std::size_t r = gr - lo;
    for (std::size_t y = 0; y < ny; ++y) {
      for (std::size_t x = 0; x < nx; ++x) {
        const float v = acc[r * plane + y * nx + x];
        if (v < kMinApexScore) continue;
        bool peak = true;
        for (std::size_t rr = r >= kPeakHalfWidth ? r - kPeakHalfWidth : 0;
             peak && rr <= std::min(n[2] - 1, r + kPeakHalfWidth); ++rr) {
          for (std::size_t yy = y >= kPeakHalfWidth ? y - kPeakHalfWidth : 0;
               peak && yy <= std::min(ny - 1, y + kPeakHalfWidth); ++yy) {
            for (std::size_t xx = x >= kPeakHalfWidth ? x - kPeakHalfWidth : 0;
                 xx <= std::min(nx - 1, x + kPeakHalfWidth); ++xx) {
              if (acc[rr * plane + yy * nx + xx] > v) {
                peak = false;
                break;
              }
            }
          }
        }
        if (peak) apices.push_back({v, gr, y, x});
      }
    }
  }
}

}  // namespace

std::optional<std::size_t> measure_femur_head_top(const CanonicalView& view, std::size_t first, std::size_t last,
                                                  const std::vector<std::uint8_t>& lungs_both_sides) {
  if (first > last || last >= view.size()[2] || lungs_both_sides.size() != view.size()[2]) return std::nullopt;
  DomeGrid grid(view, first, last);
  const std::size_t nx = grid.size()[0], nz = grid.size()[2];
  if (nz < 4) return std::nullopt;
  std::vector<Apex> apices;
  for (std::size_t a = 0; a < nz; a += kSlabRows) find_apices(grid, a, std::min(nz, a + kSlabRows), apices);
  // The body's left-right centre over the searched slices separates the two sides.
  double sum_x = 0, count = 0;
  for (std::size_t c = 0; c < grid.body().size(); ++c) {
    if (grid.body()[c]) sum_x += static_cast<double>(c % nx), count += 1;
  }
  if (count == 0) return std::nullopt;
  const double centre_x = sum_x / count;
  std::array<std::vector<Apex>, 2> sides;
  for (const Apex& p : apices) sides[static_cast<double>(p.x) < centre_x ? 0 : 1].push_back(p);
  for (auto& s : sides) {
    std::sort(s.begin(), s.end(), [](const Apex& p, const Apex& q) { return p.score > q.score; });
    if (s.size() > kCandidatesPerSide) s.resize(kCandidatesPerSide);
  }
  const Apex* best[2] = {nullptr, nullptr};
  for (const Apex& l : sides[0]) {
    for (const Apex& r : sides[1]) {
      const double dz = std::abs(double(l.row) - double(r.row)) * kGridMm;
      const double dx = std::abs(double(l.x) - double(r.x)) * kGridMm;
      const double dy = std::abs(double(l.y) - double(r.y)) * kGridMm;
      const double off_centre = std::abs(0.5 * double(l.x + r.x) - centre_x) * kGridMm;
      if (dz > kPairMaxDzMm || dx < kPairMinDxMm || dx > kPairMaxDxMm || dy > kPairMaxDyMm) continue;
      if (off_centre > kPairMaxOffCentreMm) continue;
      const double top = grid.canonical_slice(static_cast<double>(std::min(l.row, r.row)));
      const double step = view.mapping().slice_step_mm();
      const auto k0 = static_cast<std::size_t>(std::max(0.0, std::ceil(top - kLungsAboveShoulderMm / step)));
      const auto k1 = static_cast<std::size_t>(
          std::min(static_cast<double>(view.size()[2] - 1), top + kLungsBelowShoulderMm / step));
      if (std::any_of(lungs_both_sides.begin() + static_cast<std::ptrdiff_t>(k0),
                      lungs_both_sides.begin() + static_cast<std::ptrdiff_t>(k1) + 1,
                      [](std::uint8_t v) { return v != 0; })) {
        continue;
      }
      if (!best[0] || l.score + r.score > best[0]->score + best[1]->score) best[0] = &l, best[1] = &r;
    }
  }
  if (!best[0]) return std::nullopt;
  const double top_row = static_cast<double>(std::min(best[0]->row, best[1]->row));
  const double slice = grid.canonical_slice(top_row) + kJointMm / view.mapping().slice_step_mm();
  return static_cast<std::size_t>(std::clamp(std::round(slice), 0.0, static_cast<double>(view.size()[2] - 1)));
}

}  // namespace slicenav::detail

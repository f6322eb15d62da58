#include "body.hpp"

#include <algorithm>
#include <cmath>

#include "parallel.hpp"
#include "slicenav/error.hpp"

namespace slicenav::body {

CellGrid mean_hu_cells(const CanonicalView& view, std::size_t first, std::size_t last, double cell_mm) {
  const auto& size = view.size();
  if (first > last || last >= size[2]) fail(Status::invalid_argument, "slice range out of the scan");
  if (!(cell_mm > 0) || !std::isfinite(cell_mm)) fail(Status::invalid_argument, "cell size must be positive");
  CellGrid g;
  for (std::size_t a = 0; a < 2; ++a) {
    g.factor[a] = static_cast<std::size_t>(std::max(1L, std::lround(cell_mm / view.spacing()[a])));
    g.cells[a] = (size[a] + g.factor[a] - 1) / g.factor[a];
    g.cell_mm[a] = static_cast<double>(g.factor[a]) * view.spacing()[a];
  }
  g.slices = last - first + 1;
  const std::size_t ni = size[0], nj = size[1], per_slice = g.per_slice();
  g.mean_hu.assign(per_slice * g.slices, 0.0f);
  std::vector<std::size_t> cell_of_i(ni);
  for (std::size_t i = 0; i < ni; ++i) cell_of_i[i] = i / g.factor[0];
  std::vector<float> inverse_count(per_slice, 0.0f);
  for (std::size_t j = 0; j < nj; ++j) {
    for (std::size_t i = 0; i < ni; ++i) inverse_count[(j / g.factor[1]) * g.cells[0] + cell_of_i[i]] += 1.0f;
  }
  for (float& c : inverse_count) c = 1.0f / c;
  const auto work = [&](std::size_t k_begin, std::size_t k_end) {
    // The rows of one row of cells are summed voxel by voxel first (a loop without dependencies between
    // voxels), then that sum is shared out to the cells.
    std::vector<float> row_sum(ni), row(ni);
    for (std::size_t k = k_begin; k < k_end; ++k) {
      float* out = g.mean_hu.data() + k * per_slice;
      for (std::size_t cj = 0; cj < g.cells[1]; ++cj) {
        std::fill(row_sum.begin(), row_sum.end(), 0.0f);
        for (std::size_t j = cj * g.factor[1]; j < std::min(nj, (cj + 1) * g.factor[1]); ++j) {
          view.row(j, first + k, row.data());
          for (std::size_t i = 0; i < ni; ++i) row_sum[i] += row[i];
        }
        float* cell_row = out + cj * g.cells[0];
        for (std::size_t i = 0; i < ni; ++i) cell_row[cell_of_i[i]] += row_sum[i];
      }
      for (std::size_t c = 0; c < per_slice; ++c) out[c] *= inverse_count[c];
    }
  };
  detail::parallel_ranges(g.slices, 8, work);
  return g;
}

void reach_from_border(const std::vector<std::uint8_t>& open, std::size_t w, std::size_t h,
                       std::vector<std::uint8_t>& reached, std::vector<std::size_t>& stack) {
  reached.assign(w * h, 0);
  const auto seed = [&](std::size_t c) {
    if (open[c] && !reached[c]) {
      reached[c] = 1;
      stack.push_back(c);
    }
  };
  for (std::size_t x = 0; x < w; ++x) seed(x), seed((h - 1) * w + x);
  for (std::size_t y = 0; y < h; ++y) seed(y * w), seed(y * w + w - 1);
  while (!stack.empty()) {
    const std::size_t c = stack.back();
    stack.pop_back();
    const std::size_t x = c % w, y = c / w;
    if (x > 0) seed(c - 1);
    if (x + 1 < w) seed(c + 1);
    if (y > 0) seed(c - w);
    if (y + 1 < h) seed(c + w);
  }
}

void open_slices(std::vector<std::uint8_t>& mask, const std::array<std::size_t, 2>& cells, std::size_t slices) {
  const std::size_t w = cells[0], h = cells[1];
  std::vector<std::uint8_t> eroded(w * h);
  for (std::size_t k = 0; k < slices; ++k) {
    std::uint8_t* s = mask.data() + k * w * h;
    for (std::size_t y = 0; y < h; ++y) {
      for (std::size_t x = 0; x < w; ++x) {
        std::uint8_t keep = 1;
        for (int dy = -1; dy <= 1 && keep; ++dy) {
          for (int dx = -1; dx <= 1 && keep; ++dx) {
            const auto xx = static_cast<std::int64_t>(x) + dx, yy = static_cast<std::int64_t>(y) + dy;
            if (xx < 0 || yy < 0 || xx >= static_cast<std::int64_t>(w) || yy >= static_cast<std::int64_t>(h)) continue;
            keep = s[static_cast<std::size_t>(yy) * w + static_cast<std::size_t>(xx)];
          }
        }
        eroded[y * w + x] = keep;
      }
    }
    for (std::size_t y = 0; y < h; ++y) {
      for (std::size_t x = 0; x < w; ++x) {
        std::uint8_t any = 0;
        for (int dy = -1; dy <= 1 && !any; ++dy) {
          for (int dx = -1; dx <= 1 && !any; ++dx) {
            const auto xx = static_cast<std::int64_t>(x) + dx, yy = static_cast<std::int64_t>(y) + dy;
            if (xx < 0 || yy < 0 || xx >= static_cast<std::int64_t>(w) || yy >= static_cast<std::int64_t>(h)) continue;
            any = eroded[static_cast<std::size_t>(yy) * w + static_cast<std::size_t>(xx)];
          }
        }
        s[y * w + x] = any;
      }
    }
  }
}

std::vector<std::size_t> label_components(const std::vector<std::uint8_t>& mask, const std::array<std::size_t, 3>& n,
                                          std::vector<std::uint32_t>& labels) {
  labels.assign(mask.size(), 0);
  std::vector<std::size_t> sizes{0};
  std::vector<std::size_t> stack;
  const std::size_t plane = n[0] * n[1];
  for (std::size_t start = 0; start < mask.size(); ++start) {
    if (!mask[start] || labels[start]) continue;
    const auto label = static_cast<std::uint32_t>(sizes.size());
    std::size_t count = 0;
    labels[start] = label;
    stack.push_back(start);
    while (!stack.empty()) {
      const std::size_t c = stack.back();
      stack.pop_back();
      ++count;
      const std::size_t x = c % n[0], y = (c / n[0]) % n[1], z = c / plane;
      const auto visit = [&](std::size_t other) {
        if (mask[other] && !labels[other]) {
          labels[other] = label;
          stack.push_back(other);
        }
      };
      if (x > 0) visit(c - 1);
      if (x + 1 < n[0]) visit(c + 1);
      if (y > 0) visit(c - n[0]);
      if (y + 1 < n[1]) visit(c + n[0]);
      if (z > 0) visit(c - plane);
      if (z + 1 < n[2]) visit(c + plane);
    }
    sizes.push_back(count);
  }
  return sizes;
}

}  // namespace slicenav::body

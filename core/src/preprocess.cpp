#include "slicenav/preprocess.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <sstream>

#include "body.hpp"
#include "parallel.hpp"
#include "slicenav/error.hpp"

namespace slicenav {
namespace {

// Area-averaging weights from an input axis (n voxels of `spacing` mm, voxel 0 centred at 0 mm) onto
// `out` output pixels of `pixel` mm whose pixel 0 is centred at `start` mm. Each output pixel keeps the input
// voxels it overlaps with their overlap fraction, and the fraction lying outside the input.
struct AxisWeights {
  std::vector<std::size_t> first;  // per output pixel: offset into index/weight
  std::vector<std::size_t> index;  // input voxel
  std::vector<float> weight;       // fraction of the output pixel it covers
  std::vector<float> outside;      // per output pixel: fraction outside the input
};

AxisWeights axis_weights(std::size_t n, double spacing, std::size_t out, double start, double pixel) {
  AxisWeights w;
  w.first.reserve(out + 1);
  w.outside.reserve(out);
  for (std::size_t o = 0; o < out; ++o) {
    w.first.push_back(w.index.size());
    // Output footprint in input voxel units; input voxel i covers [i - 0.5, i + 0.5).
    const double lo = (start + (static_cast<double>(o) - 0.5) * pixel) / spacing;
    const double hi = (start + (static_cast<double>(o) + 0.5) * pixel) / spacing;
    const double width = hi - lo;
    double inside = 0.0;
    const long first = std::max(0L, static_cast<long>(std::floor(lo + 0.5)));
    const long last = std::min(static_cast<long>(n) - 1, static_cast<long>(std::ceil(hi - 0.5)));
    for (long i = first; i <= last; ++i) {
      const double overlap = std::min(hi, i + 0.5) - std::max(lo, i - 0.5);
      if (overlap <= 0.0) continue;
      w.index.push_back(static_cast<std::size_t>(i));
      w.weight.push_back(static_cast<float>(overlap / width));
      inside += overlap;
    }
    w.outside.push_back(static_cast<float>(std::max(0.0, 1.0 - inside / width)));
  }
  w.first.push_back(w.index.size());
  return w;
}

void check_slices(const CanonicalView& view, const std::vector<std::size_t>& slices) {
  if (slices.empty()) fail(Status::invalid_argument, "preprocess needs at least one slice");
  for (std::size_t k : slices) {
    if (k >= view.size()[2]) {
      std::ostringstream msg;
      msg << "slice " << k << " is outside the volume's " << view.size()[2] << " canonical slices";
      fail(Status::invalid_argument, msg.str());
    }
  }
}

}  // namespace

std::vector<std::size_t> uniform_slices(std::size_t slice_count, std::size_t max_slices) {
  if (slice_count == 0 || max_slices == 0) fail(Status::invalid_argument, "uniform_slices needs at least one slice");
  std::vector<std::size_t> chosen;
  if (slice_count <= max_slices) {
    for (std::size_t k = 0; k < slice_count; ++k) chosen.push_back(k);
    return chosen;
  }
  if (max_slices == 1) return {slice_count / 2};
  const double step = static_cast<double>(slice_count - 1) / static_cast<double>(max_slices - 1);
  for (std::size_t s = 0; s < max_slices; ++s) chosen.push_back(static_cast<std::size_t>(std::lround(s * step)));
  return chosen;
}

InPlaneCentre body_centre(const CanonicalView& view, const std::vector<std::size_t>& slices) {
  const auto& size = view.size();
  const auto& spacing = view.spacing();
  check_slices(view, slices);
  double sx = 0, sy = 0, count = 0;
  const std::size_t step = std::max<std::size_t>(1, slices.size() / 32);
  std::vector<float> line(size[0]);
  for (std::size_t s = 0; s < slices.size(); s += step) {
    for (std::size_t j = 0; j < size[1]; ++j) {
      view.row(j, slices[s], line.data());
      for (std::size_t i = 0; i < size[0]; ++i) {
        if (line[i] > body::kBodyHu) {
          sx += static_cast<double>(i);
          sy += static_cast<double>(j);
          count += 1;
        }
      }
    }
  }
  if (count == 0) {
    return {(static_cast<double>(size[0]) - 1) / 2 * spacing[0], (static_cast<double>(size[1]) - 1) / 2 * spacing[1]};
  }
  return {sx / count * spacing[0], sy / count * spacing[1]};
}

SliceStack preprocess(const CanonicalView& view, const std::vector<std::size_t>& slices,
                      const PreprocessOptions& options, const InPlaneCentre& centre) {
  const auto& size = view.size();
  const auto& spacing = view.spacing();
  if (options.image_size == 0 || !(options.pixel_mm > 0.0) || !(options.hu_high > options.hu_low)) {
    fail(Status::invalid_argument, "preprocess options need image_size > 0, pixel_mm > 0 and hu_high > hu_low");
  }
  check_slices(view, slices);
  const std::size_t out = options.image_size;
  const double half = (static_cast<double>(out) - 1.0) / 2.0 * options.pixel_mm;
  const AxisWeights wx = axis_weights(size[0], spacing[0], out, centre.x_mm - half, options.pixel_mm);
  const AxisWeights wy = axis_weights(size[1], spacing[1], out, centre.y_mm - half, options.pixel_mm);

  SliceStack stack;
  stack.image_size = out;
  stack.pixels.resize(slices.size() * out * out);
  stack.canonical_slice = slices;
  for (const std::size_t k : slices) stack.world_z_mm.push_back(view.mapping().world_z(static_cast<double>(k)));
  const float low = options.hu_low, high = options.hu_high;
  const float scale = 2.0f / (high - low);
  detail::parallel_ranges(slices.size(), 16, [&](std::size_t s_begin, std::size_t s_end) {
    std::vector<float> rows(size[1] * out);  // input row j reduced to output columns
    std::vector<float> line(size[0]);
    for (std::size_t s = s_begin; s < s_end; ++s) {
      const std::size_t k = slices[s];
      for (std::size_t j = 0; j < size[1]; ++j) {
        view.row(j, k, line.data());
        for (std::size_t u = 0; u < out; ++u) {
          float sum = wx.outside[u] * low;
          for (std::size_t n = wx.first[u]; n < wx.first[u + 1]; ++n)
            sum += wx.weight[n] * std::clamp(line[wx.index[n]], low, high);
          rows[j * out + u] = sum;
        }
      }
      float* dst = &stack.pixels[s * out * out];
      for (std::size_t r = 0; r < out; ++r) {
        for (std::size_t u = 0; u < out; ++u) {
          float sum = wy.outside[r] * low;
          for (std::size_t n = wy.first[r]; n < wy.first[r + 1]; ++n) sum += wy.weight[n] * rows[wy.index[n] * out + u];
          dst[r * out + u] = (sum - low) * scale - 1.0f;
        }
      }
    }
  });
  return stack;
}

SliceStack preprocess(const CanonicalView& view, const std::vector<std::size_t>& slices,
                      const PreprocessOptions& options) {
  return preprocess(view, slices, options, body_centre(view, slices));
}

SliceStack preprocess(const CanonicalVolume& volume, const std::vector<std::size_t>& slices,
                      const PreprocessOptions& options) {
  return preprocess(CanonicalView(volume), slices, options);
}

SliceStack model_input(const CanonicalView& view, const std::vector<std::size_t>& slices,
                       const PreprocessOptions& options, Centring centring) {
  if (centring == Centring::scan) {
    std::vector<std::size_t> all(view.size()[2]);
    std::iota(all.begin(), all.end(), std::size_t{0});
    return preprocess(view, slices, options, body_centre(view, all));
  }
  check_slices(view, slices);
  const std::size_t n = slices.size(), pixels = options.image_size * options.image_size;
  SliceStack stack;
  stack.image_size = options.image_size;
  stack.pixels.resize(n * pixels);
  stack.canonical_slice = slices;
  stack.world_z_mm.resize(n);
  detail::parallel_ranges(n, 16, [&](std::size_t begin, std::size_t end) {
    for (std::size_t k = begin; k < end; ++k) {
      const SliceStack one = preprocess(view, {slices[k]}, options);
      std::copy(one.pixels.begin(), one.pixels.end(), stack.pixels.begin() + static_cast<std::ptrdiff_t>(k * pixels));
      stack.world_z_mm[k] = one.world_z_mm.front();
    }
  });
  return stack;
}

}  // namespace slicenav

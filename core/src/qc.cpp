#include "slicenav/qc.hpp"

#include <itkImage.h>
#include <itkImageFileWriter.h>
#include <itkPNGImageIO.h>
#include <itkRGBPixel.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <iterator>
#include <limits>

#include "atomic_file.hpp"
#include "body.hpp"
#include "slicenav/error.hpp"

namespace slicenav {
namespace {

constexpr double kWindowLow = -1000.0;
constexpr double kWindowHigh = 400.0;
constexpr std::size_t kCentreSlices = 32;  // slices sampled for the body centre
constexpr double kMaxViewPixels = 512.0;   // largest key-slice picture height and view width
constexpr long kViewGap = 4;               // black columns between the coronal and sagittal views
constexpr long kDashOn = 6;
constexpr long kDashPeriod = 10;
constexpr std::size_t kHeatmapMinSide = 256;
constexpr long kTickLength = 3;

constexpr QcColour kBlack{0, 0, 0};
constexpr QcColour kWhite{255, 255, 255};

// Saturated, mutually distinct colours, none of them grey.
constexpr QcColour kMarkPalette[] = {
    {255, 64, 64},  {64, 220, 64}, {64, 160, 255}, {255, 210, 0},
    {255, 64, 255}, {0, 230, 230}, {255, 140, 0},  {170, 110, 255},
};

// Viridis sampled at 0, 0.1, ..., 1; interpolated linearly, its luminance rises monotonically.
constexpr QcColour kViridis[] = {
    {68, 1, 84},    {72, 36, 117},  {65, 68, 135},  {53, 95, 141},  {42, 120, 142}, {33, 145, 140},
    {34, 168, 132}, {68, 191, 112}, {122, 209, 81}, {189, 223, 38}, {253, 231, 37},
};

// A 5x8 glyph: rows top to bottom, bit 4 is the leftmost column; row 7 holds descenders.
struct Glyph {
  char c;
  std::array<std::uint8_t, 8> rows;
};
constexpr long kGlyphWidth = 5;
constexpr long kGlyphHeight = 8;
constexpr long kGlyphAdvance = 6;

constexpr Glyph kFont[] = {
    {' ', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}}, {'A', {0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11, 0x00}},
    {'B', {0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E, 0x00}}, {'C', {0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E, 0x00}},
    {'D', {0x1E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x1E, 0x00}}, {'E', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F, 0x00}},
    {'F', {0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10, 0x00}}, {'G', {0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F, 0x00}},
    {'H', {0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11, 0x00}}, {'I', {0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E, 0x00}},
    {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C, 0x00}}, {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11, 0x00}},
    {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F, 0x00}}, {'M', {0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11, 0x00}},
    {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11, 0x00}}, {'O', {0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E, 0x00}},
    {'P', {0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10, 0x00}}, {'Q', {0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D, 0x00}},
    {'R', {0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11, 0x00}}, {'S', {0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E, 0x00}},
    {'T', {0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x00}}, {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E, 0x00}},
    {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04, 0x00}}, {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A, 0x00}},
    {'X', {0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11, 0x00}}, {'Y', {0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x04, 0x00}},
    {'Z', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F, 0x00}}, {'a', {0x00, 0x00, 0x0E, 0x01, 0x0F, 0x11, 0x0F, 0x00}},
    {'b', {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x1E, 0x00}}, {'c', {0x00, 0x00, 0x0E, 0x10, 0x10, 0x11, 0x0E, 0x00}},
    {'d', {0x01, 0x01, 0x0D, 0x13, 0x11, 0x11, 0x0F, 0x00}}, {'e', {0x00, 0x00, 0x0E, 0x11, 0x1F, 0x10, 0x0E, 0x00}},
    {'f', {0x06, 0x09, 0x08, 0x1C, 0x08, 0x08, 0x08, 0x00}}, {'g', {0x00, 0x00, 0x0F, 0x11, 0x11, 0x0F, 0x01, 0x0E}},
    {'h', {0x10, 0x10, 0x16, 0x19, 0x11, 0x11, 0x11, 0x00}}, {'i', {0x04, 0x00, 0x0C, 0x04, 0x04, 0x04, 0x0E, 0x00}},
    {'j', {0x02, 0x00, 0x06, 0x02, 0x02, 0x02, 0x12, 0x0C}}, {'k', {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12, 0x00}},
    {'l', {0x0C, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E, 0x00}}, {'m', {0x00, 0x00, 0x1A, 0x15, 0x15, 0x11, 0x11, 0x00}},
    {'n', {0x00, 0x00, 0x16, 0x19, 0x11, 0x11, 0x11, 0x00}}, {'o', {0x00, 0x00, 0x0E, 0x11, 0x11, 0x11, 0x0E, 0x00}},
    {'p', {0x00, 0x00, 0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10}}, {'q', {0x00, 0x00, 0x0F, 0x11, 0x11, 0x0F, 0x01, 0x01}},
    {'r', {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10, 0x00}}, {'s', {0x00, 0x00, 0x0F, 0x10, 0x0E, 0x01, 0x1E, 0x00}},
    {'t', {0x08, 0x08, 0x1C, 0x08, 0x08, 0x09, 0x06, 0x00}}, {'u', {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0D, 0x00}},
    {'v', {0x00, 0x00, 0x11, 0x11, 0x11, 0x0A, 0x04, 0x00}}, {'w', {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0A, 0x00}},
    {'x', {0x00, 0x00, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x00}}, {'y', {0x00, 0x00, 0x11, 0x11, 0x11, 0x0F, 0x01, 0x0E}},
    {'z', {0x00, 0x00, 0x1F, 0x02, 0x04, 0x08, 0x1F, 0x00}}, {'0', {0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E, 0x00}},
    {'1', {0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E, 0x00}}, {'2', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F, 0x00}},
    {'3', {0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E, 0x00}}, {'4', {0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02, 0x00}},
    {'5', {0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E, 0x00}}, {'6', {0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E, 0x00}},
    {'7', {0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08, 0x00}}, {'8', {0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E, 0x00}},
    {'9', {0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C, 0x00}}, {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1F}},
    {'-', {0x00, 0x00, 0x00, 0x0E, 0x00, 0x00, 0x00, 0x00}}, {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C, 0x00}},
    {':', {0x00, 0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00}}, {'?', {0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04, 0x00}},
};

const Glyph& glyph(char c) {
  const auto found = std::find_if(std::begin(kFont), std::end(kFont), [c](const Glyph& g) { return g.c == c; });
  return found != std::end(kFont) ? *found : glyph('?');
}

long text_width(const std::string& text) {
  return text.empty() ? 0 : kGlyphAdvance * static_cast<long>(text.size()) - 1;
}

// An 8-bit RGB picture, row-major; drawing outside it is clipped.
class Raster {
 public:
  Raster(long width, long height, QcColour background)
      : width_(width), height_(height), rgb_(static_cast<std::size_t>(3 * width * height)) {
    fill_rect(0, 0, width, height, background);
  }

  long width() const { return width_; }
  long height() const { return height_; }
  const std::vector<std::uint8_t>& rgb() const { return rgb_; }

  void set(long x, long y, QcColour c) {
    if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
    const auto p = static_cast<std::size_t>(3 * (x + width_ * y));
    rgb_[p] = c.r;
    rgb_[p + 1] = c.g;
    rgb_[p + 2] = c.b;
  }
  void fill_rect(long x, long y, long w, long h, QcColour c) {
    for (long yy = y; yy < y + h; ++yy) {
      for (long xx = x; xx < x + w; ++xx) set(xx, yy, c);
    }
  }
  // Text with its top-left corner at (x, y).
  void draw_text(long x, long y, const std::string& text, QcColour c) {
    for (const char ch : text) {
      const Glyph& g = glyph(ch);
      for (long row = 0; row < kGlyphHeight; ++row) {
        for (long col = 0; col < kGlyphWidth; ++col) {
          if (g.rows[static_cast<std::size_t>(row)] & (1u << (kGlyphWidth - 1 - col))) set(x + col, y + row, c);
        }
      }
      x += kGlyphAdvance;
    }
  }

 private:
  long width_, height_;
  std::vector<std::uint8_t> rgb_;
};

// Writes the raster as an RGB PNG at `path`, atomically.
void save_png(const Raster& raster, const std::string& path) {
  using Image = itk::Image<itk::RGBPixel<unsigned char>, 2>;
  detail::write_atomically(path, [&](const std::string& temp) {
    auto image = Image::New();
    Image::SizeType size;
    size[0] = static_cast<itk::SizeValueType>(raster.width());
    size[1] = static_cast<itk::SizeValueType>(raster.height());
    image->SetRegions(size);
    image->Allocate();
    const std::vector<std::uint8_t>& rgb = raster.rgb();
    Image::PixelType* out = image->GetBufferPointer();
    for (std::size_t p = 0; p < rgb.size() / 3; ++p) out[p].Set(rgb[3 * p], rgb[3 * p + 1], rgb[3 * p + 2]);
    auto writer = itk::ImageFileWriter<Image>::New();
    writer->SetImageIO(itk::PNGImageIO::New());
    writer->SetFileName(temp);
    writer->SetInput(image);
    try {
      writer->Update();
    } catch (const itk::ExceptionObject& e) {
      fail(Status::io, "cannot write PNG '" + path + "': " + e.GetDescription());
    }
  });
}

void require_path(const std::string& path) {
  if (path.empty()) fail(Status::invalid_argument, "output path is empty");
}

std::uint8_t to_byte(double unit) { return static_cast<std::uint8_t>(std::lround(255.0 * std::clamp(unit, 0.0, 1.0))); }

QcColour window_grey(float hu) {
  const std::uint8_t v = to_byte((hu - kWindowLow) / (kWindowHigh - kWindowLow));
  return {v, v, v};
}

QcColour viridis(float value) {
  const double t = std::clamp(static_cast<double>(value), 0.0, 1.0) * (std::size(kViridis) - 1);
  const std::size_t lo = std::min(static_cast<std::size_t>(t), std::size(kViridis) - 2);
  const double f = t - static_cast<double>(lo);
  const QcColour &a = kViridis[lo], &b = kViridis[lo + 1];
  const auto mix = [f](std::uint8_t x, std::uint8_t y) { return to_byte(((1.0 - f) * x + f * y) / 255.0); };
  return {mix(a.r, b.r), mix(a.g, b.g), mix(a.b, b.b)};
}

// Linear interpolation from `out` display pixels onto `n` voxels spanning the same extent.
struct Lerp {
  std::size_t lo, hi;
  double t;
};

std::vector<Lerp> lerp_axis(std::size_t n, long out) {
  std::vector<Lerp> lerps;
  lerps.reserve(static_cast<std::size_t>(out));
  for (long o = 0; o < out; ++o) {
    const double f = std::clamp((o + 0.5) * static_cast<double>(n) / static_cast<double>(out) - 0.5, 0.0,
                                static_cast<double>(n - 1));
    const auto lo = static_cast<std::size_t>(f);
    lerps.push_back({lo, std::min(lo + 1, n - 1), f - static_cast<double>(lo)});
  }
  return lerps;
}

// Draws a view `width` pixels wide at column x0: sample(a, k) is the voxel at index a across the view
// (n_across voxels) on canonical slice k; rows run over all slices, superior up.
template <typename Sample>
void draw_view(Raster& raster, long x0, long width, std::size_t n_across, std::size_t n_slices, Sample sample) {
  const std::vector<Lerp> across = lerp_axis(n_across, width);
  const std::vector<Lerp> down = lerp_axis(n_slices, raster.height());
  for (long y = 0; y < raster.height(); ++y) {
    const Lerp& k = down[static_cast<std::size_t>(y)];
    for (long x = 0; x < width; ++x) {
      const Lerp& a = across[static_cast<std::size_t>(x)];
      const double top = (1.0 - a.t) * sample(a.lo, k.lo) + a.t * sample(a.hi, k.lo);
      const double bottom = (1.0 - a.t) * sample(a.lo, k.hi) + a.t * sample(a.hi, k.hi);
      raster.set(x0 + x, y, window_grey(static_cast<float>((1.0 - k.t) * top + k.t * bottom)));
    }
  }
}

// Mean canonical (i, j) of voxels above body::kBodyHu over up to kCentreSlices evenly spaced slices, rounded;
// the grid centre when no voxel is above it.
std::pair<std::size_t, std::size_t> body_centre(const Volume& v) {
  const Geometry& g = v.geometry();
  const std::size_t count = std::min(kCentreSlices, g.size[2]);
  double si = 0, sj = 0, n = 0;
  for (std::size_t s = 0; s < count; ++s) {
    const std::size_t k = (2 * s + 1) * g.size[2] / (2 * count);
    for (std::size_t j = 0; j < g.size[1]; ++j) {
      for (std::size_t i = 0; i < g.size[0]; ++i) {
        if (v.at(i, j, k) > body::kBodyHu) {
          si += static_cast<double>(i);
          sj += static_cast<double>(j);
          n += 1;
        }
      }
    }
  }
  if (n == 0) return {g.size[0] / 2, g.size[1] / 2};
  return {static_cast<std::size_t>(std::lround(si / n)), static_cast<std::size_t>(std::lround(sj / n))};
}

}  // namespace

QcColour qc_mark_colour(std::size_t mark_index) { return kMarkPalette[mark_index % std::size(kMarkPalette)]; }

void write_key_slice_png(const CanonicalVolume& volume, const std::vector<QcMark>& marks, const std::string& path) {
  require_path(path);
  const Volume& v = volume.volume;
  if (v.empty()) fail(Status::invalid_argument, "volume is empty");
  for (const QcMark& mark : marks) {
    if (!std::isfinite(mark.canonical_slice)) {
      fail(Status::invalid_argument, "mark '" + mark.label + "' has a non-finite canonical slice");
    }
  }

  const Geometry& g = v.geometry();
  const double height_mm = static_cast<double>(g.size[2]) * g.spacing[2];
  const double coronal_mm = static_cast<double>(g.size[0]) * g.spacing[0];
  const double sagittal_mm = static_cast<double>(g.size[1]) * g.spacing[1];
  const double pixel_mm = std::max({std::min({g.spacing[0], g.spacing[1], g.spacing[2]}), height_mm / kMaxViewPixels,
                                    coronal_mm / kMaxViewPixels, sagittal_mm / kMaxViewPixels});
  const auto pixels = [pixel_mm](double mm) { return std::max(1L, std::lround(mm / pixel_mm)); };
  const long height = pixels(height_mm);
  const long coronal_width = pixels(coronal_mm);
  const long sagittal_width = pixels(sagittal_mm);

  Raster raster(coronal_width + kViewGap + sagittal_width, height, kBlack);
  const auto [ci, cj] = body_centre(v);
  draw_view(raster, 0, coronal_width, g.size[0], g.size[2],
            [&, cj = cj](std::size_t i, std::size_t k) { return v.at(i, cj, k); });
  draw_view(raster, coronal_width + kViewGap, sagittal_width, g.size[1], g.size[2],
            [&, ci = ci](std::size_t j, std::size_t k) { return v.at(ci, j, k); });

  // Lines first, then labels on top, so no line crosses a label.
  const double slices = static_cast<double>(g.size[2]);
  std::vector<std::pair<std::size_t, long>> drawn;  // mark index, row
  for (std::size_t m = 0; m < marks.size(); ++m) {
    const double s = marks[m].canonical_slice;
    if (s < -0.5 || s > slices - 0.5) continue;
    const long row =
        std::clamp(static_cast<long>(std::floor((s + 0.5) * static_cast<double>(height) / slices)), 0L, height - 1);
    for (long x = 0; x < raster.width(); ++x) {
      if (!marks[m].dashed || x % kDashPeriod < kDashOn) raster.set(x, row, qc_mark_colour(m));
    }
    drawn.emplace_back(m, row);
  }
  for (const auto& [m, row] : drawn) {
    const long box_height = kGlyphHeight + 2;
    const long top = row - box_height >= 0 ? row - box_height : row + 1;
    raster.fill_rect(0, top, text_width(marks[m].label) + 2, box_height, kBlack);
    raster.draw_text(1, top + 1, marks[m].label, qc_mark_colour(m));
  }
  save_png(raster, path);
}

void write_heatmap_png(const std::vector<float>& values, std::size_t rows, std::size_t cols, const std::string& path,
                       const std::vector<std::pair<std::size_t, std::string>>& column_labels) {
  require_path(path);
  if (rows == 0 || cols == 0) {
    fail(Status::invalid_argument,
         "heat map has zero rows or columns (" + std::to_string(rows) + " x " + std::to_string(cols) + ")");
  }
  if (rows > std::numeric_limits<std::size_t>::max() / cols || values.size() != rows * cols) {
    fail(Status::invalid_argument, "heat map has " + std::to_string(values.size()) +
                                       " values, expected rows x cols = " + std::to_string(rows) + " x " +
                                       std::to_string(cols));
  }
  for (std::size_t p = 0; p < values.size(); ++p) {
    if (!std::isfinite(values[p])) {
      fail(Status::invalid_argument, "heat map value at row " + std::to_string(p / cols) + ", column " +
                                         std::to_string(p % cols) + " is not finite");
    }
  }
  for (const auto& [column, text] : column_labels) {
    if (column >= cols) {
      fail(Status::invalid_argument, "column label '" + text + "' is for column " + std::to_string(column) +
                                         " of a heat map with " + std::to_string(cols) + " columns");
    }
  }

  const long cell_w = static_cast<long>((kHeatmapMinSide + cols - 1) / cols);
  const long cell_h = static_cast<long>((kHeatmapMinSide + rows - 1) / rows);
  const long grid_w = cell_w * static_cast<long>(cols);
  const long grid_h = cell_h * static_cast<long>(rows);
  const long band = column_labels.empty() ? 0 : kTickLength + kGlyphHeight + 3;
  Raster raster(grid_w + 2, grid_h + 2 + band, kWhite);
  raster.fill_rect(0, 0, grid_w + 2, grid_h + 2, kBlack);
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) {
      raster.fill_rect(1 + static_cast<long>(c) * cell_w, 1 + static_cast<long>(r) * cell_h, cell_w, cell_h,
                       viridis(values[r * cols + c]));
    }
  }
  for (const auto& [column, text] : column_labels) {
    const long centre = 1 + static_cast<long>(column) * cell_w + cell_w / 2;
    raster.fill_rect(centre, grid_h + 2, 1, kTickLength, kBlack);
    const long x = std::max(0L, std::min(centre - text_width(text) / 2, raster.width() - text_width(text)));
    raster.draw_text(x, grid_h + 2 + kTickLength + 1, text, kBlack);
  }
  save_png(raster, path);
}

}  // namespace slicenav

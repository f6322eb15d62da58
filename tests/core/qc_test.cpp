#include "slicenav/qc.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "slicenav/error.hpp"
#include "slicenav/orientation.hpp"
#include "slicenav/phantom.hpp"
#include "test_support.hpp"

namespace slicenav {
namespace fs = std::filesystem;
namespace {

// A decoded 8-bit RGB PNG.
struct Picture {
  long width = 0, height = 0;
  std::vector<std::uint8_t> rgb;

  QcColour at(long x, long y) const {
    const auto p = static_cast<std::size_t>(3 * (x + width * y));
    return {rgb[p], rgb[p + 1], rgb[p + 2]};
  }
};

bool same(QcColour a, QcColour b) { return a.r == b.r && a.g == b.g && a.b == b.b; }
double luminance(QcColour c) { return 0.2126 * c.r + 0.7152 * c.g + 0.0722 * c.b; }

std::uint32_t big_endian(const std::string& bytes, std::size_t at) {
  std::uint32_t v = 0;
  for (std::size_t b = 0; b < 4; ++b) v = (v << 8) | static_cast<unsigned char>(bytes.at(at + b));
  return v;
}

// Reads an 8-bit RGB, non-interlaced PNG with zlib alone (independent of the ITK writer under test);
// throws std::runtime_error for anything else.
Picture read_png(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) throw std::runtime_error(path + " is not a PNG");
  Picture picture;
  std::string compressed;
  for (std::size_t at = 8; at + 8 <= bytes.size();) {
    const std::uint32_t length = big_endian(bytes, at);
    const std::string type = bytes.substr(at + 4, 4);
    const std::string data = bytes.substr(at + 8, length);
    if (type == "IHDR") {
      picture.width = big_endian(data, 0);
      picture.height = big_endian(data, 4);
      if (data[8] != 8 || data[9] != 2 || data[12] != 0) throw std::runtime_error(path + " is not 8-bit RGB");
    } else if (type == "IDAT") {
      compressed += data;
    } else if (type == "IEND") {
      break;
    }
    at += 12 + length;
  }
  const auto stride = static_cast<std::size_t>(3 * picture.width);
  std::vector<std::uint8_t> raw(static_cast<std::size_t>(picture.height) * (stride + 1));
  uLongf raw_size = raw.size();
  if (uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(compressed.data()), compressed.size()) != Z_OK ||
      raw_size != raw.size()) {
    throw std::runtime_error(path + ": bad image data");
  }
  picture.rgb.resize(stride * static_cast<std::size_t>(picture.height));
  for (std::size_t y = 0; y < static_cast<std::size_t>(picture.height); ++y) {
    const std::uint8_t filter = raw[y * (stride + 1)];
    const std::uint8_t* in_row = &raw[y * (stride + 1) + 1];
    std::uint8_t* row = &picture.rgb[y * stride];
    const std::uint8_t* above = y > 0 ? &picture.rgb[(y - 1) * stride] : nullptr;
    for (std::size_t x = 0; x < stride; ++x) {
      const int a = x >= 3 ? row[x - 3] : 0;
      const int b = above != nullptr ? above[x] : 0;
      const int c = x >= 3 && above != nullptr ? above[x - 3] : 0;
      const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
      const int predictor[] = {0, a, b, (a + b) / 2, pa <= pb && pa <= pc ? a : pb <= pc ? b : c};
      if (filter > 4) throw std::runtime_error(path + ": bad filter type");
      row[x] = static_cast<std::uint8_t>(in_row[x] + predictor[filter]);
    }
  }
  return picture;
}

// A canonical phantom: 48 x 40 x 60 voxels of 4 x 4 x 5 mm, so a display pixel is 4 mm and the picture
// is 75 rows tall, the coronal view 48 and the sagittal view 40 columns wide.
CanonicalVolume small_phantom() {
  PhantomOptions options;
  options.size = {48, 40, 60};
  options.spacing = {4.0, 4.0, 5.0};
  options.orientation = "RAS";
  options.noise_hu = 0.0;
  return canonicalize(make_phantom(options).volume);
}
constexpr long kCoronalWidth = 48, kSagittalX = 48 + 4, kSagittalWidth = 40, kHeight = 75;

// Picture row of a canonical slice of small_phantom() (60 slices over 75 rows).
long row_of(double slice) { return static_cast<long>(std::floor((slice + 0.5) * kHeight / 60.0)); }

long count_colour(const Picture& picture, QcColour colour) {
  long n = 0;
  for (long y = 0; y < picture.height; ++y) {
    for (long x = 0; x < picture.width; ++x) n += same(picture.at(x, y), colour);
  }
  return n;
}

class Qc : public test::TempDirTest {
 protected:
  bool dir_is_empty() const { return fs::is_empty(dir_); }
};

TEST_F(Qc, KeySlicePictureHasPhysicalAspect) {
  write_key_slice_png(small_phantom(), {}, path("key.png"));
  const Picture picture = read_png(path("key.png"));
  EXPECT_EQ(picture.width, kCoronalWidth + 4 + kSagittalWidth);
  EXPECT_EQ(picture.height, kHeight);

  // 400 slices of 2.5 mm are 1000 mm: the picture is capped at 512 rows and the in-plane axes follow.
  PhantomOptions options;
  options.size = {64, 50, 400};
  options.spacing = {1.0, 1.0, 2.5};
  options.noise_hu = 0.0;
  write_key_slice_png(canonicalize(make_phantom(options).volume), {}, path("tall.png"));
  const Picture tall = read_png(path("tall.png"));
  EXPECT_EQ(tall.height, 512);
  const double pixel_mm = 1000.0 / 512.0;
  EXPECT_EQ(tall.width, std::lround(64 / pixel_mm) + 4 + std::lround(50 / pixel_mm));
}

TEST_F(Qc, KeySliceShowsSuperiorUpPatientRightAndAnteriorLeft) {
  // Only the superior, right, anterior octant is body (400 HU); the views cut through its centre.
  Geometry geometry;
  geometry.size = {20, 16, 24};
  geometry.direction = direction_from_code("LPI");
  std::vector<float> voxels(geometry.voxel_count(), -1000.0f);
  for (std::size_t k = 0; k < 12; ++k) {
    for (std::size_t j = 0; j < 8; ++j) {
      for (std::size_t i = 0; i < 10; ++i) voxels[i + 20 * (j + 16 * k)] = 400.0f;
    }
  }
  write_key_slice_png(canonicalize(Volume(geometry, voxels)), {}, path("octant.png"));
  const Picture picture = read_png(path("octant.png"));
  ASSERT_EQ(picture.width, 20 + 4 + 16);
  ASSERT_EQ(picture.height, 24);
  const QcColour white{255, 255, 255}, black{0, 0, 0};
  EXPECT_TRUE(same(picture.at(3, 3), white));        // coronal: superior right
  EXPECT_TRUE(same(picture.at(16, 3), black));       // coronal: superior left
  EXPECT_TRUE(same(picture.at(3, 20), black));       // coronal: inferior right
  EXPECT_TRUE(same(picture.at(24 + 3, 3), white));   // sagittal: superior anterior
  EXPECT_TRUE(same(picture.at(24 + 13, 3), black));  // sagittal: superior posterior
  EXPECT_TRUE(same(picture.at(24 + 3, 20), black));  // sagittal: inferior anterior
}

TEST_F(Qc, MarkLineHasItsColourAtItsRowInBothViews) {
  write_key_slice_png(small_phantom(), {{"liver_dome", 20.0}, {"l3", 40.3}}, path("marks.png"));
  const Picture picture = read_png(path("marks.png"));
  for (const auto& [index, slice] : {std::pair<std::size_t, double>{0, 20.0}, {1, 40.3}}) {
    const QcColour colour = qc_mark_colour(index);
    const long row = row_of(slice);
    for (const long x : {kCoronalWidth / 2, kSagittalX + kSagittalWidth / 2}) {
      EXPECT_TRUE(same(picture.at(x, row), colour)) << "mark " << index << " at x " << x;
      EXPECT_FALSE(same(picture.at(x, row - 1), colour)) << "mark " << index << " at x " << x;
      EXPECT_FALSE(same(picture.at(x, row + 1), colour)) << "mark " << index << " at x " << x;
    }
    // The label is drawn in the mark's colour just above its line at the left edge.
    long label_pixels = 0;
    for (long y = row - 9; y < row; ++y) {
      for (long x = 0; x < kCoronalWidth; ++x) label_pixels += same(picture.at(x, y), colour);
    }
    EXPECT_GT(label_pixels, 10) << "mark " << index;
  }
  EXPECT_FALSE(same(qc_mark_colour(0), qc_mark_colour(1)));
}

TEST_F(Qc, DashedMarkHasGaps) {
  write_key_slice_png(small_phantom(), {{"guess", 30.0, true}}, path("dashed.png"));
  const Picture picture = read_png(path("dashed.png"));
  const long row = row_of(30.0);
  for (long x = 0; x < picture.width; ++x) {
    EXPECT_EQ(same(picture.at(x, row), qc_mark_colour(0)), x % 10 < 6) << "x " << x;
  }
}

TEST_F(Qc, MarksOutsideTheVolumeAreSkipped) {
  const std::vector<QcMark> marks = {
      {"above", -0.6}, {"below", 59.6}, {"first", -0.5}, {"last", 59.5}, {"far", 1e9},
  };
  write_key_slice_png(small_phantom(), marks, path("outside.png"));
  const Picture picture = read_png(path("outside.png"));
  EXPECT_EQ(count_colour(picture, qc_mark_colour(0)), 0);
  EXPECT_EQ(count_colour(picture, qc_mark_colour(1)), 0);
  EXPECT_EQ(count_colour(picture, qc_mark_colour(4)), 0);
  EXPECT_TRUE(same(picture.at(kSagittalX + 5, 0), qc_mark_colour(2)));
  EXPECT_TRUE(same(picture.at(kSagittalX + 5, kHeight - 1), qc_mark_colour(3)));
}

TEST_F(Qc, HeatmapColourRisesWithValue) {
  std::vector<float> values;
  for (int c = 0; c <= 10; ++c) values.push_back(0.1f * static_cast<float>(c));
  write_heatmap_png(values, 1, values.size(), path("ramp.png"));
  const Picture picture = read_png(path("ramp.png"));
  // 11 columns of ceil(256 / 11) = 24 pixels and one row of 256, in a one-pixel frame.
  ASSERT_EQ(picture.width, 11 * 24 + 2);
  ASSERT_EQ(picture.height, 256 + 2);
  EXPECT_TRUE(same(picture.at(0, 0), QcColour{0, 0, 0}));
  EXPECT_TRUE(same(picture.at(picture.width - 1, picture.height - 1), QcColour{0, 0, 0}));
  for (long c = 1; c <= 10; ++c) {
    EXPECT_GT(luminance(picture.at(1 + 24 * c + 12, 128)), luminance(picture.at(1 + 24 * (c - 1) + 12, 128)))
        << "column " << c;
  }
}

TEST_F(Qc, HeatmapHottestCellIsAtItsRowAndColumn) {
  const std::size_t rows = 7, cols = 5;
  std::vector<float> values(rows * cols, 0.1f);
  values[4 * cols + 1] = 0.95f;  // query 4, position 1
  write_heatmap_png(values, rows, cols, path("hot.png"));
  const Picture picture = read_png(path("hot.png"));
  const long cell_w = (256 + 4) / 5, cell_h = (256 + 6) / 7;
  ASSERT_EQ(picture.width, 5 * cell_w + 2);
  ASSERT_EQ(picture.height, 7 * cell_h + 2);
  long best_r = -1, best_c = -1;
  double best = -1.0;
  for (long r = 0; r < 7; ++r) {
    for (long c = 0; c < 5; ++c) {
      const double l = luminance(picture.at(1 + c * cell_w + cell_w / 2, 1 + r * cell_h + cell_h / 2));
      if (l > best) {
        best = l;
        best_r = r;
        best_c = c;
      }
    }
  }
  EXPECT_EQ(best_r, 4);
  EXPECT_EQ(best_c, 1);
}

TEST_F(Qc, HeatmapColumnLabelsGetTicksAndText) {
  const std::vector<float> values(3 * 300, 0.5f);
  write_heatmap_png(values, 3, 300, path("labels.png"), {{0, "above"}, {299, "below"}});
  const Picture picture = read_png(path("labels.png"));
  const long grid_bottom = 3 * 86 + 2;  // rows of ceil(256 / 3) pixels, then the frame
  ASSERT_EQ(picture.width, 300 + 2);
  ASSERT_GT(picture.height, grid_bottom + 8);
  const QcColour black{0, 0, 0};
  EXPECT_TRUE(same(picture.at(1, grid_bottom), black));    // tick under column 0
  EXPECT_TRUE(same(picture.at(300, grid_bottom), black));  // tick under column 299
  EXPECT_TRUE(same(picture.at(150, grid_bottom), QcColour{255, 255, 255}));
  long left = 0, right = 0;
  for (long y = grid_bottom + 3; y < picture.height; ++y) {
    for (long x = 0; x < picture.width; ++x) (x < 150 ? left : right) += same(picture.at(x, y), black);
  }
  EXPECT_GT(left, 10);
  EXPECT_GT(right, 10);
}

TEST_F(Qc, BadInputThrowsAndLeavesNoFile) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<float> six(6, 0.5f);
  const std::string png = path("out.png");
  const std::string missing = (dir_ / "missing" / "out.png").string();
  struct Case {
    const char* what;
    std::function<void()> call;
    Status status;
  };
  const Case cases[] = {
      {"rows x cols mismatch", [&] { write_heatmap_png(six, 2, 4, png); }, Status::invalid_argument},
      {"zero rows", [&] { write_heatmap_png({}, 0, 3, png); }, Status::invalid_argument},
      {"NaN value",
       [&] {
         write_heatmap_png({0.5f, nan}, 1, 2, png);
       },
       Status::invalid_argument},
      {"infinite value", [&] { write_heatmap_png({std::numeric_limits<float>::infinity()}, 1, 1, png); },
       Status::invalid_argument},
      {"label past the last column",
       [&] {
         write_heatmap_png(six, 2, 3, png, {{3, "x"}});
       },
       Status::invalid_argument},
      {"empty heat map path", [&] { write_heatmap_png(six, 2, 3, ""); }, Status::invalid_argument},
      {"heat map in a missing directory", [&] { write_heatmap_png(six, 2, 3, missing); }, Status::io},
      {"empty key-slice path", [&] { write_key_slice_png(small_phantom(), {}, ""); }, Status::invalid_argument},
      {"NaN mark",
       [&] {
         write_key_slice_png(small_phantom(), {{"x", std::nan("")}}, png);
       },
       Status::invalid_argument},
      {"empty volume", [&] { write_key_slice_png(CanonicalVolume{}, {}, png); }, Status::invalid_argument},
      {"key slice in a missing directory", [&] { write_key_slice_png(small_phantom(), {}, missing); }, Status::io},
  };
  for (const Case& c : cases) {
    std::string message;
    EXPECT_EQ(test::status_of(c.call, &message), c.status) << c.what;
    EXPECT_FALSE(message.empty()) << c.what;
    EXPECT_TRUE(dir_is_empty()) << c.what;
  }
}

}  // namespace
}  // namespace slicenav

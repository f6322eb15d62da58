#include "slicenav/volume.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>

#include "slicenav/error.hpp"
#include "slicenav/phantom.hpp"
#include "test_support.hpp"
#include "volume_variants.hpp"

namespace slicenav {
namespace {

Geometry small_geometry() {
  Geometry g;
  g.size = {4, 3, 2};
  g.spacing = {0.5, 2.0, 3.0};
  g.origin = {10.0, -20.0, 30.0};
  return g;
}

}  // namespace

TEST(Volume, IndexAndWorldAreInverse) {
  Geometry g = small_geometry();
  g.direction = {0, -1, 0, 1, 0, 0, 0, 0, 1};  // i -> +y, j -> -x
  const Vec3 index{1.5, 2.0, 1.0};
  const Vec3 world = g.index_to_world(index);
  EXPECT_DOUBLE_EQ(world[0], 10.0 - 2.0 * 2.0);
  EXPECT_DOUBLE_EQ(world[1], -20.0 + 0.5 * 1.5);
  EXPECT_DOUBLE_EQ(world[2], 33.0);
  const Vec3 back = g.world_to_index(world);
  for (int a = 0; a < 3; ++a) EXPECT_NEAR(back[a], index[a], 1e-12);
}

TEST(Volume, WorldBoundsAreTheCornersWhateverTheDirection) {
  // 2 x 3 x 4 mm voxels; index axis i runs along -y, j along +z, k along -x (a permuted, flipped direction).
  Geometry g;
  g.size = {10, 20, 30};
  g.spacing = {2.0, 3.0, 4.0};
  g.origin = {100.0, -50.0, 7.0};
  g.direction = {0, 0, -1, -1, 0, 0, 0, 1, 0};
  const WorldBox b = world_bounds(g, {1, 2, 3}, {4, 5, 6});
  // x = 100 - 4k for k in 3..6; y = -50 - 2i for i in 1..4; z = 7 + 3j for j in 2..5.
  EXPECT_DOUBLE_EQ(b.lo[0], 76.0);
  EXPECT_DOUBLE_EQ(b.hi[0], 88.0);
  EXPECT_DOUBLE_EQ(b.lo[1], -58.0);
  EXPECT_DOUBLE_EQ(b.hi[1], -52.0);
  EXPECT_DOUBLE_EQ(b.lo[2], 13.0);
  EXPECT_DOUBLE_EQ(b.hi[2], 22.0);
  // One voxel: its centre, twice.
  const WorldBox one = world_bounds(g, {0, 0, 0}, {0, 0, 0});
  EXPECT_EQ(one.lo, g.origin);
  EXPECT_EQ(one.hi, g.origin);
}

TEST(Volume, VoxelLayoutIsXFastest) {
  std::vector<float> voxels(24);
  for (std::size_t n = 0; n < voxels.size(); ++n) voxels[n] = static_cast<float>(n);
  const Volume v(small_geometry(), voxels);
  EXPECT_EQ(v.at(1, 0, 0), 1.0f);
  EXPECT_EQ(v.at(0, 1, 0), 4.0f);
  EXPECT_EQ(v.at(0, 0, 1), 12.0f);
  EXPECT_EQ(v.at(3, 2, 1), 23.0f);
}

TEST(Volume, SliceRangeKeepsEveryVoxelAtItsWorldPositionAndItsStorage) {
  Geometry g = small_geometry();
  g.direction = {0, -1, 0, 1, 0, 0, 0, 0, 1};
  std::vector<float> voxels(24);
  for (std::size_t n = 0; n < voxels.size(); ++n) voxels[n] = static_cast<float>(n);
  const std::vector<std::int16_t> whole(voxels.begin(), voxels.end());
  for (const Volume& v : {Volume(g, voxels), Volume(g, whole)}) {
    for (int axis = 0; axis < 3; ++axis) {
      const auto a = static_cast<std::size_t>(axis);
      const std::size_t first = 1, count = g.size[a] - 1;
      const Volume part = slice_range(v, axis, first, count);
      ASSERT_EQ(part.geometry().size[a], count);
      EXPECT_EQ(part.source().format, "memory");
      EXPECT_EQ(part.int16_voxels() != nullptr, v.int16_voxels() != nullptr);
      const auto& s = part.geometry().size;
      for (std::size_t k = 0; k < s[2]; ++k) {
        for (std::size_t j = 0; j < s[1]; ++j) {
          for (std::size_t i = 0; i < s[0]; ++i) {
            std::array<std::size_t, 3> src{i, j, k};
            src[a] += first;
            EXPECT_EQ(part.at(i, j, k), v.at(src[0], src[1], src[2]));
            const Vec3 w = part.geometry().index_to_world({double(i), double(j), double(k)});
            const Vec3 w0 = g.index_to_world({double(src[0]), double(src[1]), double(src[2])});
            for (std::size_t c = 0; c < 3; ++c) EXPECT_NEAR(w[c], w0[c], 1e-12);
          }
        }
      }
    }
    EXPECT_EQ(test::status_of([&] { (void)slice_range(v, 3, 0, 1); }), Status::invalid_argument);
    EXPECT_EQ(test::status_of([&] { (void)slice_range(v, 2, 0, 0); }), Status::invalid_argument);
    EXPECT_EQ(test::status_of([&] { (void)slice_range(v, 2, 1, 2); }), Status::invalid_argument);
    EXPECT_EQ(test::status_of([&] { (void)slice_range(v, 2, 2, 1); }), Status::invalid_argument);
  }
}

TEST(Volume, Int16StorageGivesTheSameValuesAsFloatAndIsShared) {
  const Geometry g = small_geometry();
  std::vector<std::int16_t> stored(24);
  for (std::size_t n = 0; n < stored.size(); ++n) stored[n] = static_cast<std::int16_t>(-1024 + 100 * n);
  const Volume v(g, stored);
  ASSERT_NE(v.int16_voxels(), nullptr);
  EXPECT_EQ(v.float_voxels(), nullptr);
  EXPECT_EQ(v.voxel_count(), 24u);
  const std::vector<float> floats = v.voxels_as_float();
  for (std::size_t n = 0; n < stored.size(); ++n) {
    EXPECT_EQ(floats[n], static_cast<float>(stored[n]));
    EXPECT_EQ(v.at(n), floats[n]);
  }
  EXPECT_EQ(v.at(3, 2, 1), floats[3 + 4 * (2 + 3 * 1)]);
  EXPECT_EQ(v.value_range(), (std::array<float, 2>{-1024.0f, 1276.0f}));
  EXPECT_TRUE(v.any_below(-1023.5f));
  EXPECT_FALSE(v.any_below(-1024.0f));
  EXPECT_FALSE(Volume().any_below(0.0f));
  const Volume copy = v;  // immutable: copies share the voxels
  EXPECT_EQ(copy.int16_voxels(), v.int16_voxels());
  stored.pop_back();
  EXPECT_EQ(test::status_of([&] { (void)Volume(g, stored); }), Status::invalid_argument);
  EXPECT_TRUE(Volume().empty());
}

// Packed voxels give every value back exactly whatever a block's range (constant rows, the whole int16 range,
// CT-like noise), rows of two full blocks and a shorter one: through at(), the whole-volume reads, slices of any
// axis and the unpacked copy, made once, when int16_voxels() asks for it, and shared by copies.
TEST(Volume, PackedVoxelsGiveBackEveryValueExactly) {
  Geometry g;
  g.size = {150, 7, 5};
  std::vector<std::int16_t> stored(g.voxel_count());
  std::uint32_t state = 12345;
  const auto next = [&] { return state = state * 1664525u + 1013904223u; };
  for (std::size_t n = 0; n < stored.size(); ++n) {
    const std::size_t row = n / g.size[0];
    if (row % 3 == 0) {
      stored[n] = -1024;  // air: a block of one value takes no bits
    } else if (row % 3 == 1) {
      stored[n] = static_cast<std::int16_t>(static_cast<std::uint16_t>(next() >> 16));  // all 16 bits
    } else {
      stored[n] = static_cast<std::int16_t>(40 + static_cast<int>(next() >> 27));  // soft tissue and noise
    }
  }
  stored[g.size[0] - 1] = std::numeric_limits<std::int16_t>::max();
  stored[2 * g.size[0]] = std::numeric_limits<std::int16_t>::min();
  const Volume plain(g, stored);
  const Volume packed = pack_voxels(plain);
  ASSERT_TRUE(packed.packed());
  EXPECT_FALSE(plain.packed());
  EXPECT_EQ(packed.float_voxels(), nullptr);
  EXPECT_EQ(packed.voxel_count(), plain.voxel_count());
  const std::size_t packed_bytes = packed.voxel_bytes();
  for (std::size_t n = 0; n < stored.size(); ++n) ASSERT_EQ(packed.at(n), static_cast<float>(stored[n])) << n;
  EXPECT_EQ(packed.voxels_as_float(), plain.voxels_as_float());
  EXPECT_EQ(packed.value_range(), plain.value_range());
  for (const float threshold : {-32768.0f, -32767.5f, -1023.0f}) {
    EXPECT_EQ(packed.any_below(threshold), plain.any_below(threshold));
  }
  for (int axis = 0; axis < 3; ++axis) {
    const Volume a = slice_range(plain, axis, 1, 3), b = slice_range(packed, axis, 1, 3);
    EXPECT_EQ(b.voxels_as_float(), a.voxels_as_float()) << "axis " << axis;
    EXPECT_EQ(b.geometry().origin, a.geometry().origin);
  }
  EXPECT_EQ(packed.voxel_bytes(), packed_bytes);  // nothing so far unpacked it
  const Volume copy = packed;
  const std::int16_t* unpacked = packed.int16_voxels();
  ASSERT_NE(unpacked, nullptr);
  EXPECT_TRUE(std::equal(stored.begin(), stored.end(), unpacked));
  EXPECT_EQ(copy.int16_voxels(), unpacked);  // unpacked once, for every copy
  EXPECT_EQ(packed.voxel_bytes(), packed_bytes + stored.size() * sizeof(std::int16_t));
  EXPECT_EQ(pack_voxels(packed).packed_voxels(), packed.packed_voxels());  // already packed
  const Volume floats(g, plain.voxels_as_float());
  EXPECT_FALSE(pack_voxels(floats).packed());
  EXPECT_EQ(pack_voxels(floats).float_voxels(), floats.float_voxels());
}

// A CT packs to about half its int16 bytes: air and the table's surroundings take few bits a voxel.
TEST(Volume, PackedCtTakesAboutHalfItsInt16Bytes) {
  PhantomOptions o;
  o.size = {128, 128, 40};
  o.spacing = {3.2, 3.2, 10.0};
  const Volume ct = test::whole_hu_twins(make_phantom(o).volume).second;
  ASSERT_NE(ct.int16_voxels(), nullptr);
  const Volume packed = pack_voxels(ct);
  EXPECT_LT(packed.voxel_bytes(), ct.voxel_bytes() * 6 / 10);
  EXPECT_EQ(packed.voxels_as_float(), ct.voxels_as_float());
}

TEST(Volume, OwnsAllocatedVoxelsOfEitherTypeAndChecksFloatsAreFinite) {
  const Geometry g = small_geometry();
  const std::shared_ptr<std::int16_t> whole = allocate_voxels<std::int16_t>(g.voxel_count());
  const std::shared_ptr<float> floats = allocate_voxels<float>(g.voxel_count());
  for (std::size_t n = 0; n < g.voxel_count(); ++n) {
    whole.get()[n] = static_cast<std::int16_t>(n);
    floats.get()[n] = static_cast<float>(n) + 0.5f;
  }
  const Volume a(g, std::shared_ptr<const std::int16_t>(whole));
  const Volume b(g, std::shared_ptr<const float>(floats));
  EXPECT_EQ(a.int16_voxels(), whole.get());  // owned, not copied
  EXPECT_EQ(b.float_voxels(), floats.get());
  EXPECT_EQ(a.at(5), 5.0f);
  EXPECT_EQ(b.at(5), 5.5f);
  floats.get()[7] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(test::status_of([&] { (void)Volume(g, std::shared_ptr<const float>(floats)); }), Status::invalid_argument);
  EXPECT_EQ(test::status_of([&] { (void)Volume(g, std::shared_ptr<const float>()); }), Status::invalid_argument);
}

TEST(Volume, RejectsBadGeometryWithNamedProblem) {
  auto make = [](Geometry g, std::size_t n = 24) { return [g, n] { Volume(g, std::vector<float>(n)); }; };
  Geometry zero_size = small_geometry();
  zero_size.size[2] = 0;
  EXPECT_EQ(test::status_of(make(zero_size, 0)), Status::invalid_argument);
  for (double bad : {0.0, -1.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    Geometry g = small_geometry();
    g.spacing[1] = bad;
    try {
      Volume(g, std::vector<float>(24));
      FAIL() << "spacing " << bad << " accepted";
    } catch (const Error& e) {
      EXPECT_EQ(e.status(), Status::invalid_argument);
      EXPECT_NE(std::string(e.what()).find("spacing along j"), std::string::npos) << e.what();
    }
  }
  Geometry singular = small_geometry();
  singular.direction = {1, 1, 0, 0, 0, 0, 0, 0, 1};
  EXPECT_EQ(test::status_of(make(singular)), Status::invalid_argument);
  Geometry not_unit = small_geometry();
  not_unit.direction = {2, 0, 0, 0, 1, 0, 0, 0, 1};
  EXPECT_EQ(test::status_of(make(not_unit)), Status::invalid_argument);
  EXPECT_EQ(test::status_of(make(small_geometry(), 23)), Status::invalid_argument);
}

TEST(Volume, RejectsNonFiniteVoxelsNamingTheLocation) {
  std::vector<float> voxels(24, 0.0f);
  voxels[1 + 4 * (2 + 3 * 1)] = std::numeric_limits<float>::infinity();
  try {
    Volume(small_geometry(), voxels);
    FAIL() << "inf accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::invalid_argument);
    EXPECT_NE(std::string(e.what()).find("(1, 2, 1)"), std::string::npos) << e.what();
  }
  voxels.assign(24, 0.0f);
  voxels[0] = std::nanf("");
  EXPECT_EQ(test::status_of([&] { Volume(small_geometry(), voxels); }), Status::invalid_argument);
}

}  // namespace slicenav

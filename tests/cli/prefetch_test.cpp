// VolumePrefetcher (bindings/cli/cli_common.cpp): a batch's next image read on a second thread while the current
// one is worked on. Each volume comes back whole whatever the order it is asked for in, a read that fails is
// reported when its image is taken, and reads ahead of images that are never taken are dropped. Under
// ThreadSanitizer (scripts/sanitize.sh) the reads ahead run beside reads on the calling thread.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "cli_common.hpp"
#include "temp_dir_test.hpp"

namespace slicenav::cli {
namespace {

using Prefetch = test::TempDirTest;

constexpr std::size_t kDims[3] = {8, 6, 4};
constexpr std::size_t kCount = 8 * 6 * 4;

// A small volume whose every voxel is `value`, written to dir/name.nii.gz.
std::string write_volume(const std::string& path, float value) {
  const std::vector<float> voxels(kCount, value);
  const double spacing[3] = {1.0, 1.0, 2.0}, origin[3] = {0.0, 0.0, 0.0};
  slicenav_volume* raw = nullptr;
  EXPECT_EQ(slicenav_volume_from_buffer(&raw, voxels.data(), SLICENAV_PIXEL_FLOAT32, kDims, spacing, origin, nullptr),
            SLICENAV_OK);
  const VolumePtr volume(raw, &slicenav_volume_free);
  EXPECT_EQ(slicenav_volume_write(path.c_str(), volume.get(), nullptr), SLICENAV_OK);
  return path;
}

// The value every voxel of `volume` holds (NaN when they differ or the volume is not the written size).
float value_of(const slicenav_volume* volume) {
  std::vector<float> voxels(kCount);
  std::size_t n = 0;
  if (slicenav_volume_copy_voxels(voxels.data(), voxels.size(), &n, volume) != SLICENAV_OK || n != kCount) return NAN;
  for (const float v : voxels) {
    if (v != voxels[0]) return NAN;
  }
  return voxels[0];
}

TEST_F(Prefetch, EveryImageComesBackWholeInListOrderAndOutOfIt) {
  std::vector<std::string> paths;
  for (int k = 0; k < 5; ++k)
    paths.push_back(write_volume((dir_ / ("v" + std::to_string(k) + ".nii.gz")).string(), 10.0f * k));
  {
    VolumePrefetcher prefetcher(paths);
    for (int k = 0; k < 5; ++k) EXPECT_EQ(value_of(prefetcher.take(paths[k]).get()), 10.0f * k) << k;
  }
  {
    // Out of order: v3 first (read ahead: v4), then v1 (v4 dropped; read ahead: v2), v2, then v1 again (not read
    // ahead: read when taken), and a path not in the list.
    VolumePrefetcher prefetcher(paths);
    for (const int k : {3, 1, 2, 1}) EXPECT_EQ(value_of(prefetcher.take(paths[k]).get()), 10.0f * k) << k;
    const std::string other = write_volume((dir_ / "other.nii.gz").string(), -5.0f);
    EXPECT_EQ(value_of(prefetcher.take(other).get()), -5.0f);
  }
}

TEST_F(Prefetch, AFailedReadIsReportedWhenItsImageIsTaken) {
  const std::string a = write_volume((dir_ / "a.nii.gz").string(), 1.0f);
  const std::string broken = write("broken.nii.gz", "not a volume at all");
  const std::string missing = (dir_ / "missing.nii.gz").string();
  const std::string c = write_volume((dir_ / "c.nii.gz").string(), 3.0f);
  VolumePrefetcher prefetcher({a, broken, missing, c});
  EXPECT_EQ(value_of(prefetcher.take(a).get()), 1.0f);  // broken is read ahead now
  for (const std::string& bad : {broken, missing}) {
    try {
      prefetcher.take(bad);
      ADD_FAILURE() << bad << " taken";
    } catch (const Failure& f) {
      EXPECT_NE(f.status, SLICENAV_OK);
      EXPECT_NE(f.message.find(bad), std::string::npos) << f.message;
    }
  }
  EXPECT_EQ(value_of(prefetcher.take(c).get()), 3.0f);
}

TEST_F(Prefetch, AReadAheadNeverTakenEndsWithThePrefetcher) {
  const std::string a = write_volume((dir_ / "a.nii.gz").string(), 1.0f);
  const std::string b = write_volume((dir_ / "b.nii.gz").string(), 2.0f);
  VolumePrefetcher prefetcher({a, b});
  EXPECT_EQ(value_of(prefetcher.take(a).get()), 1.0f);
  // b is being read ahead; the prefetcher is destroyed without taking it, and waits for the read.
}

}  // namespace
}  // namespace slicenav::cli

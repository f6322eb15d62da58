// The elastix plugin: parameter files and presets, finding the executables, the initial transform files
// checked against the real transformix, and whole registrations with the real elastix (a failing one on
// phantoms, a real pair with a known offset). Cases needing elastix or the real data skip without them.
#include "slicenav/elastix/parameters.hpp"
#include "slicenav/elastix/process.hpp"
#include "slicenav/elastix/register.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "plugin_test_support.hpp"
#include "slicenav.h"
#include "slicenav_experimental.h"
#include "temp_dir_test.hpp"
#include "test_data.hpp"

namespace slicenav::elastix {
namespace {

namespace fs = std::filesystem;
using VolumePtr = std::unique_ptr<slicenav_volume, decltype(&slicenav_volume_free)>;

// The known answer of pairs/ts_example_ct_sm (see its offset JSON): its header z is 246 mm below the true
// z, so a point of ts_example_ct maps to 246 mm lower in ts_example_ct_sm's header frame.
constexpr double kTsPairTranslationZ = -246.0;

using ElastixTest = test::TempDirTest;

using test::plugin_status_of;

bool have_elastix() { return !find_executable("elastix").empty() && !find_executable("transformix").empty(); }

#define REQUIRE_ELASTIX() \
  if (!have_elastix()) GTEST_SKIP() << "elastix/transformix not on PATH (Debian package 'elastix')"

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    if (value != nullptr)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~ScopedEnv() {
    if (had_)
      ::setenv(name_.c_str(), old_.c_str(), 1);
    else
      ::unsetenv(name_.c_str());
  }

 private:
  std::string name_, old_;
  bool had_ = false;
};

VolumePtr phantom(double top_z_mm, uint64_t seed) {
  slicenav_phantom_params p = slicenav_phantom_default_params();
  p.size[0] = 48;
  p.size[1] = 40;
  p.size[2] = 24;
  p.spacing[0] = p.spacing[1] = 8.0;
  p.spacing[2] = 10.0;
  p.top_z_mm = top_z_mm;
  p.seed = seed;
  slicenav_volume* raw = nullptr;
  EXPECT_EQ(slicenav_phantom_create(&raw, &p), SLICENAV_OK) << slicenav_last_error();
  return VolumePtr(raw, &slicenav_volume_free);
}

VolumePtr read_volume(const std::string& path) {
  slicenav_volume* raw = nullptr;
  EXPECT_EQ(slicenav_volume_read(&raw, path.c_str(), nullptr), SLICENAV_OK) << slicenav_last_error();
  return VolumePtr(raw, &slicenav_volume_free);
}

std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// ---- parameter files and presets ------------------------------------------------------------------

TEST(ElastixParameters, ParsesEntriesCommentsAndQuotedSlashes) {
  const auto file = ParameterFile::parse(
      "// comment\n(Transform \"EulerTransform\") // trailing\n\n  (Size 10 20 30)\n(Path \"/a//b\")\n", "text");
  EXPECT_EQ(file.text("Transform"), "EulerTransform");
  EXPECT_EQ(file.numbers("Size"), (std::vector<double>{10, 20, 30}));
  EXPECT_EQ(file.text("Path"), "/a//b");
  EXPECT_FALSE(file.has("Origin"));
  EXPECT_EQ(plugin_status_of([&] { file.numbers("Transform"); }), SLICENAV_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(plugin_status_of([&] { file.numbers("Origin"); }), SLICENAV_ERR_INVALID_ARGUMENT);
}

TEST(ElastixParameters, SetReplacesOrAppends) {
  auto file = ParameterFile::parse("(A 1)\n(B \"x\")\n", "text");
  file.set("A", "2");
  file.set_text("C", "y");
  EXPECT_EQ(file.str(), "(A 2)\n(B \"x\")\n(C \"y\")\n");
}

TEST(ElastixParameters, MalformedLineNamesFileAndLine) {
  std::string message;
  EXPECT_EQ(plugin_status_of([] { ParameterFile::parse("(A 1)\nB 2\n", "p.txt"); }, &message),
            SLICENAV_ERR_INVALID_ARGUMENT);
  EXPECT_NE(message.find("'p.txt' line 2"), std::string::npos) << message;
}

TEST(ElastixPresets, BundledPresetsAreFoundAndParse) {
  for (const auto& [name, transform] : {std::pair{"rigid", "EulerTransform"}, std::pair{"affine", "AffineTransform"}}) {
    const std::string path = preset_path(name);
    EXPECT_TRUE(fs::path(path).is_absolute()) << path;
    const auto file = ParameterFile::read(path);
    EXPECT_EQ(file.text("Transform"), transform);
    EXPECT_EQ(file.text("Metric"), "AdvancedMattesMutualInformation");
  }
}

TEST(ElastixPresets, UnknownNameAndMissingPathAreErrors) {
  std::string message;
  EXPECT_EQ(plugin_status_of([] { preset_path("bspline"); }, &message), SLICENAV_ERR_INVALID_ARGUMENT);
  EXPECT_NE(message.find("rigid, affine"), std::string::npos) << message;
  EXPECT_EQ(plugin_status_of([] { preset_path("/nonexistent/params.txt"); }), SLICENAV_ERR_NOT_FOUND);
}

// ---- finding the tools ----------------------------------------------------------------------------

TEST_F(ElastixTest, MissingElastixIsNotFoundWithAHint) {
  const ScopedEnv path("PATH", dir_.c_str());  // a folder without elastix
  const ScopedEnv elastix("SLICENAV_ELASTIX", nullptr);
  std::string message;
  EXPECT_EQ(plugin_status_of([] { find_tools(); }, &message), SLICENAV_ERR_NOT_FOUND);
  EXPECT_NE(message.find("elastix not found"), std::string::npos) << message;
  EXPECT_NE(message.find("--elastix"), std::string::npos) << message;
  EXPECT_EQ(plugin_status_of([&] { find_tools((dir_ / "elastix").string()); }), SLICENAV_ERR_NOT_FOUND);
}

TEST_F(ElastixTest, EnvironmentNamesTheExecutables) {
  REQUIRE_ELASTIX();
  const std::string elastix = find_executable("elastix");
  const ScopedEnv path("PATH", dir_.c_str());
  const ScopedEnv from_env("SLICENAV_ELASTIX", elastix.c_str());
  const Tools tools = find_tools();
  EXPECT_EQ(tools.elastix, elastix);
  EXPECT_EQ(fs::path(tools.transformix).filename(), "transformix");  // found beside elastix
  const ScopedEnv bad("SLICENAV_TRANSFORMIX", (dir_ / "transformix").c_str());
  EXPECT_EQ(plugin_status_of([] { find_tools(); }), SLICENAV_ERR_NOT_FOUND);
}

TEST_F(ElastixTest, ProcessTimeoutStopsTheChild) {
  const std::string sleep = find_executable("sleep");
  if (sleep.empty()) GTEST_SKIP() << "no sleep executable";
  const ProcessResult r = run_process({sleep, "30"}, (dir_ / "out.txt").string(), 0.3);
  EXPECT_TRUE(r.timed_out);
  EXPECT_LT(r.seconds, 5.0);
  EXPECT_EQ(plugin_status_of([&] { run_process({(dir_ / "none").string()}, (dir_ / "out.txt").string(), 1); }),
            SLICENAV_ERR_IO);
}

// ---- the initial transform files against the real transformix -------------------------------------

// R (p - c) + c + t with R = Rz Rx Ry.
std::vector<double> euler_map(const slicenav_rigid_transform& t, const std::vector<double>& p) {
  const double cx = std::cos(t.rotation_rad[0]), sx = std::sin(t.rotation_rad[0]);
  const double cy = std::cos(t.rotation_rad[1]), sy = std::sin(t.rotation_rad[1]);
  const double cz = std::cos(t.rotation_rad[2]), sz = std::sin(t.rotation_rad[2]);
  const double r[3][3] = {{cz * cy - sz * sx * sy, -sz * cx, cz * sy + sz * sx * cy},
                          {sz * cy + cz * sx * sy, cz * cx, sz * sy - cz * sx * cy},
                          {-cx * sy, sx, cx * cy}};
  std::vector<double> out(3);
  for (int i = 0; i < 3; ++i) {
    out[i] = t.centre_mm[i] + t.translation_mm[i];
    for (int j = 0; j < 3; ++j) out[i] += r[i][j] * (p[j] - t.centre_mm[j]);
  }
  return out;
}

// Output points of transformix -def for `points` through `transform_file`.
std::vector<std::vector<double>> transformix_points(const fs::path& transform_file,
                                                    const std::vector<std::vector<double>>& points,
                                                    const fs::path& dir) {
  fs::create_directories(dir);
  std::ofstream list(dir / "points.txt");
  list << "point\n" << points.size() << "\n";
  for (const auto& p : points) list << p[0] << " " << p[1] << " " << p[2] << "\n";
  list.close();
  const ProcessResult r = run_process({find_executable("transformix"), "-def", (dir / "points.txt").string(), "-out",
                                       dir.string(), "-tp", fs::absolute(transform_file).string()},
                                      (dir / "console.txt").string(), 60);
  EXPECT_EQ(r.exit_code, 0);
  std::ifstream in(dir / "outputpoints.txt");
  std::vector<std::vector<double>> out;
  for (std::string line; std::getline(in, line);) {
    std::istringstream s(line.substr(line.find("OutputPoint = [") + 15));
    std::vector<double> q(3);
    s >> q[0] >> q[1] >> q[2];
    out.push_back(q);
  }
  return out;
}

TEST_F(ElastixTest, TransformixMapsFixedPointsAsTheWrittenTransformSays) {
  REQUIRE_ELASTIX();
  // A fixed grid stored S->I, A->P, R->L (direction not the identity).
  const VolumePtr fixed = phantom(400.0, 1);
  const std::vector<std::vector<double>> points{{0, 0, 0}, {-30, 45, 250}, {100, -80, 390}};
  slicenav_rigid_transform t = slicenav_rigid_transform_init();
  t.translation_mm[0] = 3.5;
  t.translation_mm[1] = -7.25;
  t.translation_mm[2] = kTsPairTranslationZ;
  ASSERT_EQ(slicenav_rigid_transform_write_elastix((dir_ / "translation.txt").c_str(), &t, fixed.get()), SLICENAV_OK)
      << slicenav_last_error();
  auto mapped = transformix_points(dir_ / "translation.txt", points, dir_ / "translation");
  ASSERT_EQ(mapped.size(), points.size());
  for (std::size_t n = 0; n < points.size(); ++n) {
    for (int a = 0; a < 3; ++a) EXPECT_NEAR(mapped[n][a], points[n][a] + t.translation_mm[a], 1e-3);
  }

  t.rotation_rad[0] = 0.05;
  t.rotation_rad[1] = -0.1;
  t.rotation_rad[2] = 0.2;
  t.centre_mm[0] = -20;
  t.centre_mm[1] = 10;
  t.centre_mm[2] = 300;
  ASSERT_EQ(slicenav_rigid_transform_write_elastix((dir_ / "euler.txt").c_str(), &t, fixed.get()), SLICENAV_OK);
  mapped = transformix_points(dir_ / "euler.txt", points, dir_ / "euler");
  ASSERT_EQ(mapped.size(), points.size());
  for (std::size_t n = 0; n < points.size(); ++n) {
    const auto expected = euler_map(t, points[n]);
    for (int a = 0; a < 3; ++a) EXPECT_NEAR(mapped[n][a], expected[a], 1e-3) << "point " << n << " axis " << a;
  }
}

// ---- registrations --------------------------------------------------------------------------------

TEST_F(ElastixTest, FailingElastixQuotesItsLogAndLeavesNoOutput) {
  REQUIRE_ELASTIX();
  ASSERT_EQ(slicenav_volume_write((dir_ / "fixed.nii.gz").c_str(), phantom(400.0, 1).get(), nullptr), SLICENAV_OK);
  ASSERT_EQ(slicenav_volume_write((dir_ / "moving.nii.gz").c_str(), phantom(380.0, 2).get(), nullptr), SLICENAV_OK);
  // A readable parameter file that elastix rejects: no such transform component.
  std::string rigid;
  {
    std::ifstream in(preset_path("rigid"));
    std::stringstream s;
    s << in.rdbuf();
    rigid = s.str();
  }
  std::ofstream(dir_ / "bad.txt") << rigid << "(Transform \"NoSuchTransform\")\n";

  RegisterOptions o;
  o.fixed = (dir_ / "fixed.nii.gz").string();
  o.moving = (dir_ / "moving.nii.gz").string();
  o.preset = (dir_ / "bad.txt").string();
  o.output_dir = (dir_ / "new_out").string();
  std::string message;
  EXPECT_EQ(plugin_status_of([&] { register_images(o); }, &message), SLICENAV_ERR_UNSUPPORTED_INPUT);
  EXPECT_NE(message.find("elastix failed"), std::string::npos) << message;
  EXPECT_NE(message.find("elastix.log"), std::string::npos) << message;
  EXPECT_NE(message.find("NoSuchTransform"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(o.output_dir));  // made by the call, removed again

  fs::create_directories(dir_ / "old_out");
  std::ofstream(dir_ / "old_out" / "keep.txt") << "earlier";
  o.output_dir = (dir_ / "old_out").string();
  EXPECT_EQ(plugin_status_of([&] { register_images(o); }), SLICENAV_ERR_UNSUPPORTED_INPUT);
  EXPECT_EQ(listing(dir_ / "old_out"), std::vector<std::string>{"keep.txt"});

  o.preset = "rigid";
  o.moving = (dir_ / "missing.nii.gz").string();
  EXPECT_EQ(plugin_status_of([&] { register_images(o); }), SLICENAV_ERR_NOT_FOUND);
  EXPECT_EQ(listing(dir_ / "old_out"), std::vector<std::string>{"keep.txt"});
}

// The integration test: the real elastix on a real pair with a known answer (ts_example_ct and its
// 30-slice subset whose header z is off by 246 mm), started 9 mm from the answer through slicenav's -t0
// file, must land on the answer; transformix's resampled moving image must then match the fixed image.
TEST_F(ElastixTest, RealPairConvergesToTheKnownOffsetFromOurInitialTransform) {
  REQUIRE_ELASTIX();
  SLICENAV_REQUIRE_DATA(fixed_path, "ct/ts_example_ct/ct.nii.gz");
  SLICENAV_REQUIRE_DATA(moving_path, "pairs/ts_example_ct_sm.nii.gz");
  const VolumePtr fixed = read_volume(fixed_path);
  RegisterOptions o;
  o.fixed = fixed_path;
  o.moving = moving_path;
  o.output_dir = (dir_ / "out").string();
  o.init = Initialisation::transform;
  o.fixed_volume = fixed.get();
  o.initial_transform.translation_mm[0] = 4.0;
  o.initial_transform.translation_mm[2] = kTsPairTranslationZ + 9.0;
  o.resample = true;
  o.threads = 2;
  nlohmann::json summary;
  ASSERT_EQ(plugin_status_of([&] { summary = register_images(o); }), SLICENAV_OK);

  const auto t = summary["result"]["translation_at_fixed_centre_mm"].get<std::vector<double>>();
  EXPECT_NEAR(t[0], 0.0, 1.5);
  EXPECT_NEAR(t[1], 0.0, 1.5);
  EXPECT_NEAR(t[2], kTsPairTranslationZ, 1.5);
  EXPECT_EQ(summary["result"]["transform"], "EulerTransform");
  EXPECT_EQ(summary["init"]["mode"], "transform");
  for (const char* name : {"TransformParameters.0.txt", "elastix.log", "parameters.txt", "init.txt", "init.tfm",
                           "resampled.nii.gz", "transformix.log", "registration.json"}) {
    EXPECT_TRUE(fs::is_regular_file(dir_ / "out" / name)) << name;
  }
  EXPECT_EQ(listing(dir_ / "out").size(), 8u);  // nothing else: no private folder left
  // The kept result chains the kept initial transform.
  const auto result = ParameterFile::read((dir_ / "out" / "TransformParameters.0.txt").string());
  EXPECT_EQ(result.text("InitialTransformParametersFileName"), (dir_ / "out" / "init.txt").string());

  // Where the subset lies (true z 340.3..427.3), the resampled moving image reproduces the fixed one.
  const VolumePtr resampled = read_volume((dir_ / "out" / "resampled.nii.gz").string());
  slicenav_volume_info info = slicenav_volume_info_init();
  ASSERT_EQ(slicenav_volume_get_info(&info, fixed.get()), SLICENAV_OK);
  std::size_t n = 0;
  ASSERT_EQ(slicenav_volume_copy_voxels(nullptr, 0, &n, fixed.get()), SLICENAV_OK);
  std::vector<float> a(n), b(n);
  ASSERT_EQ(slicenav_volume_copy_voxels(a.data(), n, &n, fixed.get()), SLICENAV_OK);
  ASSERT_EQ(slicenav_volume_copy_voxels(b.data(), b.size(), &n, resampled.get()), SLICENAV_OK);
  double inside = 0, outside = 0;
  std::size_t n_inside = 0, n_outside = 0;
  const std::size_t plane = info.size[0] * info.size[1];
  for (std::size_t k = 0; k < info.size[2]; ++k) {
    const double z = info.origin[2] + info.direction[8] * info.spacing[2] * static_cast<double>(k);
    for (std::size_t v = k * plane; v < (k + 1) * plane; ++v) {
      if (z > 343.0 && z < 424.0) inside += std::abs(a[v] - b[v]), ++n_inside;
      if (z < 330.0) outside += b[v], ++n_outside;
    }
  }
  ASSERT_GT(n_inside, 0u);
  EXPECT_LT(inside / static_cast<double>(n_inside), 40.0);              // HU, mean |fixed - resampled|
  EXPECT_NEAR(outside / static_cast<double>(n_outside), -1024.0, 1.0);  // outside the subset: air
}

}  // namespace
}  // namespace slicenav::elastix

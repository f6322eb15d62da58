// Transform files: elastix TransformParameters text on the fixed grid, and ITK .tfm files read back by ITK
// itself, both mapping fixed points to moving points. (The elastix files are checked against the real
// transformix in tests/plugins/elastix_test.cpp.)
#include "slicenav/transform_files.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <itkTransform.h>
#include <itkTransformFactoryBase.h>
#include <itkTxtTransformIO.h>

#include "slicenav/error.hpp"
#include "test_support.hpp"

namespace slicenav {
namespace {

namespace fs = std::filesystem;

using TransformFilesTest = test::TempDirTest;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// "(Key v1 v2 ...)" lines of an elastix parameter text, values as written (quotes kept).
std::map<std::string, std::vector<std::string>> elastix_entries(const std::string& text) {
  std::map<std::string, std::vector<std::string>> entries;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] != '(') continue;
    std::istringstream words(line.substr(1, line.find(')') - 1));
    std::string key, value;
    words >> key;
    while (words >> value) entries[key].push_back(value);
  }
  return entries;
}

std::vector<double> as_numbers(const std::vector<std::string>& values) {
  std::vector<double> out;
  for (const auto& v : values) out.push_back(std::stod(v));
  return out;
}

// A grid whose direction is not symmetric, so row and column order differ: index axis 0 -> +x,
// axis 1 -> +z, axis 2 -> -y.
Geometry oblique_grid() {
  Geometry g;
  g.size = {40, 30, 20};
  g.spacing = {0.75, 1.5, 3.0};
  g.origin = {-120.5, 33.25, -1401.125};
  g.direction = {1, 0, 0, 0, 0, -1, 0, 1, 0};
  return g;
}

// R (p - c) + c + t with R = Rz Rx Ry, written out independently of ITK.
Vec3 expected_map(const RigidTransform& t, const Vec3& p) {
  const double cx = std::cos(t.rotation_rad[0]), sx = std::sin(t.rotation_rad[0]);
  const double cy = std::cos(t.rotation_rad[1]), sy = std::sin(t.rotation_rad[1]);
  const double cz = std::cos(t.rotation_rad[2]), sz = std::sin(t.rotation_rad[2]);
  const double rx[9] = {1, 0, 0, 0, cx, -sx, 0, sx, cx};
  const double ry[9] = {cy, 0, sy, 0, 1, 0, -sy, 0, cy};
  const double rz[9] = {cz, -sz, 0, sz, cz, 0, 0, 0, 1};
  const auto mul = [](const double* a, const double* b, double* out) {
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) out[r * 3 + c] = a[r * 3] * b[c] + a[r * 3 + 1] * b[3 + c] + a[r * 3 + 2] * b[6 + c];
  };
  double zx[9], r[9];
  mul(rz, rx, zx);
  mul(zx, ry, r);
  Vec3 out{};
  for (int i = 0; i < 3; ++i) {
    out[i] = t.centre_mm[i] + t.translation_mm[i];
    for (int j = 0; j < 3; ++j) out[i] += r[i * 3 + j] * (p[j] - t.centre_mm[j]);
  }
  return out;
}

// Reads a .tfm with ITK's own reader and maps p.
Vec3 itk_map(const fs::path& tfm, const Vec3& p, std::string* class_name) {
  itk::TransformFactoryBase::RegisterDefaultTransforms();
  auto io = itk::TxtTransformIOTemplate<double>::New();
  io->SetFileName(tfm.string());
  io->Read();
  const auto& list = io->GetTransformList();
  EXPECT_EQ(list.size(), 1u);
  const auto* transform = dynamic_cast<const itk::Transform<double, 3, 3>*>(list.front().GetPointer());
  if (transform == nullptr) {
    ADD_FAILURE() << "not a 3D transform";
    return {};
  }
  *class_name = transform->GetNameOfClass();
  itk::Point<double, 3> point;
  for (int a = 0; a < 3; ++a) point[a] = p[a];
  const auto mapped = transform->TransformPoint(point);
  return {mapped[0], mapped[1], mapped[2]};
}

TEST(TransformFiles, ElastixTranslationCarriesFixedGridAndColumnOrderedDirection) {
  RigidTransform t;
  t.translation_mm = {1.5, -2.25, -246.0};
  const auto e = elastix_entries(elastix_transform_text(t, oblique_grid()));
  EXPECT_EQ(e.at("Transform"), std::vector<std::string>{"\"TranslationTransform\""});
  EXPECT_EQ(as_numbers(e.at("TransformParameters")), (std::vector<double>{1.5, -2.25, -246.0}));
  EXPECT_EQ(e.at("NumberOfParameters"), std::vector<std::string>{"3"});
  EXPECT_EQ(e.at("InitialTransformParametersFileName"), std::vector<std::string>{"\"NoInitialTransform\""});
  EXPECT_EQ(e.at("FixedImageDimension"), std::vector<std::string>{"3"});
  EXPECT_EQ(e.at("MovingImageDimension"), std::vector<std::string>{"3"});
  EXPECT_EQ(as_numbers(e.at("Size")), (std::vector<double>{40, 30, 20}));
  EXPECT_EQ(as_numbers(e.at("Spacing")), (std::vector<double>{0.75, 1.5, 3.0}));
  EXPECT_EQ(as_numbers(e.at("Origin")), (std::vector<double>{-120.5, 33.25, -1401.125}));
  // Axis 0's direction, then axis 1's (+z), then axis 2's (-y).
  EXPECT_EQ(as_numbers(e.at("Direction")), (std::vector<double>{1, 0, 0, 0, 0, 1, 0, -1, 0}));
  EXPECT_EQ(e.at("ResultImagePixelType"), std::vector<std::string>{"\"short\""});
  EXPECT_EQ(e.count("CenterOfRotationPoint"), 0u);
}

TEST(TransformFiles, ElastixEulerWhenRotated) {
  RigidTransform t;
  t.translation_mm = {0.0, 1.0, 35.0};
  t.rotation_rad = {0.01, -0.02, 0.125};
  t.centre_mm = {-10.0, 20.0, -1300.0};
  const auto e = elastix_entries(elastix_transform_text(t, oblique_grid()));
  EXPECT_EQ(e.at("Transform"), std::vector<std::string>{"\"EulerTransform\""});
  EXPECT_EQ(e.at("NumberOfParameters"), std::vector<std::string>{"6"});
  EXPECT_EQ(as_numbers(e.at("TransformParameters")), (std::vector<double>{0.01, -0.02, 0.125, 0.0, 1.0, 35.0}));
  EXPECT_EQ(as_numbers(e.at("CenterOfRotationPoint")), (std::vector<double>{-10.0, 20.0, -1300.0}));
  EXPECT_EQ(e.at("ComputeZYX"), std::vector<std::string>{"\"false\""});
}

TEST_F(TransformFilesTest, ItkTranslationReadByItkMapsFixedToMoving) {
  const fs::path& dir = dir_;
  RigidTransform t;
  t.translation_mm = {-4.5, -10.7, 32.0};
  write_itk_transform(t, (dir / "init.tfm").string());
  std::string name;
  const Vec3 mapped = itk_map(dir / "init.tfm", {10.0, -20.0, -1200.0}, &name);
  EXPECT_EQ(name, "TranslationTransform");
  EXPECT_NEAR(mapped[0], 5.5, 1e-12);
  EXPECT_NEAR(mapped[1], -30.7, 1e-12);
  EXPECT_NEAR(mapped[2], -1168.0, 1e-12);
}

TEST_F(TransformFilesTest, ItkEulerReadByItkMatchesRzRxRyAboutCentre) {
  const fs::path& dir = dir_;
  RigidTransform t;
  t.translation_mm = {2.0, -3.0, 35.0};
  t.rotation_rad = {0.1, -0.2, 0.3};
  t.centre_mm = {-50.0, 25.0, -1250.0};
  write_itk_transform(t, (dir / "init.tfm").string());
  std::string name;
  for (const Vec3& p : {Vec3{0, 0, 0}, Vec3{-50, 25, -1250}, Vec3{100, -40, -1100}}) {
    const Vec3 mapped = itk_map(dir / "init.tfm", p, &name);
    const Vec3 expected = expected_map(t, p);
    for (int a = 0; a < 3; ++a) EXPECT_NEAR(mapped[a], expected[a], 1e-9) << "axis " << a;
  }
  EXPECT_EQ(name, "Euler3DTransform");
}

TEST_F(TransformFilesTest, RejectsNonFiniteValuesAndKeepsTheOldFile) {
  const fs::path& dir = dir_;
  const fs::path path = dir / "init.txt";
  std::ofstream(path) << "old";
  RigidTransform t;
  t.rotation_rad[1] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(test::status_of([&] { write_elastix_transform(t, oblique_grid(), path.string()); }),
            Status::invalid_argument);
  EXPECT_EQ(test::status_of([&] { write_itk_transform(t, path.string()); }), Status::invalid_argument);
  t.rotation_rad[1] = 0.0;
  t.centre_mm[2] = std::numeric_limits<double>::infinity();
  EXPECT_EQ(test::status_of([&] { write_itk_transform(t, path.string()); }), Status::invalid_argument);
  EXPECT_EQ(read_text(path), "old");
  t.centre_mm[2] = 0.0;
  Geometry bad = oblique_grid();
  bad.origin[0] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(test::status_of([&] { write_elastix_transform(t, bad, path.string()); }), Status::invalid_argument);
  EXPECT_EQ(read_text(path), "old");
}

TEST_F(TransformFilesTest, UnwritablePathIsIoErrorAndLeavesNothing) {
  const fs::path& dir = dir_;
  const RigidTransform t;
  EXPECT_EQ(
      test::status_of([&] { write_elastix_transform(t, oblique_grid(), (dir / "missing" / "init.txt").string()); }),
      Status::io);
  EXPECT_EQ(test::status_of([&] { write_itk_transform(t, (dir / "missing" / "init.tfm").string()); }), Status::io);
  EXPECT_EQ(test::status_of([&] { write_itk_transform(t, ""); }), Status::invalid_argument);
  EXPECT_TRUE(fs::is_empty(dir));
}

TEST_F(TransformFilesTest, WritesReplaceAtomically) {
  const fs::path& dir = dir_;
  RigidTransform t;
  t.translation_mm = {0, 0, 12.5};
  write_elastix_transform(t, oblique_grid(), (dir / "init.txt").string());
  t.translation_mm[2] = -7.0;
  write_elastix_transform(t, oblique_grid(), (dir / "init.txt").string());
  EXPECT_EQ(as_numbers(elastix_entries(read_text(dir / "init.txt")).at("TransformParameters")),
            (std::vector<double>{0, 0, -7.0}));
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++files;
  EXPECT_EQ(files, 1u);  // no temporary left behind
}

}  // namespace
}  // namespace slicenav

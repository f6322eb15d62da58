#include "slicenav/phantom.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <sstream>

#include "slicenav/error.hpp"

namespace slicenav {
namespace {

// Anatomy in world LPS mm (x left, y posterior, z superior), lung apex at z = 0.
struct Ellipsoid {
  Vec3 centre;
  Vec3 radii;
  bool contains(const Vec3& p) const {
    double s = 0.0;
    for (int a = 0; a < 3; ++a) {
      const double d = (p[a] - centre[a]) / radii[a];
      s += d * d;
    }
    return s <= 1.0;
  }
};

constexpr double kBodyTop = 60.0;  // neck base above the lung apex
const Ellipsoid kLungLeft{{75, 0, -115}, {55, 70, 115}};
const Ellipsoid kLungRight{{-75, 0, -115}, {55, 70, 115}};
const Ellipsoid kHeart{{20, -30, -120}, {60, 50, 50}};
const Ellipsoid kLiver{{-60, 0, -240}, {80, 80, 60}};
const Ellipsoid kKidneyLeft{{60, 50, -300}, {25, 25, 50}};
const Ellipsoid kKidneyRight{{-60, 50, -305}, {25, 25, 55}};
const Ellipsoid kPancreas{{0, 10, -270}, {50, 12, 15}};
const Ellipsoid kBladder{{0, -40, -500}, {40, 35, 30}};
const Ellipsoid kFemurHeadLeft{{90, 0, -522}, {22, 22, 22}};
const Ellipsoid kFemurHeadRight{{-90, 0, -522}, {22, 22, 22}};
const Ellipsoid kPelvisLeft{{85, 20, -470}, {45, 60, 70}};
const Ellipsoid kPelvisRight{{-85, 20, -470}, {45, 60, 70}};

// Airway: the trachea down the midline (radius 9 mm) to the bifurcation at kBifurcationZ; below it the two
// main bronchi (radius 6 mm) run out at 45 degrees towards the lungs, their lumens apart from 6 mm lower (the
// carina landmark) down to kBronchiEndZ.
constexpr double kTracheaY = 20.0;
constexpr double kBifurcationZ = -54.0;
constexpr double kBronchiEndZ = -94.0;

bool in_airway(double x, double y, double z) {
  if (z > kBodyTop || z < kBronchiEndZ) return false;
  if (z >= kBifurcationZ) return std::hypot(x, y - kTracheaY) < 9.0;
  return std::hypot(std::abs(x) - (kBifurcationZ - z), y - kTracheaY) < 6.0;
}

const PhantomLandmark kLandmarks[] = {
    {"lung_apex", 0.0},           {"carina", kBifurcationZ - 6.0},
    {"heart_top", -70.0},         {"heart_bottom", -170.0},
    {"liver_dome", -180.0},       {"lung_base", -230.0},
    {"pancreas_mid", -270.0},     {"liver_lower_end", -300.0},
    {"kidney_lower_end", -360.0}, {"urinary_bladder_top", -470.0},
    {"femur_head_top", -500.0},
};

float tissue_hu(const Vec3& p) {
  const double x = p[0], y = p[1], z = p[2];
  // Torso: an elliptic cylinder that narrows to a neck above the lungs; legs below the pelvis.
  const bool neck = z > 10.0;
  const double ax = neck ? 60.0 : 160.0, ay = neck ? 60.0 : 110.0;
  const double body = (x / ax) * (x / ax) + (y / ay) * (y / ay);
  if (z > kBodyTop || z < -600.0 || body > 1.0) return -1000.0f;
  if (z < -540.0) {  // thighs: two cylinders around the femoral shafts
    const double dl = std::hypot(x - 95.0, y), dr = std::hypot(x + 95.0, y);
    if (std::min(dl, dr) > 70.0) return -1000.0f;
    if (std::min(dl, dr) < 14.0) return 700.0f;
    return 45.0f;
  }
  // Spine: a vertebral column behind the organs along the whole trunk.
  const double spine = std::hypot(x, y - 70.0);
  if (spine < 18.0) return std::fmod(-z + 600.0, 30.0) < 5.0 ? 80.0f : 450.0f;  // discs every 30 mm
  if (in_airway(x, y, z)) return -1000.0f;
  if (kFemurHeadLeft.contains(p) || kFemurHeadRight.contains(p)) return 650.0f;
  if (z < -400.0 && (kPelvisLeft.contains(p) || kPelvisRight.contains(p))) {
    const Ellipsoid inner_l{kPelvisLeft.centre, {37, 52, 62}}, inner_r{kPelvisRight.centre, {37, 52, 62}};
    if (!inner_l.contains(p) && !inner_r.contains(p)) return 500.0f;
  }
  if (kHeart.contains(p)) return 40.0f;
  if (kLiver.contains(p)) return 60.0f;
  if (kLungLeft.contains(p) || kLungRight.contains(p)) return -850.0f;
  if (kKidneyLeft.contains(p) || kKidneyRight.contains(p)) return 30.0f;
  if (kPancreas.contains(p)) return 45.0f;
  if (kBladder.contains(p)) return 10.0f;
  if (body > 0.85) return -100.0f;  // subcutaneous fat
  return 35.0f;
}

// Deterministic standard normal sample from a 64-bit key (splitmix64 + Box-Muller).
double gaussian(std::uint64_t key) {
  auto mix = [](std::uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  const std::uint64_t a = mix(key), b = mix(a);
  const double u1 = (static_cast<double>(a >> 11) + 1.0) / 9007199254740993.0;
  const double u2 = static_cast<double>(b >> 11) / 9007199254740992.0;
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * 3.14159265358979323846 * u2);
}

}  // namespace

Mat3 direction_from_code(const std::string& code) {
  Mat3 direction{};
  bool used[3] = {false, false, false};
  const std::string positive = "LPS", negative = "RAI";
  if (code.size() != 3) fail(Status::invalid_argument, "orientation code '" + code + "' must have 3 letters");
  for (int a = 0; a < 3; ++a) {
    const char letter = static_cast<char>(std::toupper(static_cast<unsigned char>(code[a])));
    auto w = positive.find(letter);
    double sign = 1.0;
    if (w == std::string::npos) {
      w = negative.find(letter);
      sign = -1.0;
    }
    if (w == std::string::npos || used[w]) {
      fail(Status::invalid_argument,
           "orientation code '" + code + "' must use one letter from each of L/R, P/A and S/I");
    }
    used[w] = true;
    direction[3 * w + a] = sign;
  }
  return direction;
}

Phantom make_phantom(const PhantomOptions& options) {
  Geometry g;
  g.size = options.size;
  g.spacing = options.spacing;
  g.direction = direction_from_code(options.orientation);
  g.validate();
  // Centre the grid on x = y = 0 and put the most superior slice centre at top_z_mm.
  for (int w = 0; w < 3; ++w) {
    for (int a = 0; a < 3; ++a) {
      const double sign = g.direction[3 * w + a];
      if (sign == 0.0) continue;
      const double extent = static_cast<double>(g.size[a] - 1) * g.spacing[a];
      if (w < 2) {
        g.origin[w] = -sign * extent / 2.0;
      } else {
        g.origin[w] = sign > 0 ? options.top_z_mm - extent : options.top_z_mm;
      }
    }
  }
  if (!(options.noise_hu >= 0.0) || !std::isfinite(options.noise_hu)) {
    fail(Status::invalid_argument, "phantom noise must be a finite value >= 0");
  }
  std::vector<float> voxels(g.voxel_count());
  std::size_t n = 0;
  for (std::size_t k = 0; k < g.size[2]; ++k) {
    for (std::size_t j = 0; j < g.size[1]; ++j) {
      for (std::size_t i = 0; i < g.size[0]; ++i, ++n) {
        const Vec3 world = g.index_to_world({static_cast<double>(i), static_cast<double>(j), static_cast<double>(k)});
        float value = tissue_hu(world);
        if (options.noise_hu > 0.0) {
          value += static_cast<float>(options.noise_hu * gaussian(options.seed * 0x100000001b3ULL ^ n));
        }
        voxels[n] = value;
      }
    }
  }
  SourceInfo source;
  source.format = "phantom";
  source.pixel_type = "float";
  source.modality = "CT";
  source.patient_position = options.patient_position;
  Phantom phantom{Volume(g, std::move(voxels), std::move(source)), {}};
  phantom.landmarks.assign(std::begin(kLandmarks), std::end(kLandmarks));
  return phantom;
}

}  // namespace slicenav

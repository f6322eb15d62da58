#include "slicenav/transform_files.hpp"

#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>

#include "atomic_file.hpp"
#include "slicenav/error.hpp"

namespace slicenav {
namespace {

// Numbers in both formats: shortest round-trip text, C locale, never "-0".
std::string numbers(const double* values, int count) {
  std::string text;
  for (int n = 0; n < count; ++n) {
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, values[n] + 0.0);
    if (n > 0) text += ' ';
    text.append(buffer, result.ptr);
  }
  return text;
}

std::string numbers(const Vec3& v) { return numbers(v.data(), 3); }

void write_text(const std::string& text, const std::string& path, const char* what) {
  if (path.empty()) fail(Status::invalid_argument, std::string(what) + " path is empty");
  detail::write_atomically(path, [&](const std::string& temp) {
    std::ofstream out(temp, std::ios::binary);
    out << text;
    out.close();
    if (!out) fail(Status::io, std::string("cannot write ") + what + " '" + path + "'");
  });
}

}  // namespace

void RigidTransform::validate() const {
  const struct {
    const char* name;
    const Vec3& value;
  } fields[] = {{"translation_mm", translation_mm}, {"rotation_rad", rotation_rad}, {"centre_mm", centre_mm}};
  for (const auto& f : fields) {
    for (int a = 0; a < 3; ++a) {
      if (!std::isfinite(f.value[a])) {
        fail(Status::invalid_argument,
             std::string("transform ") + f.name + "[" + std::to_string(a) + "] is not finite");
      }
    }
  }
}

std::string elastix_transform_text(const RigidTransform& transform, const Geometry& fixed) {
  transform.validate();
  fixed.validate();
  std::ostringstream out;
  out << "// elastix transform written by slicenav: maps fixed-image points (LPS mm) to moving-image points.\n";
  if (transform.has_rotation()) {
    const auto parameters = transform.euler_parameters();
    out << "(Transform \"EulerTransform\")\n"
        << "(NumberOfParameters 6)\n"
        << "(TransformParameters " << numbers(parameters.data(), 6) << ")\n"
        << "(CenterOfRotationPoint " << numbers(transform.centre_mm) << ")\n"
        << "(ComputeZYX \"false\")\n";
  } else {
    out << "(Transform \"TranslationTransform\")\n"
        << "(NumberOfParameters 3)\n"
        << "(TransformParameters " << numbers(transform.translation_mm) << ")\n";
  }
  // elastix lists Direction column by column: the world direction of index axis 0, then 1, then 2.
  double direction[9];
  for (int axis = 0; axis < 3; ++axis) {
    for (int row = 0; row < 3; ++row) direction[axis * 3 + row] = fixed.direction[row * 3 + axis];
  }
  out << "(InitialTransformParametersFileName \"NoInitialTransform\")\n"
      << "(UseBinaryFormatForTransformationParameters \"false\")\n"
      << "(HowToCombineTransforms \"Compose\")\n\n"
      << "// Image specific: the fixed image's grid\n"
      << "(FixedImageDimension 3)\n"
      << "(MovingImageDimension 3)\n"
      << "(FixedInternalImagePixelType \"float\")\n"
      << "(MovingInternalImagePixelType \"float\")\n"
      << "(Size " << fixed.size[0] << " " << fixed.size[1] << " " << fixed.size[2] << ")\n"
      << "(Index 0 0 0)\n"
      << "(Spacing " << numbers(fixed.spacing) << ")\n"
      << "(Origin " << numbers(fixed.origin) << ")\n"
      << "(Direction " << numbers(direction, 9) << ")\n"
      << "(UseDirectionCosines \"true\")\n\n"
      << "// ResampleInterpolator specific\n"
      << "(ResampleInterpolator \"FinalBSplineInterpolator\")\n"
      << "(FinalBSplineInterpolationOrder 3)\n\n"
      << "// Resampler specific\n"
      << "(Resampler \"DefaultResampler\")\n"
      << "(DefaultPixelValue -1024)\n"
      << "(ResultImageFormat \"nii.gz\")\n"
      << "(ResultImagePixelType \"short\")\n"
      << "(CompressResultImage \"true\")\n";
  return out.str();
}

void write_elastix_transform(const RigidTransform& transform, const Geometry& fixed, const std::string& path) {
  write_text(elastix_transform_text(transform, fixed), path, "elastix transform");
}

std::string itk_transform_text(const RigidTransform& transform) {
  transform.validate();
  std::ostringstream out;
  out << "#Insight Transform File V1.0\n#Transform 0\n";
  if (transform.has_rotation()) {
    const auto parameters = transform.euler_parameters();
    out << "Transform: Euler3DTransform_double_3_3\n"
        << "Parameters: " << numbers(parameters.data(), 6) << "\n"
        << "FixedParameters: " << numbers(transform.centre_mm) << " 0\n";
  } else {
    out << "Transform: TranslationTransform_double_3_3\n"
        << "Parameters: " << numbers(transform.translation_mm) << "\n"
        << "FixedParameters:\n";
  }
  return out.str();
}

void write_itk_transform(const RigidTransform& transform, const std::string& path) {
  write_text(itk_transform_text(transform), path, "ITK transform");
}

}  // namespace slicenav

// The stable C API: thin shims that check arguments, call the engine, and turn every exception into a
// slicenav_status plus a thread-local message. Nothing clever lives here.
#include "slicenav.h"
#include "slicenav_experimental.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "capi_support.hpp"
#include "slicenav/dicom.hpp"
#include "slicenav/error.hpp"
#include "slicenav/io.hpp"
#include "slicenav/orientation.hpp"
#include "slicenav/phantom.hpp"
#include "slicenav/volume.hpp"

#if !defined(SLICENAV_PROJECT_VERSION_MAJOR) || !defined(SLICENAV_PROJECT_VERSION_MINOR) || \
    !defined(SLICENAV_PROJECT_VERSION_PATCH)
#  error "capi/CMakeLists.txt must define SLICENAV_PROJECT_VERSION_{MAJOR,MINOR,PATCH} from PROJECT_VERSION"
#endif
struct slicenav_dicom_series_list {
  std::vector<slicenav::DicomSeries> series;
};

static_assert(SLICENAV_VERSION_MAJOR == SLICENAV_PROJECT_VERSION_MAJOR &&
                  SLICENAV_VERSION_MINOR == SLICENAV_PROJECT_VERSION_MINOR &&
                  SLICENAV_VERSION_PATCH == SLICENAV_PROJECT_VERSION_PATCH,
              "slicenav.h SLICENAV_VERSION_* differ from project(VERSION) in the top-level CMakeLists.txt");

namespace {

using slicenav::Error;
using slicenav::Status;
using namespace slicenav::capi;

// ---- Volumes --------------------------------------------------------------------------------------

// Wraps a volume with its canonical slice mapping. A volume whose axes cannot be mapped to canonical
// order (too oblique, two axes along one world axis) throws Error(unsupported_input) here.
slicenav_volume* make_handle(slicenav::Volume volume) {
  const slicenav::AxisMap map = slicenav::canonical_axis_map(volume.geometry());
  slicenav::SliceMapping mapping(volume.geometry(), map);
  return new slicenav_volume{std::move(volume), std::move(mapping), {}, {}};
}

template <typename T, typename Out>
std::vector<Out> convert_voxels(const void* data, std::size_t count) {
  std::vector<Out> out(count);
  const T* values = static_cast<const T*>(data);
  for (std::size_t n = 0; n < count; ++n) {
    const T value = values[n];
    if constexpr (std::is_floating_point_v<T>) {
      if (!std::isfinite(value)) invalid("data[" + std::to_string(n) + "] is not finite (" + number(value) + ")");
      if (std::fabs(static_cast<double>(value)) > static_cast<double>(std::numeric_limits<float>::max())) {
        invalid("data[" + std::to_string(n) + "] = " + number(value) + " does not fit in float");
      }
    }
    out[n] = static_cast<Out>(value);
  }
  return out;
}

// The integer a C caller passed as slicenav_pixel_type. C lets any int through; reading an out-of-range
// value as the C++ enum would be undefined, so copy its bytes instead.
long pixel_type_value(const slicenav_pixel_type& type) {
  std::underlying_type_t<slicenav_pixel_type> raw;
  static_assert(sizeof raw == sizeof type, "enum size");
  std::memcpy(&raw, &type, sizeof raw);
  return static_cast<long>(raw);
}

const char* pixel_type_name(long type) {
  switch (type) {
    case SLICENAV_PIXEL_INT16: return "int16";
    case SLICENAV_PIXEL_UINT8: return "uint8";
    case SLICENAV_PIXEL_INT32: return "int32";
    case SLICENAV_PIXEL_FLOAT32: return "float32";
    case SLICENAV_PIXEL_FLOAT64: return "float64";
    default: return nullptr;
  }
}

void check_finite_double(double value, const char* name) {
  if (!std::isfinite(value)) invalid(std::string(name) + " is not finite (" + number(value) + ")");
}

slicenav::PhantomOptions phantom_options(const slicenav_phantom_params* params) {
  slicenav::PhantomOptions options;
  if (params == nullptr) return options;
  using P = slicenav_phantom_params;
  check_struct_size(*params, &P::size, "params");
  for (int a = 0; a < 3; ++a) {
    if (params->size[a] == 0) invalid("params->size[" + std::to_string(a) + "] is 0");
    options.size[a] = params->size[a];
  }
  if (options.size[0] > std::numeric_limits<std::size_t>::max() / sizeof(float) / options.size[1] / options.size[2]) {
    invalid("params->size is too large (voxel count overflows)");
  }
  if (has_field(*params, &P::spacing)) {
    for (int a = 0; a < 3; ++a) {
      const double s = params->spacing[a];
      if (!std::isfinite(s) || s <= 0) {
        invalid("params->spacing[" + std::to_string(a) + "] must be finite and > 0 (got " + number(s) + ")");
      }
      options.spacing[a] = s;
    }
  }
  if (has_field(*params, &P::orientation)) options.orientation = read_text(params->orientation);
  if (has_field(*params, &P::top_z_mm)) {
    if (!std::isfinite(params->top_z_mm)) invalid("params->top_z_mm is not finite");
    options.top_z_mm = params->top_z_mm;
  }
  if (has_field(*params, &P::patient_position)) options.patient_position = read_text(params->patient_position);
  if (has_field(*params, &P::noise_hu)) {
    if (!std::isfinite(params->noise_hu) || params->noise_hu < 0) {
      invalid("params->noise_hu must be finite and >= 0 (got " + number(params->noise_hu) + ")");
    }
    options.noise_hu = params->noise_hu;
  }
  if (has_field(*params, &P::seed)) options.seed = params->seed;
  return options;
}

}  // namespace

extern "C" {

// ---- Errors and versions --------------------------------------------------------------------------

const char* slicenav_last_error(void) { return last_error(); }

const char* slicenav_status_name(slicenav_status status) { return slicenav::status_name(static_cast<Status>(status)); }

#define SLICENAV_STR2(x) #x
#define SLICENAV_STR(x) SLICENAV_STR2(x)

const char* slicenav_version(void) {
  return SLICENAV_STR(SLICENAV_VERSION_MAJOR) "." SLICENAV_STR(SLICENAV_VERSION_MINOR) "." SLICENAV_STR(
      SLICENAV_VERSION_PATCH);
}

uint32_t slicenav_version_number(void) { return SLICENAV_VERSION_NUMBER; }

// ---- Volumes --------------------------------------------------------------------------------------

slicenav_read_params slicenav_read_default_params(void) {
  slicenav_read_params params{};
  params.struct_size = sizeof(slicenav_read_params);
  params.dicom_series_uid = nullptr;
  return params;
}

slicenav_status slicenav_volume_read(slicenav_volume** out, const char* path, const slicenav_read_params* params) {
  return guarded("slicenav_volume_read", [&] {
    require(out, "out");
    *out = nullptr;
    require(path, "path");
    slicenav::ReadOptions options;
    if (params != nullptr) {
      check_struct_size(*params, &slicenav_read_params::dicom_series_uid, "params");
      if (params->dicom_series_uid != nullptr) options.series_uid = params->dicom_series_uid;
    }
    options.progress = progress_of(params);
    try {
      *out = make_handle(slicenav::read_volume(path, options));
      options.progress.done();
    } catch (const Error& e) {
      // People read the message: make sure it names the path.
      const std::string message = e.what();
      if (message.find(path) != std::string::npos) throw;
      slicenav::fail(e.status(), std::string(path) + ": " + message);
    }
  });
}

slicenav_status slicenav_volume_from_buffer(slicenav_volume** out, const void* data, slicenav_pixel_type pixel_type,
                                            const size_t dims[3], const double spacing[3], const double origin[3],
                                            const double direction[9]) {
  return guarded("slicenav_volume_from_buffer", [&] {
    require(out, "out");
    *out = nullptr;
    require(data, "data");
    require(dims, "dims");
    require(spacing, "spacing");
    require(origin, "origin");
    const long type = pixel_type_value(pixel_type);
    const char* type_name = pixel_type_name(type);
    if (type_name == nullptr) invalid("pixel_type " + std::to_string(type) + " is unknown");

    slicenav::Geometry geometry;
    std::size_t count = 1;
    for (int a = 0; a < 3; ++a) {
      if (dims[a] == 0) invalid("dims[" + std::to_string(a) + "] is 0");
      if (count > std::numeric_limits<std::size_t>::max() / sizeof(double) / dims[a]) {
        invalid("dims product overflows (dims too large)");
      }
      count *= dims[a];
      geometry.size[a] = dims[a];
    }
    for (int a = 0; a < 3; ++a) {
      if (!std::isfinite(spacing[a]) || spacing[a] <= 0) {
        invalid("spacing[" + std::to_string(a) + "] must be finite and > 0 (got " + number(spacing[a]) + ")");
      }
      if (!std::isfinite(origin[a]))
        invalid("origin[" + std::to_string(a) + "] is not finite (" + number(origin[a]) + ")");
      geometry.spacing[a] = spacing[a];
      geometry.origin[a] = origin[a];
    }
    if (direction != nullptr) {
      for (int n = 0; n < 9; ++n) {
        if (!std::isfinite(direction[n])) {
          invalid("direction[" + std::to_string(n) + "] is not finite (" + number(direction[n]) + ")");
        }
        geometry.direction[n] = direction[n];
      }
    }
    try {
      geometry.validate();
    } catch (const Error& e) {
      invalid(std::string("bad geometry: ") + e.what());
    }

    slicenav::SourceInfo source;
    source.format = "memory";
    source.pixel_type = type_name;
    // 8- and 16-bit voxels are kept as int16, as read_volume keeps them; the others as float.
    const auto volume = [&]() -> slicenav::Volume {
      switch (type) {
        case SLICENAV_PIXEL_INT16: return {geometry, convert_voxels<int16_t, int16_t>(data, count), source};
        case SLICENAV_PIXEL_UINT8: return {geometry, convert_voxels<uint8_t, int16_t>(data, count), source};
        case SLICENAV_PIXEL_INT32: return {geometry, convert_voxels<int32_t, float>(data, count), source};
        case SLICENAV_PIXEL_FLOAT32: return {geometry, convert_voxels<float, float>(data, count), source};
        default: return {geometry, convert_voxels<double, float>(data, count), source};
      }
    };
    try {
      source.warnings = slicenav::orientation_warnings(geometry);  // as read_volume() records them
      *out = make_handle(volume());
    } catch (const Error& e) {
      // Caller geometry that has no canonical axis order is a bad argument here, not a bad file.
      if (e.status() == Status::unsupported_input) invalid(std::string("direction: ") + e.what());
      throw;
    }
  });
}

slicenav_write_params slicenav_write_default_params(void) {
  slicenav_write_params params{};
  params.struct_size = sizeof(slicenav_write_params);
  params.gzip_level = slicenav::kDefaultGzipLevel;
  return params;
}

slicenav_status slicenav_volume_write(const char* out_path, const slicenav_volume* volume,
                                      const slicenav_write_params* params) {
  return guarded("slicenav_volume_write", [&] {
    require(out_path, "out_path");
    require(volume, "volume");
    const slicenav::Progress progress = progress_of(params);
    const int level = gzip_level_of(params);
    progress.at(0.0);
    slicenav::write_volume(volume->volume, out_path, slicenav::PixelType::automatic, level);
    progress.done();
  });
}

slicenav_dicom_series slicenav_dicom_series_init(void) {
  slicenav_dicom_series series;
  std::memset(&series, 0, sizeof series);
  series.struct_size = sizeof(slicenav_dicom_series);
  return series;
}

slicenav_status slicenav_dicom_series_list_read(slicenav_dicom_series_list** out, const char* directory) {
  return guarded("slicenav_dicom_series_list_read", [&] {
    require(out, "out");
    *out = nullptr;
    require(directory, "directory");
    *out = new slicenav_dicom_series_list{slicenav::list_dicom_series(directory)};
  });
}

size_t slicenav_dicom_series_list_count(const slicenav_dicom_series_list* list) {
  return list == nullptr ? 0 : list->series.size();
}

slicenav_status slicenav_dicom_series_list_get(slicenav_dicom_series* out, const slicenav_dicom_series_list* list,
                                               size_t index) {
  return guarded("slicenav_dicom_series_list_get", [&] {
    require(out, "out");
    require(list, "list");
    check_struct_size(*out, &slicenav_dicom_series::series_uid, "out");
    if (index >= list->series.size()) {
      invalid("index " + std::to_string(index) + " >= " + std::to_string(list->series.size()) + " series");
    }
    const slicenav::DicomSeries& s = list->series[index];
    slicenav_dicom_series v = slicenav_dicom_series_init();
    copy_text(v.series_uid, s.series_uid);
    copy_text(v.modality, s.modality);
    copy_text(v.description, s.description);
    v.file_count = s.file_count;
    write_versioned(v, out);
  });
}

void slicenav_dicom_series_list_free(slicenav_dicom_series_list* list) { delete list; }

slicenav_volume_info slicenav_volume_info_init(void) {
  slicenav_volume_info info;
  std::memset(&info, 0, sizeof info);
  info.struct_size = sizeof(slicenav_volume_info);
  return info;
}

slicenav_status slicenav_volume_get_info(slicenav_volume_info* out, const slicenav_volume* volume) {
  return guarded("slicenav_volume_get_info", [&] {
    require(out, "out");
    require(volume, "volume");
    check_struct_size(*out, &slicenav_volume_info::size, "out");
    const slicenav::Geometry& g = volume->volume.geometry();
    const slicenav::SourceInfo& source = volume->volume.source();
    const slicenav::SliceMapping& mapping = volume->mapping;

    slicenav_volume_info info = slicenav_volume_info_init();
    for (int a = 0; a < 3; ++a) {
      info.size[a] = g.size[a];
      info.spacing[a] = g.spacing[a];
      info.origin[a] = g.origin[a];
    }
    for (int n = 0; n < 9; ++n) info.direction[n] = g.direction[n];
    copy_text(info.orientation, slicenav::orientation_code(g));
    copy_text(info.patient_position, source.patient_position);
    copy_text(info.modality, source.modality);
    copy_text(info.format, source.format);
    info.canonical_slice_count = mapping.slice_count();
    info.slice_step_mm = mapping.slice_step_mm();
    const double z_first = mapping.world_z(0.0);
    const double z_last = mapping.world_z(static_cast<double>(info.canonical_slice_count) - 1.0);
    info.world_z_min_mm = std::min(z_first, z_last);
    info.world_z_max_mm = std::max(z_first, z_last);
    info.obliquity_deg = slicenav::obliquity_deg(g);
    info.warning_count = source.warnings.size();

    write_versioned(info, out);
  });
}

const char* slicenav_volume_warning(const slicenav_volume* volume, size_t index) {
  if (volume == nullptr) return nullptr;
  const auto& warnings = volume->volume.source().warnings;
  return index < warnings.size() ? warnings[index].c_str() : nullptr;
}

const char* slicenav_volume_source_path(const slicenav_volume* volume) {
  return volume == nullptr ? nullptr : volume->volume.source().path.c_str();
}

slicenav_status slicenav_volume_copy_voxels(float* dst, size_t capacity, size_t* written,
                                            const slicenav_volume* volume) {
  return guarded("slicenav_volume_copy_voxels", [&] {
    require(volume, "volume");
    const slicenav::Volume& v = volume->volume;
    if (!buffer_takes(dst, capacity, written, v.voxel_count())) return;
    v.copy_as_float(dst);
  });
}

slicenav_status slicenav_volume_voxels(const float** out, size_t* count, const slicenav_volume* volume) {
  return guarded("slicenav_volume_voxels", [&] {
    require(out, "out");
    *out = nullptr;
    require(volume, "volume");
    const float* voxels = volume->volume.float_voxels();
    if (voxels == nullptr) {  // stored as int16: the float copy is made once, thread-safely
      std::call_once(volume->float_once, [&] { volume->float_voxels = volume->volume.voxels_as_float(); });
      voxels = volume->float_voxels.data();
    }
    *out = voxels;
    if (count != nullptr) *count = volume->volume.voxel_count();
  });
}

namespace {

// The four slice-mapping shims: validate, then apply one SliceMapping conversion.
slicenav_status map_slice(const char* function, const slicenav_volume* volume, double value, const char* value_name,
                          double* out, double (slicenav::SliceMapping::*convert)(double) const) {
  return guarded(function, [&] {
    require(volume, "volume");
    require(out, "out");
    check_finite_double(value, value_name);
    *out = (volume->mapping.*convert)(value);
  });
}

}  // namespace

slicenav_status slicenav_volume_canonical_to_original(double* out, const slicenav_volume* volume,
                                                      double canonical_slice) {
  return map_slice(__func__, volume, canonical_slice, "canonical_slice", out, &slicenav::SliceMapping::original_slice);
}

slicenav_status slicenav_volume_original_to_canonical(double* out, const slicenav_volume* volume,
                                                      double original_slice) {
  return map_slice(__func__, volume, original_slice, "original_slice", out, &slicenav::SliceMapping::canonical_slice);
}

slicenav_status slicenav_volume_canonical_to_world_z(double* out, const slicenav_volume* volume,
                                                     double canonical_slice) {
  return map_slice(__func__, volume, canonical_slice, "canonical_slice", out, &slicenav::SliceMapping::world_z);
}

slicenav_status slicenav_volume_world_z_to_canonical(double* out, const slicenav_volume* volume, double world_z_mm) {
  return map_slice(__func__, volume, world_z_mm, "world_z_mm", out, &slicenav::SliceMapping::canonical_slice_at_z);
}

void slicenav_volume_free(slicenav_volume* volume) { delete volume; }

// ---- Phantom (experimental) -----------------------------------------------------------------------

slicenav_phantom_params slicenav_phantom_default_params(void) {
  slicenav_phantom_params params;
  std::memset(&params, 0, sizeof params);
  params.struct_size = sizeof(slicenav_phantom_params);
  // Defaults come from the engine's PhantomOptions; constructing it cannot throw in practice, but keep
  // this call exception-free anyway.
  try {
    const slicenav::PhantomOptions options;
    for (int a = 0; a < 3; ++a) {
      params.size[a] = options.size[a];
      params.spacing[a] = options.spacing[a];
    }
    copy_text(params.orientation, options.orientation);
    params.top_z_mm = options.top_z_mm;
    copy_text(params.patient_position, options.patient_position);
    params.noise_hu = options.noise_hu;
    params.seed = options.seed;
  } catch (...) {
  }
  return params;
}

slicenav_status slicenav_phantom_create(slicenav_volume** out, const slicenav_phantom_params* params) {
  return guarded("slicenav_phantom_create", [&] {
    require(out, "out");
    *out = nullptr;
    const slicenav::PhantomOptions options = phantom_options(params);
    slicenav::Volume volume = slicenav::make_phantom(options).volume;
    // As read_volume() does for files: note resliced or oblique axes.
    for (std::string& warning : slicenav::orientation_warnings(volume.geometry())) {
      volume.source().warnings.push_back(std::move(warning));
    }
    *out = make_handle(std::move(volume));
  });
}

slicenav_status slicenav_phantom_landmarks(const char** names, double* z_mm, size_t capacity, size_t* written,
                                           const slicenav_phantom_params* params) {
  return guarded("slicenav_phantom_landmarks", [&] {
    const bool size_query = names == nullptr && z_mm == nullptr && capacity == 0;
    if (size_query) {
      require(written, "written (in a size query)");
    } else {
      require(names, "names");
      require(z_mm, "z_mm");
    }
    const slicenav::PhantomOptions options = phantom_options(params);
    const std::vector<slicenav::PhantomLandmark> landmarks = slicenav::make_phantom(options).landmarks;
    if (written != nullptr) *written = landmarks.size();
    if (size_query) return;
    if (capacity < landmarks.size()) {
      slicenav::fail(Status::buffer_too_small,
                     "capacity " + std::to_string(capacity) + " < " + std::to_string(landmarks.size()) + " landmarks");
    }
    for (std::size_t n = 0; n < landmarks.size(); ++n) {
      names[n] = landmarks[n].name;
      z_mm[n] = landmarks[n].world_z_mm;
    }
  });
}

}  // extern "C"

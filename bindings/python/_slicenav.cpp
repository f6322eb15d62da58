// slicenav._slicenav: the Python extension over the public C API (slicenav.h). Thin on purpose: it converts
// arguments, releases the GIL around every engine call, and turns each failed status into the exception class
// of that status (slicenav/_errors.py) carrying slicenav_last_error(). The Python-facing classes and result
// objects are in the package's pure-Python modules.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "slicenav.h"
#include "slicenav_experimental.h"

namespace py = pybind11;

namespace {

// A failed C call: its status and the library's message, read on the thread that made the call.
struct StatusError {
  slicenav_status status;
  std::string message;
};

// Throws StatusError for a failed status. Touches no Python object, so it may run without the GIL.
void check(slicenav_status status) {
  if (status != SLICENAV_OK) throw StatusError{status, slicenav_last_error()};
}

// Runs a C call with the GIL released and checks its status.
template <typename Call>
void call_released(Call&& call) {
  py::gil_scoped_release release;
  check(call());
}

// The callbacks of a long C call made from Python: at every point where the call asks whether to stop, the
// GIL is taken and Python's pending signals are handled, so Ctrl-C (KeyboardInterrupt), or an exception a
// signal handler raises, stops the call (SLICENAV_ERR_CANCELLED) and is raised in its place.
class Interruptible {
 public:
  slicenav_callbacks callbacks() {
    slicenav_callbacks c{};
    c.abort = &Interruptible::should_stop;
    c.user_data = this;
    return c;
  }

  // Runs `call` with the GIL released; raises the Python exception that stopped it, else checks its status.
  template <typename Call>
  void run(Call&& call) {
    slicenav_status status;
    {
      py::gil_scoped_release release;
      status = call();
    }
    if (error_) {
      error_->restore();
      error_.reset();
      throw py::error_already_set();
    }
    check(status);
  }

 private:
  static int32_t should_stop(void* self) {
    auto* me = static_cast<Interruptible*>(self);
    py::gil_scoped_acquire acquire;
    if (!me->error_ && PyErr_CheckSignals() != 0) me->error_.emplace();
    return me->error_ ? 1 : 0;
  }

  std::optional<py::error_already_set> error_;  // what a signal handler raised, fetched while the call runs
};

[[noreturn]] void invalid(const std::string& message) { throw StatusError{SLICENAV_ERR_INVALID_ARGUMENT, message}; }

// ---- Handles --------------------------------------------------------------------------------------------

template <typename T, void (*Free)(T*)>
struct Handle {
  struct Deleter {
    void operator()(T* p) const { Free(p); }
  };
  std::unique_ptr<T, Deleter> ptr;
  T* get() const { return ptr.get(); }
};

using Volume = Handle<slicenav_volume, slicenav_volume_free>;
using Model = Handle<slicenav_model, slicenav_model_free>;
using CropRecord = Handle<slicenav_crop_record, slicenav_crop_record_free>;
using Scan = Handle<slicenav_scan, slicenav_scan_free>;

// Library text as Python str: paths decoded like os.fsdecode (undecodable bytes survive as surrogates, so
// os.fsencode gives the file name back), messages with undecodable bytes replaced.
py::str path_text(const char* text) { return py::reinterpret_steal<py::str>(PyUnicode_DecodeFSDefault(text)); }
py::str message_text(const std::string& text) {
  return py::reinterpret_steal<py::str>(
      PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "replace"));
}

const char* optional_c_str(const std::optional<std::string>& text) { return text ? text->c_str() : nullptr; }

std::array<double, 3> triple(const std::vector<double>& values, const char* name) {
  if (values.size() != 3) invalid(std::string(name) + " must have 3 values, got " + std::to_string(values.size()));
  return {values[0], values[1], values[2]};
}

// ---- Volumes ----------------------------------------------------------------------------------------------

Volume volume_read(const std::string& path, const std::optional<std::string>& series_uid) {
  slicenav_read_params params = slicenav_read_default_params();
  params.dicom_series_uid = optional_c_str(series_uid);
  Volume out;
  slicenav_volume* raw = nullptr;
  Interruptible stop;
  params.callbacks = stop.callbacks();
  stop.run([&] { return slicenav_volume_read(&raw, path.c_str(), &params); });
  out.ptr.reset(raw);
  return out;
}

// The image series of a DICOM directory (slicenav_dicom_series_list_read): one dict per series.
py::list dicom_series(const std::string& directory) {
  slicenav_dicom_series_list* raw = nullptr;
  call_released([&] { return slicenav_dicom_series_list_read(&raw, directory.c_str()); });
  const std::unique_ptr<slicenav_dicom_series_list, decltype(&slicenav_dicom_series_list_free)> list(
      raw, &slicenav_dicom_series_list_free);
  py::list out;
  for (std::size_t k = 0; k < slicenav_dicom_series_list_count(list.get()); ++k) {
    slicenav_dicom_series s = slicenav_dicom_series_init();
    check(slicenav_dicom_series_list_get(&s, list.get(), k));
    py::dict d;
    d["series_uid"] = std::string(s.series_uid);
    d["modality"] = std::string(s.modality);
    d["description"] = std::string(s.description);
    d["file_count"] = s.file_count;
    out.append(d);
  }
  return out;
}

// `array` is (z, y, x) = ITK's (x, y, z) reversed, C-contiguous, native byte order, one of the C API's pixel
// types: the Python layer (slicenav/_volume.py) converts anything else first. The C API copies it once.
Volume volume_from_buffer(const py::array& array, const std::vector<double>& spacing, const std::vector<double>& origin,
                          const std::optional<std::vector<double>>& direction) {
  if (array.ndim() != 3) invalid("array must have 3 dimensions (z, y, x), got " + std::to_string(array.ndim()));
  slicenav_pixel_type type;
  if (py::isinstance<py::array_t<int16_t, py::array::c_style>>(array)) {
    type = SLICENAV_PIXEL_INT16;
  } else if (py::isinstance<py::array_t<uint8_t, py::array::c_style>>(array)) {
    type = SLICENAV_PIXEL_UINT8;
  } else if (py::isinstance<py::array_t<int32_t, py::array::c_style>>(array)) {
    type = SLICENAV_PIXEL_INT32;
  } else if (py::isinstance<py::array_t<float, py::array::c_style>>(array)) {
    type = SLICENAV_PIXEL_FLOAT32;
  } else if (py::isinstance<py::array_t<double, py::array::c_style>>(array)) {
    type = SLICENAV_PIXEL_FLOAT64;
  } else {
    invalid("array must be C-contiguous int16, uint8, int32, float32 or float64 in native byte order, got " +
            py::str(array.dtype()).cast<std::string>());
  }
  const size_t dims[3] = {static_cast<size_t>(array.shape(2)), static_cast<size_t>(array.shape(1)),
                          static_cast<size_t>(array.shape(0))};
  const std::array<double, 3> s = triple(spacing, "spacing");
  const std::array<double, 3> o = triple(origin, "origin");
  if (direction && direction->size() != 9) {
    invalid("direction must have 9 values (3x3, row-major), got " + std::to_string(direction->size()));
  }
  const double* d = direction ? direction->data() : nullptr;
  const void* data = array.data();
  Volume out;
  slicenav_volume* raw = nullptr;
  call_released([&] { return slicenav_volume_from_buffer(&raw, data, type, dims, s.data(), o.data(), d); });
  out.ptr.reset(raw);
  return out;
}

py::dict volume_info(const Volume& volume) {
  slicenav_volume_info info = slicenav_volume_info_init();
  check(slicenav_volume_get_info(&info, volume.get()));
  py::list warnings;
  for (size_t n = 0; n < info.warning_count; ++n)
    warnings.append(message_text(slicenav_volume_warning(volume.get(), n)));
  py::dict d;
  d["source_path"] = path_text(slicenav_volume_source_path(volume.get()));
  d["format"] = info.format;
  d["modality"] = info.modality;
  d["patient_position"] = info.patient_position;
  d["size"] = py::make_tuple(info.size[0], info.size[1], info.size[2]);
  d["spacing"] = py::make_tuple(info.spacing[0], info.spacing[1], info.spacing[2]);
  d["origin"] = py::make_tuple(info.origin[0], info.origin[1], info.origin[2]);
  d["direction"] = std::vector<double>(info.direction, info.direction + 9);
  d["orientation"] = info.orientation;
  d["obliquity_deg"] = info.obliquity_deg;
  d["canonical_slice_count"] = info.canonical_slice_count;
  d["slice_step_mm"] = info.slice_step_mm;
  d["world_z_range_mm"] = py::make_tuple(info.world_z_min_mm, info.world_z_max_mm);
  d["warnings"] = warnings;
  return d;
}

// The volume's voxels as a read-only (z, y, x) float32 view of the volume's own storage (no copy); the view's
// base is the handle, so the voxels live as long as any view does.
py::array volume_voxels(const py::object& handle) {
  const Volume& volume = handle.cast<const Volume&>();
  slicenav_volume_info info = slicenav_volume_info_init();
  check(slicenav_volume_get_info(&info, volume.get()));
  const float* voxels = nullptr;
  check(slicenav_volume_voxels(&voxels, nullptr, volume.get()));
  const std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(info.size[2]), static_cast<py::ssize_t>(info.size[1]),
                                       static_cast<py::ssize_t>(info.size[0])};
  py::array view(py::dtype::of<float>(), shape, voxels, handle);
  view.attr("setflags")(py::arg("write") = false);
  return view;
}

slicenav_write_params write_params(int gzip_level, Interruptible& stop) {
  slicenav_write_params params = slicenav_write_default_params();
  params.gzip_level = gzip_level;
  params.callbacks = stop.callbacks();
  return params;
}

void volume_write(const Volume& volume, const std::string& path, int gzip_level) {
  Interruptible stop;
  const slicenav_write_params params = write_params(gzip_level, stop);
  stop.run([&] { return slicenav_volume_write(path.c_str(), volume.get(), &params); });
}

// Applies one of the four slice-mapping calls to every value (a flat array; the Python layer keeps shapes).
py::array_t<double> volume_map(const Volume& volume, const std::string& kind,
                               const py::array_t<double, py::array::c_style | py::array::forcecast>& values) {
  slicenav_status (*convert)(double*, const slicenav_volume*, double) = nullptr;
  if (kind == "canonical_to_original") convert = slicenav_volume_canonical_to_original;
  if (kind == "original_to_canonical") convert = slicenav_volume_original_to_canonical;
  if (kind == "canonical_to_world_z") convert = slicenav_volume_canonical_to_world_z;
  if (kind == "world_z_to_canonical") convert = slicenav_volume_world_z_to_canonical;
  if (convert == nullptr) invalid("unknown slice mapping '" + kind + "'");
  py::array_t<double> out(values.size());
  const double* src = values.data();
  double* dst = out.mutable_data();
  for (py::ssize_t n = 0; n < values.size(); ++n) check(convert(&dst[n], volume.get(), src[n]));
  return out;
}

// ---- Phantom (experimental C API) ------------------------------------------------------------------------

slicenav_phantom_params phantom_params(const py::dict& options) {
  slicenav_phantom_params p = slicenav_phantom_default_params();
  for (const auto& item : options) {
    const std::string key = py::str(item.first);
    const py::handle value = item.second;
    if (value.is_none()) continue;
    if (key == "size") {
      const auto v = value.cast<std::vector<int64_t>>();
      if (v.size() != 3) invalid("size must have 3 values");
      for (int a = 0; a < 3; ++a) {
        if (v[a] <= 0) invalid("size[" + std::to_string(a) + "] must be > 0, got " + std::to_string(v[a]));
        p.size[a] = static_cast<size_t>(v[a]);
      }
    } else if (key == "spacing") {
      const auto v = triple(value.cast<std::vector<double>>(), "spacing");
      std::copy(v.begin(), v.end(), p.spacing);
    } else if (key == "orientation" || key == "patient_position") {
      const std::string text = value.cast<std::string>();
      char* dst = key == "orientation" ? p.orientation : p.patient_position;
      const size_t capacity = key == "orientation" ? sizeof p.orientation : sizeof p.patient_position;
      if (text.size() >= capacity) invalid(key + " '" + text + "' is too long");
      std::memcpy(dst, text.c_str(), text.size() + 1);
    } else if (key == "top_z_mm") {
      p.top_z_mm = value.cast<double>();
    } else if (key == "noise_hu") {
      p.noise_hu = value.cast<double>();
    } else if (key == "seed") {
      const int64_t seed = value.cast<int64_t>();
      if (seed < 0) invalid("seed must be >= 0");
      p.seed = static_cast<uint64_t>(seed);
    } else {
      invalid("unknown phantom option '" + key + "'");
    }
  }
  return p;
}

py::dict phantom_defaults() {
  const slicenav_phantom_params p = slicenav_phantom_default_params();
  py::dict d;
  d["size"] = py::make_tuple(p.size[0], p.size[1], p.size[2]);
  d["spacing"] = py::make_tuple(p.spacing[0], p.spacing[1], p.spacing[2]);
  d["orientation"] = std::string(p.orientation);
  d["top_z_mm"] = p.top_z_mm;
  d["patient_position"] = std::string(p.patient_position);
  d["noise_hu"] = p.noise_hu;
  d["seed"] = p.seed;
  return d;
}

Volume phantom(const py::dict& options) {
  const slicenav_phantom_params p = phantom_params(options);
  Volume out;
  slicenav_volume* raw = nullptr;
  call_released([&] { return slicenav_phantom_create(&raw, &p); });
  out.ptr.reset(raw);
  return out;
}

std::vector<std::pair<std::string, double>> phantom_landmarks(const py::dict& options) {
  const slicenav_phantom_params p = phantom_params(options);
  size_t count = 0;
  check(slicenav_phantom_landmarks(nullptr, nullptr, 0, &count, &p));
  std::vector<const char*> names(count);
  std::vector<double> z(count);
  check(slicenav_phantom_landmarks(names.data(), z.data(), count, &count, &p));
  std::vector<std::pair<std::string, double>> out;
  for (size_t n = 0; n < count; ++n) out.emplace_back(names[n], z[n]);
  return out;
}

// ---- Models -----------------------------------------------------------------------------------------------

Model model_load(const std::optional<std::string>& path, int threads, const std::string& device) {
  slicenav_model_params params = slicenav_model_default_params();
  params.path = optional_c_str(path);
  params.threads = threads;
  params.device = device.c_str();
  Model out;
  slicenav_model* raw = nullptr;
  call_released([&] { return slicenav_model_load(&raw, &params); });
  out.ptr.reset(raw);
  return out;
}

std::vector<std::string> model_names(const Model& model, size_t (*count_of)(const slicenav_model*),
                                     const char* (*name_of)(const slicenav_model*, size_t)) {
  std::vector<std::string> names;
  const size_t count = count_of(model.get());
  for (size_t n = 0; n < count; ++n) names.emplace_back(name_of(model.get(), n));
  return names;
}

std::vector<std::string> model_regions(const Model& model) {
  return model_names(model, slicenav_model_region_count, slicenav_model_region_name);
}

std::vector<std::string> model_organs(const Model& model) {
  return model_names(model, slicenav_model_organ_count, slicenav_model_organ_name);
}

// ---- Navigation -------------------------------------------------------------------------------------------

// The position fields that slicenav_landmark and slicenav_position share.
template <typename Position>
py::dict position_fields(const Position& p) {
  py::dict d;
  d["where"] = static_cast<int>(p.where);
  d["canonical_slice"] = p.canonical_slice;
  d["original_slice"] = p.original_slice;
  d["world_z_mm"] = p.world_z_mm;
  d["confidence"] = p.confidence;
  return d;
}

py::dict landmark_dict(const slicenav_landmark& l) {
  py::dict d = position_fields(l);
  d["name"] = l.name;
  d["spread_mm"] = l.spread_mm;
  d["votes"] = l.votes;
  return d;
}

slicenav_locate_params locate_params(int method) {
  slicenav_locate_params params = slicenav_locate_default_params();
  params.method = static_cast<slicenav_locate_method>(method);
  return params;
}

Scan scan_prepare(const Model& model, const Volume& volume) {
  Scan out;
  slicenav_scan* raw = nullptr;
  Interruptible stop;
  slicenav_prepare_params params = slicenav_prepare_default_params();
  params.callbacks = stop.callbacks();
  stop.run([&] { return slicenav_scan_prepare(&raw, model.get(), volume.get(), &params); });
  out.ptr.reset(raw);
  return out;
}

// Every query slice's answer as columns (numpy arrays, query canonical order), plus the distribution and its
// slots when kept. `qc` writes the heat map (it needs the distribution, which is then kept).
py::dict insert(const Model& model, const Scan& query, const Scan& target, bool distribution,
                const std::optional<std::string>& qc) {
  slicenav_insert_params params = slicenav_insert_default_params();
  params.keep_distribution = distribution || qc ? 1 : 0;
  std::unique_ptr<slicenav_insertion, void (*)(slicenav_insertion*)> result(nullptr, slicenav_insertion_free);
  slicenav_insertion* raw = nullptr;
  call_released([&] { return slicenav_scan_insert(&raw, model.get(), query.get(), target.get(), &params); });
  result.reset(raw);
  if (qc) call_released([&] { return slicenav_insertion_write_png(qc->c_str(), result.get()); });

  const size_t count = slicenav_insertion_count(result.get());
  const auto n = static_cast<py::ssize_t>(count);
  py::array_t<double> query_slice(n), query_z(n), target_canonical(n), target_original(n), target_z(n);
  py::array_t<int32_t> where(n);
  py::array_t<float> peak(n), entropy(n);
  for (size_t k = 0; k < count; ++k) {
    slicenav_inserted_slice s = slicenav_inserted_slice_init();
    check(slicenav_insertion_get(&s, result.get(), k));
    const auto i = static_cast<py::ssize_t>(k);
    query_slice.mutable_at(i) = s.query_original_slice;
    query_z.mutable_at(i) = s.query_world_z_mm;
    where.mutable_at(i) = static_cast<int32_t>(s.where);
    target_canonical.mutable_at(i) = s.target_canonical_slice;
    target_original.mutable_at(i) = s.target_original_slice;
    target_z.mutable_at(i) = s.target_world_z_mm;
    peak.mutable_at(i) = s.peak;
    entropy.mutable_at(i) = s.entropy;
  }
  py::dict d;
  d["query_slice"] = query_slice;
  d["query_world_z_mm"] = query_z;
  d["where"] = where;
  d["target_canonical_slice"] = target_canonical;
  d["target_slice"] = target_original;
  d["target_world_z_mm"] = target_z;
  d["peak"] = peak;
  d["entropy"] = entropy;
  if (distribution) {
    size_t slots = 0;
    check(slicenav_insertion_slots(nullptr, 0, &slots, result.get()));
    py::array_t<uint64_t> canonical(static_cast<py::ssize_t>(slots));
    std::vector<size_t> buffer(slots);
    check(slicenav_insertion_slots(buffer.data(), slots, &slots, result.get()));
    for (size_t s = 0; s < slots; ++s) canonical.mutable_at(static_cast<py::ssize_t>(s)) = buffer[s];
    py::array_t<float> rows({n, static_cast<py::ssize_t>(slots + 2)});
    check(
        slicenav_insertion_distribution(rows.mutable_data(), static_cast<size_t>(rows.size()), nullptr, result.get()));
    d["distribution"] = rows;
    d["slots"] = canonical;
  }
  return d;
}

py::array_t<double> scan_scores(const Scan& scan) {
  py::array_t<double> scores(static_cast<py::ssize_t>(slicenav_scan_slice_count(scan.get())));
  check(slicenav_scan_scores(scores.mutable_data(), static_cast<size_t>(scores.size()), nullptr, scan.get()));
  return scores;
}

// `volume` is the scan's own volume, needed only for the QC picture.
py::dict locate(const Model& model, const Scan& scan, int method, const std::optional<std::string>& qc,
                const Volume* volume) {
  const slicenav_locate_params params = locate_params(method);
  std::unique_ptr<slicenav_landmarks, void (*)(slicenav_landmarks*)> result(nullptr, slicenav_landmarks_free);
  slicenav_landmarks* raw = nullptr;
  call_released([&] { return slicenav_scan_locate(&raw, model.get(), scan.get(), &params); });
  result.reset(raw);
  if (qc) {
    if (volume == nullptr) invalid("a QC picture needs the scan's volume");
    call_released([&] { return slicenav_landmarks_write_png(qc->c_str(), result.get(), volume->get()); });
  }
  py::list landmarks;
  const size_t count = slicenav_landmarks_count(result.get());
  for (size_t k = 0; k < count; ++k) {
    slicenav_landmark l = slicenav_landmark_init();
    check(slicenav_landmarks_get(&l, result.get(), k));
    py::dict d = landmark_dict(l);
    d["measured"] = slicenav_landmarks_measured(result.get(), k) != 0;
    landmarks.append(d);
  }
  py::dict d;
  d["recognised"] = slicenav_landmarks_recognised(result.get()) != 0;
  d["score_slope"] = slicenav_landmarks_score_slope(result.get());
  d["landmarks"] = landmarks;
  return d;
}

py::dict coverage(const Model& model, const Scan& scan, const std::string& region, int method) {
  const slicenav_locate_params params = locate_params(method);
  slicenav_coverage c = slicenav_coverage_init();
  call_released([&] { return slicenav_scan_coverage(&c, model.get(), scan.get(), region.c_str(), &params); });
  py::dict d;
  d["status"] = static_cast<int>(c.status);
  d["recognised"] = c.recognised != 0;
  d["superior"] = position_fields(c.superior);
  d["inferior"] = position_fields(c.inferior);
  return d;
}

// ---- Prealignment and transform files -----------------------------------------------------------------------

py::dict prealign(const Model* model, const Volume& fixed, const Volume& moving, int method,
                  const std::optional<double>& min_overlap_mm, bool in_plane) {
  slicenav_prealign_params params = slicenav_prealign_default_params();
  params.method = static_cast<slicenav_prealign_method>(method);
  if (min_overlap_mm) params.min_overlap_mm = *min_overlap_mm;
  params.in_plane = in_plane ? 1 : 0;
  slicenav_prealignment r = slicenav_prealignment_init();
  const slicenav_model* m = model == nullptr ? nullptr : model->get();
  Interruptible stop;
  params.callbacks = stop.callbacks();
  stop.run([&] { return slicenav_prealign(&r, m, fixed.get(), moving.get(), &params); });
  py::dict d;
  d["translation_mm"] = py::make_tuple(r.translation_mm[0], r.translation_mm[1], r.translation_mm[2]);
  d["confidence"] = r.confidence;
  d["overlap_mm"] = r.overlap_mm;
  d["shared_anatomy"] = r.shared_anatomy != 0;
  d["shifts_tried"] = r.shifts_tried;
  d["match_cost"] = r.match_cost;
  d["match_contrast"] = r.match_contrast;
  d["line_inliers"] = r.line_inliers;
  d["off_line_share"] = r.off_line_share;
  d["key_slices_shared"] = r.key_slices_shared;
  d["key_slice_deviation_mm"] = r.key_slice_deviation_mm;
  d["fixed_score_slope"] = r.fixed_score_slope;
  d["fixed_recognised"] = r.fixed_recognised != 0;
  d["moving_recognised"] = r.moving_recognised != 0;
  d["note"] = std::string(r.note);
  d["method"] = static_cast<int>(r.method);
  return d;
}

py::dict prealign_rigid(const Model& model, const Volume& fixed, const Volume& moving,
                        const std::optional<std::uint32_t>& points, const std::optional<double>& max_rotation_deg,
                        const std::optional<std::uint64_t>& seed) {
  slicenav_prealign_rigid_params params = slicenav_prealign_rigid_default_params();
  if (points) params.points = *points;
  if (max_rotation_deg) params.max_rotation_deg = *max_rotation_deg;
  if (seed) params.seed = *seed;
  slicenav_prealignment_rigid r = slicenav_prealignment_rigid_init();
  Interruptible stop;
  params.callbacks = stop.callbacks();
  stop.run([&] { return slicenav_prealign_rigid(&r, model.get(), fixed.get(), moving.get(), &params); });
  py::dict d;
  d["translation_mm"] = py::make_tuple(r.translation_mm[0], r.translation_mm[1], r.translation_mm[2]);
  d["rotation_rad"] = py::make_tuple(r.rotation_rad[0], r.rotation_rad[1], r.rotation_rad[2]);
  d["centre_mm"] = py::make_tuple(r.centre_mm[0], r.centre_mm[1], r.centre_mm[2]);
  d["confidence"] = r.confidence;
  d["shared_anatomy"] = r.shared_anatomy != 0;
  d["points"] = r.points;
  d["consistent"] = r.consistent;
  d["inliers"] = r.inliers;
  d["residual_mm"] = r.residual_mm;
  d["note"] = std::string(r.note);
  return d;
}

// The APE map of a CT (slicenav_ape_map): a float32 array (3, z, y, x) and its grid.
py::tuple ape_map(const Model& model, const Volume& volume) {
  slicenav_world_grid grid = slicenav_world_grid_init();
  std::size_t count = 0;
  check(slicenav_ape_map(nullptr, 0, &count, &grid, model.get(), volume.get()));
  py::array_t<float> values({py::ssize_t{3}, static_cast<py::ssize_t>(grid.size[2]),
                             static_cast<py::ssize_t>(grid.size[1]), static_cast<py::ssize_t>(grid.size[0])});
  float* dst = values.mutable_data();
  call_released([&] { return slicenav_ape_map(dst, count, nullptr, nullptr, model.get(), volume.get()); });
  py::dict g;
  g["size"] = py::make_tuple(grid.size[0], grid.size[1], grid.size[2]);
  g["spacing_mm"] = grid.spacing_mm;
  g["origin"] = py::make_tuple(grid.origin[0], grid.origin[1], grid.origin[2]);
  return py::make_tuple(values, g);
}

void ape_write(const Model& model, const Volume& volume, const std::string& path, int gzip_level) {
  Interruptible stop;
  const slicenav_write_params params = write_params(gzip_level, stop);
  stop.run([&] { return slicenav_ape_write(path.c_str(), model.get(), volume.get(), &params); });
}

slicenav_rigid_transform rigid_transform(const std::vector<double>& translation, const std::vector<double>& rotation,
                                         const std::vector<double>& centre) {
  slicenav_rigid_transform t = slicenav_rigid_transform_init();
  const auto tr = triple(translation, "translation_mm");
  const auto ro = triple(rotation, "rotation_rad");
  const auto ce = triple(centre, "centre_mm");
  for (int a = 0; a < 3; ++a) {
    t.translation_mm[a] = tr[a];
    t.rotation_rad[a] = ro[a];
    t.centre_mm[a] = ce[a];
  }
  return t;
}

void write_elastix_transform(const std::vector<double>& translation, const std::vector<double>& rotation,
                             const std::vector<double>& centre, const Volume& fixed, const std::string& path) {
  const slicenav_rigid_transform t = rigid_transform(translation, rotation, centre);
  call_released([&] { return slicenav_rigid_transform_write_elastix(path.c_str(), &t, fixed.get()); });
}

void write_itk_transform(const std::vector<double>& translation, const std::vector<double>& rotation,
                         const std::vector<double>& centre, const std::string& path) {
  const slicenav_rigid_transform t = rigid_transform(translation, rotation, centre);
  call_released([&] { return slicenav_rigid_transform_write_itk(path.c_str(), &t); });
}

// ---- Cropping ---------------------------------------------------------------------------------------------

CropRecord crop_plan(const Model& model, const Volume& volume, const std::string& region, int method) {
  slicenav_crop_params params = slicenav_crop_default_params();
  params.region = region.c_str();
  params.method = static_cast<slicenav_locate_method>(method);
  CropRecord out;
  slicenav_crop_record* raw = nullptr;
  Interruptible stop;
  params.callbacks = stop.callbacks();
  stop.run([&] { return slicenav_crop_record_plan(&raw, model.get(), volume.get(), &params); });
  out.ptr.reset(raw);
  return out;
}

CropRecord crop_record_read(const std::string& path) {
  CropRecord out;
  slicenav_crop_record* raw = nullptr;
  call_released([&] { return slicenav_crop_record_read(&raw, path.c_str()); });
  out.ptr.reset(raw);
  return out;
}

// ---- Errors -----------------------------------------------------------------------------------------------

// Raises slicenav._errors.error_class(status) with the library's message.
void translate(std::exception_ptr pending) {
  try {
    if (pending) std::rethrow_exception(pending);
  } catch (const StatusError& e) {
    const py::object cls = py::module_::import("slicenav._errors").attr("error_class")(e.status);
    PyErr_SetObject(cls.ptr(), message_text(e.message).ptr());
  }
}

}  // namespace

PYBIND11_MODULE(_slicenav, m) {
  m.doc() = "slicenav's extension module over the C API; use the `slicenav` package instead.";
  py::register_exception_translator(translate);

  py::class_<Volume>(m, "VolumeHandle");
  py::class_<Model>(m, "ModelHandle");
  py::class_<CropRecord>(m, "CropRecordHandle");
  py::class_<Scan>(m, "ScanHandle");

  m.def("version", [] { return std::string(slicenav_version()); });
  m.def("status_name", [](int status) { return std::string(slicenav_status_name(status)); });
  m.attr("header_version") = std::to_string(SLICENAV_VERSION_MAJOR) + "." + std::to_string(SLICENAV_VERSION_MINOR) +
                             "." + std::to_string(SLICENAV_VERSION_PATCH);

  m.def("volume_read", &volume_read, py::arg("path"), py::arg("series_uid"));
  m.def("volume_from_buffer", &volume_from_buffer, py::arg("array"), py::arg("spacing"), py::arg("origin"),
        py::arg("direction"));
  m.def("volume_info", &volume_info);
  m.def("volume_voxels", &volume_voxels);
  m.def("volume_write", &volume_write);
  m.def("dicom_series", &dicom_series);
  m.def("volume_map", &volume_map);

  m.def("phantom_defaults", &phantom_defaults);
  m.def("phantom", &phantom);
  m.def("phantom_landmarks", &phantom_landmarks);

  m.def("model_load", &model_load, py::arg("path"), py::arg("threads"), py::arg("device"));
  m.def("model_metadata_json",
        [](const Model& model) { return std::string(slicenav_model_metadata_json(model.get())); });
  m.def("model_regions", &model_regions);
  m.def("model_organs", &model_organs);

  m.def("scan_prepare", &scan_prepare);
  m.def("scan_scores", &scan_scores);
  m.def("insert", &insert);
  m.def("locate", &locate, py::arg("model"), py::arg("scan"), py::arg("method"), py::arg("qc"),
        py::arg("volume").none(true));
  m.def("coverage", &coverage);

  m.def("prealign", &prealign, py::arg("model").none(true), py::arg("fixed"), py::arg("moving"), py::arg("method"),
        py::arg("min_overlap_mm"), py::arg("in_plane"));
  m.def("prealign_rigid", &prealign_rigid, py::arg("model"), py::arg("fixed"), py::arg("moving"),
        py::arg("points").none(true), py::arg("max_rotation_deg").none(true), py::arg("seed").none(true));
  m.def("ape_map", &ape_map);
  m.def("ape_write", &ape_write);
  m.def("write_elastix_transform", &write_elastix_transform);
  m.def("write_itk_transform", &write_itk_transform);

  m.def("crop_plan", &crop_plan);
  m.def("crop_record_read", &crop_record_read);
  m.def("crop_record_write", [](const CropRecord& record, const std::string& path) {
    call_released([&] { return slicenav_crop_record_write(path.c_str(), record.get()); });
  });
  m.def("crop_record_json",
        [](const CropRecord& record) { return std::string(slicenav_crop_record_json(record.get())); });
  m.def("crop_record_partial",
        [](const CropRecord& record) { return slicenav_crop_record_partial(record.get()) != 0; });
  m.def("crop_file", [](const CropRecord& record, const std::string& image, const std::string& out, int gzip_level) {
    Interruptible stop;
    const slicenav_write_params params = write_params(gzip_level, stop);
    stop.run([&] { return slicenav_crop_record_crop_file(out.c_str(), record.get(), image.c_str(), &params); });
  });
  m.def("uncrop_file", [](const CropRecord& record, const std::string& prediction, const std::string& out,
                          int gzip_level) {
    Interruptible stop;
    const slicenav_write_params params = write_params(gzip_level, stop);
    stop.run([&] { return slicenav_crop_record_uncrop_file(out.c_str(), record.get(), prediction.c_str(), &params); });
  });
}

// The C API's navigation calls: models, insertion, slice scores, key slices, coverage, QC pictures,
// prepared scans.
// Thin shims over core/include/slicenav/navigation.hpp, guarded like every other call.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "capi_support.hpp"
#include "slicenav.h"
#include "slicenav/ape.hpp"
#include "slicenav/model.hpp"
#include "slicenav/navigation.hpp"
#include "slicenav/qc.hpp"

struct slicenav_insertion {
  slicenav::Insertion insertion;
  bool has_distribution = false;
};

struct slicenav_landmarks {
  std::vector<slicenav::LocatedLandmark> landmarks;
  slicenav::Recognition recognition;
};

struct slicenav_scan {
  slicenav::PreparedScan scan;
  std::uint64_t model_serial = 0;
};

namespace {

using slicenav::InsertedSlice;
using slicenav::Status;
using namespace slicenav::capi;

// Confidence below which a located key slice is drawn dashed in QC pictures.
constexpr float kLowConfidence = 0.3f;

slicenav_where where_value(InsertedSlice::Where where) {
  switch (where) {
    case InsertedSlice::Where::above: return SLICENAV_ABOVE;
    case InsertedSlice::Where::below: return SLICENAV_BELOW;
    case InsertedSlice::Where::inside: break;
  }
  return SLICENAV_INSIDE;
}

slicenav::LocateMethod locate_method(const slicenav_locate_params* params) {
  if (params == nullptr) return slicenav::LocateMethod::insertion;
  check_struct_size(*params, &slicenav_locate_params::method, "params");
  return to_locate_method(params->method, "params->method");
}

// `l`'s name stays owned by the result that holds `l`.
slicenav_landmark landmark_value(const slicenav::LocatedLandmark& l) {
  slicenav_landmark out = slicenav_landmark_init();
  out.name = l.name.c_str();
  out.where = where_value(l.position.where);
  out.canonical_slice = l.position.canonical_slice;
  out.original_slice = l.position.original_slice;
  out.world_z_mm = l.position.world_z_mm;
  out.confidence = l.confidence;
  out.spread_mm = l.spread_mm;
  out.votes = l.votes;
  return out;
}

slicenav_position position_value(const slicenav::LocatedLandmark& l) {
  slicenav_position out{};
  out.where = where_value(l.position.where);
  out.canonical_slice = l.position.canonical_slice;
  out.original_slice = l.position.original_slice;
  out.world_z_mm = l.position.world_z_mm;
  out.confidence = l.confidence;
  return out;
}

// The prepared scan behind a handle, checked to belong to `model` (validated already).
const slicenav::PreparedScan& prepared(const slicenav_scan* scan, const slicenav_model* model, const char* name) {
  require(scan, name);
  if (scan->model_serial != model->serial) invalid(std::string(name) + " was prepared with another model");
  return scan->scan;
}

slicenav_insertion* make_insertion(const slicenav_model* model, const slicenav::PreparedScan& query,
                                   const slicenav::PreparedScan& target, const slicenav_insert_params* params) {
  bool keep = false;
  if (params != nullptr) {
    check_struct_size(*params, &slicenav_insert_params::keep_distribution, "params");
    keep = params->keep_distribution != 0;
  }
  return new slicenav_insertion{slicenav::insert_scan(model->model, query, target, keep), keep};
}

slicenav_landmarks* make_landmarks(const slicenav_model* model, const slicenav::PreparedScan& scan,
                                   slicenav::LocateMethod method) {
  return new slicenav_landmarks{slicenav::locate(model->model, scan, method), slicenav::recognise(scan)};
}

slicenav_coverage coverage_value(const slicenav_model* model, const slicenav::PreparedScan& scan,
                                 const std::string& region, slicenav::LocateMethod method) {
  const slicenav::Coverage c = slicenav::coverage(model->model, scan, region, method);
  slicenav_coverage v = slicenav_coverage_init();
  v.status = c.status == slicenav::Coverage::Status::full      ? SLICENAV_COVERAGE_FULL
             : c.status == slicenav::Coverage::Status::partial ? SLICENAV_COVERAGE_PARTIAL
                                                               : SLICENAV_COVERAGE_NONE;
  v.superior = position_value(c.superior);
  v.inferior = position_value(c.inferior);
  v.recognised = c.recognised ? 1 : 0;
  return v;
}

}  // namespace

slicenav::LocateMethod slicenav::capi::to_locate_method(const slicenav_locate_method& method, const char* name) {
  switch (enum_value(method)) {
    case SLICENAV_LOCATE_INSERTION: return slicenav::LocateMethod::insertion;
    case SLICENAV_LOCATE_SCORE: return slicenav::LocateMethod::score;
    default: invalid(std::string(name) + " " + std::to_string(enum_value(method)) + " is not a slicenav_locate_method");
  }
}

extern "C" {

// ---- Models ---------------------------------------------------------------------------------------

slicenav_model_params slicenav_model_default_params(void) {
  slicenav_model_params params{};
  params.struct_size = sizeof(slicenav_model_params);
  params.path = nullptr;
  params.threads = 0;
  params.device = nullptr;
  return params;
}

slicenav_status slicenav_model_load(slicenav_model** out, const slicenav_model_params* params) {
  return guarded("slicenav_model_load", [&] {
    require(out, "out");
    *out = nullptr;
    slicenav_model_params p = slicenav_model_default_params();
    if (params != nullptr) {
      using P = slicenav_model_params;
      check_struct_size(*params, &P::path, "params");
      p.path = params->path;
      if (has_field(*params, &P::threads)) p.threads = params->threads;
      if (has_field(*params, &P::device)) p.device = params->device;
    }
    if (p.threads < 0) invalid("params->threads must be >= 0 (0 = hardware threads), got " + std::to_string(p.threads));
    const std::string device = p.device == nullptr ? "" : p.device;
    if (!device.empty() && device != "cpu") {
      if (device.rfind("cuda", 0) == 0) {
        slicenav::fail(Status::unsupported_input,
                       "device '" + device + "': this build's LibTorch has no CUDA; use \"cpu\"");
      }
      invalid("unknown device '" + device + "' (use \"cpu\" or \"cuda:N\")");
    }
    const std::string path = p.path == nullptr || p.path[0] == '\0' ? slicenav::default_model_path() : p.path;
    slicenav::set_inference_threads(p.threads);
    slicenav::Model loaded = slicenav::Model::load(path);
    static std::atomic<std::uint64_t> next_serial{1};
    auto model = std::make_unique<slicenav_model>(slicenav_model{loaded, loaded.metadata_json(), {}, {}, next_serial++});
    for (const auto& r : slicenav::regions(model->model)) model->region_names.push_back(r.name);
    for (const auto& o : slicenav::ape_organs(model->model)) model->organ_names.push_back(o.name);
    *out = model.release();
  });
}

const char* slicenav_model_metadata_json(const slicenav_model* model) {
  return model == nullptr ? nullptr : model->metadata_json.c_str();
}

void slicenav_model_free(slicenav_model* model) { delete model; }

// ---- Insertion ------------------------------------------------------------------------------------

slicenav_insert_params slicenav_insert_default_params(void) {
  slicenav_insert_params params{};
  params.struct_size = sizeof(slicenav_insert_params);
  params.keep_distribution = 0;
  return params;
}

slicenav_status slicenav_volume_insert(slicenav_insertion** out, const slicenav_model* model,
                                       const slicenav_volume* query, const slicenav_volume* target,
                                       const slicenav_insert_params* params) {
  return guarded("slicenav_volume_insert", [&] {
    require(out, "out");
    *out = nullptr;
    require(model, "model");
    require(query, "query");
    require(target, "target");
    if (params != nullptr) check_struct_size(*params, &slicenav_insert_params::keep_distribution, "params");
    const slicenav::Progress progress = progress_of(params);
    const auto q = slicenav::prepare_scan(model->model, query->volume, {false, progress.stage(0.0, 0.45)});
    const auto t = slicenav::prepare_scan(model->model, target->volume, {false, progress.stage(0.45, 0.9)});
    std::unique_ptr<slicenav_insertion> result(make_insertion(model, q, t, params));
    progress.done();
    *out = result.release();
  });
}

slicenav_inserted_slice slicenav_inserted_slice_init(void) {
  slicenav_inserted_slice s;
  std::memset(&s, 0, sizeof s);
  s.struct_size = sizeof(slicenav_inserted_slice);
  return s;
}

size_t slicenav_insertion_count(const slicenav_insertion* insertion) {
  return insertion == nullptr ? 0 : insertion->insertion.slices.size();
}

slicenav_status slicenav_insertion_get(slicenav_inserted_slice* out, const slicenav_insertion* insertion,
                                       size_t index) {
  return guarded("slicenav_insertion_get", [&] {
    require(insertion, "insertion");
    require(out, "out");
    check_struct_size(*out, &slicenav_inserted_slice::query_original_slice, "out");
    const auto& slices = insertion->insertion.slices;
    if (index >= slices.size()) {
      invalid("index " + std::to_string(index) + " >= " + std::to_string(slices.size()) + " query slices");
    }
    const slicenav::SliceInsertion& s = slices[index];
    slicenav_inserted_slice v = slicenav_inserted_slice_init();
    v.query_original_slice = s.query_original_slice;
    v.query_world_z_mm = s.query_world_z_mm;
    v.where = where_value(s.target.where);
    v.target_canonical_slice = s.target.canonical_slice;
    v.target_original_slice = s.target.original_slice;
    v.target_world_z_mm = s.target.world_z_mm;
    v.peak = s.peak;
    v.entropy = s.entropy;
    write_versioned(v, out);
  });
}

slicenav_status slicenav_insertion_slots(size_t* dst, size_t capacity, size_t* written,
                                         const slicenav_insertion* insertion) {
  return guarded("slicenav_insertion_slots", [&] {
    require(insertion, "insertion");
    copy_out(insertion->insertion.target_slots, dst, capacity, written);
  });
}

slicenav_status slicenav_insertion_distribution(float* dst, size_t capacity, size_t* written,
                                                const slicenav_insertion* insertion) {
  return guarded("slicenav_insertion_distribution", [&] {
    require(insertion, "insertion");
    if (!insertion->has_distribution) invalid("the insertion was made without params->keep_distribution");
    copy_out(insertion->insertion.distribution, dst, capacity, written);
  });
}

slicenav_status slicenav_insertion_write_png(const char* path, const slicenav_insertion* insertion) {
  return guarded("slicenav_insertion_write_png", [&] {
    require(insertion, "insertion");
    require(path, "path");
    if (!insertion->has_distribution) invalid("the insertion was made without params->keep_distribution");
    const auto& ins = insertion->insertion;
    const std::size_t cols = ins.target_slots.size() + 2;
    slicenav::write_heatmap_png(ins.distribution, ins.slices.size(), cols, path, {{0, "above"}, {cols - 1, "below"}});
  });
}

void slicenav_insertion_free(slicenav_insertion* insertion) { delete insertion; }

// ---- Slice scores ---------------------------------------------------------------------------------

slicenav_status slicenav_volume_scores(double* dst, size_t capacity, size_t* written, const slicenav_model* model,
                                       const slicenav_volume* volume, const slicenav_prepare_params* params) {
  return guarded("slicenav_volume_scores", [&] {
    require(model, "model");
    require(volume, "volume");
    if (params != nullptr) check_struct_size(*params, &slicenav_prepare_params::callbacks, "params");
    if (dst == nullptr && capacity == 0) {  // size query: no inference needed
      require(written, "written (in a size query)");
      *written = volume->mapping.slice_count();
      return;
    }
    require(dst, "dst");
    if (capacity < volume->mapping.slice_count()) {
      if (written != nullptr) *written = volume->mapping.slice_count();
      slicenav::fail(Status::buffer_too_small, "capacity " + std::to_string(capacity) + " < " +
                                                   std::to_string(volume->mapping.slice_count()) + " slices");
    }
    const slicenav::Progress progress = progress_of(params);
    const auto scan = slicenav::prepare_scan(model->model, volume->volume, {false, progress});
    copy_out(scan.score, dst, capacity, written);
    progress.done();
  });
}

// ---- Key slices -----------------------------------------------------------------------------------

slicenav_locate_params slicenav_locate_default_params(void) {
  slicenav_locate_params params{};
  params.struct_size = sizeof(slicenav_locate_params);
  params.method = SLICENAV_LOCATE_INSERTION;
  return params;
}

slicenav_status slicenav_volume_locate(slicenav_landmarks** out, const slicenav_model* model,
                                       const slicenav_volume* volume, const slicenav_locate_params* params) {
  return guarded("slicenav_volume_locate", [&] {
    require(out, "out");
    *out = nullptr;
    require(model, "model");
    require(volume, "volume");
    const auto method = locate_method(params);
    const slicenav::Progress progress = progress_of(params);
    const auto scan = slicenav::prepare_scan(model->model, volume->volume, {true, progress.stage(0.0, 0.9)});
    std::unique_ptr<slicenav_landmarks> result(make_landmarks(model, scan, method));
    progress.done();
    *out = result.release();
  });
}

slicenav_landmark slicenav_landmark_init(void) {
  slicenav_landmark l;
  std::memset(&l, 0, sizeof l);
  l.struct_size = sizeof(slicenav_landmark);
  l.name = "";
  return l;
}

size_t slicenav_landmarks_count(const slicenav_landmarks* landmarks) {
  return landmarks == nullptr ? 0 : landmarks->landmarks.size();
}

slicenav_status slicenav_landmarks_get(slicenav_landmark* out, const slicenav_landmarks* landmarks, size_t index) {
  return guarded("slicenav_landmarks_get", [&] {
    require(landmarks, "landmarks");
    require(out, "out");
    check_struct_size(*out, &slicenav_landmark::name, "out");
    if (index >= landmarks->landmarks.size()) {
      invalid("index " + std::to_string(index) + " >= " + std::to_string(landmarks->landmarks.size()) + " landmarks");
    }
    write_versioned(landmark_value(landmarks->landmarks[index]), out);
  });
}

int32_t slicenav_landmarks_recognised(const slicenav_landmarks* landmarks) {
  return landmarks != nullptr && landmarks->recognition.recognised ? 1 : 0;
}

double slicenav_landmarks_score_slope(const slicenav_landmarks* landmarks) {
  return landmarks == nullptr ? 0.0 : landmarks->recognition.score_slope;
}

int32_t slicenav_landmarks_measured(const slicenav_landmarks* landmarks, size_t index) {
  if (landmarks == nullptr || index >= landmarks->landmarks.size()) return 0;
  return landmarks->landmarks[index].measured ? 1 : 0;
}

slicenav_status slicenav_landmarks_write_png(const char* path, const slicenav_landmarks* landmarks,
                                             const slicenav_volume* volume) {
  return guarded("slicenav_landmarks_write_png", [&] {
    require(landmarks, "landmarks");
    require(volume, "volume");
    require(path, "path");
    std::vector<slicenav::QcMark> marks;
    for (const auto& l : landmarks->landmarks) {
      if (l.position.where != InsertedSlice::Where::inside) continue;
      marks.push_back({l.name, l.position.canonical_slice, l.confidence < kLowConfidence});
    }
    slicenav::write_key_slice_png(slicenav::canonicalize(volume->volume), marks, path);
  });
}

void slicenav_landmarks_free(slicenav_landmarks* landmarks) { delete landmarks; }

// ---- Coverage -------------------------------------------------------------------------------------

slicenav_coverage slicenav_coverage_init(void) {
  slicenav_coverage c;
  std::memset(&c, 0, sizeof c);
  c.struct_size = sizeof(slicenav_coverage);
  return c;
}

slicenav_status slicenav_volume_coverage(slicenav_coverage* out, const slicenav_model* model,
                                         const slicenav_volume* volume, const char* region,
                                         const slicenav_locate_params* params) {
  return guarded("slicenav_volume_coverage", [&] {
    require(model, "model");
    require(volume, "volume");
    require(region, "region");
    require(out, "out");
    check_struct_size(*out, &slicenav_coverage::status, "out");
    const auto method = locate_method(params);
    slicenav::find_region(model->model, region);  // an unknown name fails before any inference
    const slicenav::Progress progress = progress_of(params);
    const auto scan = slicenav::prepare_scan(model->model, volume->volume, {false, progress.stage(0.0, 0.9)});
    const slicenav_coverage value = coverage_value(model, scan, region, method);
    progress.done();
    write_versioned(value, out);
  });
}

// ---- Prepared scans -------------------------------------------------------------------------------

slicenav_prepare_params slicenav_prepare_default_params(void) {
  slicenav_prepare_params params{};
  params.struct_size = sizeof(slicenav_prepare_params);
  return params;
}

slicenav_status slicenav_scan_prepare(slicenav_scan** out, const slicenav_model* model, const slicenav_volume* volume,
                                      const slicenav_prepare_params* params) {
  return guarded("slicenav_scan_prepare", [&] {
    require(out, "out");
    *out = nullptr;
    require(model, "model");
    require(volume, "volume");
    if (params != nullptr) check_struct_size(*params, &slicenav_prepare_params::callbacks, "params");
    const slicenav::Progress progress = progress_of(params);
    auto scan = std::make_unique<slicenav_scan>(
        slicenav_scan{slicenav::prepare_scan(model->model, volume->volume, {true, progress}), model->serial});
    progress.done();
    *out = scan.release();
  });
}

size_t slicenav_scan_slice_count(const slicenav_scan* scan) { return scan == nullptr ? 0 : scan->scan.slice_count(); }

slicenav_status slicenav_scan_scores(double* dst, size_t capacity, size_t* written, const slicenav_scan* scan) {
  return guarded("slicenav_scan_scores", [&] {
    require(scan, "scan");
    copy_out(scan->scan.score, dst, capacity, written);
  });
}

slicenav_status slicenav_scan_insert(slicenav_insertion** out, const slicenav_model* model, const slicenav_scan* query,
                                     const slicenav_scan* target, const slicenav_insert_params* params) {
  return guarded("slicenav_scan_insert", [&] {
    require(out, "out");
    *out = nullptr;
    require(model, "model");
    *out = make_insertion(model, prepared(query, model, "query"), prepared(target, model, "target"), params);
  });
}

slicenav_status slicenav_scan_locate(slicenav_landmarks** out, const slicenav_model* model, const slicenav_scan* scan,
                                     const slicenav_locate_params* params) {
  return guarded("slicenav_scan_locate", [&] {
    require(out, "out");
    *out = nullptr;
    require(model, "model");
    const auto& s = prepared(scan, model, "scan");
    *out = make_landmarks(model, s, locate_method(params));
  });
}

slicenav_status slicenav_scan_coverage(slicenav_coverage* out, const slicenav_model* model, const slicenav_scan* scan,
                                       const char* region, const slicenav_locate_params* params) {
  return guarded("slicenav_scan_coverage", [&] {
    require(model, "model");
    const auto& s = prepared(scan, model, "scan");
    require(region, "region");
    require(out, "out");
    check_struct_size(*out, &slicenav_coverage::status, "out");
    write_versioned(coverage_value(model, s, region, locate_method(params)), out);
  });
}

void slicenav_scan_free(slicenav_scan* scan) { delete scan; }

size_t slicenav_model_region_count(const slicenav_model* model) {
  return model == nullptr ? 0 : model->region_names.size();
}

const char* slicenav_model_region_name(const slicenav_model* model, size_t index) {
  if (model == nullptr || index >= model->region_names.size()) return nullptr;
  return model->region_names[index].c_str();
}

size_t slicenav_model_organ_count(const slicenav_model* model) {
  return model == nullptr ? 0 : model->organ_names.size();
}

const char* slicenav_model_organ_name(const slicenav_model* model, size_t index) {
  if (model == nullptr || index >= model->organ_names.size()) return nullptr;
  return model->organ_names[index].c_str();
}

}  // extern "C"

// The C API's prealignment call: a thin shim over core/include/slicenav/prealign.hpp, guarded like every
// other call.
#include <cstring>
#include <string>

#include "capi_support.hpp"
#include "slicenav.h"
#include "slicenav/prealign.hpp"
#include "slicenav/rigid.hpp"

namespace {

using namespace slicenav::capi;
using slicenav::PrealignMethod;

PrealignMethod method_of(const slicenav_prealign_method& method) {
  switch (enum_value(method)) {
    case SLICENAV_PREALIGN_SCORE: return PrealignMethod::score;
    case SLICENAV_PREALIGN_THREE_SLICE: return PrealignMethod::three_slice;
    case SLICENAV_PREALIGN_INSERTION: return PrealignMethod::insertion;
    case SLICENAV_PREALIGN_INTENSITY: return PrealignMethod::intensity;
    case SLICENAV_PREALIGN_EMBEDDING: return PrealignMethod::embedding;
    case SLICENAV_PREALIGN_KEY_SLICES: return PrealignMethod::key_slices;
    case SLICENAV_PREALIGN_AUTO: return PrealignMethod::automatic;
    default: invalid("params->method " + std::to_string(enum_value(method)) + " is not a slicenav_prealign_method");
  }
}

slicenav_prealign_method method_of(PrealignMethod method) {
  switch (method) {
    case PrealignMethod::score: return SLICENAV_PREALIGN_SCORE;
    case PrealignMethod::three_slice: return SLICENAV_PREALIGN_THREE_SLICE;
    case PrealignMethod::insertion: return SLICENAV_PREALIGN_INSERTION;
    case PrealignMethod::intensity: return SLICENAV_PREALIGN_INTENSITY;
    case PrealignMethod::embedding: return SLICENAV_PREALIGN_EMBEDDING;
    case PrealignMethod::key_slices: return SLICENAV_PREALIGN_KEY_SLICES;
    case PrealignMethod::automatic: break;
  }
  return SLICENAV_PREALIGN_AUTO;
}

// The answering method's evidence, in the named fields of slicenav_prealignment (the engine keeps it as
// cost, contrast and samples, which mean something different for each method).
void set_evidence(const slicenav::Prealignment& r, slicenav_prealignment& v) {
  switch (r.method) {
    case PrealignMethod::score:
    case PrealignMethod::embedding:
    case PrealignMethod::intensity:
      v.shifts_tried = r.samples;
      v.match_cost = r.cost;
      v.match_contrast = r.contrast;
      return;
    case PrealignMethod::insertion:
      v.line_inliers = r.samples;
      v.off_line_share = r.cost;
      return;
    case PrealignMethod::key_slices:
      v.key_slices_shared = r.samples;
      v.key_slice_deviation_mm = r.cost;
      return;
    case PrealignMethod::three_slice: v.fixed_score_slope = r.contrast; return;
    case PrealignMethod::automatic: return;  // never the method that answered
  }
}

}  // namespace

extern "C" {

slicenav_prealign_params slicenav_prealign_default_params(void) {
  const slicenav::PrealignOptions defaults;
  slicenav_prealign_params params{};
  params.struct_size = sizeof(slicenav_prealign_params);
  params.method = SLICENAV_PREALIGN_AUTO;
  params.min_overlap_mm = defaults.min_overlap_mm;
  params.in_plane = 0;
  return params;
}

slicenav_prealignment slicenav_prealignment_init(void) {
  slicenav_prealignment p;
  std::memset(&p, 0, sizeof p);
  p.struct_size = sizeof(slicenav_prealignment);
  return p;
}

slicenav_status slicenav_prealign(slicenav_prealignment* out, const slicenav_model* model, const slicenav_volume* fixed,
                                  const slicenav_volume* moving, const slicenav_prealign_params* params) {
  return guarded("slicenav_prealign", [&] {
    require(fixed, "fixed");
    require(moving, "moving");
    require(out, "out");
    check_struct_size(*out, &slicenav_prealignment::translation_mm, "out");
    slicenav::PrealignOptions options;
    if (params != nullptr) {
      using P = slicenav_prealign_params;
      check_struct_size(*params, &P::method, "params");
      options.method = method_of(params->method);
      if (has_field(*params, &P::min_overlap_mm)) options.min_overlap_mm = params->min_overlap_mm;
      if (has_field(*params, &P::in_plane)) options.in_plane = params->in_plane != 0;
      options.progress = progress_of(params);
    }
    if (model == nullptr && options.method != PrealignMethod::intensity) {
      invalid(std::string("model is NULL; only SLICENAV_PREALIGN_INTENSITY works without one (method ") +
              slicenav::prealign_method_name(options.method) + ")");
    }
    const slicenav::Prealignment r =
        slicenav::prealign(model == nullptr ? nullptr : &model->model, fixed->volume, moving->volume, options);
    slicenav_prealignment v = slicenav_prealignment_init();
    for (int a = 0; a < 3; ++a) v.translation_mm[a] = r.translation_mm[static_cast<std::size_t>(a)];
    v.confidence = r.confidence;
    v.overlap_mm = r.overlap_mm;
    v.shared_anatomy = r.shared_anatomy ? 1 : 0;
    set_evidence(r, v);
    options.progress.done();
    v.fixed_recognised = r.fixed_recognised ? 1 : 0;
    v.moving_recognised = r.moving_recognised ? 1 : 0;
    copy_text(v.note, r.note);
    v.method = method_of(r.method);
    write_versioned(v, out);
  });
}

slicenav_prealign_rigid_params slicenav_prealign_rigid_default_params(void) {
  const slicenav::RigidOptions defaults;
  slicenav_prealign_rigid_params params{};
  params.struct_size = sizeof(slicenav_prealign_rigid_params);
  params.points = static_cast<uint32_t>(defaults.points);
  params.max_rotation_deg = defaults.max_rotation_deg;
  params.seed = defaults.seed;
  return params;
}

slicenav_prealignment_rigid slicenav_prealignment_rigid_init(void) {
  slicenav_prealignment_rigid p;
  std::memset(&p, 0, sizeof p);
  p.struct_size = sizeof(slicenav_prealignment_rigid);
  return p;
}

slicenav_status slicenav_prealign_rigid(slicenav_prealignment_rigid* out, const slicenav_model* model,
                                        const slicenav_volume* fixed, const slicenav_volume* moving,
                                        const slicenav_prealign_rigid_params* params) {
  return guarded("slicenav_prealign_rigid", [&] {
    require(model, "model");
    require(fixed, "fixed");
    require(moving, "moving");
    require(out, "out");
    check_struct_size(*out, &slicenav_prealignment_rigid::translation_mm, "out");
    slicenav::RigidOptions options;
    if (params != nullptr) {
      using P = slicenav_prealign_rigid_params;
      check_struct_size(*params, &P::points, "params");
      options.points = params->points;
      if (has_field(*params, &P::max_rotation_deg)) options.max_rotation_deg = params->max_rotation_deg;
      if (has_field(*params, &P::seed)) options.seed = params->seed;
      options.progress = progress_of(params);
    }
    const slicenav::RigidPrealignment r =
        slicenav::prealign_rigid(model->model, fixed->volume, moving->volume, options);
    slicenav_prealignment_rigid v = slicenav_prealignment_rigid_init();
    for (std::size_t a = 0; a < 3; ++a) {
      v.translation_mm[a] = r.transform.translation_mm[a];
      v.rotation_rad[a] = r.transform.rotation_rad[a];
      v.centre_mm[a] = r.transform.centre_mm[a];
    }
    v.confidence = r.confidence;
    v.shared_anatomy = r.shared_anatomy ? 1 : 0;
    v.points = r.points;
    v.consistent = r.consistent;
    v.inliers = r.inliers;
    v.residual_mm = r.residual_mm;
    options.progress.done();
    copy_text(v.note, r.note);
    write_versioned(v, out);
  });
}

}  // extern "C"

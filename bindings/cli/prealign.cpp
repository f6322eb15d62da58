// slicenav prealign FIXED MOVING [-o init.txt] [--tfm init.tfm] [--json result.json] [--method M]
//                  [--in-plane] [--min-overlap MM] [--rigid] [--model PATH] [--threads N] [--device D]
// The translation (with --rigid, rotation and translation) that takes the fixed scan's points to the same
// anatomy in the moving scan (docs/prealign.md): written as an elastix initial transform (-t0) and/or an
// ITK .tfm, with the result as JSON (--json, else stdout) and a one-line summary on stderr. When the scans
// share no anatomy, the JSON says so and no transform file is written (exit code 4, unsupported input).
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli_common.hpp"
#include "slicenav.h"

namespace slicenav::cli {
namespace {

using nlohmann::json;

struct PrealignOptions {
  std::string fixed, moving, elastix, tfm, json, method = "auto";
  ModelOptions model;
  bool in_plane = false, rigid = false;
  double min_overlap_mm = slicenav_prealign_default_params().min_overlap_mm;
};

std::string mm(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f", value);
  return text;
}

// The transform files (when the scans share anatomy); a refusal otherwise.
int write_transforms(const PrealignOptions& o, const slicenav_rigid_transform& transform, const slicenav_volume* fixed,
                     bool shared, const char* note) {
  if (!shared) {
    return report(SLICENAV_ERR_UNSUPPORTED_INPUT, std::string("the scans show no common anatomy") +
                                                      (note[0] != '\0' ? std::string(" (") + note + ")" : "") +
                                                      "; no transform file written");
  }
  if (!o.elastix.empty()) {
    const slicenav_status s = slicenav_rigid_transform_write_elastix(o.elastix.c_str(), &transform, fixed);
    if (s != SLICENAV_OK) return report(s);
  }
  if (!o.tfm.empty()) {
    const slicenav_status s = slicenav_rigid_transform_write_itk(o.tfm.c_str(), &transform);
    if (s != SLICENAV_OK) return report(s);
  }
  return 0;
}

int run_rigid(const PrealignOptions& o, const slicenav_model* model, const slicenav_volume* fixed,
              const slicenav_volume* moving) {
  slicenav_prealignment_rigid r = slicenav_prealignment_rigid_init();
  const slicenav_status status = slicenav_prealign_rigid(&r, model, fixed, moving, nullptr);
  if (status != SLICENAV_OK) return report(status);
  const bool shared = r.shared_anatomy != 0;
  constexpr double kDeg = 180.0 / 3.14159265358979323846;
  const json out = {{"fixed", o.fixed},
                    {"moving", o.moving},
                    {"method", "rigid"},
                    {"convention",
                     "fixed point p -> moving point R (p - centre_mm) + centre_mm + translation_mm, R = Rz Rx Ry "
                     "(elastix EulerTransform, ITK Euler3DTransform), LPS mm"},
                    {"translation_mm", {r.translation_mm[0], r.translation_mm[1], r.translation_mm[2]}},
                    {"rotation_rad", {r.rotation_rad[0], r.rotation_rad[1], r.rotation_rad[2]}},
                    {"rotation_deg", {r.rotation_rad[0] * kDeg, r.rotation_rad[1] * kDeg, r.rotation_rad[2] * kDeg}},
                    {"centre_mm", {r.centre_mm[0], r.centre_mm[1], r.centre_mm[2]}},
                    {"confidence", r.confidence},
                    {"shared_anatomy", shared},
                    {"details",
                     {{"points", r.points},
                      {"consistent", r.consistent},
                      {"inliers", r.inliers},
                      {"residual_mm", r.residual_mm},
                      {"note", r.note}}},
                    {"elastix_transform", shared && !o.elastix.empty() ? json(o.elastix) : json(nullptr)},
                    {"itk_transform", shared && !o.tfm.empty() ? json(o.tfm) : json(nullptr)}};
  std::string error;
  if (write_json(out, o.json, &error) != SLICENAV_OK) return report(SLICENAV_ERR_IO, error);
  std::cerr << "prealign (rigid): rotation (" << mm(r.rotation_rad[0] * kDeg) << ", " << mm(r.rotation_rad[1] * kDeg)
            << ", " << mm(r.rotation_rad[2] * kDeg) << ") deg, translation (" << mm(r.translation_mm[0]) << ", "
            << mm(r.translation_mm[1]) << ", " << mm(r.translation_mm[2]) << ") mm, confidence " << r.confidence << ", "
            << r.inliers << " of " << r.consistent << " matches\n";
  slicenav_rigid_transform transform = slicenav_rigid_transform_init();
  for (int a = 0; a < 3; ++a) {
    transform.translation_mm[a] = r.translation_mm[a];
    transform.rotation_rad[a] = r.rotation_rad[a];
    transform.centre_mm[a] = r.centre_mm[a];
  }
  return write_transforms(o, transform, fixed, shared, r.note);
}

int run_prealign(const PrealignOptions& o) {
  std::string error;
  for (const auto* path : {&o.elastix, &o.tfm, &o.json}) {
    if (check_output_path(*path, &error) != SLICENAV_OK) return report(SLICENAV_ERR_IO, error);
  }
  const slicenav_prealign_method method = prealign_method(o.method);
  ModelPtr model(nullptr, &slicenav_model_free);
  if (o.rigid || method != SLICENAV_PREALIGN_INTENSITY) {  // the intensity method needs no model
    if (const slicenav_status status = load_model(o.model, model); status != SLICENAV_OK) return report(status);
  }
  VolumePtr fixed(nullptr, &slicenav_volume_free), moving(nullptr, &slicenav_volume_free);
  for (auto [volume, path] : {std::pair{&fixed, &o.fixed}, std::pair{&moving, &o.moving}}) {
    if (const slicenav_status status = read_volume(*path, *volume); status != SLICENAV_OK) return report(status);
  }
  if (o.rigid) return run_rigid(o, model.get(), fixed.get(), moving.get());

  slicenav_prealign_params params = slicenav_prealign_default_params();
  params.method = method;
  params.min_overlap_mm = o.min_overlap_mm;
  params.in_plane = o.in_plane ? 1 : 0;
  slicenav_prealignment r = slicenav_prealignment_init();
  const slicenav_status status = slicenav_prealign(&r, model.get(), fixed.get(), moving.get(), &params);
  if (status != SLICENAV_OK) return report(status);

  const bool shared = r.shared_anatomy != 0;
  const json out = {{"fixed", o.fixed},
                    {"moving", o.moving},
                    {"method", prealign_method_name(r.method)},
                    {"requested_method", o.method},
                    {"convention", "fixed point p -> moving point p + translation_mm (elastix -t0, ITK), LPS mm"},
                    {"translation_mm", {r.translation_mm[0], r.translation_mm[1], r.translation_mm[2]}},
                    {"confidence", r.confidence},
                    {"overlap_mm", r.overlap_mm},
                    {"shared_anatomy", r.shared_anatomy != 0},
                    {"details",
                     {{"shifts_tried", r.shifts_tried},
                      {"match_cost", r.match_cost},
                      {"match_contrast", r.match_contrast},
                      {"line_inliers", r.line_inliers},
                      {"off_line_share", r.off_line_share},
                      {"key_slices_shared", r.key_slices_shared},
                      {"key_slice_deviation_mm", r.key_slice_deviation_mm},
                      {"fixed_score_slope", r.fixed_score_slope},
                      {"fixed_recognised", r.fixed_recognised != 0},
                      {"moving_recognised", r.moving_recognised != 0},
                      {"note", r.note}}},
                    {"elastix_transform", shared && !o.elastix.empty() ? json(o.elastix) : json(nullptr)},
                    {"itk_transform", shared && !o.tfm.empty() ? json(o.tfm) : json(nullptr)}};
  if (write_json(out, o.json, &error) != SLICENAV_OK) return report(SLICENAV_ERR_IO, error);

  std::cerr << "prealign (" << prealign_method_name(r.method) << (o.method == "auto" ? ", chosen by auto" : "")
            << "): translation (" << mm(r.translation_mm[0]) << ", " << mm(r.translation_mm[1]) << ", "
            << mm(r.translation_mm[2]) << ") mm, confidence " << r.confidence << ", overlap " << mm(r.overlap_mm)
            << " mm\n";
  slicenav_rigid_transform transform = slicenav_rigid_transform_init();
  for (int a = 0; a < 3; ++a) transform.translation_mm[a] = r.translation_mm[a];
  return write_transforms(o, transform, fixed.get(), shared, r.note);
}

}  // namespace

void add_prealign_command(CLI::App& app, Action& action) {
  auto o = std::make_shared<PrealignOptions>();
  CLI::App* cmd =
      app.add_subcommand("prealign", "z translation from FIXED to MOVING as an elastix -t0 file, ITK .tfm and JSON");
  cmd->add_option("fixed", o->fixed, "Fixed image or DICOM directory")->required();
  cmd->add_option("moving", o->moving, "Moving image or DICOM directory")->required();
  cmd->add_option("-o,--output", o->elastix, "Write the elastix initial transform (TransformParameters, for -t0) here");
  cmd->add_option("--tfm", o->tfm, "Write the ITK transform file (.tfm) here");
  cmd->add_option("--json", o->json, "Write the JSON result here (atomically) instead of stdout");
  auto* method =
      cmd->add_option(
             "--method", o->method,
             "auto (default: embedding, key slices or intensity by their evidence), score, three-slice, insertion, "
             "embedding, key-slices, or intensity (no model)")
          ->check(CLI::IsMember(prealign_method_names()));
  auto* in_plane = cmd->add_flag("--in-plane", o->in_plane, "Also translate in x and y (body-mask centroids)");
  auto* overlap =
      cmd->add_option("--min-overlap", o->min_overlap_mm, "Smallest shared z extent considered, mm (default 30)")
          ->check(non_negative());
  cmd->add_flag("--rigid", o->rigid,
                "Rotation and translation from matched anatomical points (an elastix EulerTransform) instead of z")
      ->excludes(method)
      ->excludes(in_plane)
      ->excludes(overlap);
  add_model_options(cmd, o->model);
  cmd->callback([o, &action] { action = [o] { return run_prealign(*o); }; });
}

}  // namespace slicenav::cli

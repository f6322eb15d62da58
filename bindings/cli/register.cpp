// slicenav register FIXED MOVING -o OUTDIR [--preset rigid|affine|PATH] [--init MODE] [--method M] [--resample]
//                   [--elastix PATH] [--model PATH] [--threads N] [--timeout S]
// Registers MOVING to FIXED with the elastix executable (plugins/elastix), started from slicenav's
// z-prealignment (--init prealign, the default) or from elastix's own initialisations. OUTDIR receives the
// result transform, the logs, the initial transform and registration.json (also printed on stdout); see
// docs/elastix.md.
#include <chrono>
#include <iomanip>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli_common.hpp"
#include "slicenav.h"
#include "slicenav/elastix/parameters.hpp"
#include "slicenav/elastix/register.hpp"

namespace slicenav::cli {
namespace {

struct RegisterCommand {
  std::string fixed, moving, output, preset = "rigid", init = "prealign", method = "auto", elastix;
  ModelOptions model;
  bool resample = false, rigid = false;
  double timeout_s = 1800;
};

const std::vector<std::string> kInitModes{"prealign", "none", "geometric-centre", "centre-of-gravity"};
VolumePtr read_volume(const std::string& path) {
  VolumePtr volume(nullptr, &slicenav_volume_free);
  check(cli::read_volume(path, volume));
  return volume;
}

// slicenav_prealign_rigid of the two images, as prealign() below.
VolumePtr prealign_rigid(elastix::RegisterOptions& options, const slicenav_model* model, VolumePtr fixed,
                         const slicenav_volume* moving, std::chrono::steady_clock::time_point start) {
  slicenav_prealignment_rigid r = slicenav_prealignment_rigid_init();
  check(slicenav_prealign_rigid(&r, model, fixed.get(), moving, nullptr));
  const std::string note(r.note);
  if (r.shared_anatomy == 0) {
    throw Failure{SLICENAV_ERR_UNSUPPORTED_INPUT,
                  "the rigid prealignment found no anatomy the two scans share" +
                      (note.empty() ? "" : " (" + note + ")") +
                      "; register with --init none, geometric-centre or centre-of-gravity to try anyway"};
  }
  options.init = elastix::Initialisation::transform;
  for (int a = 0; a < 3; ++a) {
    options.initial_transform.translation_mm[a] = r.translation_mm[a];
    options.initial_transform.rotation_rad[a] = r.rotation_rad[a];
    options.initial_transform.centre_mm[a] = r.centre_mm[a];
  }
  options.fixed_volume = fixed.get();
  options.init_details = {
      {"mode", "prealign"},
      {"method", "rigid"},
      {"confidence", r.confidence},
      {"inliers", r.inliers},
      {"residual_mm", r.residual_mm},
      {"note", note},
      {"runtime_s", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}};
  std::cerr << std::fixed << std::setprecision(1) << "prealigned (rigid): rotation " << r.rotation_rad[0] * 57.29577951
            << ", " << r.rotation_rad[1] * 57.29577951 << ", " << r.rotation_rad[2] * 57.29577951
            << " deg, translation " << r.translation_mm[0] << ", " << r.translation_mm[1] << ", " << r.translation_mm[2]
            << " mm, confidence " << std::setprecision(2) << r.confidence << "\n";
  return fixed;
}

// slicenav_prealign of the two images; sets options' initial transform and returns the fixed volume it
// is written on.
VolumePtr prealign(const RegisterCommand& c, elastix::RegisterOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  ModelPtr model(nullptr, &slicenav_model_free);
  if (c.method != "intensity") check(load_model(c.model, model));  // the intensity method needs no model
  VolumePtr fixed = read_volume(c.fixed);
  const VolumePtr moving = read_volume(c.moving);
  if (c.rigid) return prealign_rigid(options, model.get(), std::move(fixed), moving.get(), start);
  slicenav_prealign_params params = slicenav_prealign_default_params();
  params.method = prealign_method(c.method);
  slicenav_prealignment p = slicenav_prealignment_init();
  check(slicenav_prealign(&p, model.get(), fixed.get(), moving.get(), &params));
  const std::string note(p.note);
  if (p.shared_anatomy == 0) {
    throw Failure{SLICENAV_ERR_UNSUPPORTED_INPUT,
                  "the prealignment found no anatomy the two scans share" + (note.empty() ? "" : " (" + note + ")") +
                      "; register with --init none, geometric-centre or centre-of-gravity to try anyway"};
  }
  options.init = elastix::Initialisation::transform;
  for (int a = 0; a < 3; ++a) options.initial_transform.translation_mm[a] = p.translation_mm[a];
  options.fixed_volume = fixed.get();
  options.init_details = {
      {"mode", "prealign"},
      {"method", prealign_method_name(p.method)},
      {"confidence", p.confidence},
      {"overlap_mm", p.overlap_mm},
      {"note", note},
      {"runtime_s", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count()}};
  std::cerr << std::fixed << std::setprecision(1) << "prealigned (" << c.method << "): z " << p.translation_mm[2]
            << " mm, confidence " << std::setprecision(2) << p.confidence << "\n";
  return fixed;
}

elastix::Initialisation init_mode(const std::string& name) {
  if (name == "geometric-centre") return elastix::Initialisation::geometric_centre;
  if (name == "centre-of-gravity") return elastix::Initialisation::centre_of_gravity;
  return elastix::Initialisation::none;
}

int run_register(const RegisterCommand& c) {
  elastix::RegisterOptions options;
  options.fixed = c.fixed;
  options.moving = c.moving;
  options.output_dir = c.output;
  options.preset = c.preset;
  options.init = init_mode(c.init);
  options.resample = c.resample;
  options.threads = c.model.threads;
  options.timeout_s = c.timeout_s;
  options.elastix = c.elastix;
  if (c.rigid && c.init != "prealign") {
    return report(SLICENAV_ERR_INVALID_ARGUMENT,
                  "--rigid is a prealignment: it needs --init prealign, not --init " + c.init);
  }
  try {
    // The cheap checks first: a missing elastix or preset is reported before the prealignment's work.
    elastix::find_tools(c.elastix);
    elastix::preset_path(c.preset);
    VolumePtr fixed(nullptr, &slicenav_volume_free);
    if (c.init == "prealign") fixed = prealign(c, options);
    const nlohmann::json summary = elastix::register_images(options);
    const auto& t = summary["result"]["translation_at_fixed_centre_mm"];
    std::cerr << std::fixed << std::setprecision(1) << "registered with "
              << summary["result"]["transform"].get<std::string>() << " in "
              << summary["elastix"]["runtime_s"].get<double>() << " s; the fixed image's centre moves by ("
              << t[0].get<double>() << ", " << t[1].get<double>() << ", " << t[2].get<double>() << ") mm\n";
    std::string error;
    if (write_json(summary, "-", &error) != SLICENAV_OK) return report(SLICENAV_ERR_IO, error);
    return 0;
  } catch (const elastix::Error& e) {
    return report(e.status(), e.what());
  } catch (const Failure& f) {
    return report(f.status, f.message);
  }
}

}  // namespace

void add_register_command(CLI::App& app, Action& action) {
  auto c = std::make_shared<RegisterCommand>();
  CLI::App* cmd =
      app.add_subcommand("register", "Register MOVING to FIXED with elastix, started from slicenav's prealignment");
  cmd->add_option("fixed", c->fixed, "Fixed image (.nii, .nii.gz, .mha, .mhd, .nrrd)")->required();
  cmd->add_option("moving", c->moving, "Moving image")->required();
  cmd->add_option("-o,--output", c->output, "Output folder (created when missing; only complete results land there)")
      ->required();
  cmd->add_option("--preset", c->preset, "rigid (default), affine, or an elastix parameter file");
  cmd->add_option("--init", c->init,
                  "Initial transform: prealign (slicenav's z-prealignment, default), none, or elastix's own "
                  "geometric-centre or centre-of-gravity")
      ->check(CLI::IsMember(kInitModes));
  auto* method =
      cmd->add_option("--method", c->method,
                      "Prealignment method: auto (default), score, three-slice, insertion, embedding, key-slices, "
                      "intensity")
          ->check(CLI::IsMember(prealign_method_names()));
  cmd->add_flag("--rigid", c->rigid,
                "With --init prealign: rotation and translation from matched anatomical points (slicenav prealign "
                "--rigid) instead of the z translation")
      ->excludes(method);
  cmd->add_flag("--resample", c->resample, "Also resample MOVING onto FIXED's grid (transformix): resampled.nii.gz");
  cmd->add_option("--elastix", c->elastix, "elastix executable (default: $SLICENAV_ELASTIX, then PATH)");
  add_model_options(cmd, c->model, "elastix, transformix and model threads (0 = their default)");
  cmd->add_option("--timeout", c->timeout_s, "Stop elastix after this many seconds (default 1800)")
      ->check(CLI::PositiveNumber);
  cmd->callback([c, &action] { action = [c] { return run_register(*c); }; });
}

}  // namespace slicenav::cli

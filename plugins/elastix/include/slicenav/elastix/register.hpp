// Registering two CT scans with the elastix executable: find elastix and transformix, prepare the
// parameter file (a bundled preset or the caller's) and the initial transform, run elastix, collect its
// result transform, optionally resample the moving image with transformix, and summarise it all as JSON.
// See docs/elastix.md.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "slicenav.h"
#include "slicenav/elastix/process.hpp"  // Error

namespace slicenav::elastix {

struct Tools {
  std::string elastix;      // absolute path
  std::string transformix;  // absolute path
};

// Finds the executables. elastix: `configured` when not "", else $SLICENAV_ELASTIX, else "elastix" on
// $PATH. transformix: $SLICENAV_TRANSFORMIX, else the transformix beside elastix, else on $PATH. A name
// without '/' is looked up on $PATH. Throws Error(NOT_FOUND) saying which tool is missing, where it looked
// and how to provide it.
Tools find_tools(const std::string& configured = "");

// How elastix's transform starts.
enum class Initialisation {
  none,               // identity
  transform,          // RegisterOptions::initial_transform, written as an elastix file and passed as -t0
  geometric_centre,   // elastix's AutomaticTransformInitialization, GeometricalCenter
  centre_of_gravity,  // elastix's AutomaticTransformInitialization, CenterOfGravity
};

const char* initialisation_name(Initialisation init);  // "none", "transform", "geometric-centre", ...

struct RegisterOptions {
  std::string fixed;  // image file elastix can read (.nii, .nii.gz, .mha, .mhd, .nrrd)
  std::string moving;
  std::string output_dir;        // created when missing (its parent must exist)
  std::string preset = "rigid";  // a preset name or a parameter file path (see preset_path)
  Initialisation init = Initialisation::none;
  // Initialisation::transform only: the initial transform, and the fixed image it is written on (borrowed;
  // must be the image read from `fixed`).
  slicenav_rigid_transform initial_transform = slicenav_rigid_transform_init();
  const slicenav_volume* fixed_volume = nullptr;
  // Stored as the summary's "init" object, e.g. how the initial transform was found; its "mode" is
  // initialisation_name(init) unless given here.
  nlohmann::json init_details = nlohmann::json::object();
  bool resample = false;    // also resample the moving image onto the fixed grid with transformix
  int threads = 0;          // elastix/transformix -threads; 0 = their default
  double timeout_s = 1800;  // per elastix or transformix run
  std::string elastix;      // configured elastix executable (see find_tools); "" = search
};

// Registers moving to fixed. Everything is made in a private folder inside output_dir and moved into
// output_dir only when every step succeeded, registration.json last:
//   TransformParameters.0.txt  elastix's result (maps fixed points to moving points; chains init.txt)
//   elastix.log                elastix's log
//   parameters.txt             the parameter file elastix ran with
//   init.txt, init.tfm         Initialisation::transform: the initial transform (elastix, ITK)
//   resampled.nii.gz           with resample: the moving image on the fixed grid
//   registration.json          the summary returned here
// On any failure nothing new is left in output_dir (and output_dir itself is removed when this call made
// it). Throws Error: NOT_FOUND (an input, elastix or transformix, a preset), INVALID_ARGUMENT (options, a
// malformed parameter file), UNSUPPORTED_INPUT (elastix or transformix failed: the message quotes the
// error lines and the tail of its log), CANCELLED (the timeout was reached), IO (output_dir).
nlohmann::json register_images(const RegisterOptions& options);

}  // namespace slicenav::elastix

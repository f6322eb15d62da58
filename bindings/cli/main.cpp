// slicenav: command-line front end to the slicenav C API.
//
//   slicenav <command> [inputs] [options]
//
// JSON goes to stdout or -o FILE, human text to stderr. Exit codes: 0 success; 1-9 a library status
// (-status: 1 invalid argument, 2 not found, 3 io, 4 unsupported input, ...); 100 and up a command-line
// usage error (CLI11's codes). See docs/cli.md.
#include <malloc.h>

#include <exception>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "cli_common.hpp"
#include "slicenav.h"

namespace {

// First line: the tool (the header version it was built against); then one "<component> <version>"
// line per component it loads. A model line joins when models can be loaded.
std::string version_text() {
  const std::string built = std::to_string(SLICENAV_VERSION_MAJOR) + "." + std::to_string(SLICENAV_VERSION_MINOR) +
                            "." + std::to_string(SLICENAV_VERSION_PATCH);
  return "slicenav " + built + "\nlibrary " + slicenav_version();
}

// Keeps freed working memory (LibTorch's activations, the image measurements' slabs) for reuse instead of handing it
// back to the system to be faulted in again by the next chunk or case: on a virtual machine a fresh page can cost
// more than the work done on it. `locate` of a 512 x 512 x 300 scan 1.95 -> 1.55 s, for 30 MiB more at its peak
// (docs/benchmarks.md, "From a CT file to key slices"). Volumes themselves are mapped separately (allocate_voxels).
void keep_freed_memory() {
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

}  // namespace

int main(int argc, char** argv) {
  keep_freed_memory();
  CLI::App app{"slicenav: slice-level anatomical navigation in body CT", "slicenav"};
  app.set_version_flag("--version", version_text, "Print the library version and exit");
  app.require_subcommand(1);
  app.fallthrough(false);

  slicenav::cli::Action action;
  slicenav::cli::add_info_command(app, action);
  slicenav::cli::add_phantom_command(app, action);
  slicenav::cli::add_navigation_commands(app, action);
  slicenav::cli::add_crop_commands(app, action);
  slicenav::cli::add_nnunet_commands(app, action);
  slicenav::cli::add_register_command(app, action);
  slicenav::cli::add_prealign_command(app, action);
  slicenav::cli::add_embed3d_command(app, action);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (!action) return slicenav::cli::report(SLICENAV_ERR_INTERNAL, "no command selected");
  try {
    return action();
  } catch (const std::bad_alloc&) {
    return slicenav::cli::report(SLICENAV_ERR_INTERNAL, "out of memory");
  } catch (const std::exception& e) {
    return slicenav::cli::report(SLICENAV_ERR_INTERNAL, e.what());
  }
}

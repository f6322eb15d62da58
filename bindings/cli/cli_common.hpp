// Pieces every subcommand shares: status -> exit code, error printing, JSON output.
#pragma once

#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "slicenav.h"

namespace slicenav::cli {

// What a parsed subcommand runs after the command line is accepted; returns the process exit code.
using Action = std::function<int()>;

// Each subcommand file adds its subcommand to `app`; when the subcommand is the one given, parsing
// stores its action in `action`.
void add_info_command(CLI::App& app, Action& action);
void add_phantom_command(CLI::App& app, Action& action);
void add_navigation_commands(CLI::App& app, Action& action);  // insert, score, locate, coverage
void add_crop_commands(CLI::App& app, Action& action);        // crop, uncrop
void add_nnunet_commands(CLI::App& app, Action& action);      // nnunet crop-dataset, nnunet restore
void add_register_command(CLI::App& app, Action& action);     // register (elastix)
void add_prealign_command(CLI::App& app, Action& action);     // prealign
void add_embed3d_command(CLI::App& app, Action& action);      // embed3d

// Process exit code for a library status: 0 for SLICENAV_OK, else -status (1 invalid argument,
// 2 not found, 3 io, 4 unsupported input, ...). Kept below CLI11's own codes (100 and up).
int exit_code(slicenav_status status);

// Prints "slicenav: <status name>: <message>" on stderr and returns exit_code(status). The first form
// uses slicenav_last_error() as the message.
int report(slicenav_status status);
int report(slicenav_status status, const std::string& message);

// Writes `json` (pretty-printed, newline-terminated) to stdout when `path` is empty or "-", else atomically
// to `path`: a temporary file in the same directory is written, flushed and renamed over `path`; on
// any failure it is removed, so `path` either keeps its old content or gets the complete new one.
// Returns SLICENAV_OK or SLICENAV_ERR_IO with the reason in *error.
slicenav_status write_json(const nlohmann::json& json, const std::string& path, std::string* error);

// Checks early, before any slow work, that `path` can be created: its directory exists and `path` is
// not itself a directory. "" and "-" (stdout) pass. Returns SLICENAV_OK or SLICENAV_ERR_IO with the
// reason in *error. write_json still reports failures that only show up when writing.
slicenav_status check_output_path(const std::string& path, std::string* error);

// A failed library call inside a command: its status and message.
struct Failure {
  slicenav_status status = SLICENAV_OK;
  std::string message;
};
// Throws Failure{status, slicenav_last_error()} unless status is SLICENAV_OK.
void check(slicenav_status status);

// The prealignment methods by their command-line names ("auto", the default, then "score", "three-slice",
// "insertion", "embedding", "key-slices", "intensity"), and back.
const std::vector<std::string>& prealign_method_names();
slicenav_prealign_method prealign_method(const std::string& name);  // one of those names
std::string prealign_method_name(slicenav_prealign_method method);

using VolumePtr = std::unique_ptr<slicenav_volume, decltype(&slicenav_volume_free)>;
using ModelPtr = std::unique_ptr<slicenav_model, decltype(&slicenav_model_free)>;

// The options of every command that loads a model: --model, --threads, --device.
struct ModelOptions {
  std::string path;  // "" = the bundled model
  int threads = 0;   // 0 = hardware threads
  std::string device = "cpu";
};
// A number option that must be 0 or more ("must be >= 0", where CLI11's own check prints its range to 1.8e308).
const CLI::Validator& non_negative();

void add_model_options(CLI::App* cmd, ModelOptions& options,
                       const std::string& threads_help = "Inference threads (0 = hardware threads)");

// Adds --gzip-level N (0-12) to a command that writes .nii.gz images, read into `params.gzip_level` (which keeps
// slicenav_write_default_params()'s level when the option is not given).
void add_gzip_level_option(CLI::App* cmd, slicenav_write_params& params);

// slicenav_model_load / slicenav_volume_read into an owning pointer (null on failure). Return the status;
// slicenav_last_error() says why a call failed. read_volume prints the reader's warnings to stderr.
slicenav_status load_model(const ModelOptions& options, ModelPtr& out);
slicenav_status read_volume(const std::string& path, VolumePtr& out);

// Reads the images of a batch one ahead on a second thread, so that reading and decompressing the next image
// overlaps the work on the current one. At most one read runs ahead: a batch holds at most one volume more
// than a single-image run. Warnings are printed, and failures thrown, by take() on the caller's thread.
class VolumePrefetcher {
 public:
  explicit VolumePrefetcher(std::vector<std::string> paths);  // in the order take() will ask for them
  VolumePrefetcher(const VolumePrefetcher&) = delete;
  VolumePrefetcher& operator=(const VolumePrefetcher&) = delete;
  ~VolumePrefetcher();  // waits for a read still running

  // The volume at `path`: the one read ahead when it is that path, else read now. Then starts reading the path
  // that follows `path` in the list. Throws Failure (the reader's status and message) when the read failed.
  VolumePtr take(const std::string& path);

 private:
  struct Read {
    slicenav_status status = SLICENAV_OK;
    std::string error;  // slicenav_last_error() of the reading thread
    VolumePtr volume{nullptr, &slicenav_volume_free};
  };
  std::vector<std::string> paths_;
  std::string ahead_path_;
  std::future<Read> ahead_;
};

// Copies `value` into a fixed-size char field of a C API struct. Returns false (and copies nothing)
// when `value` does not fit with its terminating NUL.
template <std::size_t N>
bool copy_to_field(char (&field)[N], const std::string& value) {
  if (value.size() >= N) return false;
  value.copy(field, value.size());
  field[value.size()] = '\0';
  return true;
}

}  // namespace slicenav::cli

// Batch mode shared by the per-image commands: `--batch LIST|DIR [--shard K/N]`.
//
// A command in batch mode lists its cases, keeps its shard, loads the model once and hands every case to
// run_batch, which skips cases whose output already exists (so a killed or partly failed run is resumed by
// running the same command again), records a failing case and goes on, and reports progress on `log`:
//
//   std::vector<BatchCase> cases;
//   try {
//     cases = select_shard(list_batch_cases(options.batch.list_or_dir), options.batch.shard);
//   } catch (const BatchNotFoundError& e) {
//     return report(SLICENAV_ERR_NOT_FOUND, e.what());
//   } catch (const std::runtime_error& e) {
//     return report(SLICENAV_ERR_INVALID_ARGUMENT, e.what());
//   }
//   ... load the model once ...
//   // output_for: e.g. the -o directory + "/" + case.name + ".json". process: returns exit_code(status) and
//   // sets *error to "<status name>: <message>", the text report() would print, instead of printing it.
//   const BatchSummary summary = run_batch(cases, output_for, process, std::cerr);
//   return batch_exit_code(summary);
//
// Exit codes: a batch that cannot start (missing or empty LIST|DIR, colliding case names, model not loaded)
// exits like a single-image run (1-9 from the library status, 100 and up for usage errors). A batch that ran
// to the end exits 0 when no case failed (done and skipped cases both count as success) and
// kBatchFailedExitCode otherwise, whatever the cases' own errors were: one shard can fail in several ways, and
// a fixed code tells a cluster job "rerun me" apart from "my command line is wrong". The failed cases and
// their messages are in the log.
#pragma once

#include <cstddef>
#include <functional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

namespace slicenav::cli {

// Exit code of a batch that ran to the end with at least one failed case. Above the library statuses
// (1-9), below CLI11's usage errors (100 and up).
inline constexpr int kBatchFailedExitCode = 10;

// Shard `index` of `count`: the cases whose number c (0-based, in list order) has c % count == index.
// The split depends only on the case list, so every machine of a job array computes the same one.
struct Shard {
  std::size_t index = 0;
  std::size_t count = 1;
};

// Parses "K/N" with decimal K and N, N >= 1 and 0 <= K < N (K is 0-based, like Slurm's
// SLURM_ARRAY_TASK_ID for --array=0-(N-1)). Throws std::invalid_argument naming the problem otherwise.
Shard parse_shard(const std::string& text);

// One image of a batch: the path handed to the reader, and the name its outputs are called after.
struct BatchCase {
  std::string input;
  // The file name without its image extension (.nii.gz, .nii, .mha, .mhd, .nrrd, .nhdr, any case),
  // or the directory name for a DICOM series directory.
  std::string name;
};

// Thrown by list_batch_cases when LIST|DIR does not exist; callers report it as "not found".
class BatchNotFoundError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The cases of `list_or_dir`:
// - a directory (DIR): every image file directly inside (by the extensions above) and every subdirectory
//   (a DICOM series directory), sorted by name (bytewise, so the same on every machine). Names starting with
//   '.' and other files (.raw data of .mhd/.nhdr headers, JSON, ...) are ignored.
// - a file (LIST): one image file or DICOM directory per line, in the list's order. Leading and trailing
//   white space is dropped; blank lines and lines starting with '#' are ignored; relative paths are relative
//   to the list's directory. Entries are not checked here: a missing one fails as its case.
// Throws BatchNotFoundError when `list_or_dir` does not exist, and std::runtime_error when it cannot be read,
// names no case, or two cases have the same name (their outputs would collide).
std::vector<BatchCase> list_batch_cases(const std::string& list_or_dir);

// The cases of `shard`, in their order: cases[c] for every c with c % shard.count == shard.index.
// Empty when the shard has no case (more shards than cases).
std::vector<BatchCase> select_shard(const std::vector<BatchCase>& cases, Shard shard);

// What run_batch did. done + skipped + failed is the number of cases.
struct BatchSummary {
  std::size_t done = 0;
  std::size_t skipped = 0;
  std::size_t failed = 0;
  std::vector<std::pair<std::string, std::string>> failures;  // (case name, message), in case order
};

// Runs every case, in order. A case whose output_for(case) exists is skipped. Otherwise process(case) runs;
// it returns 0 on success or a non-zero exit code with the reason in *error, or throws. A case is done when
// process returns 0 and its output then exists (commands write outputs atomically, so a half-written output
// never exists); anything else, a throw from output_for included, fails the case and the batch goes on.
// A case writing several files must return the one written last from output_for. Before a case runs, the
// hidden temporary files a killed earlier run left for that output are removed.
// Writes one line per case on `log` as it finishes, flushed: "[i/n] NAME: ok (1.23 s)", "[i/n] NAME:
// skipped (output exists)" or "[i/n] NAME: FAILED: MESSAGE" (i counts finished cases), and at the end
// "batch: D done, S skipped, F failed of N cases[; failed: NAME, NAME, ...]".
// jobs > 1 runs that many cases at once on their own threads, taking them in order; output_for and process
// must then be safe to call concurrently (for different cases). Lines come in the order cases finish; the
// summary and its failures are in case order, as with one job.
BatchSummary run_batch(const std::vector<BatchCase>& cases,
                       const std::function<std::string(const BatchCase&)>& output_for,
                       const std::function<int(const BatchCase&, std::string* error)>& process, std::ostream& log,
                       std::size_t jobs = 1);

// 0 when no case failed, else kBatchFailedExitCode.
int batch_exit_code(const BatchSummary& summary);

// The batch flags of a per-image command, filled in when its command line is parsed.
struct BatchOptions {
  std::string list_or_dir;  // --batch; empty in single-image mode
  Shard shard;              // --shard; 0/1 (every case) unless given
  bool read_ahead = true;   // false with --no-read-ahead: no image is read before its case runs
  bool enabled() const { return !list_or_dir.empty(); }
};

// Adds --shard K/N to `command`: checked with parse_shard during parsing (a CLI11 usage error otherwise) and
// stored in `shard`, which must outlive parsing. Returns the option.
CLI::Option* add_shard_option(CLI::App& command, Shard& shard);

// Adds --batch LIST|DIR, and --shard K/N and --no-read-ahead (accepted only with --batch), to `command`; returns
// --batch. For a
// command whose other inputs do not fit add_batch_options; `options` must outlive parsing.
CLI::Option* add_batch_list_option(CLI::App& command, BatchOptions& options);

// Adds --batch LIST|DIR, --shard K/N and --no-read-ahead to `command`, whose single image is the positional
// option `input` (not marked required). Parsing then demands exactly one of `input` and --batch, accepts
// --shard and --no-read-ahead only with --batch and checks --shard with parse_shard; violations are CLI11 usage errors
// (exit codes 100 and up). `options` is written during parsing and must outlive it.
void add_batch_options(CLI::App& command, CLI::Option* input, BatchOptions& options);

}  // namespace slicenav::cli

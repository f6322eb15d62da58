#include "batch.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string_view>
#include <system_error>
#include <thread>

namespace slicenav::cli {
namespace {

namespace fs = std::filesystem;

// Image extensions the library reads, longest first so ".nii.gz" wins over a shorter match.
constexpr const char* kImageExtensions[] = {".nii.gz", ".nrrd", ".nhdr", ".nii", ".mha", ".mhd"};

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

// Length of the image extension `file_name` ends with (any case), 0 when none.
std::size_t image_extension_length(const std::string& file_name) {
  const std::string name = lower(file_name);
  for (const std::string_view extension : kImageExtensions) {
    if (name.size() > extension.size() &&
        name.compare(name.size() - extension.size(), extension.size(), extension) == 0) {
      return extension.size();
    }
  }
  return 0;
}

// Parses a non-empty run of decimal digits (no sign, no space) into *value.
bool parse_count(const std::string& text, std::size_t* value) {
  if (text.empty() || !std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); })) {
    return false;
  }
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *value);
  return ec == std::errc() && end == text.data() + text.size();
}

std::string trim(const std::string& text) {
  const auto is_space = [](unsigned char c) { return std::isspace(c) != 0; };
  const auto first = std::find_if_not(text.begin(), text.end(), is_space);
  const auto last = std::find_if_not(text.rbegin(), std::string::const_reverse_iterator(first), is_space).base();
  return std::string(first, last);
}

// The case for `input`: a directory keeps its name, a file loses its image extension.
BatchCase make_case(const std::string& input, bool is_directory) {
  std::string path = input;
  while (path.size() > 1 && path.back() == '/') path.pop_back();  // "dicom/case1/" names "case1"
  std::string name = fs::path(path).filename().string();
  if (!is_directory) name.resize(name.size() - image_extension_length(name));
  if (name.empty() || name == "." || name == "..") {
    throw std::runtime_error("batch case '" + input + "' has no name to call its output after");
  }
  return {input, name};
}

std::vector<BatchCase> list_directory(const std::string& dir) {
  std::vector<BatchCase> cases;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file_name = it->path().filename().string();
    if (file_name.front() == '.') continue;
    std::error_code type_ec;
    if (it->is_directory(type_ec)) {
      cases.push_back(make_case(it->path().string(), true));
    } else if (image_extension_length(file_name) > 0 && it->is_regular_file(type_ec)) {
      cases.push_back(make_case(it->path().string(), false));
    }
  }
  if (ec) throw std::runtime_error("cannot read batch directory '" + dir + "': " + ec.message());
  std::sort(cases.begin(), cases.end(), [](const BatchCase& a, const BatchCase& b) { return a.input < b.input; });
  if (cases.empty()) {
    throw std::runtime_error("batch directory '" + dir +
                             "' holds no image (.nii, .nii.gz, .mha, .mhd, .nrrd, .nhdr) and no DICOM directory");
  }
  return cases;
}

std::vector<BatchCase> read_list(const std::string& list) {
  std::ifstream in(list);
  if (!in) throw std::runtime_error("cannot read batch list '" + list + "'");
  const fs::path base = fs::path(list).parent_path();
  std::vector<BatchCase> cases;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string entry = trim(line);
    if (entry.empty() || entry.front() == '#') continue;
    if (std::any_of(entry.begin(), entry.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; })) {
      throw std::runtime_error("batch list '" + list + "' line " + std::to_string(number) +
                               " is not a path: it holds control characters (is the list a binary file?)");
    }
    const fs::path path = fs::path(entry).is_absolute() ? fs::path(entry) : base / entry;
    std::error_code ec;
    cases.push_back(make_case(path.string(), fs::is_directory(path, ec)));
  }
  if (in.bad()) throw std::runtime_error("cannot read batch list '" + list + "'");
  if (cases.empty()) throw std::runtime_error("batch list '" + list + "' names no image");
  return cases;
}

std::string seconds_text(std::chrono::steady_clock::duration elapsed) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f s", std::chrono::duration<double>(elapsed).count());
  return text;
}

}  // namespace

Shard parse_shard(const std::string& text) {
  const std::string::size_type slash = text.find('/');
  if (slash == std::string::npos) {
    throw std::invalid_argument("'" + text + "' is not of the form K/N (shard K of N, 0 <= K < N)");
  }
  Shard shard;
  if (!parse_count(text.substr(0, slash), &shard.index) || !parse_count(text.substr(slash + 1), &shard.count)) {
    throw std::invalid_argument("'" + text + "': K and N of K/N must be non-negative integers");
  }
  if (shard.count == 0) throw std::invalid_argument("'" + text + "': the shard count N must be at least 1");
  if (shard.index >= shard.count) {
    throw std::invalid_argument("'" + text + "': the shard index K must be less than N (shards are 0 to N-1)");
  }
  return shard;
}

std::vector<BatchCase> list_batch_cases(const std::string& list_or_dir) {
  std::error_code ec;
  const fs::file_status status = fs::status(list_or_dir, ec);
  if (!fs::exists(status)) throw BatchNotFoundError("batch list or directory '" + list_or_dir + "' does not exist");
  std::vector<BatchCase> cases = fs::is_directory(status) ? list_directory(list_or_dir) : read_list(list_or_dir);

  std::map<std::string, const BatchCase*> by_name;
  for (const BatchCase& c : cases) {
    const auto [it, inserted] = by_name.emplace(c.name, &c);
    if (!inserted) {
      throw std::runtime_error("batch cases '" + it->second->input + "' and '" + c.input + "' have the same name '" +
                               c.name + "': their outputs would collide");
    }
  }
  return cases;
}

std::vector<BatchCase> select_shard(const std::vector<BatchCase>& cases, Shard shard) {
  std::vector<BatchCase> selected;
  for (std::size_t c = shard.index; c < cases.size(); c += shard.count) selected.push_back(cases[c]);
  return selected;
}

BatchSummary run_batch(const std::vector<BatchCase>& cases,
                       const std::function<std::string(const BatchCase&)>& output_for,
                       const std::function<int(const BatchCase&, std::string* error)>& process, std::ostream& log,
                       std::size_t jobs) {
  enum class Outcome { done, skipped, failed };
  struct Result {
    Outcome outcome = Outcome::failed;
    std::string error;
  };
  std::vector<Result> results(cases.size());
  std::atomic<std::size_t> next{0};
  std::mutex log_mutex;
  std::size_t finished = 0;  // guarded by log_mutex

  // A batch killed while writing a case's output leaves the writer's hidden temporary file (the output itself is
  // renamed into place only when complete). Running the case again removes those of its final output: the CLI's
  // ".NAME.EXT.tmp.XXXXXX" and the library's ".NAME.tmpPID-N.EXT".
  const auto remove_stale_temporaries = [](const fs::path& output) {
    const std::string name = output.filename().string();
    const std::string ext =
        name.size() > 7 && name.compare(name.size() - 7, 7, ".nii.gz") == 0 ? ".nii.gz" : output.extension().string();
    const std::string cli_prefix = "." + name + ".tmp.",
                      core_prefix = "." + name.substr(0, name.size() - ext.size()) + ".tmp";
    std::error_code ec;
    for (fs::directory_iterator it(output.parent_path().empty() ? "." : output.parent_path(), ec), end;
         !ec && it != end; it.increment(ec)) {
      const std::string file = it->path().filename().string();
      if (file.rfind(cli_prefix, 0) == 0 || file.rfind(core_prefix, 0) == 0) fs::remove(it->path(), ec);
    }
  };
  const auto run_case = [&](std::size_t i) {
    const BatchCase& c = cases[i];
    const auto start = std::chrono::steady_clock::now();
    Result& result = results[i];
    try {
      const std::string output = output_for(c);
      std::error_code ec;
      if (fs::exists(output, ec)) {
        result.outcome = Outcome::skipped;
      } else {
        remove_stale_temporaries(output);
        if (const int code = process(c, &result.error); code != 0) {
          if (result.error.empty()) result.error = "exit code " + std::to_string(code);
        } else if (!fs::exists(output, ec)) {
          result.error = "reported success but wrote no '" + output + "'";
        } else {
          result.outcome = Outcome::done;
        }
      }
    } catch (const std::exception& e) {
      result.error = e.what();
    } catch (...) {
      result.error = "unknown exception";
    }

    std::ostringstream line;
    line << c.name << ": ";
    if (result.outcome == Outcome::skipped) {
      line << "skipped (output exists)";
    } else if (result.outcome == Outcome::failed) {
      line << "FAILED: " << result.error;
    } else {
      line << "ok (" << seconds_text(std::chrono::steady_clock::now() - start) << ')';
    }
    const std::lock_guard<std::mutex> lock(log_mutex);
    log << '[' << ++finished << '/' << cases.size() << "] " << line.str() << '\n' << std::flush;
  };
  const auto worker = [&] {
    for (std::size_t i = next++; i < cases.size(); i = next++) run_case(i);
  };
  const std::size_t threads = std::min(std::max<std::size_t>(jobs, 1), cases.size());
  if (threads <= 1) {
    worker();
  } else {
    std::vector<std::thread> pool;
    for (std::size_t t = 0; t < threads; ++t) pool.emplace_back(worker);
    for (std::thread& thread : pool) thread.join();
  }

  BatchSummary summary;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    switch (results[i].outcome) {
      case Outcome::done: ++summary.done; break;
      case Outcome::skipped: ++summary.skipped; break;
      case Outcome::failed:
        ++summary.failed;
        summary.failures.emplace_back(cases[i].name, results[i].error);
        break;
    }
  }
  std::ostringstream line;
  line << "batch: " << summary.done << " done, " << summary.skipped << " skipped, " << summary.failed << " failed of "
       << cases.size() << " cases";
  for (std::size_t f = 0; f < summary.failures.size(); ++f) {
    line << (f == 0 ? "; failed: " : ", ") << summary.failures[f].first;
  }
  log << line.str() << '\n' << std::flush;
  return summary;
}

int batch_exit_code(const BatchSummary& summary) { return summary.failed == 0 ? 0 : kBatchFailedExitCode; }

CLI::Option* add_shard_option(CLI::App& command, Shard& shard) {
  const CLI::Validator shard_format(
      [](std::string& text) {
        try {
          parse_shard(text);
          return std::string();
        } catch (const std::invalid_argument& e) {
          return std::string(e.what());
        }
      },
      "");
  return command
      .add_option_function<std::string>(
          "--shard", [&shard](const std::string& text) { shard = parse_shard(text); },
          "Process only cases c with c % N == K (0 <= K < N), e.g. "
          "--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT for --array=0-(N-1); default 0/1 (all)")
      ->type_name("K/N")
      ->check(shard_format);
}

CLI::Option* add_batch_list_option(CLI::App& command, BatchOptions& options) {
  CLI::Option* batch =
      command
          .add_option("--batch", options.list_or_dir,
                      "Run on many images, loading the model once: a text file with one path per line, or a "
                      "directory of images and DICOM directories. -o names the output directory; cases whose "
                      "output exists are skipped")
          ->type_name("LIST|DIR");
  add_shard_option(command, options.shard)->needs(batch);
  command
      .add_flag_callback(
          "--no-read-ahead", [&options] { options.read_ahead = false; },
          "Read each image only when its case runs (by default the next image is read during the current case, "
          "which holds one volume more in memory)")
      ->needs(batch);
  return batch;
}

void add_batch_options(CLI::App& command, CLI::Option* input, BatchOptions& options) {
  CLI::Option_group* inputs = command.add_option_group("input", "One image, or a batch of them");
  inputs->add_option(input);
  inputs->add_option(add_batch_list_option(command, options));
  inputs->require_option(1);
}

}  // namespace slicenav::cli

// Volume I/O benchmark: wall time and peak memory of reading CT volumes and putting them in canonical
// slice order, for a 512 x 512 x 300 int16 NIfTI phantom and a real 111-slice DICOM series.
//
//   slicenav_io_benchmark [--runs N] [--data DIR] [--tmp DIR] [--markdown docs/benchmarks.md]
//
// Every measured run happens in a fresh child process (this program re-executed with --child), so
// that each run starts cold in the allocator and its getrusage(ru_maxrss) is the peak resident set of
// that run alone: "peak RSS after read" is the child's peak once read_volume returned, "after
// canonicalize" the peak once canonicalize returned as well (read + canonicalize in one process, both
// volumes alive). The parent only spawns children and never holds a volume. The page cache is not
// dropped: files are read warm after the first run, which is why the first run is not special-cased.
// Times are wall-clock (steady_clock) medians over the runs, with min and max.
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "child_output.hpp"
#include "markdown_section.hpp"
#include "options.hpp"
#include "slicenav/error.hpp"
#include "slicenav/io.hpp"
#include "slicenav/orientation.hpp"
#include "slicenav/phantom.hpp"
#include "slicenav/preprocess.hpp"
#include "stats.hpp"
#include "test_data.hpp"

extern char** environ;

namespace {

namespace fs = std::filesystem;
namespace bench = slicenav::bench;
using bench::fixed;
using Clock = std::chrono::steady_clock;

// ---- Child side: do one run and print "stage <name> <seconds> <peak_rss_kib>" lines ---------------

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;  // KiB on Linux
}

template <typename F>
void timed(const std::string& stage, F&& f) {
  const auto start = Clock::now();
  f();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::cout << "stage " << stage << ' ' << std::setprecision(9) << seconds << ' ' << peak_rss_kib() << '\n';
}

int run_child(const std::string& mode, const std::string& path) {
  if (mode == "baseline") {
    std::cout << "stage baseline 0 " << peak_rss_kib() << '\n';
    return 0;
  }
  if (mode == "make") {
    slicenav::PhantomOptions options;
    options.size = {512, 512, 300};
    options.spacing = {0.8, 0.8, 1.0};
    slicenav::Phantom phantom;
    timed("make_phantom", [&] { phantom = slicenav::make_phantom(options); });
    // The noise makes voxels non-integer; store int16 like scanner data (automatic would pick float32).
    timed("write_volume", [&] { slicenav::write_volume(phantom.volume, path, slicenav::PixelType::int16); });
    return 0;
  }
  if (mode == "read") {
    slicenav::Volume volume;
    timed("read_volume", [&] { volume = slicenav::read_volume(path); });
    slicenav::CanonicalVolume canonical;
    timed("canonicalize", [&] { canonical = slicenav::canonicalize(volume); });
    slicenav::SliceStack stack;
    const slicenav::PreprocessOptions model_input;  // the navigation models' defaults
    timed("preprocess", [&] {
      const auto slices = slicenav::uniform_slices(canonical.mapping.slice_count(), model_input.max_slices);
      stack = slicenav::preprocess(canonical, slices, model_input);
    });
    const auto& size = canonical.volume.geometry().size;
    std::cout << "size " << size[0] << 'x' << size[1] << 'x' << size[2] << '\n';
    return 0;
  }
  std::cerr << "unknown child mode '" << mode << "'\n";
  return 2;
}

// ---- Parent side -------------------------------------------------------------------------------

struct StageSample {
  double seconds = 0.0;
  long peak_rss_kib = 0;
};

struct ChildResult {
  std::map<std::string, StageSample> stages;
  std::string size;
};

std::string self_exe() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot resolve /proc/self/exe: " + ec.message());
  return exe.string();
}

// Runs this program with --child MODE PATH in a new process and parses its stage lines.
ChildResult spawn_child(const std::string& mode, const std::string& path) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, fds[0]);
  posix_spawn_file_actions_addclose(&actions, fds[1]);

  const std::string exe = self_exe();
  std::vector<std::string> args{exe, "--child", mode, path};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  pid_t pid = 0;
  const int err = posix_spawn(&pid, exe.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (err != 0) {
    close(fds[0]);
    throw std::runtime_error("posix_spawn failed");
  }

  const auto [output, status] = slicenav::bench::collect_child(fds[0], pid);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("child '" + mode + " " + path + "' failed (see its stderr above)");
  }

  ChildResult result;
  std::istringstream lines(output);
  std::string word;
  while (lines >> word) {
    if (word == "stage") {
      std::string name;
      StageSample sample;
      lines >> name >> sample.seconds >> sample.peak_rss_kib;
      result.stages[name] = sample;
    } else if (word == "size") {
      lines >> result.size;
    }
  }
  return result;
}

struct Summary {
  double median_s = 0.0, min_s = 0.0, max_s = 0.0;
  double rss_mib = 0.0;  // median peak RSS
  std::size_t runs = 0;
};

Summary summarize(const std::vector<ChildResult>& runs, const std::string& stage) {
  std::vector<double> seconds, rss;
  for (const auto& r : runs) {
    const auto it = r.stages.find(stage);
    if (it == r.stages.end()) continue;
    seconds.push_back(it->second.seconds);
    rss.push_back(static_cast<double>(it->second.peak_rss_kib) / 1024.0);
  }
  Summary s;
  if (seconds.empty()) return s;
  s.runs = seconds.size();
  s.median_s = slicenav::stats::median(seconds);
  s.min_s = *std::min_element(seconds.begin(), seconds.end());
  s.max_s = *std::max_element(seconds.begin(), seconds.end());
  s.rss_mib = slicenav::stats::median(rss);
  return s;
}

struct Row {
  std::string input;
  std::string stage;
  Summary summary;
};

std::string markdown_section(const std::vector<Row>& rows, int runs, const std::string& machine,
                             const std::vector<std::string>& notes) {
  std::ostringstream md;
  md << "## Volume I/O\n\n";
  md << "Reading a CT volume (`slicenav::read_volume`: ITK reads the header's geometry, slicenav decodes NIfTI voxels "
        "in one pass with libdeflate; whole HU within int16, as in these files, stay int16 in memory, and an unscaled "
        "int16 .nii.gz is used where it was decompressed) and reordering it to canonical slice order "
        "(`slicenav::canonicalize`, a full copy in the stored type), then resampling it to the navigation models' "
        "input (`slicenav::preprocess`). Measured on "
     << bench::today_utc() << ".\n\n";
  md << "- Machine: " << machine << "; shared with other jobs, run under `nice`.\n";
  md << "- Build: " << SLICENAV_BUILD_TYPE << ", " << bench::compiler() << "; ITK's default thread count.\n";
  md << "- Method: each run is a fresh child process; wall time is the median of " << runs
     << " runs (min-max in brackets). Peak RSS is that child's `getrusage` `ru_maxrss` when the stage has "
        "returned, so it includes the process baseline and everything earlier in the same run: the "
        "`canonicalize` row is the peak of read + canonicalize with both volumes alive. Files are in the "
        "page cache (warm reads).\n";
  for (const auto& note : notes) md << "- " << note << "\n";
  md << "\nTo reproduce (from the repository root):\n\n```sh\n"
        "cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLICENAV_BENCHMARKS=ON\n"
        "cmake --build build --target slicenav_io_benchmark\n"
        "nice build/bin/slicenav_io_benchmark --runs "
     << runs << " --markdown docs/benchmarks.md\n```\n\n";
  md << "| input | stage | runs | wall time, s (median [min-max]) | peak RSS, MiB |\n";
  md << "|---|---|---:|---:|---:|\n";
  for (const auto& row : rows) {
    const Summary& s = row.summary;
    md << "| " << row.input << " | " << row.stage << " | " << s.runs << " | ";
    if (row.stage == "process baseline") {
      md << "- | ";
    } else {
      md << fixed(s.median_s, 3) << " [" << fixed(s.min_s, 3) << "-" << fixed(s.max_s, 3) << "] | ";
    }
    md << fixed(s.rss_mib, 0) << " |\n";
  }
  return md.str();
}

int run_parent(int runs, std::string data_dir, std::string tmp_dir, const std::string& markdown) {
  if (tmp_dir.empty()) {
    tmp_dir = (fs::temp_directory_path() / ("slicenav_io_benchmark_" + std::to_string(getpid()))).string();
  }
  const std::string machine = bench::machine_description();  // before our own load shows in the load average
  const bool created_tmp = fs::create_directories(tmp_dir);
  if (!data_dir.empty()) setenv("SLICENAV_DATA", data_dir.c_str(), 1);
  const std::string dicom = slicenav::test::data_path("dicom/lung1_002");

  std::vector<Row> rows;
  std::vector<std::string> notes;
  const std::string phantom_path = (fs::path(tmp_dir) / "phantom_512x512x300.nii.gz").string();
  // Remove the phantom (and the directory, when this run created it) however the run ends.
  struct Cleanup {
    std::string file, dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove(file, ec);
      if (!dir.empty()) fs::remove(dir, ec);
    }
  } cleanup{phantom_path, created_tmp ? tmp_dir : std::string()};

  std::cerr << "baseline...\n";
  std::vector<ChildResult> baseline{spawn_child("baseline", "-")};
  rows.push_back({"(nothing read)", "process baseline", summarize(baseline, "baseline")});

  std::cerr << "phantom 512x512x300 -> " << phantom_path << "...\n";
  std::vector<ChildResult> make{spawn_child("make", phantom_path)};
  const double mib = static_cast<double>(fs::file_size(phantom_path)) / (1024.0 * 1024.0);
  const std::string phantom_label = "phantom 512x512x300 int16 .nii.gz (" + fixed(mib, 0) + " MiB)";
  rows.push_back({phantom_label, "make_phantom", summarize(make, "make_phantom")});
  rows.push_back({phantom_label, "write_volume", summarize(make, "write_volume")});

  std::vector<ChildResult> reads;
  for (int i = 0; i < runs; ++i) {
    std::cerr << "read phantom, run " << i + 1 << "/" << runs << "...\n";
    reads.push_back(spawn_child("read", phantom_path));
  }
  rows.push_back({phantom_label, "read_volume", summarize(reads, "read_volume")});
  rows.push_back({phantom_label, "canonicalize", summarize(reads, "canonicalize")});
  rows.push_back({phantom_label, "preprocess", summarize(reads, "preprocess")});
  notes.push_back(
      "preprocess: `slicenav::preprocess` with the model defaults (up to 256 uniformly chosen "
      "slices, 96x96 pixels of 5 mm, HU window -1000..1000, area-averaged).");
  notes.push_back(
      "Phantom: `slicenav::make_phantom` 512x512x300, spacing 0.8x0.8x1.0 mm, LPS, default noise "
      "(10 HU), written by `slicenav::write_volume` (slicenav's NIfTI writer: gzip level 1, 8 MiB members compressed "
      "on both cores) as int16 gzip NIfTI (forced int16: the noise is not "
      "integer); make and write are one run.");

  if (dicom.empty()) {
    std::cerr << "DICOM series dicom/lung1_002 not found: set SLICENAV_DATA or --data; skipped\n";
    notes.push_back("DICOM: skipped, ../shared/data/dicom/lung1_002 was not found.");
  } else {
    std::vector<ChildResult> dicom_reads;
    for (int i = 0; i < runs; ++i) {
      std::cerr << "read DICOM, run " << i + 1 << "/" << runs << "...\n";
      dicom_reads.push_back(spawn_child("read", dicom));
    }
    const std::string label = "DICOM lung1_002, 111 files 512x512 int16 (+1 RTSTRUCT)";
    rows.push_back({label, "read_volume", summarize(dicom_reads, "read_volume")});
    rows.push_back({label, "canonicalize", summarize(dicom_reads, "canonicalize")});
    rows.push_back({label, "preprocess", summarize(dicom_reads, "preprocess")});
    notes.push_back(
        "DICOM: `../shared/data/dicom/lung1_002`, directory scan, slice sort and rescale included in "
        "read_volume.");
  }

  const std::string section = markdown_section(rows, runs, machine, notes);
  std::cout << section;
  if (!markdown.empty()) {
    bench::replace_markdown_section(markdown, "## Volume I/O", section);
    std::cerr << "wrote the Volume I/O section of " << markdown << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Volume I/O benchmark: wall time and peak memory of read_volume, canonicalize and preprocess",
               "slicenav_io_benchmark"};
  int runs = 5;
  std::string data_dir, tmp_dir, markdown;
  bench::add_runs_option(app, runs, "Measured runs per input, each in a fresh process");
  bench::add_data_option(app, data_dir);
  app.add_option("--tmp", tmp_dir, "Where to write the phantom (default: a new directory in the system temp dir)")
      ->type_name("DIR");
  bench::add_markdown_option(app, markdown, "## Volume I/O");
  try {
    // A child process that spawn_child started: exactly --child MODE PATH, not a user flag.
    if (argc == 4 && std::string(argv[1]) == "--child") return run_child(argv[2], argv[3]);
    CLI11_PARSE(app, argc, argv);
    return run_parent(runs, data_dir, tmp_dir, markdown);
  } catch (const slicenav::Error& e) {
    std::cerr << "slicenav_io_benchmark: " << slicenav::status_name(e.status()) << ": " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "slicenav_io_benchmark: " << e.what() << "\n";
    return 1;
  }
}

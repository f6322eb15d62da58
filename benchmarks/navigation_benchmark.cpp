// Whole-scan navigation (navigation.hpp) with the bundled model: where the time goes, how much memory a
// long scan takes, and how accurate key slices and insertion are on real cases the model was not
// trained on.
//
//   slicenav_navigation_benchmark [--runs N] [--threads N] [--model FILE] [--data DIR] [--tmp DIR]
//                                 [--rss-slices N] [--markdown docs/benchmarks.md]
//
// 1. Stages, on two 512 x 512 x 300 phantoms (bench::trunk_phantom, tops at z = +40 and -110 mm, so 150 of
//    their slices overlap) written once as int16 .nii.gz: read_volume, then per scan what prepare_scan does,
//    each step timed on its own through the public API (the CT check, the canonical view, body_centre,
//    preprocess, Model::embed, Model::score, measure_key_slices), prepare_scan itself, locate with both methods and
//    coverage; then insert_scan (scan A into scan B: the attention layers only, the embeddings being prepared) and the
//    end-to-end insert without decoding (prepare both, insert_scan), against the goal of 0.5 s. Every timed call
//    follows one untimed warm-up call; medians over --runs, with min and max.
// 2. Peak memory, in a child process forked before LibTorch has started any thread: Model::load, a
//    512 x 512 x --rss-slices phantom, prepare_scan and locate, with getrusage's ru_maxrss after each
//    (falls back to 384 x 384 when MemAvailable is too small or the 512 child is killed).
// 3. Accuracy on the model's validation cases (metadata "training" -> "validation_cases") that are in set
//    "ct" of <data>/cases.tsv; skipped with a note when the data directory is absent:
//    - key slices: every landmark of the case (read_case_landmarks) that the atlas knows, located with
//      both methods; |predicted - true world z| when the truth lies inside the scan, "missed" when the
//      truth lies inside but the answer is above or below the scan;
//    - intra-patient insertion: the case's original slices [N/4, 3N/4) as a volume of their own inserted
//      into the whole scan (error of the slices put inside), and the whole scan inserted into that
//      sub-volume (share of the slices more than one slice step outside it that go to the right slot).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "child_output.hpp"
#include "dataset.hpp"
#include "harness.hpp"
#include "markdown_section.hpp"
#include "options.hpp"
#include "slicenav/anatomy.hpp"
#include "slicenav/error.hpp"
#include "slicenav/io.hpp"
#include "slicenav/measure.hpp"
#include "slicenav/model.hpp"
#include "slicenav/navigation.hpp"
#include "slicenav/orientation.hpp"
#include "slicenav/phantom.hpp"
#include "slicenav/preprocess.hpp"
#include "stats.hpp"
#include "test_data.hpp"

namespace {

namespace fs = std::filesystem;
namespace bench = slicenav::bench;
using bench::cell;
using bench::fixed;
using bench::time_calls;
using bench::Timing;
using slicenav::InsertedSlice;
using slicenav::LocateMethod;
using slicenav::Model;
using slicenav::PreparedScan;
using slicenav::Volume;

const char* const kHeading = "## Navigation";
constexpr double kGoalMs = 500.0;               // end-to-end insert of two 300-slice scans, decoding excluded
constexpr std::size_t kPrepareChunk = 256;      // slices prepare_scan preprocesses and encodes at once
constexpr double kTopA = 40.0, kTopB = -110.0;  // phantom tops, world z mm
const char* const kCoverageRegion = "lungs";
constexpr double kMiB = 1024.0 * 1024.0;

struct Settings {
  int runs = 5;
  int threads = 0;
  std::size_t rss_slices = 1500;
  std::string model_path, data_dir, tmp_dir, markdown;
};

std::string method_name(LocateMethod m) { return m == LocateMethod::insertion ? "insertion" : "score"; }

// ---- 2. Peak memory (child process) ---------------------------------------------------------------

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;  // KiB on Linux
}

void emit(int fd, const std::string& line) {
  const std::string text = line + "\n";
  for (std::size_t done = 0; done < text.size();) {
    const ssize_t n = write(fd, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

slicenav::PhantomOptions long_phantom_options(std::size_t in_plane, std::size_t slices) {
  slicenav::PhantomOptions o;
  o.size = {in_plane, in_plane, slices};
  const double pixel = 0.8 * 512.0 / static_cast<double>(in_plane);  // the same 410 mm field at any size
  o.spacing = {pixel, pixel, 0.5};
  o.top_z_mm = 80.0;
  return o;
}

// The child: reports "<step> <ru_maxrss KiB> <seconds>" lines on `fd`, then exits without returning.
[[noreturn]] void rss_child(int fd, const Settings& s, const std::string& model_path, std::size_t in_plane) {
  int code = 0;
  try {
    emit(fd, "start " + std::to_string(peak_rss_kib()) + " 0");
    slicenav::set_inference_threads(s.threads);
    auto start = bench::Clock::now();
    const Model model = Model::load(model_path);
    emit(fd, "model " + std::to_string(peak_rss_kib()) + " " + std::to_string(bench::ms_since(start) / 1e3));
    start = bench::Clock::now();
    const slicenav::Phantom phantom = slicenav::make_phantom(long_phantom_options(in_plane, s.rss_slices));
    emit(fd, "phantom " + std::to_string(peak_rss_kib()) + " " + std::to_string(bench::ms_since(start) / 1e3));
    start = bench::Clock::now();
    const PreparedScan scan = slicenav::prepare_scan(model, phantom.volume);
    emit(fd, "prepare " + std::to_string(peak_rss_kib()) + " " + std::to_string(bench::ms_since(start) / 1e3));
    start = bench::Clock::now();
    const auto located = slicenav::locate(model, scan);
    emit(fd, "locate " + std::to_string(peak_rss_kib()) + " " + std::to_string(bench::ms_since(start) / 1e3));
    emit(fd, "located " + std::to_string(located.size()) + " 0");
  } catch (const std::exception& e) {
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    emit(fd, "error " + what);
    code = 1;
  }
  close(fd);
  _exit(code);
}

struct RssStep {
  std::string name;
  long kib = 0;
  double seconds = 0;
};

struct RssResult {
  std::size_t in_plane = 0, slices = 0;
  std::vector<RssStep> steps;
  std::size_t located = 0;
  std::string failure;  // empty when the child finished
  std::string fallback_note;
  double voxel_mib() const { return static_cast<double>(in_plane * in_plane * slices * sizeof(float)) / kMiB; }
};

double mem_available_gib() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kib = 0;
  while (in >> key) {
    if (key == "MemAvailable:") {
      in >> kib;
      return kib / (1024.0 * 1024.0);
    }
    in.ignore(1 << 10, '\n');
  }
  return 0;
}

RssResult run_rss_child(const Settings& s, const std::string& model_path, std::size_t in_plane) {
  std::cout.flush();
  std::cerr.flush();
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fds[0]);
    rss_child(fds[1], s, model_path, in_plane);
  }
  close(fds[1]);
  const auto [output, status] = bench::collect_child(fds[0], pid);

  RssResult r;
  r.in_plane = in_plane;
  r.slices = s.rss_slices;
  std::istringstream lines(output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string name;
    words >> name;
    if (name == "error") {
      r.failure = line.substr(6);
    } else if (name == "located") {
      words >> r.located;
    } else {
      RssStep step{name, 0, 0};
      words >> step.kib >> step.seconds;
      r.steps.push_back(step);
    }
  }
  if (WIFSIGNALED(status)) {
    r.failure = "killed by signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  } else if (r.failure.empty() && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
    r.failure = "exited with status " + std::to_string(WEXITSTATUS(status));
  }
  return r;
}

RssResult measure_rss(const Settings& s, const std::string& model_path) {
  const double need_gib = static_cast<double>(512 * 512 * s.rss_slices * sizeof(float)) / (kMiB * 1024.0) + 1.5;
  const double available = mem_available_gib();
  std::string note;
  if (available < need_gib) {
    note = "512 x 512 skipped: " + fixed(available, 1) + " GiB available, about " + fixed(need_gib, 1) +
           " GiB needed, so 384 x 384";
  } else {
    std::cerr << "memory: 512x512x" << s.rss_slices << " phantom in a child process...\n";
    RssResult r = run_rss_child(s, model_path, 512);
    if (r.failure.rfind("killed", 0) != 0) return r;  // finished, or failed for another reason
    note = "the 512 x 512 child was " + r.failure + ", so 384 x 384";
  }
  std::cerr << "memory: " << note << "\n";
  RssResult r = run_rss_child(s, model_path, 384);
  r.fallback_note = note;
  return r;
}

// ---- 1. Stages on two phantoms ----------------------------------------------------------------------

struct ScanStages {
  std::string label;
  std::size_t slices = 0;
  double file_mib = 0;
  Timing read, ct_check, canonical_view, body_centre, preprocess, encoder, score, measure, prepare, locate_insertion,
      locate_score, coverage;
  std::string coverage_status;
  std::size_t located_insertion = 0, located_score = 0;
};

struct PairStages {
  Timing insert, end_to_end;
  std::size_t query_slices = 0, passes = 0, target_slots = 0;
};

// prepare_scan's steps one by one (the same calls, in the same order and chunks), each timed on its own.
void time_prepare_steps(const Model& model, const Volume& volume, int runs, ScanStages& out) {
  std::size_t sink = 0;  // results are used, so no call can be dropped
  out.ct_check = time_calls(runs, [&] { slicenav::require_ct(volume); });
  out.canonical_view = time_calls(runs, [&] {
    const slicenav::SliceMapping mapping(volume.geometry(), slicenav::canonical_axis_map(volume.geometry()));
    const slicenav::CanonicalView view(volume, mapping);
    sink += view.size()[2];
  });
  const slicenav::SliceMapping mapping(volume.geometry(), slicenav::canonical_axis_map(volume.geometry()));
  const slicenav::CanonicalView view(volume, mapping);
  const std::size_t n = view.size()[2];
  std::vector<std::size_t> all(n);
  std::iota(all.begin(), all.end(), std::size_t{0});
  slicenav::InPlaneCentre centre;
  out.body_centre = time_calls(runs, [&] { centre = slicenav::body_centre(view, all); });
  const auto& options = model.config().preprocess;
  std::vector<slicenav::SliceStack> chunks;
  out.preprocess = time_calls(runs, [&] {
    chunks.clear();
    for (std::size_t first = 0; first < n; first += kPrepareChunk) {
      const std::vector<std::size_t> chunk(
          all.begin() + static_cast<std::ptrdiff_t>(first),
          all.begin() + static_cast<std::ptrdiff_t>(std::min(n, first + kPrepareChunk)));
      chunks.push_back(slicenav::preprocess(view, chunk, options, centre));
    }
  });
  slicenav::SliceEmbeddings embeddings;
  out.encoder = time_calls(runs, [&] {
    embeddings = slicenav::SliceEmbeddings();
    embeddings.dim = static_cast<std::size_t>(model.config().d_model);
    for (const auto& stack : chunks) {
      const auto e = model.embed(stack);
      embeddings.values.insert(embeddings.values.end(), e.values.begin(), e.values.end());
      embeddings.world_z_mm.insert(embeddings.world_z_mm.end(), e.world_z_mm.begin(), e.world_z_mm.end());
    }
  });
  out.score = time_calls(runs, [&] { sink += model.score(embeddings).size(); });
  out.measure = time_calls(runs, [&] { sink += slicenav::measure_key_slices(view).size(); });
  if (sink == 0) throw std::runtime_error("prepare steps returned nothing");
}

struct Stages {
  ScanStages scans[2];
  PairStages pair;
  std::vector<std::string> log;  // what locate found on the phantoms (stderr only)
};

Stages measure_stages(const Model& model, const Settings& s, const fs::path& tmp) {
  Stages st;
  const std::string paths[2] = {(tmp / "phantom_a.nii.gz").string(), (tmp / "phantom_b.nii.gz").string()};
  const double tops[2] = {kTopA, kTopB};
  for (int i = 0; i < 2; ++i) {
    std::cerr << "stages: making and writing phantom "
              << "AB"[i] << " (512x512x300, int16 .nii.gz)...\n";
    const slicenav::Phantom p = bench::trunk_phantom(tops[i], static_cast<std::uint64_t>(i + 1));
    // The noise makes voxels non-integer; store int16 like scanner data (automatic would pick float32).
    slicenav::write_volume(p.volume, paths[i], slicenav::PixelType::int16);
  }
  Volume volumes[2];
  for (int i = 0; i < 2; ++i) {
    ScanStages& sc = st.scans[i];
    sc.label = std::string("phantom ") + "AB"[i] + ", top z " + (tops[i] > 0 ? "+" : "") + fixed(tops[i], 0) + " mm";
    sc.file_mib = static_cast<double>(fs::file_size(paths[i])) / kMiB;
    std::cerr << "stages: " << sc.label << "\n";
    sc.read = time_calls(s.runs, [&] {
      volumes[i] = Volume();  // free the previous one before reading
      volumes[i] = slicenav::read_volume(paths[i]);
    });
    sc.slices = volumes[i].geometry().size[2];
    time_prepare_steps(model, volumes[i], s.runs, sc);
    PreparedScan scan;
    sc.prepare = time_calls(s.runs, [&] { scan = slicenav::prepare_scan(model, volumes[i]); });
    std::vector<slicenav::LocatedLandmark> by_insertion, by_score;
    sc.locate_insertion = time_calls(s.runs, [&] { by_insertion = slicenav::locate(model, scan); });
    sc.locate_score = time_calls(s.runs, [&] { by_score = slicenav::locate(model, scan, LocateMethod::score); });
    sc.located_insertion = by_insertion.size();
    sc.located_score = by_score.size();
    slicenav::Coverage c;
    sc.coverage = time_calls(s.runs, [&] { c = slicenav::coverage(model, scan, kCoverageRegion); });
    sc.coverage_status = slicenav::coverage_name(c.status);
    for (const auto* list : {&by_insertion, &by_score}) {
      std::ostringstream line;
      line << sc.label << ", locate " << (list == &by_insertion ? "insertion" : "score") << ":";
      for (const auto& l : *list) {
        line << " " << l.name << "="
             << (l.position.where == InsertedSlice::Where::inside ? fixed(l.position.world_z_mm, 0)
                                                                  : slicenav::where_name(l.position.where));
      }
      st.log.push_back(line.str());
    }
  }
  std::cerr << "stages: insert_scan A into B, end to end...\n";
  PreparedScan a = slicenav::prepare_scan(model, volumes[0]);
  PreparedScan b = slicenav::prepare_scan(model, volumes[1]);
  slicenav::Insertion insertion;
  st.pair.insert = time_calls(s.runs, [&] { insertion = slicenav::insert_scan(model, a, b); });
  st.pair.query_slices = insertion.slices.size();
  st.pair.target_slots = insertion.target_slots.size();
  const std::size_t max = model.config().preprocess.max_slices;
  st.pair.passes = (st.pair.query_slices + max - 1) / max;
  st.pair.end_to_end = time_calls(s.runs, [&] {
    a = slicenav::prepare_scan(model, volumes[0], slicenav::kWithoutMeasurement);
    b = slicenav::prepare_scan(model, volumes[1], slicenav::kWithoutMeasurement);
    insertion = slicenav::insert_scan(model, a, b);
  });
  return st;
}

// ---- 3. Accuracy on real validation cases -------------------------------------------------------------

struct LandmarkStats {                             // one landmark name, one method
  std::vector<double> errors_mm;                   // truth inside the scan, answer inside
  std::size_t missed_above = 0, missed_below = 0;  // truth inside, answer above / below the scan
  std::size_t no_answer = 0;                       // truth inside, not located (no template / no score line)
  std::size_t outside = 0, outside_right = 0;      // truth outside the scan; answered on the right side
  std::size_t zero_confidence = 0;                 // of errors_mm: answers given with confidence 0
  void add(const LandmarkStats& o) {
    errors_mm.insert(errors_mm.end(), o.errors_mm.begin(), o.errors_mm.end());
    zero_confidence += o.zero_confidence;
    missed_above += o.missed_above;
    missed_below += o.missed_below;
    no_answer += o.no_answer;
    outside += o.outside;
    outside_right += o.outside_right;
  }
  std::size_t inside() const { return errors_mm.size() + missed_above + missed_below + no_answer; }
};

struct IntraRow {
  std::string case_id;
  slicenav::Recognition recognition;  // of the whole scan
  std::size_t slices = 0, sub_first = 0, sub_count = 0;
  std::vector<double> errors_mm;               // sub-volume into whole: slices put inside
  std::size_t missed = 0;                      // ... put above or below
  std::vector<double> back_errors_mm;          // whole into sub-volume: slices inside it, put inside
  std::size_t outside = 0, outside_right = 0;  // whole into sub-volume: slices more than a step outside
};

struct Accuracy {
  bool ran = false;
  std::vector<std::string> notes;
  std::vector<std::string> cases;                            // case ids used
  std::map<std::string, LandmarkStats> per_landmark[2];      // [0] insertion, [1] score; whole scans
  std::map<std::string, LandmarkStats> per_landmark_sub[2];  // the same in the sub-volumes [N/4, 3N/4)
  std::map<std::string, std::size_t> not_in_atlas;           // truth landmarks the atlas lacks
  std::vector<IntraRow> intra;
  std::vector<std::string> details;  // one line per case and landmark (stderr)
};

// Throws unless every canonical slice of `part` lies on a slice of `whole` (the sub-volume's geometry check).
void check_same_grid(const PreparedScan& whole, const PreparedScan& part) {
  for (std::size_t k = 0; k < part.slice_count(); ++k) {
    const double c = whole.mapping.canonical_slice_at_z(part.mapping.world_z(static_cast<double>(k)));
    if (std::abs(c - std::round(c)) > 1e-3) {
      throw std::runtime_error("sub-volume slice " + std::to_string(k) + " is not on the whole scan's grid");
    }
  }
}

bool inside_scan(const PreparedScan& scan, double world_z_mm, InsertedSlice::Where& side) {
  const double c = scan.mapping.canonical_slice_at_z(world_z_mm);
  const double last = static_cast<double>(scan.slice_count()) - 1.0;
  side = c < -0.5         ? InsertedSlice::Where::above
         : c > last + 0.5 ? InsertedSlice::Where::below
                          : InsertedSlice::Where::inside;
  return side == InsertedSlice::Where::inside;
}

void key_slices(const Model& model, const std::string& case_id, const PreparedScan& scan,
                const std::vector<slicenav::Landmark>& truth, std::map<std::string, LandmarkStats> (&stats)[2],
                Accuracy& acc) {
  const auto& atlas = model.atlas().position_mm;
  std::map<std::string, slicenav::LocatedLandmark> found[2];
  for (int m = 0; m < 2; ++m) {
    const LocateMethod method = m == 0 ? LocateMethod::insertion : LocateMethod::score;
    for (auto& l : slicenav::locate(model, scan, method)) found[m][l.name] = l;
  }
  for (const auto& t : truth) {
    if (atlas.count(t.name) == 0) continue;  // counted in acc.not_in_atlas
    InsertedSlice::Where side;
    const bool inside = inside_scan(scan, t.z_mm, side);
    std::ostringstream line;
    line << case_id << " " << t.name << ": truth z " << fixed(t.z_mm, 1) << " (" << slicenav::where_name(side) << ")";
    for (int m = 0; m < 2; ++m) {
      LandmarkStats& st = stats[m][t.name];
      const auto it = found[m].find(t.name);
      line << " | " << method_name(m == 0 ? LocateMethod::insertion : LocateMethod::score) << ": ";
      if (it == found[m].end()) {
        line << "no answer";
        if (inside) {
          ++st.no_answer;
        } else {
          ++st.outside;
        }
        continue;
      }
      const auto& p = it->second.position;
      if (p.where == InsertedSlice::Where::inside) {
        line << fixed(p.world_z_mm, 1) << " (error " << fixed(p.world_z_mm - t.z_mm, 1) << " mm, confidence "
             << fixed(it->second.confidence, 2) << ")";
      } else {
        line << slicenav::where_name(p.where);
      }
      if (inside) {
        if (p.where == InsertedSlice::Where::inside) {
          st.errors_mm.push_back(std::abs(p.world_z_mm - t.z_mm));
          if (it->second.confidence == 0.0f) ++st.zero_confidence;
        } else if (p.where == InsertedSlice::Where::above) {
          ++st.missed_above;
        } else {
          ++st.missed_below;
        }
      } else {
        ++st.outside;
        if (p.where == side) ++st.outside_right;
      }
    }
    acc.details.push_back(line.str());
  }
}

// Inserts the sub-volume [N/4, 3N/4) and the whole scan into each other, and locates the key slices in the
// sub-volume (so that some truths lie above or below it).
IntraRow intra_patient(const Model& model, const std::string& case_id, const Volume& volume, const PreparedScan& whole,
                       const std::vector<slicenav::Landmark>& truth, Accuracy& acc) {
  IntraRow row;
  row.case_id = case_id;
  row.recognition = slicenav::recognise(whole);
  const int axis = whole.mapping.axes().axis[2];
  const std::size_t n = volume.geometry().size[static_cast<std::size_t>(axis)];
  row.slices = n;
  row.sub_first = n / 4;
  row.sub_count = 3 * n / 4 - n / 4;
  const Volume sub_volume = bench::slice_range(volume, axis, row.sub_first, row.sub_count);
  const PreparedScan sub = slicenav::prepare_scan(model, sub_volume);
  check_same_grid(whole, sub);
  key_slices(model, case_id + " [sub]", sub, truth, acc.per_landmark_sub, acc);

  for (const auto& s : slicenav::insert_scan(model, sub, whole).slices) {
    if (s.target.where == InsertedSlice::Where::inside) {
      row.errors_mm.push_back(std::abs(s.target.world_z_mm - s.query_world_z_mm));
    } else {
      ++row.missed;
    }
  }
  const double top = sub.mapping.world_z(0.0);
  const double bottom = sub.mapping.world_z(static_cast<double>(sub.slice_count()) - 1.0);
  const double step = sub.mapping.slice_step_mm();
  for (const auto& s : slicenav::insert_scan(model, whole, sub).slices) {
    const double z = s.query_world_z_mm;
    if (z > top + step || z < bottom - step) {
      ++row.outside;
      if (s.target.where == (z > top ? InsertedSlice::Where::above : InsertedSlice::Where::below)) ++row.outside_right;
    } else if (z <= top + 1e-6 && z >= bottom - 1e-6 && s.target.where == InsertedSlice::Where::inside) {
      row.back_errors_mm.push_back(std::abs(s.target.world_z_mm - z));
    }
  }
  return row;
}

Accuracy measure_accuracy(const Model& model) {
  Accuracy acc;
  const std::string data = slicenav::test::data_dir();
  if (data.empty()) {
    acc.notes.push_back(
        "skipped: no data directory (set SLICENAV_DATA or --data, or place the data in "
        "../shared/data)");
    return acc;
  }
  const auto training = nlohmann::json::parse(model.metadata_section("training"));
  if (!training.is_object() || !training.contains("validation_cases")) {
    acc.notes.push_back("skipped: the model's \"training\" metadata lists no validation_cases");
    return acc;
  }
  const auto validation = training.at("validation_cases").get<std::vector<std::string>>();
  for (const auto& info : slicenav::training::read_cases(data, {"ct"})) {
    if (std::find(validation.begin(), validation.end(), info.case_id) == validation.end()) continue;
    const fs::path file = fs::path(info.path) / "ct.nii.gz";
    if (!fs::exists(file)) {
      acc.notes.push_back("`" + info.case_id + "`: no ct.nii.gz, skipped");
      continue;
    }
    std::cerr << "accuracy: " << info.case_id << "\n";
    try {
      const Volume volume = slicenav::read_volume(file.string());
      const PreparedScan scan = slicenav::prepare_scan(model, volume);
      const auto truth = slicenav::read_case_landmarks(info.path);
      for (const auto& t : truth) {
        if (model.atlas().position_mm.count(t.name) == 0) ++acc.not_in_atlas[t.name];
      }
      key_slices(model, info.case_id, scan, truth, acc.per_landmark, acc);
      acc.intra.push_back(intra_patient(model, info.case_id, volume, scan, truth, acc));
      acc.cases.push_back(info.case_id);
    } catch (const std::exception& e) {
      acc.notes.push_back("`" + info.case_id + "` failed: " + e.what());
      std::cerr << "accuracy: " << info.case_id << " failed: " << e.what() << "\n";
    }
  }
  acc.ran = true;
  return acc;
}

// ---- Report ----------------------------------------------------------------------------------------

std::string mean_text(const std::vector<double>& v) {
  return v.empty() ? "-" : fixed(std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size()), 1);
}
std::string median_text(const std::vector<double>& v) { return v.empty() ? "-" : fixed(slicenav::stats::median(v), 1); }
std::string percent(std::size_t part, std::size_t whole) {
  return whole == 0 ? "-" : fixed(100.0 * static_cast<double>(part) / static_cast<double>(whole), 0) + " %";
}
std::string mib(long kib) { return fixed(static_cast<double>(kib) / 1024.0, 0); }
// A stage time: more digits for the short ones.
std::string ms_cell(const Timing& t) { return cell(t, t.max_ms < 1.0 ? 3 : t.max_ms < 10.0 ? 2 : 1); }

std::string landmark_cells(const LandmarkStats& s) {
  return std::to_string(s.errors_mm.size()) + " | " + mean_text(s.errors_mm) + " | " + median_text(s.errors_mm) +
         " | " + std::to_string(s.missed_above) + "/" + std::to_string(s.missed_below) + "/" +
         std::to_string(s.no_answer);
}

struct Report {
  const Settings& settings;
  int threads_used;
  std::string machine, model_note;
  const RssResult& rss;
  const Stages& stages;
  const Accuracy& accuracy;
  const Model& model;
};

void stage_table(std::ostringstream& md, const Stages& st) {
  const ScanStages& a = st.scans[0];
  const ScanStages& b = st.scans[1];
  md << "| stage | call | " << a.label << ", ms | " << b.label << ", ms |\n|---|---|---:|---:|\n";
  auto row = [&](const std::string& stage, const std::string& call, Timing ScanStages::*t) {
    md << "| " << stage << " | " << call << " | " << ms_cell(a.*t) << " | " << ms_cell(b.*t) << " |\n";
  };
  row("decode", "`read_volume` (int16 .nii.gz, " + fixed(a.file_mib, 0) + " / " + fixed(b.file_mib, 0) + " MiB)",
      &ScanStages::read);
  row("CT check", "`require_ct`: any voxel below -200 HU (stops at the first)", &ScanStages::ct_check);
  row("canonical view", "`canonical_axis_map`, `SliceMapping`, `CanonicalView` (no copy)", &ScanStages::canonical_view);
  row("body centre", "`body_centre` over all " + std::to_string(a.slices) + " slices", &ScanStages::body_centre);
  row("preprocess", "`preprocess`, every slice, chunks of " + std::to_string(kPrepareChunk), &ScanStages::preprocess);
  row("slice encoder", "`Model::embed`, every slice", &ScanStages::encoder);
  row("slice scores", "`Model::score` on the embeddings", &ScanStages::score);
  row("measured key slices", "`measure_key_slices` (lungs, airway, skull base, femoral heads)", &ScanStages::measure);
  row("**prepare**", "**`prepare_scan`** (all of the above but decode)", &ScanStages::prepare);
  row("locate",
      "`locate`, insertion (found " + std::to_string(a.located_insertion) + " / " +
          std::to_string(b.located_insertion) + ")",
      &ScanStages::locate_insertion);
  row("locate",
      "`locate`, score (found " + std::to_string(a.located_score) + " / " + std::to_string(b.located_score) + ")",
      &ScanStages::locate_score);
  row("coverage",
      std::string("`coverage` \"") + kCoverageRegion + "\", insertion (" + a.coverage_status + " / " +
          b.coverage_status + ")",
      &ScanStages::coverage);
  md << "\n| two scans | call | ms | goal |\n|---|---|---:|---|\n";
  md << "| attention | `insert_scan` A into B (" << st.pair.query_slices << " query slices in " << st.pair.passes
     << " interleaved passes, " << st.pair.target_slots << " target slots) | " << cell(st.pair.insert, 1) << " | |\n";
  const bool met = st.pair.end_to_end.median_ms <= kGoalMs;
  md << "| **insert, end to end without decoding** | `prepare_scan` A and B (no key-slice measurement, as `insert` "
        "does), `insert_scan` | **"
     << cell(st.pair.end_to_end, 1) << "** | <= " << fixed(kGoalMs, 0) << " ms: " << (met ? "met" : "**not met**")
     << " |\n";
}

void rss_table(std::ostringstream& md, const RssResult& r) {
  if (!r.fallback_note.empty()) md << "Memory: " << r.fallback_note << ".\n\n";
  const std::string size =
      std::to_string(r.in_plane) + " x " + std::to_string(r.in_plane) + " x " + std::to_string(r.slices);
  md << "| " << size << " phantom, one child process: after | peak RSS, MiB | minus the voxels ("
     << fixed(r.voxel_mib(), 0) << " MiB), MiB | step, s |\n|---|---:|---:|---:|\n";
  const long voxel_kib = static_cast<long>(r.voxel_mib() * 1024.0);
  const std::map<std::string, std::string> names{{"start", "process start (fork)"},
                                                 {"model", "`Model::load` (bundled model)"},
                                                 {"phantom", "`make_phantom` (float voxels)"},
                                                 {"prepare", "`prepare_scan`"},
                                                 {"locate", "`locate`, insertion"}};
  for (const auto& step : r.steps) {
    const bool has_volume = step.name == "phantom" || step.name == "prepare" || step.name == "locate";
    md << "| " << (names.count(step.name) ? names.at(step.name) : step.name) << " | " << mib(step.kib) << " | "
       << (has_volume ? mib(step.kib - voxel_kib) : "-") << " | "
       << (step.name == "start" ? "-" : fixed(step.seconds, 2)) << " |\n";
  }
  if (!r.failure.empty()) md << "\nThe child did not finish: " << r.failure << ".\n";
}

// One key-slice table (per landmark, both methods) and the line on truths outside the scans.
void key_slice_table(std::ostringstream& md, const std::map<std::string, LandmarkStats> (&stats)[2],
                     const Model& model) {
  // Landmarks superior first (atlas order).
  std::vector<std::pair<double, std::string>> order;
  for (const auto& [name, s] : stats[0]) order.push_back({-model.atlas().position_mm.at(name), name});
  std::sort(order.begin(), order.end());
  md << "| landmark | atlas, mm | truth inside | insertion: n | mean, mm | median, mm | missed | score: n | "
        "mean, mm | median, mm | missed | truth outside | on the right side: insertion | score |\n";
  md << "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  LandmarkStats all[2];
  for (const auto& [neg, name] : order) {
    const LandmarkStats& i = stats[0].at(name);
    const LandmarkStats& s = stats[1].at(name);
    all[0].add(i);
    all[1].add(s);
    md << "| " << name << " | " << fixed(-neg, 0) << " | " << i.inside() << " | " << landmark_cells(i) << " | "
       << landmark_cells(s) << " | " << i.outside << " | " << i.outside_right << " | " << s.outside_right << " |\n";
  }
  md << "| **all** | | " << all[0].inside() << " | " << landmark_cells(all[0]) << " | " << landmark_cells(all[1])
     << " | " << all[0].outside << " | " << all[0].outside_right << " | " << all[1].outside_right << " |\n\n";
  md << "Answers inside the scan given with confidence 0 (a scan `recognise` rejects, or the score method's "
        "fallback line): insertion "
     << all[0].zero_confidence << " of " << all[0].errors_mm.size() << ", score " << all[1].zero_confidence << " of "
     << all[1].errors_mm.size() << "; they are counted above.\n\n";
}

void accuracy_tables(std::ostringstream& md, const Accuracy& acc, const Model& model) {
  if (!acc.ran || acc.cases.empty()) {
    md << "Accuracy: " << (acc.notes.empty() ? "no validation case was found" : acc.notes.front()) << ".\n";
    return;
  }
  md << "Key slices, " << acc.cases.size()
     << " whole scans: absolute error in mm over the landmarks whose true z lies inside the scan (n = answers "
        "inside the scan); *missed* counts truths inside the scan answered above / below / not at all. The "
        "landmark files give no z for a landmark a whole scan cuts off, so no truth lies outside these.\n\n";
  key_slice_table(md, acc.per_landmark, model);
  md << "Key slices in the sub-volumes [N/4, 3N/4) of the same scans (world geometry kept), where some truths lie "
        "above or below: *on the right side* counts truths outside answered above / below correctly.\n\n";
  key_slice_table(md, acc.per_landmark_sub, model);
  if (!acc.not_in_atlas.empty()) {
    md << "Not in the model's atlas, so not counted:";
    for (const auto& [name, n] : acc.not_in_atlas) md << " " << name << " (" << n << ")";
    md << ".\n\n";
  }

  md << "Intra-patient insertion, same cases: *sub into whole* inserts the original slices [N/4, 3N/4) (a "
        "volume of their own, world geometry kept) into the whole scan; *whole into sub* inserts the whole scan "
        "into that sub-volume.\n\n";
  md << "| case | recognised (score slope) | slices | sub-volume slices | sub into whole: inside | mean, mm | "
        "median, mm | missed | whole into sub: inside, mean mm | outside by > 1 step | to the right slot |\n";
  md << "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n";
  IntraRow total;
  for (const auto& r : acc.intra) {
    md << "| " << r.case_id << " | " << (r.recognition.recognised ? "yes" : "**no**") << " ("
       << fixed(r.recognition.score_slope, 2) << ") | " << r.slices << " | " << r.sub_first << "-"
       << r.sub_first + r.sub_count - 1 << " | " << r.errors_mm.size() << " | " << mean_text(r.errors_mm) << " | "
       << median_text(r.errors_mm) << " | " << r.missed << " | " << mean_text(r.back_errors_mm) << " | " << r.outside
       << " | " << percent(r.outside_right, r.outside) << " |\n";
    total.slices += r.slices;
    total.sub_count += r.sub_count;
    total.errors_mm.insert(total.errors_mm.end(), r.errors_mm.begin(), r.errors_mm.end());
    total.back_errors_mm.insert(total.back_errors_mm.end(), r.back_errors_mm.begin(), r.back_errors_mm.end());
    total.missed += r.missed;
    total.outside += r.outside;
    total.outside_right += r.outside_right;
  }
  md << "| **all** | | " << total.slices << " | " << total.sub_count << " | " << total.errors_mm.size() << " | "
     << mean_text(total.errors_mm) << " | " << median_text(total.errors_mm) << " | " << total.missed << " | "
     << mean_text(total.back_errors_mm) << " | " << total.outside << " | "
     << percent(total.outside_right, total.outside) << " |\n";
}

std::string section(const Report& r) {
  const Settings& s = r.settings;
  std::ostringstream md;
  md << kHeading << "\n\n";
  md << "Whole-scan navigation with the bundled model (`prepare_scan`, `insert_scan`, `locate`, `coverage` of "
        "`slicenav/navigation.hpp`): where the time goes on two 512 x 512 x 300 scans, peak memory on a "
     << s.rss_slices
     << "-slice scan, and key-slice and insertion accuracy on real cases the model was not "
        "trained on. Measured on "
     << bench::today_utc() << ".\n\n";
  md << "- Machine: " << r.machine << "; shared with other jobs, run under `nice`.\n";
  md << "- Build: " << SLICENAV_BUILD_TYPE << ", " << bench::compiler() << ", LibTorch " << SLICENAV_TORCH_VERSION
     << " (CPU); " << r.threads_used << " intra-op threads (`slicenav::set_inference_threads(" << s.threads << ")`).\n";
  md << "- Model: " << r.model_note << ".\n";
  md << "- Stages: `slicenav::make_phantom` 512 x 512 x 300, spacing 0.8 x 0.8 x 1.0 mm, LPS, tops at z = "
     << fixed(kTopA, 0) << " and " << fixed(kTopB, 0)
     << " mm (150 slices overlap), written once as int16 .nii.gz and read back (files in the page cache); the "
        "read volumes are the ones prepared. One process; every timed call follows one untimed warm-up call; "
        "wall time is the median of "
     << s.runs
     << " runs (min-max in brackets). The rows above *prepare* are `prepare_scan`'s steps done one by one "
        "through the public API. "
        "`insert_scan` works on prepared embeddings, so it runs only the attention layers. When another job "
        "holds a core, LibTorch's threads wait for it at every operation and a call can take up to 10 times as "
        "long: a max far above its min marks such a run, and the min is the closer estimate of the cost.\n";
  md << "- Memory: a child process forked before LibTorch starts; `getrusage` `ru_maxrss` after each step "
        "(a peak, so it never falls). Phantom spacing "
     << fixed(long_phantom_options(r.rss.in_plane ? r.rss.in_plane : 512, s.rss_slices).spacing[0], 2) << " x "
     << fixed(long_phantom_options(r.rss.in_plane ? r.rss.in_plane : 512, s.rss_slices).spacing[0], 2)
     << " x 0.5 mm, top at z = 80 mm. *Minus the voxels* takes the volume's own float voxels off: what the "
        "process and navigation add.\n";
  md << "- Accuracy: the model's `validation_cases` (metadata section \"training\") that are in set \"ct\" of "
        "`../shared/data/cases.tsv`";
  if (!r.accuracy.cases.empty()) {
    md << " (";
    for (std::size_t i = 0; i < r.accuracy.cases.size(); ++i) md << (i ? ", " : "") << r.accuracy.cases[i];
    md << ")";
  }
  md << "; truth from `read_case_landmarks` (world z); a truth is inside the scan when it lies within half a "
        "slice of the end slices. Each case is prepared once; both methods locate on the same prepared scan. "
        "No accuracy is claimed on phantoms.\n";
  for (const auto& note : r.accuracy.notes) md << "- Accuracy: " << note << "\n";

  md << "\nTo reproduce (from the repository root):\n\n```sh\n"
        "cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLICENAV_BENCHMARKS=ON\n"
        "cmake --build build --target slicenav_navigation_benchmark\n"
        "nice build/bin/slicenav_navigation_benchmark --runs "
     << s.runs;
  if (s.threads != 0) md << " --threads " << s.threads;
  if (!s.model_path.empty()) md << " --model " << s.model_path;
  if (s.rss_slices != 1500) md << " --rss-slices " << s.rss_slices;
  md << " --markdown docs/benchmarks.md\n```\n\n";

  stage_table(md, r.stages);
  md << "\n";
  rss_table(md, r.rss);
  md << "\n";
  accuracy_tables(md, r.accuracy, r.model);
  return md.str();
}

// Removes the temporary directory on every way out.
struct TempDir {
  fs::path path;
  explicit TempDir(fs::path p) : path(std::move(p)) { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

int run(const Settings& s) {
  const std::string machine = bench::machine_description();  // before our own load shows in the load average
  if (!s.data_dir.empty()) setenv("SLICENAV_DATA", s.data_dir.c_str(), 1);
  const std::string model_path = s.model_path.empty() ? slicenav::default_model_path() : s.model_path;

  // First, while this process has started no LibTorch thread: the forked child must not inherit any.
  const RssResult rss = measure_rss(s, model_path);
  if (!rss.failure.empty()) std::cerr << "memory: the child did not finish: " << rss.failure << "\n";

  slicenav::set_inference_threads(s.threads);
  const int threads_used =
      s.threads != 0 ? s.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const Model model = Model::load(model_path);
  const auto& mc = model.config();
  const std::string model_note =
      "`" + (s.model_path.empty() ? std::string("models/default.snm") : s.model_path) + "` (" +
      std::to_string(mc.preprocess.image_size) + " px, d_model " + std::to_string(mc.d_model) + ", max slices " +
      std::to_string(mc.preprocess.max_slices) + ", " + fixed(static_cast<double>(model.parameter_count()) / 1e6, 2) +
      " M parameters, " + std::to_string(model.templates().size()) + " templates, " +
      std::to_string(model.atlas().position_mm.size()) + " atlas landmarks)";

  const fs::path tmp_root = s.tmp_dir.empty() ? fs::temp_directory_path() : fs::path(s.tmp_dir);
  Stages stages;
  {
    const TempDir tmp(tmp_root / ("slicenav_navigation_benchmark_" + std::to_string(getpid())));
    stages = measure_stages(model, s, tmp.path);
  }
  for (const auto& line : stages.log) std::cerr << "stages: " << line << "\n";

  const Accuracy accuracy = measure_accuracy(model);
  for (const auto& line : accuracy.details) std::cerr << "accuracy: " << line << "\n";

  const std::string text = section({s, threads_used, machine, model_note, rss, stages, accuracy, model});
  std::cout << text;
  if (!s.markdown.empty()) {
    bench::replace_markdown_section(s.markdown, kHeading, text);
    std::cerr << "wrote the Navigation section of " << s.markdown << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Whole-scan navigation with the bundled model: stage times, peak memory of a long scan, and "
      "key-slice and insertion accuracy on held-out real cases",
      "slicenav_navigation_benchmark"};
  Settings s;
  bench::add_timing_options(app, s.runs, s.threads);
  bench::add_model_option(app, s.model_path, "the bundled model, slicenav::default_model_path()");
  bench::add_data_option(app, s.data_dir);
  app.add_option("--tmp", s.tmp_dir, "Where the phantom .nii.gz files go for a while (default: the system's)")
      ->type_name("DIR");
  app.add_option("--rss-slices", s.rss_slices,
                 "Slices of the peak-memory phantom (default " + std::to_string(s.rss_slices) + ")")
      ->transform(bench::at_least<std::size_t>(1));
  bench::add_markdown_option(app, s.markdown, kHeading);
  CLI11_PARSE(app, argc, argv);
  try {
    return run(s);
  } catch (const slicenav::Error& e) {
    std::cerr << "slicenav_navigation_benchmark: " << slicenav::status_name(e.status()) << ": " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "slicenav_navigation_benchmark: " << e.what() << "\n";
    return 1;
  }
}

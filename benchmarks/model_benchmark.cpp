// Navigation model cost: size and CPU time of candidate architectures of the insertion network, for
// choosing one, and the end-to-end time from a CT file to an insertion distribution.
//
//   slicenav_model_benchmark [--runs N] [--threads N] [--model FILE] [--data DIR] [--rows A,C,...]
//                            [--markdown docs/benchmarks.md]
//
// Cost table: each candidate ModelConfig gets fresh seeded weights (cost does not depend on the weight
// values) and synthetic slice stacks (uniform random pixels in [-1, 1], world z descending 2.5 mm apart).
// "score" is Model::score on 300 slices, which runs only the slice encoder (plus the linear score head),
// in chunks of max_slices; "insert" is Model::insert with query and target of min(300, max_slices)
// slices each: the encoder on both, then the attention layers.
//
// End-to-end: a query scan inserted into a target scan with --model (else a fresh default-config model):
// read_volume, canonicalize, uniform_slices + preprocess with the model's preprocessing (both scans),
// then Model::insert; once for two real ~130-slice trunk scans and once for two 512 x 512 x 300
// phantoms made in memory (so no read stage; make_phantom is not timed).
//
// Everything runs in this one process on LibTorch's intra-op thread pool (--threads, 0 = hardware
// threads). Every timed call follows one untimed warm-up call (one untimed warm-up pass end-to-end);
// times are wall-clock (steady_clock) medians over --runs calls, with min and max.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"
#include "markdown_section.hpp"
#include "options.hpp"
#include "slicenav/error.hpp"
#include "slicenav/io.hpp"
#include "slicenav/model.hpp"
#include "slicenav/orientation.hpp"
#include "slicenav/phantom.hpp"
#include "slicenav/preprocess.hpp"
#include "test_data.hpp"

namespace {

namespace bench = slicenav::bench;
using bench::cell;
using bench::Clock;
using bench::fixed;
using bench::ms_since;
using bench::summarize;
using bench::Timing;
using bench::trunk_phantom;

const char* const kHeading = "## Navigation model cost";
constexpr std::size_t kScoreSlices = 300;  // a long scan's worth of slices for the encoder-only timing
constexpr std::uint64_t kSeed = 1;

// ---- Cost table ------------------------------------------------------------------------------------

struct Encoder {
  const char* name;
  std::vector<int> widths;
};

const Encoder kNarrow{"narrow", {8, 16, 32, 64, 96}};
const Encoder kSmall{"small", {16, 24, 48, 96, 128}};  // ModelConfig's default
const Encoder kMedium{"medium", {24, 32, 64, 128, 192}};
const Encoder kWide{"wide (resnet-like)", {32, 64, 128, 256, 512}};

struct Candidate {
  std::string id;
  std::size_t image_size;
  const Encoder* encoder;
  int d_model;
  std::size_t max_slices;
  int layers = 2;  // self-attention layers, and as many cross-attention layers
};

// A spread over image size, encoder width, d_model, attention depth and sequence length rather than their full
// product; J, K and L vary one setting of the default (row C) each. The table marks the row that is
// ModelConfig's default. --rows picks some of them, in the order given.
std::vector<Candidate> candidates(const std::vector<std::string>& rows) {
  std::vector<Candidate> all{
      {"A", 64, &kSmall, 64, 128},   {"B", 64, &kSmall, 128, 256},    {"C", 96, &kSmall, 128, 128},
      {"D", 96, &kSmall, 128, 256},  {"E", 96, &kMedium, 128, 256},   {"F", 96, &kSmall, 256, 256},
      {"G", 128, &kSmall, 128, 256}, {"H", 128, &kMedium, 256, 256},  {"I", 128, &kWide, 256, 256},
      {"J", 96, &kSmall, 64, 128},   {"K", 96, &kSmall, 128, 128, 1}, {"L", 96, &kNarrow, 128, 128},
  };
  if (rows.empty()) return all;
  std::vector<Candidate> picked;
  for (const auto& id : rows) {
    const auto it = std::find_if(all.begin(), all.end(), [&](const Candidate& c) { return c.id == id; });
    if (it == all.end()) throw std::invalid_argument("--rows: no candidate config " + id);
    picked.push_back(*it);
  }
  return picked;
}

slicenav::ModelConfig config_for(const Candidate& c) {
  slicenav::ModelConfig config;
  config.preprocess.image_size = c.image_size;
  config.preprocess.max_slices = c.max_slices;
  config.encoder_widths = c.encoder->widths;
  config.d_model = c.d_model;
  config.ffn = 2 * c.d_model;
  config.heads = 4;
  config.self_layers = c.layers;
  config.cross_layers = c.layers;
  return config;
}

bool is_default(const slicenav::ModelConfig& c) {
  const slicenav::ModelConfig d;
  return c.preprocess.image_size == d.preprocess.image_size && c.preprocess.max_slices == d.preprocess.max_slices &&
         c.encoder_widths == d.encoder_widths && c.d_model == d.d_model && c.ffn == d.ffn && c.heads == d.heads &&
         c.self_layers == d.self_layers && c.cross_layers == d.cross_layers;
}

slicenav::SliceStack random_stack(std::size_t slices, std::size_t image_size, std::mt19937& rng) {
  slicenav::SliceStack stack;
  stack.image_size = image_size;
  std::uniform_real_distribution<float> pixel(-1.0f, 1.0f);
  stack.pixels.resize(slices * image_size * image_size);
  for (float& p : stack.pixels) p = pixel(rng);
  for (std::size_t s = 0; s < slices; ++s) {
    stack.canonical_slice.push_back(s);
    stack.world_z_mm.push_back(-2.5 * static_cast<double>(s));
  }
  return stack;
}

struct CostRow {
  Candidate candidate;
  bool is_default = false;
  std::size_t parameters = 0;
  std::size_t insert_slices = 0;
  Timing score, insert;
};

// Times every candidate in rounds (each one score and one insert call per round, after one untimed warm-up
// call each), so that a drift of the shared machine's speed over the minutes of the run affects all rows alike.
std::vector<CostRow> measure_costs(const std::vector<Candidate>& candidates, int runs) {
  struct Subject {
    slicenav::Model model;
    slicenav::SliceStack long_stack, query, target;
  };
  std::vector<std::unique_ptr<Subject>> subjects;
  std::vector<CostRow> rows;
  std::size_t sink = 0;  // results are used, so no call can be dropped
  const auto score = [&](const Subject& x) { sink += x.model.score(x.long_stack).size(); };
  const auto insert = [&](const Subject& x) { sink += x.model.insert(x.query, x.target).probabilities.size(); };
  for (const Candidate& candidate : candidates) {
    std::cerr << "cost: config " << candidate.id << "...\n";
    const slicenav::ModelConfig config = config_for(candidate);
    std::mt19937 rng(static_cast<std::mt19937::result_type>(kSeed));
    const std::size_t insert_slices = std::min(kScoreSlices, candidate.max_slices);
    auto long_stack = random_stack(kScoreSlices, candidate.image_size, rng);
    auto query = random_stack(insert_slices, candidate.image_size, rng);
    auto target = random_stack(insert_slices, candidate.image_size, rng);
    subjects.push_back(std::make_unique<Subject>(
        Subject{slicenav::Model(config, kSeed), std::move(long_stack), std::move(query), std::move(target)}));
    rows.push_back({candidate, is_default(config), subjects.back()->model.parameter_count(), insert_slices, {}, {}});
    score(*subjects.back());
    insert(*subjects.back());
  }
  std::vector<std::vector<double>> score_ms(subjects.size()), insert_ms(subjects.size());
  for (int r = 0; r < runs; ++r) {
    for (std::size_t i = 0; i < subjects.size(); ++i) {
      auto start = Clock::now();
      score(*subjects[i]);
      score_ms[i].push_back(ms_since(start));
      start = Clock::now();
      insert(*subjects[i]);
      insert_ms[i].push_back(ms_since(start));
    }
  }
  if (sink == 0) throw std::runtime_error("the model returned nothing");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows[i].score = summarize(score_ms[i]);
    rows[i].insert = summarize(insert_ms[i]);
  }
  return rows;
}

// ---- End to end ------------------------------------------------------------------------------------

struct StageTimes {  // ms, query and target summed
  double read = 0, canonicalize = 0, preprocess = 0, insert = 0;
  double total_excluding_read() const { return canonicalize + preprocess + insert; }
};

struct EndToEndRow {
  std::string input;
  std::string slices;  // "read -> inserted" for query and target
  bool has_read = true;
  Timing read, canonicalize, preprocess, insert, total;
};

// Canonicalizes and preprocesses one volume as the model wants it, adding the stage times to `t`;
// `slices_read` gets the volume's slice count.
slicenav::SliceStack model_input(const slicenav::Volume& volume, const slicenav::PreprocessOptions& options,
                                 StageTimes& t, std::size_t& slices_read) {
  auto start = Clock::now();
  const slicenav::CanonicalVolume canonical = slicenav::canonicalize(volume);
  t.canonicalize += ms_since(start);
  start = Clock::now();
  slices_read = canonical.mapping.slice_count();
  const auto chosen = slicenav::uniform_slices(slices_read, options.max_slices);
  slicenav::SliceStack stack = slicenav::preprocess(canonical, chosen, options);
  t.preprocess += ms_since(start);
  return stack;
}

// `source(i, t)` returns volume i (0 = query, 1 = target), adding its read time to t; the reference
// stays valid until the next call.
template <typename Source>
EndToEndRow end_to_end(const std::string& input, bool has_read, const slicenav::Model& model, int runs,
                       Source&& source) {
  const slicenav::PreprocessOptions& options = model.config().preprocess;
  std::vector<StageTimes> samples;
  std::size_t read_count[2] = {0, 0}, inserted[2] = {0, 0};
  for (int run = 0; run <= runs; ++run) {  // run 0 is the warm-up
    std::cerr << "  " << (run == 0 ? "warm-up" : "run " + std::to_string(run) + "/" + std::to_string(runs)) << "\n";
    StageTimes t;
    slicenav::SliceStack stacks[2];
    for (int i = 0; i < 2; ++i) {
      stacks[i] = model_input(source(i, t), options, t, read_count[i]);
      inserted[i] = stacks[i].slice_count();
    }
    const auto start = Clock::now();
    const auto distribution = model.insert(stacks[0], stacks[1]);
    t.insert = ms_since(start);
    if (distribution.query_slices != inserted[0]) throw std::runtime_error("insert returned the wrong row count");
    if (run > 0) samples.push_back(t);
  }
  auto stage = [&](double StageTimes::*field) {
    std::vector<double> ms;
    for (const auto& t : samples) ms.push_back(t.*field);
    return summarize(ms);
  };
  EndToEndRow row;
  row.input = input;
  row.slices = std::to_string(read_count[0]) + " -> " + std::to_string(inserted[0]) + " into " +
               std::to_string(read_count[1]) + " -> " + std::to_string(inserted[1]);
  row.has_read = has_read;
  row.read = stage(&StageTimes::read);
  row.canonicalize = stage(&StageTimes::canonicalize);
  row.preprocess = stage(&StageTimes::preprocess);
  row.insert = stage(&StageTimes::insert);
  std::vector<double> totals;
  for (const auto& t : samples) totals.push_back(t.total_excluding_read());
  row.total = summarize(totals);
  return row;
}

// ---- Report ----------------------------------------------------------------------------------------

std::string widths_text(const std::vector<int>& widths) {
  std::string text;
  for (int w : widths) text += (text.empty() ? "" : "-") + std::to_string(w);
  return text;
}

std::string with_thousands(std::size_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

struct Settings {
  int runs = 5;
  int threads = 0;
  std::vector<std::string> rows;
  std::string model_path, data_dir, markdown;
};

std::string section(const Settings& s, int threads_used, const std::string& machine, const std::string& model_note,
                    const std::vector<CostRow>& costs, const std::vector<EndToEndRow>& e2e,
                    const std::vector<std::string>& notes) {
  std::ostringstream md;
  md << kHeading << "\n\n";
  md << "Size and CPU time of the insertion network (`slicenav::Model`) for candidate architectures, and the time "
        "from a CT file to an insertion distribution. Measured on "
     << bench::today_utc() << ".\n\n";
  md << "- Machine: " << machine << "; shared with other jobs, run under `nice`.\n";
  md << "- Build: " << SLICENAV_BUILD_TYPE << ", " << bench::compiler() << ", LibTorch " << SLICENAV_TORCH_VERSION
     << " (CPU); " << threads_used << " intra-op threads (`slicenav::set_inference_threads(" << s.threads << ")`).\n";
  md << "- Method: one process; every timed call follows one untimed warm-up call (end to end: one untimed "
        "warm-up pass); wall time is the median of "
     << s.runs
     << " runs (min-max in brackets). The cost table is timed in rounds, every config once per round, so "
        "that a drift of the machine's speed during the run (this is a shared virtual machine) affects all rows "
        "alike.\n";
  md << "- Cost table: fresh seeded weights (`slicenav::Model(config, " << kSeed
     << ")`; the cost does not depend on the weight values), random pixels in [-1, 1], slices 2.5 mm apart. Every "
        "candidate has 4 heads, ffn = 2 x d_model, as many self- as cross-attention layers (2 + 2 unless the table "
        "says otherwise). *score* is `Model::score` "
        "on "
     << kScoreSlices
     << " slices, which runs only the slice encoder (and the linear score head), in chunks of max slices. "
        "*insert* is `Model::insert` with query and target of min("
     << kScoreSlices
     << ", max slices) slices each: the encoder on both, then the attention layers. Weights are 4 bytes per "
        "parameter (float32); 1 MB = 10^6 bytes. The row marked (default) is `ModelConfig{}`.\n";
  md << "- End to end: " << model_note
     << "; query inserted into target. *read* is `read_volume`; *canonicalize* is `canonicalize`; *preprocess* is "
        "`uniform_slices` + `preprocess` with the model's preprocessing; each is summed over query and target. "
        "*insert* is `Model::insert` (decoding not included). The total leaves out read.\n";
  for (const auto& note : notes) md << "- " << note << "\n";

  md << "\nTo reproduce (from the repository root):\n\n```sh\n"
        "cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DSLICENAV_BENCHMARKS=ON\n"
        "cmake --build build --target slicenav_model_benchmark\n"
        "nice build/bin/slicenav_model_benchmark --runs "
     << s.runs;
  if (s.threads != 0) md << " --threads " << s.threads;
  if (!s.model_path.empty()) md << " --model " << s.model_path;
  if (!s.rows.empty()) {
    md << " --rows";
    for (std::size_t i = 0; i < s.rows.size(); ++i) md << (i ? "," : " ") << s.rows[i];
  }
  md << " --markdown docs/benchmarks.md\n```\n\n";

  md << "| config | image, px | encoder widths | d_model | attention layers | max slices | parameters | weights, MB | "
        "score "
     << kScoreSlices << " slices, ms | insert, slices | insert, ms |\n";
  md << "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& r : costs) {
    const Candidate& c = r.candidate;
    md << "| " << c.id << (r.is_default ? " (default)" : "") << " | " << c.image_size << " | " << c.encoder->name << " "
       << widths_text(c.encoder->widths) << " | " << c.d_model << " | " << c.layers << " + " << c.layers << " | "
       << c.max_slices << " | " << with_thousands(r.parameters) << " | "
       << fixed(4.0 * static_cast<double>(r.parameters) / 1e6, 2) << " | " << cell(r.score) << " | " << r.insert_slices
       << " into " << r.insert_slices << " | " << cell(r.insert) << " |\n";
  }

  if (!e2e.empty()) {
    md << "\n| query into target | slices (read -> inserted) | read, ms | canonicalize, ms | preprocess, ms | "
          "insert, ms | total without read, ms |\n";
    md << "|---|---|---:|---:|---:|---:|---:|\n";
    for (const auto& r : e2e) {
      md << "| " << r.input << " | " << r.slices << " | " << (r.has_read ? fixed(r.read.median_ms, 1) : "-") << " | "
         << fixed(r.canonicalize.median_ms, 1) << " | " << fixed(r.preprocess.median_ms, 1) << " | "
         << fixed(r.insert.median_ms, 1) << " | " << cell(r.total) << " |\n";
    }
  }
  return md.str();
}

int run(const Settings& s) {
  const std::string machine = bench::machine_description();  // before our own load shows in the load average
  slicenav::set_inference_threads(s.threads);
  const int threads_used =
      s.threads != 0 ? s.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (!s.data_dir.empty()) setenv("SLICENAV_DATA", s.data_dir.c_str(), 1);

  // Loaded first, so that a bad --model fails before the long part.
  std::string model_note;
  const slicenav::Model model =
      s.model_path.empty() ? slicenav::Model(slicenav::ModelConfig{}, kSeed) : slicenav::Model::load(s.model_path);
  const auto& mc = model.config();
  const std::string architecture = std::to_string(mc.preprocess.image_size) + " px, encoder " +
                                   widths_text(mc.encoder_widths) + ", d_model " + std::to_string(mc.d_model) +
                                   ", max slices " + std::to_string(mc.preprocess.max_slices) + ", " +
                                   with_thousands(model.parameter_count()) + " parameters";
  if (s.model_path.empty()) {
    model_note = "no --model given, so a fresh default-config model (random weights; " + architecture + ")";
    std::cerr << "end to end: no --model given; using a fresh default-config model (random weights)\n";
  } else {
    model_note = "model file `" + s.model_path + "` (" + architecture + ")";
  }

  const std::vector<CostRow> costs = measure_costs(candidates(s.rows), s.runs);

  std::vector<EndToEndRow> e2e;
  std::vector<std::string> notes;
  const std::string query_path = slicenav::test::data_path("ct/lidc_0001/ct.nii.gz");
  const std::string target_path = slicenav::test::data_path("ct/lung1_001/ct.nii.gz");
  if (query_path.empty() || target_path.empty()) {
    std::cerr << "end to end: ct/lidc_0001 or ct/lung1_001 not found (set SLICENAV_DATA or --data); skipped\n";
    notes.push_back(
        "Real scans: skipped, `ct/lidc_0001/ct.nii.gz` or `ct/lung1_001/ct.nii.gz` was not found in "
        "the data directory.");
  } else {
    std::cerr << "end to end: lidc_0001 into lung1_001\n";
    const std::string paths[2] = {query_path, target_path};
    slicenav::Volume current;
    e2e.push_back(end_to_end("lidc_0001 into lung1_001 (.nii.gz, int16)", true, model, s.runs,
                             [&](int i, StageTimes& t) -> const slicenav::Volume& {
                               current = slicenav::Volume();  // free the previous one before reading
                               const auto start = Clock::now();
                               current = slicenav::read_volume(paths[i]);
                               t.read += ms_since(start);
                               return current;
                             }));
    notes.push_back(
        "Real scans: `ct/lidc_0001` (FFS, 2.5 mm slices) into `ct/lung1_001` (HFS, 3 mm slices) of "
        "`../shared/data`, files in the page cache. Both are stored in-plane downsampled (about 2 mm "
        "pixels, at most 256 x 256), so their read and canonicalize cost less than a 512 x 512 scan's.");
  }

  std::cerr << "end to end: two phantoms 512x512x300 (made in memory)...\n";
  const slicenav::Phantom phantoms[2] = {trunk_phantom(40.0, 1), trunk_phantom(-60.0, 2)};
  e2e.push_back(end_to_end("phantom into phantom, 512x512x300 each (in memory)", false, model, s.runs,
                           [&](int i, StageTimes&) -> const slicenav::Volume& { return phantoms[i].volume; }));
  notes.push_back(
      "Phantoms: `slicenav::make_phantom` 512 x 512 x 300, spacing 0.8 x 0.8 x 1.0 mm, LPS (as in "
      "Volume I/O), the target's top 100 mm below the query's; made once in memory (not timed), so there "
      "is no read stage.");

  const std::string text = section(s, threads_used, machine, model_note, costs, e2e, notes);
  std::cout << text;
  if (!s.markdown.empty()) {
    bench::replace_markdown_section(s.markdown, kHeading, text);
    std::cerr << "wrote the Navigation model cost section of " << s.markdown << "\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "Navigation model cost: size and CPU time of candidate insertion-network configs, and the time from "
      "a CT file to an insertion distribution",
      "slicenav_model_benchmark"};
  Settings s;
  bench::add_timing_options(app, s.runs, s.threads);
  bench::add_model_option(app, s.model_path, "a fresh default-config model; only the end-to-end rows use it");
  bench::add_data_option(app, s.data_dir);
  app.add_option("--rows", s.rows, "Time only these candidate configs, in this order (e.g. J,C; default: all)")
      ->delimiter(',');
  bench::add_markdown_option(app, s.markdown, kHeading);
  CLI11_PARSE(app, argc, argv);
  try {
    return run(s);
  } catch (const slicenav::Error& e) {
    std::cerr << "slicenav_model_benchmark: " << slicenav::status_name(e.status()) << ": " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "slicenav_model_benchmark: " << e.what() << "\n";
    return 1;
  }
}

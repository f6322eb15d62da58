// The navigation commands: insert, score, locate, coverage. Each loads the model once (the bundled one
// unless --model), reads its image(s), and writes JSON (stdout or -o); all four also run over many images
// with --batch (see batch.hpp), writing <out dir>/<case>.json (and <qc dir>/<case>.png). insert --batch
// inserts every batch image into one TARGET, read and prepared once (slicenav_scan).
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "batch.hpp"
#include "cli_common.hpp"
#include "slicenav.h"

namespace slicenav::cli {
namespace {

using nlohmann::json;
using InsertionPtr = std::unique_ptr<slicenav_insertion, decltype(&slicenav_insertion_free)>;
using LandmarksPtr = std::unique_ptr<slicenav_landmarks, decltype(&slicenav_landmarks_free)>;
using ScanPtr = std::unique_ptr<slicenav_scan, decltype(&slicenav_scan_free)>;

ModelPtr load_model(const ModelOptions& options) {
  ModelPtr model(nullptr, &slicenav_model_free);
  check(cli::load_model(options, model));
  return model;
}

VolumePtr read_volume(const std::string& path) {
  VolumePtr volume(nullptr, &slicenav_volume_free);
  check(cli::read_volume(path, volume));
  return volume;
}

ScanPtr prepare_scan(const slicenav_model* model, const slicenav_volume* volume) {
  slicenav_scan* raw = nullptr;
  const slicenav_status status = slicenav_scan_prepare(&raw, model, volume, nullptr);
  ScanPtr scan(raw, &slicenav_scan_free);
  check(status);
  return scan;
}

double canonical_to(const slicenav_volume* volume, double canonical,
                    slicenav_status (*convert)(double*, const slicenav_volume*, double)) {
  double out = 0;
  check(convert(&out, volume, canonical));
  return out;
}

const char* where_text(slicenav_where where) {
  switch (where) {
    case SLICENAV_ABOVE: return "above";
    case SLICENAV_BELOW: return "below";
    default: return "inside";
  }
}

// A located landmark: position fields are null unless it lies inside the scan. `measured`: the position is
// the key slice measured in the image (slicenav_landmarks_measured; region ends never are).
json landmark_json(const slicenav_landmark& l, bool measured = false) {
  const bool inside = l.where == SLICENAV_INSIDE;
  return {{"name", l.name},
          {"where", where_text(l.where)},
          {"world_z_mm", inside ? json(l.world_z_mm) : json(nullptr)},
          {"original_slice", inside ? json(l.original_slice) : json(nullptr)},
          {"canonical_slice", inside ? json(l.canonical_slice) : json(nullptr)},
          {"confidence", l.confidence},
          {"spread_mm", l.spread_mm},
          {"votes", l.votes},
          {"measured", measured}};
}

json position_json(const slicenav_position& p) {
  const bool inside = p.where == SLICENAV_INSIDE;
  return {{"where", where_text(p.where)},
          {"world_z_mm", inside ? json(p.world_z_mm) : json(nullptr)},
          {"original_slice", inside ? json(p.original_slice) : json(nullptr)},
          {"canonical_slice", inside ? json(p.canonical_slice) : json(nullptr)},
          {"confidence", p.confidence}};
}

slicenav_locate_method method_value(const std::string& method) {
  return method == "score" ? SLICENAV_LOCATE_SCORE : SLICENAV_LOCATE_INSERTION;
}

// Runs `body`, turning a Failure into its exit code and message; writes `out` (JSON) when body succeeds.
int run_one(const std::function<json()>& body, const std::string& output, std::string* error) {
  try {
    const json out = body();
    const slicenav_status status = write_json(out, output, error);
    if (status != SLICENAV_OK) {
      *error = std::string(slicenav_status_name(status)) + ": " + *error;
      return exit_code(status);
    }
    return 0;
  } catch (const Failure& f) {
    *error = std::string(slicenav_status_name(f.status)) + ": " + f.message;
    return exit_code(f.status);
  }
}

// One image of a command: its path (as given) and its volume.
struct Image {
  const std::string& path;
  const slicenav_volume* volume;
};
using PerImage = std::function<json(const slicenav_model*, const Image&, const std::string& qc_path)>;

// Single image or --batch: `per_image(model, image, qc_path)` builds the JSON for one image. `before`, when
// set, runs once with the loaded model before any image; a Failure there ends the command like a model that
// cannot be loaded. In a batch the next image is read while the current one is worked on (VolumePrefetcher).
struct ImageCommand {
  std::string input;
  std::string output;
  std::string qc;
  BatchOptions batch;
  ModelOptions model;
};

int run_image_command(const ImageCommand& options, const PerImage& per_image,
                      const std::function<void(const slicenav_model*)>& before = {}) {
  std::string error;
  ModelPtr model(nullptr, &slicenav_model_free);
  if (!options.batch.enabled()) {
    if (check_output_path(options.output, &error) != SLICENAV_OK) return report(SLICENAV_ERR_IO, error);
    if (check_output_path(options.qc, &error) != SLICENAV_OK) return report(SLICENAV_ERR_IO, error);
    try {
      model = load_model(options.model);
      if (before) before(model.get());
    } catch (const Failure& f) {
      return report(f.status, f.message);
    }
    const int code = run_one(
        [&] {
          const VolumePtr volume = read_volume(options.input);
          return per_image(model.get(), Image{options.input, volume.get()}, options.qc);
        },
        options.output, &error);
    if (code != 0) std::cerr << "slicenav: " << error << "\n";
    return code;
  }

  namespace fs = std::filesystem;
  for (const auto& [dir, flag] : {std::pair{options.output, "-o"}, std::pair{options.qc, "--qc"}}) {
    if (flag == std::string("-o") && dir.empty()) return report(SLICENAV_ERR_INVALID_ARGUMENT, "--batch needs -o DIR");
    if (!dir.empty() && !fs::is_directory(dir)) {
      return report(SLICENAV_ERR_NOT_FOUND,
                    std::string("with --batch, ") + flag + " names an existing directory; '" + dir + "' is not one");
    }
  }
  std::vector<BatchCase> cases;
  try {
    cases = select_shard(list_batch_cases(options.batch.list_or_dir), options.batch.shard);
  } catch (const BatchNotFoundError& e) {
    return report(SLICENAV_ERR_NOT_FOUND, e.what());
  } catch (const std::runtime_error& e) {
    return report(SLICENAV_ERR_INVALID_ARGUMENT, e.what());
  }
  try {
    model = load_model(options.model);
    if (before) before(model.get());
  } catch (const Failure& f) {
    return report(f.status, f.message);
  }
  const auto output_for = [&](const BatchCase& c) { return (fs::path(options.output) / (c.name + ".json")).string(); };
  std::vector<std::string> to_run;  // the cases run_batch will not skip, when reading ahead
  for (const BatchCase& c : cases) {
    std::error_code ec;
    if (options.batch.read_ahead && !fs::exists(output_for(c), ec)) to_run.push_back(c.input);
  }
  VolumePrefetcher volumes(std::move(to_run));
  const auto process = [&](const BatchCase& c, std::string* message) {
    const std::string qc = options.qc.empty() ? "" : (fs::path(options.qc) / (c.name + ".png")).string();
    return run_one(
        [&] {
          const VolumePtr volume = volumes.take(c.input);
          return per_image(model.get(), Image{c.input, volume.get()}, qc);
        },
        output_for(c), message);
  };
  return batch_exit_code(run_batch(cases, output_for, process, std::cerr));
}

// Adds the image positional, -o, --qc (when qc_help is given), --batch/--shard and the model options.
void add_image_options(CLI::App* cmd, ImageCommand& options, const char* qc_help) {
  CLI::Option* input = cmd->add_option("image", options.input,
                                       "Image file (.nii, .nii.gz, .mha, .mhd, .nrrd, .nhdr) or DICOM directory");
  cmd->add_option("-o,--output", options.output,
                  "Write the JSON here (atomically) instead of stdout; with --batch, an existing directory");
  if (qc_help != nullptr) cmd->add_option("--qc", options.qc, qc_help);
  add_batch_options(*cmd, input, options.batch);
  add_model_options(cmd, options.model);
}

// ---- insert ---------------------------------------------------------------------------------------

struct InsertOptions {
  std::vector<std::string> images;  // QUERY TARGET, or TARGET alone with --batch
  std::string output, qc;
  bool distribution = false;
  BatchOptions batch;
  ModelOptions model;
};

json insert_json(const slicenav_model* model, const Image& query_image, const std::string& target_path,
                 const slicenav_scan* target, const InsertOptions& o, const std::string& qc) {
  const std::string& query_path = query_image.path;
  const ScanPtr query = prepare_scan(model, query_image.volume);
  slicenav_insert_params params = slicenav_insert_default_params();
  params.keep_distribution = o.distribution || !qc.empty();
  slicenav_insertion* raw = nullptr;
  const slicenav_status status = slicenav_scan_insert(&raw, model, query.get(), target, &params);
  InsertionPtr insertion(raw, &slicenav_insertion_free);
  check(status);

  const std::size_t n = slicenav_insertion_count(insertion.get());
  // Rows in the query file's slice order (original index ascending), whatever its orientation.
  std::vector<std::pair<double, std::size_t>> order;
  std::vector<slicenav_inserted_slice> slices(n, slicenav_inserted_slice_init());
  for (std::size_t k = 0; k < n; ++k) {
    check(slicenav_insertion_get(&slices[k], insertion.get(), k));
    order.emplace_back(slices[k].query_original_slice, k);
  }
  std::sort(order.begin(), order.end());
  json rows = json::array();
  for (const auto& [original, k] : order) {
    const auto& s = slices[k];
    const bool inside = s.where == SLICENAV_INSIDE;
    rows.push_back({{"query_slice", static_cast<long>(std::lround(original))},
                    {"query_world_z_mm", s.query_world_z_mm},
                    {"where", where_text(s.where)},
                    {"target_slice", inside ? json(s.target_original_slice) : json(nullptr)},
                    {"target_canonical_slice", inside ? json(s.target_canonical_slice) : json(nullptr)},
                    {"target_world_z_mm", inside ? json(s.target_world_z_mm) : json(nullptr)},
                    {"peak", s.peak},
                    {"entropy", s.entropy}});
  }
  json out = {{"query", query_path}, {"target", target_path}, {"slices", std::move(rows)}};
  if (o.distribution) {
    std::size_t slots = 0, values = 0;
    check(slicenav_insertion_slots(nullptr, 0, &slots, insertion.get()));
    std::vector<std::size_t> canonical(slots);
    check(slicenav_insertion_slots(canonical.data(), canonical.size(), &slots, insertion.get()));
    check(slicenav_insertion_distribution(nullptr, 0, &values, insertion.get()));
    std::vector<float> p(values);
    check(slicenav_insertion_distribution(p.data(), p.size(), &values, insertion.get()));
    json d = json::array();
    for (std::size_t k = 0; k < n; ++k) {
      d.push_back(std::vector<float>(p.begin() + static_cast<std::ptrdiff_t>(k * (slots + 2)),
                                     p.begin() + static_cast<std::ptrdiff_t>((k + 1) * (slots + 2))));
    }
    out["distribution"] = {{"slots", "above, then the target canonical slices listed, then below"},
                           {"target_canonical_slices", canonical},
                           {"rows_in_query_canonical_order", std::move(d)}};
  }
  if (!qc.empty()) check(slicenav_insertion_write_png(qc.c_str(), insertion.get()));
  return out;
}

// ---- score, locate, coverage ----------------------------------------------------------------------

// An unrecognised scan still gets its JSON (with "recognised": false); stderr says so too, so that a pipeline's log
// shows it.
void warn_unless_recognised(bool recognised, const std::string& path) {
  if (recognised) return;
  std::cerr
      << "slicenav: warning: '" << path
      << "': the model does not recognise this scan as body CT (\"recognised\": false); its answers are not reliable\n";
}

json score_json(const slicenav_model* model, const Image& image) {
  const slicenav_volume* volume = image.volume;
  std::size_t n = 0;
  check(slicenav_volume_scores(nullptr, 0, &n, model, volume, nullptr));
  std::vector<double> scores(n);
  check(slicenav_volume_scores(scores.data(), scores.size(), &n, model, volume, nullptr));
  std::vector<std::pair<double, std::size_t>> order;
  for (std::size_t k = 0; k < n; ++k) {
    order.emplace_back(canonical_to(volume, static_cast<double>(k), slicenav_volume_canonical_to_original), k);
  }
  std::sort(order.begin(), order.end());
  json rows = json::array();
  for (const auto& [original, k] : order) {
    rows.push_back({{"slice", static_cast<long>(std::lround(original))},
                    {"world_z_mm", canonical_to(volume, static_cast<double>(k), slicenav_volume_canonical_to_world_z)},
                    {"score", scores[k]}});
  }
  return {{"image", image.path}, {"unit", "atlas mm (superior positive, lung apex = 0)"}, {"slices", std::move(rows)}};
}

json locate_json(const slicenav_model* model, const Image& image, const std::string& qc, const std::string& method) {
  const std::string& path = image.path;
  slicenav_locate_params params = slicenav_locate_default_params();
  params.method = method_value(method);
  slicenav_landmarks* raw = nullptr;
  const slicenav_status status = slicenav_volume_locate(&raw, model, image.volume, &params);
  LandmarksPtr landmarks(raw, &slicenav_landmarks_free);
  check(status);
  json list = json::array();
  for (std::size_t i = 0; i < slicenav_landmarks_count(landmarks.get()); ++i) {
    slicenav_landmark l = slicenav_landmark_init();
    check(slicenav_landmarks_get(&l, landmarks.get(), i));
    list.push_back(landmark_json(l, slicenav_landmarks_measured(landmarks.get(), i) != 0));
  }
  if (!qc.empty()) check(slicenav_landmarks_write_png(qc.c_str(), landmarks.get(), image.volume));
  warn_unless_recognised(slicenav_landmarks_recognised(landmarks.get()) != 0, path);
  return {{"image", path},
          {"method", method},
          {"recognised", slicenav_landmarks_recognised(landmarks.get()) != 0},
          {"score_slope", slicenav_landmarks_score_slope(landmarks.get())},
          {"landmarks", std::move(list)}};
}

json coverage_json(const slicenav_model* model, const Image& image, const std::string& region,
                   const std::string& method) {
  const std::string& path = image.path;
  slicenav_locate_params params = slicenav_locate_default_params();
  params.method = method_value(method);
  slicenav_coverage c = slicenav_coverage_init();
  check(slicenav_volume_coverage(&c, model, image.volume, region.c_str(), &params));
  const char* status = c.status == SLICENAV_COVERAGE_FULL      ? "full"
                       : c.status == SLICENAV_COVERAGE_PARTIAL ? "partial"
                                                               : "none";
  warn_unless_recognised(c.recognised != 0, path);
  return {{"image", path},
          {"region", region},
          {"method", method},
          {"coverage", status},
          {"recognised", c.recognised != 0},
          {"superior_end", position_json(c.superior)},
          {"inferior_end", position_json(c.inferior)}};
}

const std::vector<std::string> kMethods{"insertion", "score"};

}  // namespace

void add_navigation_commands(CLI::App& app, Action& action) {
  {
    auto o = std::make_shared<InsertOptions>();
    CLI::App* cmd = app.add_subcommand("insert", "Where every slice of QUERY belongs in TARGET, as JSON");
    cmd->add_option("images", o->images,
                    "QUERY TARGET (images or DICOM directories); with --batch, TARGET alone: every batch image "
                    "is a query inserted into it")
        ->required()
        ->expected(1, 2);
    cmd->add_option("-o,--output", o->output,
                    "Write the JSON here (atomically) instead of stdout; with --batch, an existing directory");
    cmd->add_option("--qc", o->qc,
                    "Write the insertion heat map (query slice x target position) as PNG; with --batch, an existing "
                    "directory");
    cmd->add_flag("--distribution", o->distribution, "Include every slice's whole distribution in the JSON");
    add_batch_list_option(*cmd, o->batch);
    add_model_options(cmd, o->model);
    cmd->callback([o, &action] {
      const std::size_t wanted = o->batch.enabled() ? 1 : 2;
      if (o->images.size() != wanted) {
        throw CLI::ValidationError("images", o->batch.enabled() ? "with --batch, give the TARGET alone"
                                                                : "give QUERY and TARGET (or --batch LIST|DIR TARGET)");
      }
      action = [o] {
        // The target is read and prepared once, before any query.
        const std::string target_path = o->images.back();
        ScanPtr target(nullptr, &slicenav_scan_free);
        const ImageCommand command{o->batch.enabled() ? "" : o->images.front(), o->output, o->qc, o->batch, o->model};
        return run_image_command(
            command,
            [&](const slicenav_model* m, const Image& query, const std::string& qc) {
              return insert_json(m, query, target_path, target.get(), *o, qc);
            },
            [&](const slicenav_model* m) { target = prepare_scan(m, read_volume(target_path).get()); });
      };
    });
  }
  {
    auto o = std::make_shared<ImageCommand>();
    CLI::App* cmd = app.add_subcommand("score", "Body-part score of every slice (atlas mm), as JSON");
    add_image_options(cmd, *o, nullptr);
    cmd->callback([o, &action] {
      action = [o] {
        return run_image_command(
            *o, [](const slicenav_model* m, const Image& image, const std::string&) { return score_json(m, image); });
      };
    });
  }
  {
    auto o = std::make_shared<ImageCommand>();
    auto method = std::make_shared<std::string>("insertion");
    CLI::App* cmd =
        app.add_subcommand("locate", "Key slices (lung_apex, carina, liver_dome, ...) of an image, as JSON");
    add_image_options(cmd, *o, "Write coronal and sagittal views with the key slices drawn as PNG");
    cmd->add_option("--method", *method, "insertion (templates, default) or score (slice-score line)")
        ->check(CLI::IsMember(kMethods));
    cmd->callback([o, method, &action] {
      action = [o, method] {
        return run_image_command(*o, [method](const slicenav_model* m, const Image& image, const std::string& qc) {
          return locate_json(m, image, qc, *method);
        });
      };
    });
  }
  {
    auto o = std::make_shared<ImageCommand>();
    auto region = std::make_shared<std::string>();
    auto method = std::make_shared<std::string>("insertion");
    CLI::App* cmd = app.add_subcommand("coverage", "Whether an image covers a region fully, partially or not at all");
    add_image_options(cmd, *o, nullptr);
    cmd->add_option("--region", *region, "lungs, heart, liver, kidneys, abdomen, pelvis, head-neck")->required();
    cmd->add_option("--method", *method, "insertion (default) or score")->check(CLI::IsMember(kMethods));
    cmd->callback([o, region, method, &action] {
      action = [o, region, method] {
        return run_image_command(*o, [region, method](const slicenav_model* m, const Image& image, const std::string&) {
          return coverage_json(m, image, *region, *method);
        });
      };
    });
  }
}

}  // namespace slicenav::cli

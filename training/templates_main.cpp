// slicenav-templates: bundles labelled template scans into a model file for locating key slices.
//
//   slicenav-templates --model models/default.snm --data ../shared/data --out models/default.snm
//
// Templates come only from the model's own training cases (metadata training.training_cases), so the
// validation patients stay unseen. Each body-trunk case with at least two landmarks of the model's atlas
// becomes one template: the embeddings of up to max_slices of its slices and its landmarks' world z.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "dataset.hpp"
#include "slicenav/error.hpp"
#include "slicenav/io.hpp"
#include "slicenav/model.hpp"
#include "slicenav/navigation.hpp"

namespace {

using nlohmann::json;
using namespace slicenav;

int run(const std::string& model_path, const std::string& data_dir, const std::string& out_path, int threads) {
  set_inference_threads(threads);
  Model model = Model::load(model_path);
  const std::set<std::string> trained = training::model_training_cases(model);
  if (trained.empty()) {
    fail(Status::invalid_argument, model_path + " records no training cases (metadata training.training_cases)");
  }
  const Atlas& atlas = model.atlas();
  if (atlas.position_mm.empty()) fail(Status::invalid_argument, model_path + " has no atlas");

  std::vector<Template> templates;
  json sources = json::array();
  for (const auto& c : training::read_cases(data_dir, {"ct"})) {
    if (trained.count(c.case_id) == 0) continue;
    std::vector<Landmark> landmarks;
    for (const auto& l : read_case_landmarks(c.path)) {
      if (atlas.position_mm.count(l.name) != 0) landmarks.push_back(l);
    }
    if (landmarks.size() < 2) continue;
    const PreparedScan scan = prepare_scan(model, read_volume((std::filesystem::path(c.path) / "ct.nii.gz").string()));
    Template t;
    t.name = c.case_id;
    t.slices = scan.slices.select(uniform_slices(scan.slice_count(), model.config().preprocess.max_slices));
    t.landmarks = landmarks;
    std::cerr << "template " << t.name << ": " << t.slices.slice_count() << " slices, " << landmarks.size()
              << " landmarks\n";
    sources.push_back({{"case", t.name}, {"landmarks", landmarks.size()}});
    templates.push_back(std::move(t));
  }
  if (templates.empty()) fail(Status::not_found, "no training case in " + data_dir + " can serve as a template");
  model.set_templates(std::move(templates), atlas);
  model.set_metadata_section("template_sources", sources.dump());
  model.save(out_path);
  std::cerr << "wrote " << out_path << " with " << sources.size() << " templates\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Bundle labelled template scans (from the model's training cases) into a model file",
               "slicenav-templates"};
  std::string model_path, data_dir = SLICENAV_DEFAULT_DATA_DIR, out_path;
  int threads = 0;
  app.add_option("--model", model_path, "Trained model file")->required();
  app.add_option("--data", data_dir, "Data folder with cases.tsv (default: ../shared/data)");
  app.add_option("--out", out_path, "Model file to write (may be --model itself)")->required();
  app.add_option("--threads", threads, "Inference threads (0 = hardware threads)");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(model_path, data_dir, out_path, threads);
  } catch (const std::exception& e) {
    std::cerr << "slicenav-templates: " << e.what() << "\n";
    return 1;
  }
}

// slicenav-train: trains the insertion network and score head on the real cases of the data folder.
// Checkpoints every --val-every steps; --resume continues from the newest checkpoint in --out with the
// same sample stream (each step's randomness is seeded from --seed and the step number).
// --evaluate MODEL measures a trained model on one side of the same split instead (--side), without training.
#include <torch/torch.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "atomic_file.hpp"
#include "dataset.hpp"
#include "evaluate.hpp"
#include "key_slices.hpp"
#include "objective.hpp"
#include "slicenav/error.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace slicenav;
using namespace slicenav::training;

namespace {

struct Options {
  std::string data_dir = SLICENAV_DEFAULT_DATA_DIR;
  std::string out_dir;
  std::string evaluate_model;
  std::string side = "validation";
  bool resume = false;
  int steps = 4000;
  int pairs_per_step = 2;
  double lr = 5e-4;
  int warmup = 200;
  int threads = 0;
  std::uint64_t seed = 1;
  std::uint64_t split_seed = 2322;
  double val_fraction = 0.35;
  int val_every = 250;
  std::string loss = "kl";
  std::string positional_encoding = "absolute";
  double sigma_mm = 5.0;
  double score_weight = 0.5;
  double insertion_weight = 1.0;
  double ssbr_weight = 1.0;
  std::size_t image_size = 96;
  double pixel_mm = 5.0;
  std::size_t max_slices = 128;
  double slab_fraction = 0.2;
  double z_scale = 0.0;
  std::vector<int> widths{16, 24, 48, 96, 128};
  int d_model = 128;
  int self_layers = 2;
  int cross_layers = 2;
  std::vector<std::string> exclude_training;  // training cases left out (an ablation); validation cases stay
};

void append_line(const fs::path& path, const std::string& header, const std::string& line) {
  const bool fresh = !fs::exists(path);
  std::ofstream out(path, std::ios::app);
  if (fresh) out << header << "\n";
  out << line << "\n";
}

ModelConfig model_config(const Options& o) {
  ModelConfig c;
  c.preprocess.image_size = o.image_size;
  c.preprocess.pixel_mm = o.pixel_mm;
  c.preprocess.max_slices = o.max_slices;
  c.encoder_widths = o.widths;
  c.d_model = o.d_model;
  c.self_layers = o.self_layers;
  c.cross_layers = o.cross_layers;
  c.positional_encoding =
      o.positional_encoding == "absolute" ? PositionalEncoding::absolute : PositionalEncoding::spacing_scaled;
  return c;
}

double learning_rate(const Options& o, int step) {
  if (step < o.warmup) return o.lr * (step + 1) / o.warmup;
  const double t = static_cast<double>(step - o.warmup) / std::max(1, o.steps - o.warmup);
  return o.lr * (0.05 + 0.95 * 0.5 * (1.0 + std::cos(M_PI * std::min(1.0, t))));
}

json training_summary(const Options& o, const Corpus& corpus, int step, double seconds) {
  json train = json::array(), val = json::array();
  std::set<std::string> train_patients, val_patients;
  std::size_t train_slices = 0;
  for (const Case& c : corpus.cases) {
    (c.validation ? val : train).push_back(c.info.case_id);
    (c.validation ? val_patients : train_patients).insert(c.info.patient_key);
    if (!c.validation) train_slices += c.slices.slice_count();
  }
  return {{"data", "slicenav-data (real CT): sets ct and hn of cases.tsv"},
          {"split", {{"rule", "patient-level hash"}, {"val_fraction", o.val_fraction}, {"split_seed", o.split_seed}}},
          {"training_cases", train},
          {"excluded_training_cases", o.exclude_training},
          {"validation_cases", val},
          {"training_patients", train_patients.size()},
          {"validation_patients", val_patients.size()},
          {"training_slices", train_slices},
          {"steps", step},
          {"pairs_per_step", o.pairs_per_step},
          {"loss", o.loss},
          {"sigma_mm", o.sigma_mm},
          {"score_weight", o.score_weight},
          {"insertion_weight", o.insertion_weight},
          {"ssbr_weight", o.ssbr_weight},
          {"slab_fraction", o.slab_fraction},
          {"z_scale", o.z_scale},
          {"learning_rate", o.lr},
          {"seed", o.seed},
          {"wall_seconds", seconds}};
}

double selection_error(const ValidationMetrics& m) {
  return m.landmark_all.count ? m.landmark_all.mean() + m.intra.mean() : m.intra.mean();
}

// Measures a trained model on one side of the split: the model's own split (metadata training.split) unless
// `split_given`. The split must be the one the model was trained with: a validation case among the model's
// training cases is an error.
int evaluate_only(Options o, bool split_given) {
  set_inference_threads(o.threads);
  const Model model = Model::load(o.evaluate_model);
  const auto training = json::parse(model.metadata_section("training"));
  if (!split_given && training.is_object() && training.contains("split")) {
    const json& split = training.at("split");
    o.split_seed = split.value("split_seed", o.split_seed);
    o.val_fraction = split.value("val_fraction", o.val_fraction);
  }
  const Corpus corpus =
      load_corpus(read_cases(o.data_dir, {"ct", "hn"}), model.config().preprocess, o.val_fraction, o.split_seed);
  if (training.is_object() && training.contains("training_cases")) {
    const auto trained = training.at("training_cases").get<std::set<std::string>>();
    for (const Case& c : corpus.cases) {
      if (c.validation && trained.count(c.info.case_id)) {
        fail(Status::invalid_argument,
             o.evaluate_model + " was trained on " + c.info.case_id +
                 ", a validation case of this split (another --split-seed or --val-fraction?)");
      }
    }
  }
  const Side side = o.side == "training" ? Side::training : Side::validation;
  const ValidationMetrics m = evaluate(model, corpus, o.seed, side);
  json report{{"model", o.evaluate_model}, {"side", o.side}, {"metrics", json::parse(m.to_json())}};
  if (!model.templates().empty()) {  // key slices located as `slicenav locate` does, on the side's trunk and neck scans
    std::vector<CaseInfo> located;
    for (const Case& c : corpus.cases) {
      if (c.info.set == "ct" && c.validation == (side == Side::validation)) located.push_back(c.info);
    }
    report["key_slices"] = json::parse(summarise_key_slices(locate_key_slices(model, located), o.seed));
  }
  std::cout << report.dump(2) << "\n";
  return 0;
}

int run(const Options& o) {
  set_inference_threads(o.threads);
  const fs::path out(o.out_dir);
  fs::create_directories(out);
  std::cerr << "loading cases from " << o.data_dir << "\n";
  const ModelConfig config = model_config(o);
  std::vector<CaseInfo> infos = read_cases(o.data_dir, {"ct", "hn"});
  const std::set<std::string> excluded(o.exclude_training.begin(), o.exclude_training.end());
  for (const std::string& id : excluded) {
    const auto it = std::find_if(infos.begin(), infos.end(), [&](const CaseInfo& c) { return c.case_id == id; });
    if (it == infos.end()) fail(Status::invalid_argument, "--exclude-training: no case '" + id + "' in " + o.data_dir);
    if (is_validation_patient(it->patient_key, o.val_fraction, o.split_seed)) {
      fail(Status::invalid_argument, "--exclude-training: '" + id + "' is a validation case of this split");
    }
  }
  infos.erase(
      std::remove_if(infos.begin(), infos.end(), [&](const CaseInfo& c) { return excluded.count(c.case_id) > 0; }),
      infos.end());
  const Corpus corpus = load_corpus(infos, config.preprocess, o.val_fraction, o.split_seed);
  SamplerOptions sampling;
  sampling.max_slices = o.max_slices;
  sampling.slab_fraction = o.slab_fraction;
  sampling.z_scale = o.z_scale;
  const PairSampler sampler(corpus, sampling);

  int step = 0;
  double best = std::numeric_limits<double>::infinity(), elapsed = 0;
  const fs::path state_path = out / "state.json";
  json state = json::object();
  if (o.resume && fs::exists(state_path)) {
    state = json::parse(std::ifstream(state_path));
    step = state.at("step").get<int>();
    best = state.at("best").get<double>();
    elapsed = state.at("seconds").get<double>();
  }
  Model model = state.contains("model") ? Model::load((out / state.at("model").get<std::string>()).string())
                                        : Model(config, o.seed);
  auto& network = *model.impl().network;
  const Objective objective{o.pairs_per_step,   o.loss == "emd" ? InsertionLoss::emd : InsertionLoss::kl,
                            o.sigma_mm,         o.score_weight,
                            o.insertion_weight, o.ssbr_weight};
  torch::optim::AdamW optimizer(network.parameters(), torch::optim::AdamWOptions(o.lr).weight_decay(1e-4));
  if (state.contains("optimizer")) {
    torch::load(optimizer, (out / state.at("optimizer").get<std::string>()).string());
    std::cerr << "resumed at step " << step << "\n";
  }
  model.set_metadata_section("atlas", atlas_to_json(corpus.atlas));

  auto clock_start = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return elapsed + std::chrono::duration<double>(std::chrono::steady_clock::now() - clock_start).count();
  };
  while (step < o.steps) {
    std::mt19937_64 rng(o.seed * 0x9E3779B97F4A7C15ull + static_cast<std::uint64_t>(step));
    torch::manual_seed(o.seed * 7919 + static_cast<std::uint64_t>(step));
    network.train();
    for (auto& group : optimizer.param_groups()) {
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(learning_rate(o, step));
    }
    StepLosses parts;
    optimizer.zero_grad();
    const auto loss = step_loss(network, sampler, objective, rng, parts);
    loss.backward();
    torch::nn::utils::clip_grad_norm_(network.parameters(), 1.0);
    optimizer.step();
    ++step;
    std::ostringstream line;
    line << step << "," << loss.item<double>() << "," << parts.insertion << "," << parts.score << ","
         << learning_rate(o, step - 1) << "," << seconds();
    append_line(out / "train_log.csv", "step,loss,insertion_loss,score_loss,lr,seconds", line.str());
    if (step % 25 == 0) std::cerr << "step " << step << " " << line.str() << "\n";

    if (step % o.val_every == 0 || step == o.steps) {
      network.eval();
      const ValidationMetrics m = evaluate(model, corpus, o.seed);
      const double err = selection_error(m);
      std::ostringstream v;
      v << step << "," << m.intra.mean() << "," << m.landmark_all.mean() << "," << m.landmark_score_all.mean() << ","
        << (m.outside_slices ? static_cast<double>(m.outside_correct) / m.outside_slices : 0.0) << "," << seconds();
      append_line(out / "val_log.csv", "step,intra_mm,landmark_insertion_mm,landmark_score_mm,outside_correct,seconds",
                  v.str());
      std::cerr << "validation " << v.str() << "\n";
      model.set_metadata_section("training", training_summary(o, corpus, step, seconds()).dump());
      model.set_metadata_section("metrics", json{{"validation", json::parse(m.to_json())}, {"step", step}}.dump());
      if (err < best) {
        best = err;
        model.save((out / "best.snm").string());
      }
      const std::string model_name = "checkpoint-" + std::to_string(step) + ".snm";
      const std::string opt_name = "optimizer-" + std::to_string(step) + ".pt";
      model.save((out / model_name).string());
      slicenav::detail::write_atomically((out / opt_name).string(),
                                         [&](const std::string& tmp) { torch::save(optimizer, tmp); });
      const json old = fs::exists(state_path) ? json::parse(std::ifstream(state_path)) : json::object();
      const std::string state_text =
          json{{"step", step}, {"best", best}, {"seconds", seconds()}, {"model", model_name}, {"optimizer", opt_name}}
              .dump(2);
      slicenav::detail::write_atomically(state_path.string(), [&](const std::string& tmp) {
        std::ofstream state_out(tmp, std::ios::binary);
        state_out << state_text;
        if (!state_out.flush()) fail(Status::io, "cannot write " + tmp);
      });
      if (old.contains("model") && old["model"] != model_name) {
        fs::remove(out / old["model"].get<std::string>());
        fs::remove(out / old["optimizer"].get<std::string>());
      }
    }
  }
  std::cerr << "done: " << step << " steps in " << seconds() << " s; best validation error " << best << " mm\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train the slicenav insertion network and slice-score head on real CT"};
  Options o;
  app.add_option("--data", o.data_dir, "data folder with cases.tsv")->capture_default_str();
  auto* task = app.add_option_group("task", "Train, or measure a trained model");
  task->add_option("--out", o.out_dir, "train: output folder for checkpoints, logs, best.snm");
  auto* evaluate_option = task->add_option("--evaluate", o.evaluate_model,
                                           "measure this model file on one side of the split (--side) and print JSON")
                              ->check(CLI::ExistingFile);
  task->require_option(1);
  app.add_option("--side", o.side, "with --evaluate: the split side to measure on")
      ->capture_default_str()
      ->check(CLI::IsMember({"training", "validation"}))
      ->needs(evaluate_option);
  app.add_flag("--resume", o.resume, "continue from the newest checkpoint in --out");
  app.add_option("--steps", o.steps, "optimisation steps")->capture_default_str()->check(CLI::Range(1, 10000000));
  app.add_option("--pairs", o.pairs_per_step, "pairs per step")->capture_default_str()->check(CLI::Range(1, 64));
  app.add_option("--lr", o.lr, "peak learning rate (AdamW, warmup then cosine)")->capture_default_str();
  app.add_option("--threads", o.threads, "LibTorch threads (0 = hardware threads)")->capture_default_str();
  app.add_option("--seed", o.seed, "seed of initialisation and sampling")->capture_default_str();
  app.add_option("--split-seed", o.split_seed,
                 "seed of the patient-level split (--evaluate: the model's own by default)")
      ->capture_default_str();
  app.add_option("--val-fraction", o.val_fraction, "share of patients held out")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.9));
  app.add_option("--val-every", o.val_every, "steps between validation + checkpoint")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app.add_option("--loss", o.loss, "insertion loss")->capture_default_str()->check(CLI::IsMember({"kl", "emd"}));
  app.add_option("--positional-encoding", o.positional_encoding, "absolute or spacing_scaled")
      ->capture_default_str()
      ->check(CLI::IsMember({"absolute", "spacing_scaled"}));
  app.add_option("--sigma-mm", o.sigma_mm, "sigma of the truncated Gaussian target")->capture_default_str();
  app.add_option("--score-weight", o.score_weight, "weight of the score-head loss")->capture_default_str();
  app.add_option("--insertion-weight", o.insertion_weight,
                 "weight of the insertion loss (0: train the encoder and score head alone)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  app.add_option("--ssbr-weight", o.ssbr_weight,
                 "weight of the self-supervised slice-order (SSBR) term in the score loss (0: atlas supervision alone)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100.0));
  app.add_option("--image-size", o.image_size, "input pixels per side")->capture_default_str();
  app.add_option("--pixel-mm", o.pixel_mm, "in-plane size of an input pixel, mm")->capture_default_str();
  app.add_option("--max-slices", o.max_slices, "longest sequence")->capture_default_str();
  app.add_option("--slab-fraction", o.slab_fraction, "share of training sequences shown as thick slices")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--z-scale", o.z_scale,
                 "body-length augmentation: sub-volume strides scaled by up to 1 +- this factor (0 = off)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.5));
  app.add_option("--widths", o.widths, "encoder widths: stem then stages")->capture_default_str();
  app.add_option("--d-model", o.d_model, "attention width")->capture_default_str();
  app.add_option("--self-layers", o.self_layers, "self-attention layers")->capture_default_str();
  app.add_option("--cross-layers", o.cross_layers, "cross-attention layers")->capture_default_str();
  app.add_option("--exclude-training", o.exclude_training,
                 "train: leave these training cases out (an ablation: the model without them; the atlas and the "
                 "templates then come from the others); naming a validation case is an error")
      ->excludes(evaluate_option);
  CLI11_PARSE(app, argc, argv);
  try {
    const bool split_given = app.count("--split-seed") + app.count("--val-fraction") > 0;
    return o.evaluate_model.empty() ? run(o) : evaluate_only(o, split_given);
  } catch (const slicenav::Error& e) {
    std::cerr << "slicenav-train: " << e.what() << "\n";
    return -static_cast<int>(e.status());
  } catch (const std::exception& e) {
    std::cerr << "slicenav-train: " << e.what() << "\n";
    return 1;
  }
}

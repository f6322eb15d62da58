// slicenav-train: trains the insertion network and score head on the real cases of the data folder.
// Checkpoints every --val-every steps; --resume continues from the newest checkpoint in --out with the
// same sample stream (each step's randomness is seeded from --seed and the step number).
#include <CLI/CLI.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "dataset.hpp"
#include "evaluate.hpp"
#include "losses.hpp"
#include "network.hpp"
#include "sampler.hpp"
#include "slicenav/error.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace slicenav;
using namespace slicenav::training;

namespace {

struct Options {
  std::string data_dir = SLICENAV_DEFAULT_DATA_DIR;
  std::string out_dir;
  bool resume = false;
  int steps = 4000;
  int pairs_per_step = 2;
  double lr = 5e-4;
  int warmup = 200;
  int threads = 0;
  std::uint64_t seed = 1;
  std::uint64_t split_seed = 7;
  double val_fraction = 0.25;
  int val_every = 250;
  std::string loss = "kl";
  std::string positional_encoding = "absolute";
  double sigma_mm = 5.0;
  double score_weight = 0.5;
  std::size_t image_size = 96;
  std::size_t max_slices = 128;
  std::vector<int> widths{16, 24, 48, 96, 128};
  int d_model = 128;
  int self_layers = 2;
  int cross_layers = 2;
};

void write_text_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) fail(Status::io, "cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

void append_line(const fs::path& path, const std::string& header, const std::string& line) {
  const bool fresh = !fs::exists(path);
  std::ofstream out(path, std::ios::app);
  if (fresh) out << header << "\n";
  out << line << "\n";
}

ModelConfig model_config(const Options& o) {
  ModelConfig c;
  c.preprocess.image_size = o.image_size;
  c.preprocess.max_slices = o.max_slices;
  c.encoder_widths = o.widths;
  c.d_model = o.d_model;
  c.self_layers = o.self_layers;
  c.cross_layers = o.cross_layers;
  c.positional_encoding = o.positional_encoding == "absolute" ? PositionalEncoding::absolute
                                                               : PositionalEncoding::spacing_scaled;
  return c;
}

struct StepLosses {
  double insertion = 0, score = 0;
};

// One optimisation step's forward pass and loss on freshly sampled pairs.
torch::Tensor step_loss(slicenav::detail::InsertionNetworkImpl& net, const PairSampler& sampler, const Options& o,
                        std::mt19937_64& rng, StepLosses& parts) {
  std::vector<Pair> pairs;
  for (int i = 0; i < o.pairs_per_step; ++i) pairs.push_back(sampler.sample(rng));
  // All slices of all sequences, plus the two artificial slices, go through the encoder as one batch.
  std::vector<const View*> views;
  std::vector<torch::Tensor> images;
  for (const Pair& p : pairs) {
    for (const View* v : {&p.query, &p.target}) {
      views.push_back(v);
      images.push_back(augment(slicenav::detail::slices_tensor(v->pixels(), o.image_size), rng));
    }
  }
  const auto n = static_cast<std::int64_t>(o.image_size);
  images.push_back(torch::ones({1, 1, n, n}));
  images.push_back(-torch::ones({1, 1, n, n}));
  const auto all = net.embed(torch::cat(images));
  std::vector<torch::Tensor> per_view;
  std::int64_t offset = 0;
  for (const View* v : views) {
    const auto len = static_cast<std::int64_t>(v->slices.size());
    per_view.push_back(all.narrow(0, offset, len));
    offset += len;
  }
  const auto start = all.narrow(0, offset, 1), end = all.narrow(0, offset + 1, 1);

  // Score head: SSBR on every sequence, plus atlas supervision where the case has landmarks.
  torch::Tensor score_loss = torch::zeros({});
  for (std::size_t i = 0; i < views.size(); ++i) {
    const auto z = views[i]->world_z_mm();
    const auto s = net.score(per_view[i]);
    score_loss = score_loss + ssbr_loss(s, torch::tensor(z, torch::kDouble));
    const auto& map = views[i]->source->map;
    if (map.valid()) {
      std::vector<float> atlas;
      for (double zz : z) atlas.push_back(static_cast<float>(map.to_atlas(zz)));
      score_loss = score_loss + torch::smooth_l1_loss((s - torch::tensor(atlas)) / 10.0, torch::zeros_like(s));
    }
  }
  score_loss = score_loss / static_cast<double>(views.size());

  std::vector<torch::Tensor> q_emb, t_emb;
  std::vector<std::vector<float>> q_pos, t_pos;
  const auto encoding = net.config.positional_encoding;
  for (std::size_t b = 0; b < pairs.size(); ++b) {
    q_emb.push_back(per_view[2 * b]);
    t_emb.push_back(torch::cat({start, per_view[2 * b + 1], end}));
    q_pos.push_back(slicenav::detail::sequence_positions(pairs[b].query.world_z_mm(), encoding, false));
    t_pos.push_back(slicenav::detail::sequence_positions(pairs[b].target.world_z_mm(), encoding, true));
  }
  const auto q = slicenav::detail::pad_sequences(q_emb, q_pos);
  const auto t = slicenav::detail::pad_sequences(t_emb, t_pos);
  const auto logits = net.insertion_logits(q, t);
  auto targets = torch::zeros(logits.sizes());
  auto weights = torch::zeros({logits.size(0), logits.size(1)});
  for (std::size_t b = 0; b < pairs.size(); ++b) {
    const auto tz = pairs[b].target.world_z_mm();
    for (std::size_t m = 0; m < pairs[b].query_z_in_target.size(); ++m) {
      const auto dist = insertion_target(tz, pairs[b].query_z_in_target[m], o.sigma_mm);
      targets[b][m].narrow(0, 0, static_cast<std::int64_t>(dist.size())).copy_(torch::tensor(dist));
      weights[b][m] = 1.0;
    }
  }
  const auto insertion = o.loss == "emd" ? emd_loss(logits, targets, weights) : kl_loss(logits, targets, weights);
  parts.insertion = insertion.item<double>();
  parts.score = score_loss.item<double>();
  return insertion + o.score_weight * score_loss.to(torch::kFloat);
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
          {"validation_cases", val},
          {"training_patients", train_patients.size()},
          {"validation_patients", val_patients.size()},
          {"training_slices", train_slices},
          {"steps", step},
          {"pairs_per_step", o.pairs_per_step},
          {"loss", o.loss},
          {"sigma_mm", o.sigma_mm},
          {"score_weight", o.score_weight},
          {"learning_rate", o.lr},
          {"seed", o.seed},
          {"wall_seconds", seconds}};
}

double selection_error(const ValidationMetrics& m) {
  return m.landmark_all.count ? m.landmark_all.mean() + m.intra.mean() : m.intra.mean();
}

int run(const Options& o) {
  set_inference_threads(o.threads);
  const fs::path out(o.out_dir);
  fs::create_directories(out);
  std::cerr << "loading cases from " << o.data_dir << "\n";
  const ModelConfig config = model_config(o);
  const Corpus corpus = load_corpus(read_cases(o.data_dir, {"ct", "hn"}), config.preprocess, o.val_fraction, o.split_seed);
  const PairSampler sampler(corpus, SamplerOptions{o.max_slices});

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
    const auto loss = step_loss(network, sampler, o, rng, parts);
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
      torch::save(optimizer, (out / (opt_name + ".tmp")).string());
      fs::rename(out / (opt_name + ".tmp"), out / opt_name);
      const json old = fs::exists(state_path) ? json::parse(std::ifstream(state_path)) : json::object();
      write_text_atomically(state_path, json{{"step", step}, {"best", best}, {"seconds", seconds()},
                                             {"model", model_name}, {"optimizer", opt_name}}.dump(2));
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
  app.add_option("--out", o.out_dir, "output folder: checkpoints, logs, best.snm")->required();
  app.add_flag("--resume", o.resume, "continue from the newest checkpoint in --out");
  app.add_option("--steps", o.steps, "optimisation steps")->capture_default_str()->check(CLI::Range(1, 10000000));
  app.add_option("--pairs", o.pairs_per_step, "pairs per step")->capture_default_str()->check(CLI::Range(1, 64));
  app.add_option("--lr", o.lr, "peak learning rate (AdamW, warmup then cosine)")->capture_default_str();
  app.add_option("--threads", o.threads, "LibTorch threads (0 = hardware threads)")->capture_default_str();
  app.add_option("--seed", o.seed, "seed of initialisation and sampling")->capture_default_str();
  app.add_option("--split-seed", o.split_seed, "seed of the patient-level split")->capture_default_str();
  app.add_option("--val-fraction", o.val_fraction, "share of patients held out")->capture_default_str()->check(CLI::Range(0.0, 0.9));
  app.add_option("--val-every", o.val_every, "steps between validation + checkpoint")->capture_default_str()->check(CLI::Range(1, 1000000));
  app.add_option("--loss", o.loss, "insertion loss")->capture_default_str()->check(CLI::IsMember({"kl", "emd"}));
  app.add_option("--positional-encoding", o.positional_encoding, "absolute or spacing_scaled")
      ->capture_default_str()->check(CLI::IsMember({"absolute", "spacing_scaled"}));
  app.add_option("--sigma-mm", o.sigma_mm, "sigma of the truncated Gaussian target")->capture_default_str();
  app.add_option("--score-weight", o.score_weight, "weight of the score-head loss")->capture_default_str();
  app.add_option("--image-size", o.image_size, "input pixels per side")->capture_default_str();
  app.add_option("--max-slices", o.max_slices, "longest sequence")->capture_default_str();
  app.add_option("--widths", o.widths, "encoder widths: stem then stages")->capture_default_str();
  app.add_option("--d-model", o.d_model, "attention width")->capture_default_str();
  app.add_option("--self-layers", o.self_layers, "self-attention layers")->capture_default_str();
  app.add_option("--cross-layers", o.cross_layers, "cross-attention layers")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  try {
    return run(o);
  } catch (const slicenav::Error& e) {
    std::cerr << "slicenav-train: " << e.what() << "\n";
    return -static_cast<int>(e.status());
  } catch (const std::exception& e) {
    std::cerr << "slicenav-train: " << e.what() << "\n";
    return 1;
  }
}

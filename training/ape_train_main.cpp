// slicenav-train-ape: trains the anatomical positional embedding network (core/include/slicenav/ape.hpp;
// seed anatomical-positional-embeddings, APE) and writes it into a copy of a model file.
//
//   slicenav-train-ape --model models/default.snm --data ../shared/data --out runs/ape [--steps N]
//                      [--sets ct hn ...] [--threads N] [--seed S] [--average-decay D] [--resume]
//
// Self-supervised, on every CT of the data folder (sets ct, hn, ood and pairs: no labels or world
// coordinates are needed), each resampled once onto a 2 mm world grid cropped to the body. A step takes
// one scan and 8 pairs of overlapping 48 x 48 x 32 voxel patches (ape_objective.hpp): each patch at its
// own spacing (3-5 mm in-plane, 3-6 mm between slices) and augmented; 128 positive voxel pairs per patch
// pair; loss L_dist + L_equiv (lambda = 1). AdamW (learning rate 3e-4, weight decay 1e-6, constant as in
// the seed), gradients clipped to norm 1. Every --checkpoint-every steps the model file with the network
// is written to OUT/latest.snm (atomically), the optimizer to OUT/optimizer.pt and the step to
// OUT/state.json; --resume continues from them. With --average-decay D the model file OUT/average.snm holds, at
// each checkpoint, the exponential moving average of the network's weights and batch-norm statistics over the
// steps of this run (each step: average = D * average + (1 - D) * weights; docs/ape.md measures one such run).
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "ape_network.hpp"
#include "ape_objective.hpp"
#include "dataset.hpp"
#include "slice_network.hpp"
#include "slicenav/error.hpp"
#include "slicenav/io.hpp"
#include "slicenav/model.hpp"
#include "slicenav/rigid.hpp"

namespace {

using nlohmann::json;
using namespace slicenav;
using namespace slicenav::training;
namespace fs = std::filesystem;

constexpr int kPairsPerStep = 8;
constexpr double kLambda = 1.0;
constexpr double kScanGridMm = 2.0;
constexpr float kBodyHu = -500.0f;

struct Settings {
  std::string model, data, out;
  std::vector<std::string> sets{"ct", "hn", "ood", "pairs"};
  int steps = 12000, threads = 2, checkpoint_every = 250;
  double lr = 3e-4, average_decay = 0;
  std::uint64_t seed = 1;
  bool resume = false;
};

// The scan on a world grid of kScanGridMm (coarser where that grid would be too large), cropped to the
// bounding box of its body voxels with a margin of 8 voxels.
ApeScan load_scan(const std::string& path) {
  const Volume volume = read_volume(path);
  WorldGrid g;
  try {
    g = resample_to_world_grid(volume, kScanGridMm);
  } catch (const Error& e) {
    if (e.status() != Status::unsupported_input) throw;
    g = resample_to_world_grid(volume, 2 * kScanGridMm);
  }
  const auto sx = static_cast<std::int64_t>(g.size[0]), sy = static_cast<std::int64_t>(g.size[1]),
             sz = static_cast<std::int64_t>(g.size[2]);
  const torch::Tensor hu = torch::from_blob(g.values.data(), {sz, sy, sx}, torch::kFloat);
  const torch::Tensor body = torch::nonzero(hu > kBodyHu);  // [n, 3] z, y, x
  ApeScan s;
  s.spacing_mm = g.spacing_mm;
  if (body.size(0) == 0) return s;
  const torch::Tensor lo = (std::get<0>(body.min(0)) - 8).clamp_min(0);
  const torch::Tensor hi = std::get<0>(body.max(0)) + 9;
  const std::int64_t z0 = lo[0].item<std::int64_t>(), y0 = lo[1].item<std::int64_t>(), x0 = lo[2].item<std::int64_t>();
  const std::int64_t z1 = std::min(sz, hi[0].item<std::int64_t>()), y1 = std::min(sy, hi[1].item<std::int64_t>()),
                     x1 = std::min(sx, hi[2].item<std::int64_t>());
  s.hu = hu.slice(0, z0, z1).slice(1, y0, y1).slice(2, x0, x1).clone().reshape({1, 1, z1 - z0, y1 - y0, x1 - x0});
  s.origin = g.world({static_cast<double>(x0), static_cast<double>(y0), static_cast<double>(z0)});
  const torch::Tensor sub = body.index({torch::indexing::Slice(0, torch::indexing::None, 27)}).contiguous();
  const auto* v = sub.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < sub.size(0); ++i) {
    s.body.push_back(g.world({static_cast<double>(v[3 * i + 2]), static_cast<double>(v[3 * i + 1]),
                              static_cast<double>(v[3 * i])}));
  }
  return s;
}

std::vector<ApeScan> load_scans(const std::string& data, const std::vector<std::string>& sets) {
  std::vector<ApeScan> scans;
  for (const auto& c : read_cases(data, sets)) {
    const fs::path file = fs::is_directory(c.path) ? fs::path(c.path) / "ct.nii.gz" : fs::path(c.path);
    if (!fs::exists(file)) continue;
    ApeScan scan = load_scan(file.string());
    if (scan.body.empty()) continue;
    std::cerr << "scan " << c.case_id << ": " << scan.hu.size(4) << "x" << scan.hu.size(3) << "x" << scan.hu.size(2)
              << " at " << scan.spacing_mm << " mm\n";
    scans.push_back(std::move(scan));
  }
  return scans;
}

struct StepParts {
  double dist = 0, equiv = 0;
};

torch::Tensor step_loss(slicenav::detail::ApeNetImpl& net, const ApeScan& scan, std::mt19937_64& rng, StepParts& parts) {
  const ApePatchOptions options;
  std::uniform_int_distribution<std::size_t> pick(0, scan.body.size() - 1);
  std::vector<ApePatchPair> pairs;
  std::vector<torch::Tensor> inputs_a, inputs_b;
  for (int i = 0; i < kPairsPerStep; ++i) {
    pairs.push_back(sample_patch_pair(scan.body[pick(rng)], options, rng));
    inputs_a.push_back(augment_patch(sample_patch(scan, pairs.back().a), rng));
    inputs_b.push_back(augment_patch(sample_patch(scan, pairs.back().b), rng));
  }
  inputs_a.insert(inputs_a.end(), inputs_b.begin(), inputs_b.end());
  const torch::Tensor maps = net.forward(torch::cat(inputs_a, 0));  // [2 * pairs, 3, z, y, x]
  namespace F = torch::nn::functional;
  const auto embeddings = [&](std::int64_t k, const ApePatch& patch, const std::vector<Vec3>& points) {
    return F::grid_sample(maps.narrow(0, k, 1), patch_grid(patch, points),
                          F::GridSampleFuncOptions().mode(torch::kBilinear).align_corners(true))
        .reshape({3, -1})
        .t();
  };
  std::vector<torch::Tensor> a, b;
  std::vector<float> positions;
  for (int i = 0; i < kPairsPerStep; ++i) {
    const ApePatchPair& p = pairs[static_cast<std::size_t>(i)];
    a.push_back(embeddings(i, p.a, p.points));
    b.push_back(embeddings(kPairsPerStep + i, p.b, p.points));
    for (const Vec3& w : p.points) positions.insert(positions.end(), w.begin(), w.end());
  }
  const torch::Tensor world = torch::tensor(positions).reshape({-1, 3});
  return ape_loss(torch::cat(a), torch::cat(b), world, kLambda, &parts.dist, &parts.equiv);
}

void write_state(const fs::path& state, int step, const Settings& s) {
  const fs::path tmp = state.string() + ".tmp";
  std::ofstream(tmp) << json{{"step", step}, {"steps", s.steps}, {"seed", s.seed}}.dump() << "\n";
  fs::rename(tmp, state);
}

// Moves every parameter and floating-point buffer (the batch-norm statistics) of `to` the share `step` of the way
// to the same-named one of `from`, two networks of one config: 1 copies `from`, 1 - D is one step of the moving
// average with decay D. Integer buffers (batches seen) are copied.
void move_weights(const torch::nn::Module& from, torch::nn::Module& to, double step) {
  torch::NoGradGuard no_grad;
  const auto parameters = from.named_parameters(true);
  for (auto& p : to.named_parameters(true)) p.value().lerp_(parameters[p.key()], step);
  const auto buffers = from.named_buffers(true);
  for (auto& b : to.named_buffers(true)) {
    if (b.value().is_floating_point())
      b.value().lerp_(buffers[b.key()], step);
    else
      b.value().copy_(buffers[b.key()]);
  }
}

// The APE network of the model file at `path`, which must hold one.
const torch::nn::Module& ape_network_of(const Model& model, const fs::path& path) {
  if (!model.has_ape_network()) fail(Status::model_format, path.string() + " holds no APE network");
  return *model.impl().ape;
}

int run(const Settings& s) {
  torch::set_num_threads(std::max(1, s.threads));
  Model model = Model::load(s.model);
  fs::create_directories(s.out);
  torch::manual_seed(s.seed);
  slicenav::detail::ApeNet net{slicenav::detail::ApeNetConfig{}};
  torch::optim::AdamW optimizer(net->parameters(), torch::optim::AdamWOptions(s.lr).weight_decay(1e-6));
  int first_step = 0;
  const fs::path latest = fs::path(s.out) / "latest.snm", state = fs::path(s.out) / "state.json",
                 optimizer_file = fs::path(s.out) / "optimizer.pt", average_file = fs::path(s.out) / "average.snm";
  const bool averaging = s.average_decay > 0;
  slicenav::detail::ApeNet average{slicenav::detail::ApeNetConfig{}};
  bool average_resumed = false;
  if (s.resume && fs::exists(latest) && fs::exists(state)) {
    move_weights(ape_network_of(Model::load(latest.string()), latest), *net, 1.0);
    if (averaging && fs::exists(average_file)) {
      move_weights(ape_network_of(Model::load(average_file.string()), average_file), *average, 1.0);
      average_resumed = true;
    }
    if (fs::exists(optimizer_file)) torch::load(optimizer, optimizer_file.string());
    std::ifstream in(state);
    first_step = json::parse(in).at("step").get<int>();
    std::cerr << "resuming at step " << first_step << "\n";
  }
  if (averaging && !average_resumed) move_weights(*net, *average, 1.0);
  average->eval();
  net->train();
  const std::vector<ApeScan> scans = load_scans(s.data, s.sets);
  if (scans.empty()) fail(Status::not_found, "no CT found in " + s.data);

  std::mt19937_64 rng(s.seed + static_cast<std::uint64_t>(first_step));
  torch::manual_seed(s.seed + static_cast<std::uint64_t>(first_step));
  std::uniform_int_distribution<std::size_t> pick(0, scans.size() - 1);
  double loss_sum = 0, dist_sum = 0, equiv_sum = 0;
  constexpr int kLogEvery = 50;
  auto start = std::chrono::steady_clock::now();
  for (int step = first_step; step < s.steps; ++step) {
    optimizer.zero_grad();
    StepParts parts;
    const torch::Tensor loss = step_loss(*net, scans[pick(rng)], rng, parts);
    loss.backward();
    torch::nn::utils::clip_grad_norm_(net->parameters(), 1.0);
    optimizer.step();
    if (averaging) move_weights(*net, *average, 1.0 - s.average_decay);
    loss_sum += loss.item<double>();
    dist_sum += parts.dist;
    equiv_sum += parts.equiv;
    if ((step + 1) % kLogEvery == 0) {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::cout << "step " << step + 1 << " loss " << loss_sum / kLogEvery << " dist " << dist_sum / kLogEvery
                << " equiv " << equiv_sum / kLogEvery << " s/step " << seconds / kLogEvery << std::endl;
      loss_sum = dist_sum = equiv_sum = 0;
      start = std::chrono::steady_clock::now();
    }
    if ((step + 1) % s.checkpoint_every == 0 || step + 1 == s.steps) {
      net->eval();
      model.impl().ape = net;
      model.save(latest.string());
      if (averaging) {
        model.impl().ape = average;
        model.save(average_file.string());
      }
      const fs::path tmp = optimizer_file.string() + ".tmp";
      torch::save(optimizer, tmp.string());
      fs::rename(tmp, optimizer_file);
      write_state(state, step + 1, s);
      net->train();
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train the anatomical positional embedding network and write it into a copy of a model file",
               "slicenav-train-ape"};
  Settings s;
  s.data = SLICENAV_DEFAULT_DATA_DIR;
  app.add_option("--model", s.model, "model file to add the network to")->required();
  app.add_option("--data", s.data, "data folder with cases.tsv");
  app.add_option("--sets", s.sets, "cases.tsv sets to train on (default: ct hn ood pairs)");
  app.add_option("--out", s.out, "output folder: latest.snm, optimizer.pt and state.json")->required();
  app.add_option("--steps", s.steps, "optimisation steps")->check(CLI::PositiveNumber);
  app.add_option("--threads", s.threads, "LibTorch threads")->check(CLI::PositiveNumber);
  app.add_option("--checkpoint-every", s.checkpoint_every, "steps between checkpoints")->check(CLI::PositiveNumber);
  app.add_option("--lr", s.lr, "learning rate (AdamW, constant)")->check(CLI::PositiveNumber);
  app.add_option("--seed", s.seed, "seed of initialisation and sampling");
  app.add_option("--average-decay", s.average_decay,
                 "also write OUT/average.snm: the weights' exponential moving average with this decay per step "
                 "(0 < D < 1; 0: off)")
      ->check([](const std::string& text) {
        double d = -1;
        try {
          d = std::stod(text);
        } catch (const std::exception&) {
        }
        return d >= 0 && d < 1 ? std::string() : std::string("must be 0 (off) or in (0, 1)");
      });
  app.add_flag("--resume", s.resume,
               "continue from OUT/latest.snm, OUT/optimizer.pt, OUT/state.json (and OUT/average.snm)");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(s);
  } catch (const std::exception& e) {
    std::cerr << "slicenav-train-ape: " << e.what() << "\n";
    return 1;
  }
}

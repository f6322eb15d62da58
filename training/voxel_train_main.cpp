// slicenav-train-voxel: trains the voxel embedding network that rigid prealignment matches points with
// (core/include/slicenav/rigid.hpp; seed universal-anatomical-embedding, SAM) and writes it into a copy of
// a model file.
//
//   slicenav-train-voxel --model models/default.snm --data ../shared/data --out runs/voxel [--steps N]
//                        [--threads N] [--seed S] [--resume]
//
// Self-supervised, on the model's own training cases (metadata training.training_cases; the validation
// patients stay unseen), sets "ct" and "hn", each resampled once onto a 4 mm world grid. A step takes two
// views of a scan: view A, an axis-aligned cube of 48 voxels around a random body voxel, and view B, the
// same size, rotated (up to 25 degrees about z, 15 about x and y), shifted up to 40 mm and with its
// intensities jittered. For up to 256 body voxels of A's output grid that B also shows, the embedding at
// the same anatomy in B is the positive and every B output voxel more than 16 mm from it a negative
// (InfoNCE, temperature 0.1). Adam, cosine learning rate. Every --checkpoint-every steps the model file
// with the network is written to OUT/latest.snm (atomically) with OUT/state.json; --resume continues from
// them. The log prints the loss and the share of anchors whose nearest B voxel lies within 12 mm.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "dataset.hpp"
#include "slice_network.hpp"
#include "slicenav/error.hpp"
#include "slicenav/io.hpp"
#include "slicenav/model.hpp"
#include "slicenav/rigid.hpp"
#include "voxel_network.hpp"

namespace {

using nlohmann::json;
using namespace slicenav;
namespace fs = std::filesystem;

constexpr std::int64_t kCrop = 48;  // input voxels per side of a view
constexpr std::int64_t kAnchors = 256;
constexpr double kMaxYawDeg = 25.0, kMaxTiltDeg = 15.0, kMaxShiftMm = 40.0;
constexpr double kNegativeMm = 16.0, kHitMm = 12.0;
constexpr double kTemperature = 0.1;
constexpr int kScansPerStep = 2;

struct Settings {
  std::string model, data, out;
  int steps = 4000, threads = 2, checkpoint_every = 250;
  double lr = 1e-3;
  std::uint64_t seed = 1;
  bool resume = false;
};

// One scan on its 4 mm world grid: [1, 1, Z, Y, X] in [-1, 1], and its body voxels' world positions.
struct Scan {
  std::string case_id;
  torch::Tensor input;
  Vec3 origin{0, 0, 0};
  std::array<std::int64_t, 3> size{0, 0, 0};  // x, y, z
  std::vector<Vec3> body;
};

Scan load_scan(const std::string& case_id, const std::string& path, const slicenav::detail::VoxelNetConfig& c) {
  const WorldGrid g = resample_to_world_grid(read_volume(path), c.voxel_mm);
  Scan s;
  s.case_id = case_id;
  s.origin = g.origin;
  s.size = {static_cast<std::int64_t>(g.size[0]), static_cast<std::int64_t>(g.size[1]),
            static_cast<std::int64_t>(g.size[2])};
  auto hu =
      torch::from_blob(const_cast<float*>(g.values.data()), {1, 1, s.size[2], s.size[1], s.size[0]}, torch::kFloat);
  s.input = (((hu.clamp(c.hu_low, c.hu_high) - c.hu_low) / (c.hu_high - c.hu_low)) * 2.0 - 1.0).clone();
  for (std::size_t z = 0; z < g.size[2]; z += 2) {
    for (std::size_t y = 0; y < g.size[1]; y += 2) {
      for (std::size_t x = 0; x < g.size[0]; x += 2) {
        if (g.values[x + g.size[0] * (y + g.size[1] * z)] > -500.0f) {
          s.body.push_back(g.world({static_cast<double>(x), static_cast<double>(y), static_cast<double>(z)}));
        }
      }
    }
  }
  return s;
}

// Offsets (mm) from a view's centre of its input voxels (step 1) or of its output voxels (step 2, output
// voxel v at input voxel 2v) along one axis.
torch::Tensor view_offsets(double spacing, int step) {
  return torch::arange(0, kCrop, step, torch::kFloat).sub((kCrop - 1) / 2.0).mul(spacing);
}

// World positions of a view's voxels, [n, n, n, 3] for n offsets (z, y, x order of the voxels; x, y, z
// coordinates): centre + R * offset.
torch::Tensor view_points(const Vec3& centre, const torch::Tensor& rotation, const torch::Tensor& r) {
  const std::int64_t n = r.size(0);
  const auto grids = torch::meshgrid({r, r, r}, "ij");  // z, y, x
  const auto offsets = torch::stack({grids[2], grids[1], grids[0]}, -1).reshape({-1, 3});
  const auto c = torch::tensor({centre[0], centre[1], centre[2]}, torch::kFloat);
  return (torch::matmul(offsets, rotation.t()) + c).reshape({n, n, n, 3});
}

// Samples the scan at world points [n, n, n, 3]; outside it reads as air (-1).
torch::Tensor sample(const Scan& s, const torch::Tensor& points, double spacing) {
  const auto origin = torch::tensor({s.origin[0], s.origin[1], s.origin[2]}, torch::kFloat);
  const auto extent = torch::tensor(
      {static_cast<float>(s.size[0] - 1), static_cast<float>(s.size[1] - 1), static_cast<float>(s.size[2] - 1)});
  const auto grid = ((points - origin) / spacing / extent.clamp_min(1.0f)) * 2.0 - 1.0;
  namespace F = torch::nn::functional;
  return F::grid_sample(
             s.input + 1.0, grid.unsqueeze(0),
             F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kZeros).align_corners(true)) -
         1.0;
}

torch::Tensor random_rotation(std::mt19937_64& rng) {
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  const double deg = M_PI / 180.0;
  const Mat3 r = rotation_matrix({u(rng) * kMaxTiltDeg * deg, u(rng) * kMaxTiltDeg * deg, u(rng) * kMaxYawDeg * deg});
  return torch::tensor(std::vector<float>(r.begin(), r.end()), torch::kFloat).reshape({3, 3});
}

struct StepResult {
  torch::Tensor loss;
  double hits = 0;
};

StepResult view_pair_loss(slicenav::detail::VoxelNetImpl& net, const Scan& s, std::mt19937_64& rng) {
  const double spacing = net.config.voxel_mm;
  std::uniform_int_distribution<std::size_t> pick(0, s.body.size() - 1);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  const Vec3 ca = s.body[pick(rng)];
  const Vec3 cb{ca[0] + u(rng) * kMaxShiftMm, ca[1] + u(rng) * kMaxShiftMm, ca[2] + u(rng) * kMaxShiftMm};
  const torch::Tensor identity = torch::eye(3), rotation = random_rotation(rng);
  const torch::Tensor a = sample(s, view_points(ca, identity, view_offsets(spacing, 1)), spacing);
  torch::Tensor b = sample(s, view_points(cb, rotation, view_offsets(spacing, 1)), spacing);
  b = b * (1.0 + 0.1 * u(rng)) + 0.05 * u(rng) + 0.02 * torch::randn_like(b);
  const torch::Tensor ea = net.forward(a)[0], eb = net.forward(b)[0];  // [D, n, n, n], n = kCrop / 2
  const std::int64_t n = ea.size(1), dim = ea.size(0);
  const torch::Tensor out_points = view_points(ca, identity, view_offsets(spacing, 2)).reshape({-1, 3});
  const torch::Tensor a_input = a[0][0]
                                    .index({torch::indexing::Slice(0, torch::indexing::None, 2),
                                            torch::indexing::Slice(0, torch::indexing::None, 2),
                                            torch::indexing::Slice(0, torch::indexing::None, 2)})
                                    .reshape({-1});
  // Their place in B's output grid (fractional index, x y z).
  const auto cbt = torch::tensor({cb[0], cb[1], cb[2]}, torch::kFloat);
  const torch::Tensor in_b = torch::matmul(out_points - cbt, rotation) / (2 * spacing) + (kCrop - 1) / 4.0;
  const double margin = 1.0;
  const torch::Tensor usable = (a_input > -0.5) & (in_b.ge(margin).all(1)) & (in_b.le(n - 1 - margin).all(1));
  torch::Tensor idx = torch::nonzero(usable).reshape({-1});
  if (idx.numel() < 8) return {torch::zeros({}), -1.0};
  idx = idx.index({torch::randperm(idx.numel()).narrow(0, 0, std::min<std::int64_t>(kAnchors, idx.numel()))});
  const torch::Tensor anchors = ea.reshape({dim, -1}).t().index_select(0, idx);  // [K, D]
  const torch::Tensor where = in_b.index_select(0, idx);                         // [K, 3]
  const torch::Tensor grid = (where / static_cast<double>(n - 1) * 2.0 - 1.0).reshape({1, -1, 1, 1, 3});
  namespace F = torch::nn::functional;
  torch::Tensor positives =
      F::grid_sample(eb.unsqueeze(0), grid, F::GridSampleFuncOptions().mode(torch::kBilinear).align_corners(true))
          .reshape({dim, -1})
          .t();
  positives = F::normalize(positives, F::NormalizeFuncOptions().dim(1));
  const torch::Tensor candidates = eb.reshape({dim, -1}).t();  // [n^3, D]
  // B output voxel positions in B's index frame, to exclude those near each positive.
  const auto r = torch::arange(n, torch::kFloat);
  const auto g = torch::meshgrid({r, r, r}, "ij");
  const torch::Tensor b_index = torch::stack({g[2], g[1], g[0]}, -1).reshape({-1, 3});
  const torch::Tensor distance = torch::cdist(where, b_index) * (2 * spacing);  // [K, n^3] mm
  torch::Tensor negatives = torch::matmul(anchors, candidates.t());
  const torch::Tensor hits = (distance.gather(1, negatives.argmax(1, true)) <= kHitMm).to(torch::kFloat).mean();
  negatives = negatives.masked_fill(distance < kNegativeMm, -1e4);
  const torch::Tensor logits = torch::cat({(anchors * positives).sum(1, true), negatives}, 1) / kTemperature;
  const torch::Tensor target = torch::zeros({logits.size(0)}, torch::kLong);
  return {F::cross_entropy(logits, target), hits.item<double>()};
}

int run(const Settings& s) {
  torch::set_num_threads(std::max(1, s.threads));
  Model model = Model::load(s.model);
  const std::set<std::string> trained = training::model_training_cases(model);
  if (trained.empty()) {
    fail(Status::invalid_argument, s.model + " records no training cases (metadata training.training_cases)");
  }
  fs::create_directories(s.out);
  const slicenav::detail::VoxelNetConfig config;
  torch::manual_seed(s.seed);
  slicenav::detail::VoxelNet net(config);
  int first_step = 0;
  const fs::path latest = fs::path(s.out) / "latest.snm", state = fs::path(s.out) / "state.json";
  if (s.resume && fs::exists(latest) && fs::exists(state)) {
    const Model resumed = Model::load(latest.string());
    if (!resumed.has_voxel_network()) fail(Status::model_format, latest.string() + " holds no voxel network");
    net = resumed.impl().voxel;
    std::ifstream in(state);
    first_step = json::parse(in).at("step").get<int>();
    std::cerr << "resuming at step " << first_step << "\n";
  }
  net->train();

  std::vector<Scan> scans;
  for (const auto& c : training::read_cases(s.data, {"ct", "hn"})) {
    if (trained.count(c.case_id) == 0) continue;
    const fs::path file = fs::path(c.path) / "ct.nii.gz";
    if (!fs::exists(file)) continue;
    Scan scan = load_scan(c.case_id, file.string(), config);
    if (scan.body.empty()) continue;
    std::cerr << "scan " << scan.case_id << ": " << scan.size[0] << "x" << scan.size[1] << "x" << scan.size[2] << "\n";
    scans.push_back(std::move(scan));
  }
  if (scans.empty()) fail(Status::not_found, "no training case of " + s.model + " found in " + s.data);

  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(s.lr));
  std::mt19937_64 rng(s.seed + static_cast<std::uint64_t>(first_step));
  std::uniform_int_distribution<std::size_t> pick(0, scans.size() - 1);
  double loss_sum = 0, hit_sum = 0;
  int logged = 0;
  auto start = std::chrono::steady_clock::now();
  for (int step = first_step; step < s.steps; ++step) {
    const double lr = 1e-5 + 0.5 * (s.lr - 1e-5) * (1 + std::cos(M_PI * step / s.steps));
    for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
    optimizer.zero_grad();
    torch::Tensor loss = torch::zeros({});
    int used = 0;
    for (int k = 0; k < kScansPerStep; ++k) {
      StepResult r = view_pair_loss(*net, scans[pick(rng)], rng);
      if (r.hits < 0) continue;
      loss = loss + r.loss;
      hit_sum += r.hits;
      ++used;
    }
    if (used == 0) continue;
    loss = loss / used;
    loss.backward();
    optimizer.step();
    loss_sum += loss.item<double>();
    logged += used;
    if ((step + 1) % 50 == 0) {
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::cout << "step " << step + 1 << " loss " << loss_sum / 50 << " hits " << hit_sum / logged << " lr " << lr
                << " s/step " << seconds / 50 << std::endl;
      loss_sum = hit_sum = 0;
      logged = 0;
      start = std::chrono::steady_clock::now();
    }
    if ((step + 1) % s.checkpoint_every == 0 || step + 1 == s.steps) {
      net->eval();
      model.impl().voxel = net;
      model.save(latest.string());
      const fs::path tmp = state.string() + ".tmp";
      std::ofstream(tmp) << json{{"step", step + 1}, {"steps", s.steps}, {"seed", s.seed}}.dump() << "\n";
      fs::rename(tmp, state);
      net->train();
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train the voxel embedding network for rigid prealignment and write it into a copy of a model file",
               "slicenav-train-voxel"};
  Settings s;
  s.data = SLICENAV_DEFAULT_DATA_DIR;
  app.add_option("--model", s.model, "model file to add the network to (its training cases are used)")->required();
  app.add_option("--data", s.data, "data folder with cases.tsv");
  app.add_option("--out", s.out, "output folder: latest.snm and state.json")->required();
  app.add_option("--steps", s.steps, "optimisation steps")->check(CLI::PositiveNumber);
  app.add_option("--threads", s.threads, "LibTorch threads")->check(CLI::PositiveNumber);
  app.add_option("--checkpoint-every", s.checkpoint_every, "steps between checkpoints")->check(CLI::PositiveNumber);
  app.add_option("--lr", s.lr, "peak learning rate (Adam, cosine)")->check(CLI::PositiveNumber);
  app.add_option("--seed", s.seed, "seed of initialisation and sampling");
  app.add_flag("--resume", s.resume, "continue from OUT/latest.snm and OUT/state.json");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(s);
  } catch (const std::exception& e) {
    std::cerr << "slicenav-train-voxel: " << e.what() << "\n";
    return 1;
  }
}

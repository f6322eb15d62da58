// Crash-safe batches: a `slicenav score --batch` run killed with SIGKILL at random moments leaves no partial or
// corrupt output, and running it again until it finishes gives exactly the outputs of an uninterrupted run.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "run_process.hpp"
#include "slicenav/io.hpp"
#include "slicenav/phantom.hpp"

namespace fs = std::filesystem;

namespace slicenav::test {
namespace {

// The visible files of `dir` (name -> bytes); hidden ones (writers' temporaries) are counted apart.
std::map<std::string, std::string> outputs(const fs::path& dir, std::size_t* hidden = nullptr) {
  std::map<std::string, std::string> files;
  if (hidden != nullptr) *hidden = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name.front() == '.') {
      if (hidden != nullptr) ++*hidden;
    } else {
      files[name] = read_text(entry.path());
    }
  }
  return files;
}

std::vector<std::string> score_batch(const fs::path& cases, const fs::path& out) {
  return {"score", "--batch", cases.string(), "-o", out.string(), "--threads", "1"};
}

}  // namespace

TEST(CrashSafeBatch, KilledAtRandomMomentsThenRerunGivesTheUninterruptedOutputs) {
  const fs::path dir = fs::path(SLICENAV_TEST_TMP) / "crash_safe_batch";
  fs::remove_all(dir);
  for (const char* sub : {"cases", "reference", "killed"}) fs::create_directories(dir / sub);
  for (int i = 0; i < 8; ++i) {
    PhantomOptions options;
    options.size = {48, 48, static_cast<std::size_t>(30 + 5 * i)};
    options.spacing = {8.0, 8.0, 8.0};
    options.top_z_mm = -20.0 * i;
    options.noise_hu = 5.0;
    options.seed = static_cast<std::uint64_t>(i + 1);
    write_volume(make_phantom(options).volume, (dir / "cases" / ("case" + std::to_string(i) + ".nii.gz")).string());
  }
  const Outcome reference = run_process(SLICENAV_CLI_PATH, score_batch(dir / "cases", dir / "reference"), dir);
  ASSERT_EQ(reference.exit_code, 0) << reference.err;
  const auto expected = outputs(dir / "reference");
  ASSERT_EQ(expected.size(), 8u);

  // Each trial starts from an empty output folder, kills the batch at a random moment of an uninterrupted run's
  // duration (model loading, reading, inference or writing), then reruns it, killing again now and then, until it
  // finishes. Kill moments scale with the measured duration, so a faster or slower machine tests the same phases.
  const int run_ms = static_cast<int>(1000.0 * reference.wall_seconds);
  std::mt19937 rng(20261202);
  std::uniform_int_distribution<int> moment_ms(std::max(5, run_ms / 40), std::max(10, run_ms * 3 / 4));
  std::bernoulli_distribution kill_rerun(0.5);
  constexpr int kTrials = 8;
  int kills = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    fs::remove_all(dir / "killed");
    fs::create_directories(dir / "killed");
    bool finished = false;
    for (int runs = 0; !finished; ++runs) {
      ASSERT_LT(runs, 20) << "the batch never finished in trial " << trial;
      Limits limits;
      limits.kill_after_ms = (runs == 0 || (runs < 10 && kill_rerun(rng))) ? moment_ms(rng) : 0;
      const Outcome outcome = run_process(SLICENAV_CLI_PATH, score_batch(dir / "cases", dir / "killed"), dir, limits);
      finished = outcome.exit_code == 0;
      kills += outcome.signal == SIGKILL;
      ASSERT_TRUE(finished || outcome.signal == SIGKILL) << "exit " << outcome.exit_code << ": " << outcome.err;
      // Whatever is visible after a kill is a complete output, identical to the uninterrupted run's.
      for (const auto& [name, bytes] : outputs(dir / "killed")) {
        ASSERT_EQ(expected.count(name), 1u) << name;
        EXPECT_EQ(bytes, expected.at(name)) << name << " is partial or differs after run " << runs;
      }
    }
    std::size_t hidden = 0;
    EXPECT_EQ(outputs(dir / "killed", &hidden), expected) << "trial " << trial;
    EXPECT_EQ(hidden, 0u) << "temporary files left behind in trial " << trial;
  }
  // A kill moment can fall after a run that went faster than the reference; most must land inside the run.
  EXPECT_GE(kills, kTrials / 2) << "too few runs were killed to test anything (reference run " << run_ms << " ms)";
}

}  // namespace slicenav::test

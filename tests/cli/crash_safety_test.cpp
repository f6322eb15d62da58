// Crash-safe batches: a `slicenav score --batch` run killed with SIGKILL at random moments leaves no partial or
// corrupt output, and running it again until it finishes gives exactly the outputs of an uninterrupted run.
#include <gtest/gtest.h>

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

  std::mt19937 rng(20261202);
  // Kill moments spread over model loading, reading, inference and writing.
  std::uniform_int_distribution<int> moment_ms(30, 1200);
  int kills = 0, runs = 0;
  for (bool finished = false; !finished; ++runs) {
    ASSERT_LT(runs, 60) << "the batch never finished";
    Limits limits;
    limits.kill_after_ms = runs < 40 ? moment_ms(rng) : 0;  // then let it finish
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
  EXPECT_GE(kills, 5) << "too few runs were killed to test anything";
  std::size_t hidden = 0;
  EXPECT_EQ(outputs(dir / "killed", &hidden), expected);
  EXPECT_EQ(hidden, 0u) << "temporary files left behind";
}

}  // namespace slicenav::test

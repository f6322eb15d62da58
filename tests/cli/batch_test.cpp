// Batch mode of the command-line tool (bindings/cli/batch.cpp): case listing, shards, the resumable runner
// and the shared --batch/--shard flags. Needs neither the library nor a model.
#include "batch.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "temp_dir_test.hpp"

namespace slicenav::cli {
namespace {

namespace fs = std::filesystem;

using BatchTest = test::TempDirTest;

std::vector<std::string> names_of(const std::vector<BatchCase>& cases) {
  std::vector<std::string> names;
  for (const BatchCase& c : cases) names.push_back(c.name);
  return names;
}

std::vector<BatchCase> make_cases(std::size_t n) {
  std::vector<BatchCase> cases;
  for (std::size_t c = 0; c < n; ++c) cases.push_back({"in/" + std::to_string(c), "case" + std::to_string(c)});
  return cases;
}

// The message of the std::runtime_error f() throws ("" when it throws none).
template <typename F>
std::string runtime_error_of(F f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return {};
}

using BatchList = BatchTest;

TEST_F(BatchList, ListKeepsOrderSkipsCommentsAndResolvesRelativePathsAgainstTheList) {
  const std::string absolute = (dir_ / "elsewhere" / "abs.mha").string();
  mkdir("lists/dicom/series1");
  const std::string list = write("lists/cases.txt",
                                 "# training cases\n"
                                 "\n"
                                 "  ../images/zeta.nii.gz  \n"
                                 "   # indented comment\n" +
                                     absolute +
                                     "\n"
                                     "dicom/series1/\n"
                                     "crlf.NRRD\r\n"
                                     "\t\n"
                                     "missing.nhdr");
  const std::vector<BatchCase> cases = list_batch_cases(list);
  ASSERT_EQ(cases.size(), 5u);
  EXPECT_EQ(cases[0].input, (dir_ / "lists" / "../images/zeta.nii.gz").string());
  EXPECT_EQ(cases[1].input, absolute);
  EXPECT_EQ(cases[2].input, (dir_ / "lists" / "dicom/series1/").string());
  EXPECT_EQ(cases[3].input, (dir_ / "lists" / "crlf.NRRD").string());
  // Entries need not exist (only series1 does): a missing one fails later, as its own case.
  EXPECT_EQ(names_of(cases), (std::vector<std::string>{"zeta", "abs", "series1", "crlf", "missing"}));
}

TEST_F(BatchList, DirectoryListsImagesAndDicomDirectoriesSortedByName) {
  for (const char* name : {"f.nhdr", "b.nii.gz", "e.nrrd", "a.NII", "d.mhd", "d.raw", "c.mha", "notes.txt",
                           "scan.nii.gz.json", ".hidden.nii.gz"}) {
    write(std::string("images/") + name);
  }
  mkdir("images/series_z");
  mkdir("images/series.1.2");  // a DICOM directory keeps its whole name, dots included
  mkdir("images/.cache");
  const std::vector<BatchCase> cases = list_batch_cases((dir_ / "images").string());
  EXPECT_EQ(names_of(cases), (std::vector<std::string>{"a", "b", "c", "d", "e", "f", "series.1.2", "series_z"}));
  ASSERT_EQ(cases.size(), 8u);
  EXPECT_EQ(cases[1].input, (dir_ / "images" / "b.nii.gz").string());
  EXPECT_EQ(cases[7].input, (dir_ / "images" / "series_z").string());
}

TEST_F(BatchList, CasesWithTheSameNameAreRejected) {
  write("images/ct.nii");
  write("images/ct.nii.gz");
  const std::string from_dir = runtime_error_of([&] { list_batch_cases((dir_ / "images").string()); });
  EXPECT_NE(from_dir.find("same name 'ct'"), std::string::npos) << from_dir;
  EXPECT_NE(from_dir.find("ct.nii.gz"), std::string::npos) << from_dir;

  const std::string list = write("cases.txt", "p1/ct.nii.gz\np2/ct.mha\n");
  const std::string from_list = runtime_error_of([&] { list_batch_cases(list); });
  EXPECT_NE(from_list.find("same name 'ct'"), std::string::npos) << from_list;
  EXPECT_NE(from_list.find("p1/ct.nii.gz"), std::string::npos) << from_list;
  EXPECT_NE(from_list.find("p2/ct.mha"), std::string::npos) << from_list;
}

TEST_F(BatchList, MissingPathIsNotFound) {
  const std::string missing = (dir_ / "no-such-list.txt").string();
  try {
    list_batch_cases(missing);
    FAIL() << "no error for a missing path";
  } catch (const BatchNotFoundError& e) {
    EXPECT_NE(std::string(e.what()).find(missing), std::string::npos) << e.what();
  }
}

TEST_F(BatchList, EmptyListOrDirectoryIsAnError) {
  const std::string list = write("cases.txt", "# nothing yet\n\n");
  EXPECT_NE(runtime_error_of([&] { list_batch_cases(list); }).find("names no image"), std::string::npos);
  write("images/notes.txt");
  EXPECT_NE(runtime_error_of([&] { list_batch_cases((dir_ / "images").string()); }).find("holds no image"),
            std::string::npos);
}

// Found by fuzz_batch_list: a line "/" made a case with an empty name, whose output would be the folder itself.
TEST_F(BatchList, LinesThatNameNoFileOrHoldControlCharactersAreRejected) {
  for (const char* line : {"/", ".", "..", "/tmp/..", "a\x01b.nii.gz"}) {
    const std::string list = write("cases.txt", std::string(line) + "\n");
    const std::string message = runtime_error_of([&] { list_batch_cases(list); });
    EXPECT_TRUE(message.find("no name") != std::string::npos || message.find("control characters") != std::string::npos)
        << line << ": " << message;
  }
}

TEST(BatchShard, ParsesZeroBasedIndexOfCount) {
  const Shard all = parse_shard("0/1");
  EXPECT_EQ(all.index, 0u);
  EXPECT_EQ(all.count, 1u);
  const Shard last = parse_shard("9/10");
  EXPECT_EQ(last.index, 9u);
  EXPECT_EQ(last.count, 10u);
}

TEST(BatchShard, RejectsMalformedOrOutOfRangeText) {
  for (const char* text : {"2/2", "5/3", "a/b", "1/0", "0/0", "-1/3", "+1/3", " 1/3", "1/3 ", "3", "", "/3", "1/",
                           "1/3/4", "0x1/3", "1.0/3", "99999999999999999999999/1"}) {
    try {
      parse_shard(text);
      ADD_FAILURE() << "accepted '" << text << "'";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + text + "'"), std::string::npos) << e.what();
    }
  }
}

TEST(BatchShard, ShardsPartitionTheCasesByCaseNumberModuloCount) {
  const std::vector<BatchCase> cases = make_cases(10);
  for (const std::size_t count : {1u, 2u, 3u, 4u, 7u, 10u, 13u}) {
    std::multiset<std::string> seen;
    for (std::size_t index = 0; index < count; ++index) {
      const std::vector<BatchCase> shard = select_shard(cases, {index, count});
      for (std::size_t k = 0; k < shard.size(); ++k) {
        // The k-th case of shard `index` is case number index + k * count: in order, by c % count.
        EXPECT_EQ(shard[k].name, cases[index + k * count].name) << "shard " << index << "/" << count;
        seen.insert(shard[k].name);
      }
    }
    EXPECT_EQ(seen.size(), cases.size()) << "count " << count;
    for (const BatchCase& c : cases) EXPECT_EQ(seen.count(c.name), 1u) << c.name << ", count " << count;
  }
  EXPECT_TRUE(select_shard(make_cases(3), {4, 5}).empty());
}

using BatchRun = BatchTest;

TEST_F(BatchRun, SkipsExistingOutputsAndGoesOnAfterFailuresThenResumes) {
  const std::vector<BatchCase> cases = {{"in/a", "a"}, {"in/b", "b"}, {"in/c", "c"}, {"in/d", "d"}, {"in/e", "e"}};
  const auto output_for = [this](const BatchCase& c) { return (dir_ / (c.name + ".json")).string(); };
  write("a.json", "{}");

  std::vector<std::string> processed;
  const auto process = [&](const BatchCase& c, std::string* error) {
    processed.push_back(c.name);
    if (c.name == "c") {
      *error = "not found: 'in/c' does not exist";
      return 2;
    }
    if (c.name == "d") throw std::runtime_error("out of memory");
    write(c.name + ".json", "{}");
    return 0;
  };
  std::ostringstream log;
  const BatchSummary first = run_batch(cases, output_for, process, log);
  EXPECT_EQ(processed, (std::vector<std::string>{"b", "c", "d", "e"}));
  EXPECT_EQ(first.done, 2u);
  EXPECT_EQ(first.skipped, 1u);
  EXPECT_EQ(first.failed, 2u);
  const std::vector<std::pair<std::string, std::string>> failures = {{"c", "not found: 'in/c' does not exist"},
                                                                     {"d", "out of memory"}};
  EXPECT_EQ(first.failures, failures);
  EXPECT_EQ(batch_exit_code(first), kBatchFailedExitCode);

  const std::string text = log.str();
  for (const char* line : {"[1/5] a: skipped (output exists)\n", "[2/5] b: ok (",
                           "[3/5] c: FAILED: not found: 'in/c' does not exist\n", "[4/5] d: FAILED: out of memory\n",
                           "[5/5] e: ok (", "batch: 2 done, 1 skipped, 2 failed of 5 cases; failed: c, d\n"}) {
    EXPECT_NE(text.find(line), std::string::npos) << "missing '" << line << "' in:\n" << text;
  }

  // Running again retries only what has no output yet.
  processed.clear();
  const auto fixed = [&](const BatchCase& c, std::string*) {
    processed.push_back(c.name);
    write(c.name + ".json", "{}");
    return 0;
  };
  std::ostringstream again;
  const BatchSummary second = run_batch(cases, output_for, fixed, again);
  EXPECT_EQ(processed, (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(second.done, 2u);
  EXPECT_EQ(second.skipped, 3u);
  EXPECT_EQ(second.failed, 0u);
  EXPECT_EQ(batch_exit_code(second), 0);
  EXPECT_NE(again.str().find("batch: 2 done, 3 skipped, 0 failed of 5 cases\n"), std::string::npos) << again.str();
}

TEST_F(BatchRun, SuccessWithoutOutputAndUnexplainedFailuresStillFailWithAMessage) {
  const std::vector<BatchCase> cases = {{"in/silent", "silent"}, {"in/code", "code"}, {"in/odd", "odd"}};
  const auto output_for = [this](const BatchCase& c) { return (dir_ / (c.name + ".json")).string(); };
  const auto process = [](const BatchCase& c, std::string*) {
    if (c.name == "odd") throw 42;
    return c.name == "code" ? 7 : 0;  // "silent" returns 0 but writes nothing
  };
  std::ostringstream log;
  const BatchSummary summary = run_batch(cases, output_for, process, log);
  EXPECT_EQ(summary.done, 0u);
  EXPECT_EQ(summary.failed, 3u);
  ASSERT_EQ(summary.failures.size(), 3u);
  EXPECT_NE(summary.failures[0].second.find(output_for(cases[0])), std::string::npos) << summary.failures[0].second;
  EXPECT_EQ(summary.failures[1].second, "exit code 7");
  EXPECT_EQ(summary.failures[2].second, "unknown exception");
  EXPECT_NE(log.str().find("[1/3] silent: FAILED: reported success but wrote no"), std::string::npos) << log.str();
}

TEST_F(BatchRun, JobsRunCasesAtOnceEachOnceWithTheSummaryInCaseOrder) {
  std::vector<BatchCase> cases;
  for (const char* name : {"a", "b", "c", "d", "e", "f", "g"}) cases.push_back({std::string("in/") + name, name});
  const auto output_for = [this](const BatchCase& c) { return (dir_ / (c.name + ".json")).string(); };
  write("d.json", "{}");

  constexpr int kJobs = 3;
  std::mutex mutex;
  std::condition_variable changed;
  int running = 0;
  int peak = 0;
  std::multiset<std::string> processed;
  const auto process = [&](const BatchCase& c, std::string* error) {
    {
      std::unique_lock<std::mutex> lock(mutex);
      processed.insert(c.name);
      peak = std::max(peak, ++running);
      changed.notify_all();
      // Hold the first cases until kJobs run at once (one job at a time would wait here in vain).
      changed.wait_for(lock, std::chrono::seconds(20), [&] { return peak >= kJobs; });
      --running;
    }
    if (c.name == "b" || c.name == "f") {
      *error = "invalid argument: " + c.name + " is broken";
      return 1;
    }
    write(c.name + ".json", "{}");
    return 0;
  };
  std::ostringstream log;
  const BatchSummary summary = run_batch(cases, output_for, process, log, kJobs);
  EXPECT_EQ(peak, kJobs);
  EXPECT_EQ(processed, (std::multiset<std::string>{"a", "b", "c", "e", "f", "g"}));
  EXPECT_EQ(summary.done, 4u);
  EXPECT_EQ(summary.skipped, 1u);
  EXPECT_EQ(summary.failed, 2u);
  const std::vector<std::pair<std::string, std::string>> failures = {{"b", "invalid argument: b is broken"},
                                                                     {"f", "invalid argument: f is broken"}};
  EXPECT_EQ(summary.failures, failures);

  // One line per case, numbered 1..7 in the order they finished, then the summary.
  const std::string text = log.str();
  for (int i = 1; i <= 7; ++i) {
    const std::string number = "[" + std::to_string(i) + "/7] ";
    EXPECT_EQ(text.find(number), text.rfind(number)) << number << " twice in:\n" << text;
    EXPECT_NE(text.find(number), std::string::npos) << number << " missing in:\n" << text;
  }
  for (const char* part : {"] d: skipped (output exists)\n", "] b: FAILED: invalid argument: b is broken\n",
                           "] g: ok (", "batch: 4 done, 1 skipped, 2 failed of 7 cases; failed: b, f\n"}) {
    EXPECT_NE(text.find(part), std::string::npos) << "missing '" << part << "' in:\n" << text;
  }

  // More jobs than cases: every case still runs once.
  processed.clear();
  peak = 3;  // no waiting
  std::ostringstream again;
  const BatchSummary rerun = run_batch(cases, output_for, process, again, 16);
  EXPECT_EQ(processed, (std::multiset<std::string>{"b", "f"}));
  EXPECT_EQ(rerun.skipped, 5u);
  EXPECT_EQ(rerun.failed, 2u);
}

TEST(BatchRunEmpty, EmptyShardSucceeds) {
  std::ostringstream log;
  const BatchSummary summary = run_batch(
      {}, [](const BatchCase&) { return std::string("unused"); }, [](const BatchCase&, std::string*) { return 1; },
      log);
  EXPECT_EQ(summary.done + summary.skipped + summary.failed, 0u);
  EXPECT_EQ(batch_exit_code(summary), 0);
  EXPECT_EQ(log.str(), "batch: 0 done, 0 skipped, 0 failed of 0 cases\n");
}

// A per-image command as the CLI builds one: a positional image plus the batch flags.
struct Command {
  CLI::App app{"test command", "cmd"};
  std::string input;
  BatchOptions batch;
  Command() { add_batch_options(app, app.add_option("input", input, "Image"), batch); }
};

TEST(BatchOptionsTest, SingleImageOrBatchWithShard) {
  Command single;
  single.app.parse("scan.nii.gz");
  EXPECT_EQ(single.input, "scan.nii.gz");
  EXPECT_FALSE(single.batch.enabled());

  Command batch;
  batch.app.parse("--batch cases.txt --shard 2/5");
  EXPECT_TRUE(batch.input.empty());
  EXPECT_TRUE(batch.batch.enabled());
  EXPECT_EQ(batch.batch.list_or_dir, "cases.txt");
  EXPECT_EQ(batch.batch.shard.index, 2u);
  EXPECT_EQ(batch.batch.shard.count, 5u);

  Command unsharded;
  unsharded.app.parse("--batch images/");
  EXPECT_EQ(unsharded.batch.shard.index, 0u);
  EXPECT_EQ(unsharded.batch.shard.count, 1u);
}

TEST(BatchOptionsTest, MisuseIsAUsageError) {
  const auto exit_code_of = [](const std::string& line) {
    Command command;
    try {
      command.app.parse(line);
    } catch (const CLI::ParseError& e) {
      return e.get_exit_code();
    }
    return 0;
  };
  EXPECT_EQ(exit_code_of(""), static_cast<int>(CLI::ExitCodes::RequiredError));                        // no input
  EXPECT_EQ(exit_code_of("scan.nii --batch l.txt"), static_cast<int>(CLI::ExitCodes::RequiredError));  // both
  EXPECT_EQ(exit_code_of("scan.nii --shard 0/2"), static_cast<int>(CLI::ExitCodes::RequiresError));
  EXPECT_EQ(exit_code_of("--batch l.txt --shard 2/2"), static_cast<int>(CLI::ExitCodes::ValidationError));
}

}  // namespace
}  // namespace slicenav::cli

// Runs a program as a child process the way a pipeline would: stdout discarded, stderr captured, killed after a time
// limit (a hang) or at a chosen moment (a crash), optionally with a file-size limit that makes writes fail as on a
// full disk.
#pragma once

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "file_text.hpp"

namespace slicenav::test {

struct Outcome {
  int exit_code = -1;  // -1 when ended by a signal
  int signal = 0;
  bool timed_out = false;
  double wall_seconds = 0.0;  // from start to exit or kill
  std::string err;
};

struct Limits {
  long file_size_bytes = 0;  // > 0: RLIMIT_FSIZE, so writes past it fail with EFBIG as on a full disk
  int seconds = 120;         // killed (and timed_out) after this long
  int kill_after_ms = 0;     // > 0: SIGKILL after this long, as a crash would (not a time-out)
};

// Runs `program` with `args`; stderr goes to scratch/stderr.txt and comes back in Outcome::err.
inline Outcome run_process(const std::string& program, const std::vector<std::string>& args,
                           const std::filesystem::path& scratch, const Limits& limits = {}) {
  const std::filesystem::path err_file = scratch / "stderr.txt";
  const pid_t pid = fork();
  if (pid == 0) {
    if (limits.file_size_bytes > 0) {
      signal(SIGXFSZ, SIG_IGN);
      rlimit limit{static_cast<rlim_t>(limits.file_size_bytes), static_cast<rlim_t>(limits.file_size_bytes)};
      setrlimit(RLIMIT_FSIZE, &limit);
    }
    if (!freopen("/dev/null", "w", stdout) || !freopen(err_file.c_str(), "w", stderr)) _exit(126);
    std::vector<char*> argv{const_cast<char*>(program.c_str())};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(program.c_str(), argv.data());
    _exit(127);
  }
  Outcome outcome;
  const auto start = std::chrono::steady_clock::now();
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    const auto elapsed = std::chrono::steady_clock::now() - start;
    const bool crash = limits.kill_after_ms > 0 && elapsed > std::chrono::milliseconds(limits.kill_after_ms);
    if (crash || elapsed > std::chrono::seconds(limits.seconds)) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      outcome.timed_out = !crash;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  outcome.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
  outcome.err = read_text(err_file);
  return outcome;
}

}  // namespace slicenav::test

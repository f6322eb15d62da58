// Running elastix and transformix as child processes: an argument vector (no shell), output to a file, a
// timeout.
#pragma once

#include <string>
#include <vector>

#include "slicenav.h"
#include "slicenav/plugin/error.hpp"

namespace slicenav::elastix {

// Every failure of the elastix plugin: a slicenav status and a message naming the problem.
using Error = plugin::Error;

struct ProcessResult {
  int exit_code = -1;      // the exit status when the process exited normally, else -1
  int signal = 0;          // the signal that ended it, else 0
  bool timed_out = false;  // killed (SIGKILL) after the timeout
  double seconds = 0.0;    // wall time
};

// Runs argv[0] (an absolute path to an executable) with argv, stdin from /dev/null and stdout and stderr
// into `output_path` (created or truncated). Waits at most timeout_s seconds (> 0), then kills it.
// Throws Error(IO) when the process cannot be started.
ProcessResult run_process(const std::vector<std::string>& argv, const std::string& output_path, double timeout_s);

// The absolute path of an executable file named `name`: `name` itself when it contains a '/', else the
// first match in $PATH. "" when there is none.
std::string find_executable(const std::string& name);

}  // namespace slicenav::elastix

// The command-line flags the benchmark harnesses share, on CLI11: each harness adds the ones it has to its
// CLI::App with these functions, so that a flag has the same name, meaning and range check in every
// harness, then parses with CLI11_PARSE (--help, and a clear message with a non-zero exit for an unknown
// flag, a missing value or a bad one).
#pragma once

#include <charconv>
#include <limits>
#include <string>
#include <system_error>

#include <CLI/CLI.hpp>

namespace slicenav::bench {

// For Option::transform: checks that a flag's value is a whole number (base 10) from `min` to T's largest,
// with a message that says so (CLI11's PositiveNumber names its range in doubles up to 1.8e308), and
// rewrites it in canonical form for CLI11's own conversion (which would read "010" as octal and "-1" as a
// huge unsigned number).
template <typename T>
CLI::Validator at_least(T min) {
  return CLI::Validator(
      [min](std::string& value) -> std::string {
        T n{};
        const char* end = value.data() + value.size();
        const auto [stop, error] = std::from_chars(value.data(), end, n);
        if (error != std::errc() || stop != end || n < min) {
          return "'" + value + "' is not a whole number from " + std::to_string(min) + " to " +
                 std::to_string(std::numeric_limits<T>::max());
        }
        value = std::to_string(n);
        return {};
      },
      ">=" + std::to_string(min));
}

// --runs N, at least 1; `what` says what one run is. The help shows the default, `runs` as given.
inline void add_runs_option(CLI::App& app, int& runs, const std::string& what) {
  app.add_option("--runs", runs, what + " (default " + std::to_string(runs) + ")")->transform(at_least(1));
}

// --threads N, at least 0: LibTorch intra-op threads (slicenav::set_inference_threads). The help shows the
// default, `threads` as given.
inline void add_threads_option(CLI::App& app, int& threads) {
  app.add_option("--threads", threads,
                 "LibTorch intra-op threads, 0 = hardware threads (default " + std::to_string(threads) + ")")
      ->transform(at_least(0));
}

// --runs N and --threads N of the harnesses that time calls in this process (time_calls, harness.hpp).
inline void add_timing_options(CLI::App& app, int& runs, int& threads) {
  add_runs_option(app, runs, "Timed calls per measurement, after one warm-up call");
  add_threads_option(app, threads);
}

// --model FILE; `fallback` says what runs without one.
inline void add_model_option(CLI::App& app, std::string& path, const std::string& fallback) {
  app.add_option("--model", path, "Model file (default: " + fallback + ")")->type_name("FILE");
}

// --data DIR, the real data directory (test_data.hpp's locator, through $SLICENAV_DATA).
inline void add_data_option(CLI::App& app, std::string& dir) {
  app.add_option("--data", dir, "Real data directory (default: $SLICENAV_DATA, else ../shared/data)")->type_name("DIR");
}

// --markdown FILE: also replace the section of FILE that starts with `heading` (replace_markdown_section).
inline void add_markdown_option(CLI::App& app, std::string& file, const std::string& heading) {
  app.add_option("--markdown", file, "Also replace the \"" + heading + "\" section of FILE (e.g. docs/benchmarks.md)")
      ->type_name("FILE");
}

}  // namespace slicenav::bench

// What the benchmark harnesses share for their sections of docs/benchmarks.md: replacing one "## "
// section of the file, and the machine and build notes every section opens with.
#pragma once

#include <string>
#include <vector>

namespace slicenav::bench {

// Replaces the section of `file` that starts with the line `heading` (e.g. "## Volume I/O") and runs up
// to the next "## " heading, or appends `section` when there is none; creates the file with its title
// when it does not exist. `section` must start with that heading line. Written through a temporary
// file renamed over `file`. Throws std::runtime_error when the file cannot be written.
void replace_markdown_section(const std::string& file, const std::string& heading, const std::string& section);

// "<CPU model>, N cores visible, X GiB RAM, load average L at start" from /proc; take it before the
// benchmark's own load shows in the load average.
std::string machine_description();

// "GCC 12.2.0" or "Clang ...", the compiler this file was built with.
std::string compiler();

// Today's date in UTC, YYYY-MM-DD.
std::string today_utc();

// `v` with `digits` digits after the point.
std::string fixed(double v, int digits);

}  // namespace slicenav::bench

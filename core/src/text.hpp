// Small text helpers: numbers for messages and records, case folding for file names and keys.
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <string>

namespace slicenav::detail {

// `value` in fixed notation with `digits` decimals ("12.5" for 12.46 and 1 digit).
inline std::string fixed_decimals(double value, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, value);
  return buffer;
}

// `text` with ASCII letters in lower case.
inline std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

}  // namespace slicenav::detail

// Numbers as text for messages and records.
#pragma once

#include <cstdio>
#include <string>

namespace slicenav::detail {

// `value` in fixed notation with `digits` decimals ("12.5" for 12.46 and 1 digit).
inline std::string fixed_decimals(double value, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", digits, value);
  return buffer;
}

}  // namespace slicenav::detail

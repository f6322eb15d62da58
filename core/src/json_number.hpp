// Numbers read from JSON documents that come from outside (crop records, model metadata).
//
// nlohmann's get<T>() converts with a plain cast, which is undefined behaviour when the value does not fit T (a crop
// record with "format_version": 2e67 was found by fuzz_crop_record). json_number<T> reads integer types only from
// JSON integers within T's range, and floating types only from finite numbers within T's range; anything else throws
// nlohmann's type_error, which callers already turn into their own error naming the field.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

namespace slicenav::detail {

template <typename T>
T json_number(const nlohmann::json& v) {
  static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>, "json_number reads numbers");
  using Limits = std::numeric_limits<T>;
  const auto refuse = [&](const char* wanted) {
    return nlohmann::json::type_error::create(302, std::string("expected ") + wanted + ", not " + v.dump(), &v);
  };
  if constexpr (std::is_integral_v<T>) {
    if (v.is_number_unsigned()) {
      const std::uint64_t u = v.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(Limits::max())) throw refuse("a whole number in range");
      return static_cast<T>(u);
    }
    if (!v.is_number_integer()) throw refuse("a whole number");
    const std::int64_t i = v.get<std::int64_t>();  // negative here: is_number_unsigned covers the rest
    if (!std::is_signed_v<T> || i < static_cast<std::int64_t>(Limits::lowest()))
      throw refuse("a whole number in range");
    return static_cast<T>(i);
  } else {
    if (!v.is_number()) throw refuse("a number");
    const double d = v.get<double>();
    if (!std::isfinite(d) || std::abs(d) > static_cast<double>(Limits::max())) throw refuse("a finite number in range");
    return static_cast<T>(d);
  }
}

template <typename T>
std::vector<T> json_numbers(const nlohmann::json& v) {
  if (!v.is_array()) throw nlohmann::json::type_error::create(302, "expected an array, not " + v.dump(), &v);
  std::vector<T> out;
  out.reserve(v.size());
  for (const auto& item : v) out.push_back(json_number<T>(item));
  return out;
}

}  // namespace slicenav::detail

// Error reporting inside the engine: every failure is a slicenav::Error carrying a Status.
#pragma once

#include <stdexcept>
#include <string>

namespace slicenav {

// Mirrors the C API's slicenav_status values; values are never reused.
enum class Status : int {
  ok = 0,
  invalid_argument = -1,
  not_found = -2,
  io = -3,
  unsupported_input = -4,
  model_format = -5,
  version_mismatch = -6,
  buffer_too_small = -7,
  cancelled = -8,
  internal = -9,
};

// Short stable name of a status ("invalid argument", "not found", ...).
const char* status_name(Status status) noexcept;

class Error : public std::runtime_error {
 public:
  Error(Status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  Status status() const noexcept { return status_; }

 private:
  Status status_;
};

[[noreturn]] void fail(Status status, const std::string& message);

}  // namespace slicenav

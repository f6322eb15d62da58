// The one exception type of slicenav's plugins (built on the public C API): a library status that describes
// the failure (NOT_FOUND for a missing file, INVALID_ARGUMENT for malformed input, IO, ...) and a message
// naming the problem, so callers map it to an exit code like any library error.
#pragma once

#include <stdexcept>
#include <string>

#include "slicenav.h"

namespace slicenav::plugin {

class Error : public std::runtime_error {
 public:
  Error(slicenav_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
  slicenav_status status() const noexcept { return status_; }

 private:
  slicenav_status status_;
};

}  // namespace slicenav::plugin

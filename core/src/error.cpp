#include "slicenav/error.hpp"

namespace slicenav {

const char* status_name(Status status) noexcept {
  switch (status) {
    case Status::ok: return "ok";
    case Status::invalid_argument: return "invalid argument";
    case Status::not_found: return "not found";
    case Status::io: return "i/o error";
    case Status::unsupported_input: return "unsupported input";
    case Status::model_format: return "model format";
    case Status::version_mismatch: return "version mismatch";
    case Status::buffer_too_small: return "buffer too small";
    case Status::cancelled: return "cancelled";
    case Status::internal: return "internal error";
  }
  return "unknown status";
}

void fail(Status status, const std::string& message) { throw Error(status, message); }

}  // namespace slicenav

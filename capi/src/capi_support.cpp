#include "capi_support.hpp"

#include <cmath>

#include "slicenav/io.hpp"

namespace slicenav::capi {
namespace {

// The last failure's message on this thread.
thread_local std::string t_last_error;
// Points at a static message when t_last_error itself could not be assigned (out of memory).
thread_local const char* t_last_error_static = nullptr;

}  // namespace

slicenav_status set_error(const char* function, slicenav_status status, const char* message) noexcept {
  try {
    t_last_error.assign(function);
    t_last_error.append(": ");
    t_last_error.append(message);
    t_last_error_static = nullptr;
  } catch (...) {
    t_last_error_static = "out of memory while recording an error";
  }
  return status;
}

const char* last_error() noexcept {
  return t_last_error_static != nullptr ? t_last_error_static : t_last_error.c_str();
}

void invalid(const std::string& message) { fail(Status::invalid_argument, message); }

void require(const void* pointer, const char* name) {
  if (pointer == nullptr) invalid(std::string(name) + " is NULL");
}

slicenav::Progress to_progress(const slicenav_callbacks& callbacks) {
  slicenav::Progress progress;
  if (callbacks.progress != nullptr) {
    progress.report = [f = callbacks.progress, data = callbacks.user_data](double done) { f(done, data); };
  }
  if (callbacks.abort != nullptr) {
    progress.stop = [f = callbacks.abort, data = callbacks.user_data] { return f(data) != 0; };
  }
  return progress;
}

int gzip_level_of(const slicenav_write_params* params) {
  if (params == nullptr) return kDefaultGzipLevel;
  check_struct_size(*params, &slicenav_write_params::gzip_level, "params");
  try {
    check_gzip_level(params->gzip_level);
  } catch (const Error& e) {
    invalid(std::string("params->") + e.what());
  }
  return params->gzip_level;
}

std::string number(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  return std::to_string(value);
}

}  // namespace slicenav::capi

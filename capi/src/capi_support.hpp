// What every C API translation unit shares: the volume and model handles, errors as statuses plus a
// message, argument checks, and versioned-struct helpers. Internal to libslicenav.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <mutex>
#include <new>
#include <string>
#include <type_traits>
#include <vector>

#include "slicenav.h"
#include "slicenav/error.hpp"
#include "slicenav/model.hpp"
#include "slicenav/navigation.hpp"
#include "slicenav/orientation.hpp"
#include "slicenav/volume.hpp"

struct slicenav_volume {
  slicenav::Volume volume;
  slicenav::SliceMapping mapping;
  // slicenav_volume_voxels' float voxels of a volume stored as int16, made on the first call.
  mutable std::once_flag float_once;
  mutable std::vector<float> float_voxels;
};

struct slicenav_model {
  slicenav::Model model;
  std::string metadata_json;
  std::vector<std::string> region_names;
  std::vector<std::string> organ_names;
  // Unique per loaded model in this process: prepared scans remember it (a freed model's address may be
  // reused, its serial never).
  std::uint64_t serial = 0;
};

namespace slicenav::capi {

// Records "<function>: <message>" as this thread's last error (a failed call replaces it; a successful
// call leaves it) and returns status. Never throws.
slicenav_status set_error(const char* function, slicenav_status status, const char* message) noexcept;
// This thread's last error message; "" when none. Never NULL.
const char* last_error() noexcept;

[[noreturn]] void invalid(const std::string& message);
// Throws invalid argument "<name> is NULL" for a NULL pointer.
void require(const void* pointer, const char* name);
// A double as text, with nan/inf spelled out.
std::string number(double value);

// The integer a C caller passed for an enum, read without the undefined behaviour of an out-of-range
// enum value.
template <typename Enum>
long enum_value(const Enum& value) {
  std::underlying_type_t<Enum> raw;
  std::memcpy(&raw, &value, sizeof raw);
  return static_cast<long>(raw);
}

// The engine's Progress for a caller's callbacks (each may be NULL).
slicenav::Progress to_progress(const slicenav_callbacks& callbacks);

// The gzip level of a caller's slicenav_write_params (nullable: the default); throws invalid argument outside 0-12.
int gzip_level_of(const slicenav_write_params* params);

// A caller's slicenav_locate_method; throws invalid argument "<name> N is not a slicenav_locate_method".
slicenav::LocateMethod to_locate_method(const slicenav_locate_method& method, const char* name);

// Runs body; returns SLICENAV_OK, or the status of whatever it threw with the message recorded.
template <typename Body>
slicenav_status guarded(const char* function, Body&& body) noexcept {
  try {
    body();
    return SLICENAV_OK;
  } catch (const Error& e) {
    const auto status = static_cast<slicenav_status>(e.status());
    return set_error(function, status < 0 ? status : SLICENAV_ERR_INTERNAL, e.what());
  } catch (const std::bad_alloc&) {
    return set_error(function, SLICENAV_ERR_INTERNAL, "out of memory");
  } catch (const std::exception& e) {
    return set_error(function, SLICENAV_ERR_INTERNAL, e.what());
  } catch (...) {
    return set_error(function, SLICENAV_ERR_INTERNAL, "unknown exception");
  }
}

// ---- Versioned structs ----------------------------------------------------------------------------
// A struct_size is valid when it covers struct_size and the struct's first field (the smallest struct
// any version of this API can have). Fields past struct_size are absent: defaults on input, unwritten
// on output. Fields past our own sizeof are unknown to this version and ignored.

template <typename T, typename Field>
bool has_field(const T& value, const Field T::*member) {
  const auto* base = reinterpret_cast<const unsigned char*>(&value);
  const auto* field = reinterpret_cast<const unsigned char*>(&(value.*member));
  return static_cast<std::size_t>(field - base) + sizeof(Field) <= value.struct_size;
}

template <typename T, typename First>
void check_struct_size(const T& value, const First T::*first_field, const char* name) {
  if (!has_field(value, first_field)) {
    invalid(std::string(name) + "->struct_size " + std::to_string(value.struct_size) +
            " is too small; initialise it with the matching *_init() or *_default_params()");
  }
}

// Writes `full` into the caller's `out`, only the bytes its version of the struct has, keeping its
// struct_size.
template <typename T>
void write_versioned(T full, T* out) {
  full.struct_size = out->struct_size;
  std::memcpy(out, &full, std::min<std::size_t>(out->struct_size, sizeof full));
}

// The Progress of a params struct's `callbacks` (none when params is NULL or too old to have them).
template <typename Params>
slicenav::Progress progress_of(const Params* params) {
  if (params == nullptr || !has_field(*params, &Params::callbacks)) return {};
  return to_progress(params->callbacks);
}

// Copies `values` into a caller buffer (dst, capacity, written): dst NULL with capacity 0 is a size query
// (written required); a smaller non-zero capacity is BUFFER_TOO_SMALL with *written still set.
// buffer_takes checks such a buffer for `count` values and says whether to copy them (false: a size query).
inline bool buffer_takes(const void* dst, std::size_t capacity, std::size_t* written, std::size_t count) {
  if (written != nullptr) *written = count;
  if (dst == nullptr && capacity == 0) {
    require(written, "written (in a size query)");
    return false;
  }
  require(dst, "dst");
  if (capacity < count) {
    fail(Status::buffer_too_small, "capacity " + std::to_string(capacity) + " < " + std::to_string(count) + " values");
  }
  return true;
}

template <typename T, typename U>
void copy_out(const std::vector<U>& values, T* dst, std::size_t capacity, std::size_t* written) {
  if (buffer_takes(dst, capacity, written, values.size())) std::copy(values.begin(), values.end(), dst);
}

// Copies a C string field into a fixed char array, always NUL-terminated (truncates).
template <std::size_t N>
void copy_text(char (&dst)[N], const std::string& src) {
  const std::size_t n = std::min(src.size(), N - 1);
  std::memcpy(dst, src.data(), n);
  dst[n] = '\0';
}

// Reads a fixed char array that may lack a terminating NUL.
template <std::size_t N>
std::string read_text(const char (&src)[N]) {
  std::size_t n = 0;
  while (n < N && src[n] != '\0') ++n;
  return std::string(src, n);
}

}  // namespace slicenav::capi

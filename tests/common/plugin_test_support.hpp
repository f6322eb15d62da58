// Test helpers for the plugins (built on the C API; their failures are slicenav::plugin::Error).
#pragma once

#include <functional>
#include <string>

#include "slicenav/plugin/error.hpp"

namespace slicenav::test {

// The status of the plugin Error f() throws, SLICENAV_OK when it throws none; its message in *message.
inline slicenav_status plugin_status_of(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const plugin::Error& e) {
    if (message != nullptr) *message = e.what();
    return e.status();
  }
  return SLICENAV_OK;
}

}  // namespace slicenav::test

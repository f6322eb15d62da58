// Shared helpers for the core GoogleTest suites: status capture, and per-test scratch directories
// (temp_dir_test.hpp).
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "slicenav/error.hpp"
#include "temp_dir_test.hpp"

namespace slicenav::test {

// The status f() fails with (Status::ok when it returns), and its message when `message` is given.
inline Status status_of(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
  } catch (const Error& e) {
    if (message != nullptr) *message = e.what();
    return e.status();
  }
  return Status::ok;
}

}  // namespace slicenav::test

// Shared helpers for the core GoogleTest suites: status capture and per-test scratch directories.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>

#include "slicenav/error.hpp"

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

// A fixture giving each test an empty directory SLICENAV_TEST_TMP/<suite>_<test>.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(SLICENAV_TEST_TMP) / (std::string(info->test_suite_name()) + "_" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

}  // namespace slicenav::test

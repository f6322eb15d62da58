// A GoogleTest fixture that gives each test an empty directory of its own, SLICENAV_TEST_TMP/<suite>_<test>,
// with helpers to make files and folders in it.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace slicenav::test {

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(SLICENAV_TEST_TMP) / (std::string(info->test_suite_name()) + "_" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  // Creates the file dir_/relative (and its folders) holding `text`; returns its path.
  std::string write(const std::string& relative, const std::string& text = "") const {
    const std::filesystem::path file = dir_ / relative;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file) << text;
    return file.string();
  }
  // Creates the folder dir_/relative; returns its path.
  std::string mkdir(const std::string& relative) const {
    std::filesystem::create_directories(dir_ / relative);
    return (dir_ / relative).string();
  }
  std::string path(const std::string& relative) const { return (dir_ / relative).string(); }

  std::filesystem::path dir_;
};

}  // namespace slicenav::test

#include "slicenav/model_file.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>

#include "slicenav/error.hpp"
#include "test_support.hpp"

namespace slicenav {
namespace fs = std::filesystem;
namespace {

using ModelFileTest = test::TempDirTest;

ModelFile sample() {
  ModelFile m;
  m.metadata_json = R"({"architecture":"insertion","d_model":8,"landmarks":["lung_apex","liver_dome"]})";
  ModelTensor a{"encoder.conv1.weight", {2, 1, 3, 3}, {}};
  for (int n = 0; n < 18; ++n) a.values.push_back(std::ldexp(1.0f + n * 0.37f, n - 9) * (n % 2 ? -1.0f : 1.0f));
  a.values[3] = -0.0f;
  a.values[4] = std::numeric_limits<float>::denorm_min();
  ModelTensor scalar{"temperature", {}, {0.125f}};
  ModelTensor empty{"unused", {0, 4}, {}};
  m.tensors = {a, scalar, empty};
  return m;
}

std::vector<char> bytes_of(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& file, const std::vector<char>& bytes) {
  std::ofstream(file, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

Status load_status(const std::string& file, std::string* message = nullptr) {
  return test::status_of([&] { load_model_file(file); }, message);
}

}  // namespace

TEST_F(ModelFileTest, RoundTripIsBitExact) {
  const ModelFile m = sample();
  save_model_file(m, path("m.slnv"));
  const ModelFile back = load_model_file(path("m.slnv"));
  EXPECT_EQ(back.metadata_json, m.metadata_json);
  ASSERT_EQ(back.tensors.size(), m.tensors.size());
  for (std::size_t t = 0; t < m.tensors.size(); ++t) {
    EXPECT_EQ(back.tensors[t].name, m.tensors[t].name);
    EXPECT_EQ(back.tensors[t].shape, m.tensors[t].shape);
    ASSERT_EQ(back.tensors[t].values.size(), m.tensors[t].values.size());
    // Bit-exact, so -0.0 and NaN payloads count (an empty tensor has nothing to compare).
    if (!m.tensors[t].values.empty()) {
      EXPECT_EQ(std::memcmp(back.tensors[t].values.data(), m.tensors[t].values.data(),
                            m.tensors[t].values.size() * sizeof(float)),
                0);
    }
  }
  EXPECT_TRUE(std::signbit(back.tensors[0].values[3]));
  // Saving what was loaded gives the same bytes.
  save_model_file(back, path("again.slnv"));
  EXPECT_EQ(bytes_of(path("m.slnv")), bytes_of(path("again.slnv")));
}

TEST_F(ModelFileTest, EveryTruncationIsAFormatError) {
  save_model_file(sample(), path("m.slnv"));
  const std::vector<char> whole = bytes_of(path("m.slnv"));
  for (std::size_t keep = 0; keep < whole.size(); keep += 7) {
    write_bytes(path("cut.slnv"), std::vector<char>(whole.begin(), whole.begin() + static_cast<long>(keep)));
    EXPECT_EQ(load_status(path("cut.slnv")), Status::model_format) << "kept " << keep << " bytes";
  }
}

TEST_F(ModelFileTest, EveryFlippedByteIsDetected) {
  save_model_file(sample(), path("m.slnv"));
  const std::vector<char> whole = bytes_of(path("m.slnv"));
  // Bytes 8..11 hold the version: flipping them is a version error or a format error, never success.
  for (std::size_t at = 0; at < whole.size(); at += 3) {
    std::vector<char> damaged = whole;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x5A);
    write_bytes(path("bad.slnv"), damaged);
    const Status s = load_status(path("bad.slnv"));
    EXPECT_TRUE(s == Status::model_format || s == Status::version_mismatch) << "byte " << at;
  }
}

TEST_F(ModelFileTest, NewerVersionIsAVersionMismatch) {
  save_model_file(sample(), path("m.slnv"));
  std::vector<char> bytes = bytes_of(path("m.slnv"));
  const std::uint32_t newer = kModelFormatVersion + 1;
  std::memcpy(bytes.data() + 8, &newer, sizeof(newer));
  write_bytes(path("newer.slnv"), bytes);
  std::string message;
  EXPECT_EQ(load_status(path("newer.slnv"), &message), Status::version_mismatch);
  EXPECT_NE(message.find("upgrade"), std::string::npos) << message;
}

TEST_F(ModelFileTest, ForeignFilesAreFormatErrors) {
  write_bytes(path("empty.slnv"), {});
  std::string message;
  EXPECT_EQ(load_status(path("empty.slnv"), &message), Status::model_format);
  EXPECT_NE(message.find("not a slicenav model file"), std::string::npos) << message;
  std::ofstream(path("text.slnv")) << "just some text that goes on and on";
  EXPECT_EQ(load_status(path("text.slnv")), Status::model_format);
  // The right magic and version followed by garbage.
  std::vector<char> garbage = {'S', 'L', 'I', 'C', 'E', 'N', 'A', 'V', 1, 0, 0, 0};
  for (int n = 0; n < 64; ++n) garbage.push_back(static_cast<char>(n * 37));
  write_bytes(path("garbage.slnv"), garbage);
  EXPECT_EQ(load_status(path("garbage.slnv")), Status::model_format);
  EXPECT_EQ(load_status(path("missing.slnv")), Status::not_found);
}

TEST_F(ModelFileTest, SaveRejectsInconsistentModels) {
  ModelFile m = sample();
  m.metadata_json = "[1, 2]";
  EXPECT_THROW(save_model_file(m, path("a.slnv")), Error);
  m = sample();
  m.tensors[0].values.pop_back();
  EXPECT_THROW(save_model_file(m, path("b.slnv")), Error);
  m = sample();
  m.tensors[1].name = m.tensors[0].name;
  EXPECT_THROW(save_model_file(m, path("c.slnv")), Error);
  EXPECT_FALSE(fs::exists(path("a.slnv")) || fs::exists(path("b.slnv")) || fs::exists(path("c.slnv")));
}

}  // namespace slicenav

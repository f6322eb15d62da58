// Tests core/src/dicom.cpp on the two real DICOM series in ../shared/data/dicom and on damaged copies of them.
#include "slicenav/dicom.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "dicom_series.hpp"
#include "file_text.hpp"
#include "slicenav/error.hpp"
#include "slicenav/io.hpp"
#include "slicenav/orientation.hpp"
#include "test_data.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace {

const char* const kCptacUid = "1.3.6.1.4.1.14519.5.2.1.1078.3273.288986663620929317963297526037";
const char* const kLung1Uid = "1.3.6.1.4.1.40744.29.232988001551799080335895423941323261228";

// A fresh, empty directory for one test.
fs::path fresh_dir(const std::string& name) {
  const fs::path dir = fs::path(SLICENAV_TEST_TMP) / "dicom_test" / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Removes a test's directory when the test ends, passed or failed.
struct RemoveOnExit {
  fs::path path;
  ~RemoveOnExit() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Copies the regular files of `from` into `to` (made writable), prefixing their names.
void copy_files(const std::string& from, const fs::path& to, const std::string& prefix = "") {
  for (const auto& entry : fs::directory_iterator(from)) {
    if (!entry.is_regular_file()) continue;
    const fs::path target = to / (prefix + entry.path().filename().string());
    fs::copy_file(entry.path(), target, fs::copy_options::overwrite_existing);
    fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::add);
  }
}

std::vector<char> read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& path, const std::vector<char>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// Rewrites the value of one top-level text element in place, as found first in the file, for the two
// encodings of the real files: explicit VR little endian (2-byte length) and implicit VR little endian
// (4-byte length). `edit` maps the old value to the new one, which is space-padded to the old length
// (so nothing else in the file moves) and must not be longer. Returns false when the element is absent.
template <typename Edit>
bool rewrite_text_element(const fs::path& path, std::uint16_t group, std::uint16_t element, const char* vr, Edit edit) {
  std::vector<char> bytes = read_bytes(path);
  const std::string tag{static_cast<char>(group & 0xff), static_cast<char>(group >> 8),
                        static_cast<char>(element & 0xff), static_cast<char>(element >> 8)};
  for (auto at = std::search(bytes.begin(), bytes.end(), tag.begin(), tag.end()); at != bytes.end();
       at = std::search(at + 1, bytes.end(), tag.begin(), tag.end())) {
    const auto offset = static_cast<std::size_t>(at - bytes.begin());
    const auto u8 = [&](std::size_t i) { return static_cast<std::size_t>(static_cast<unsigned char>(bytes[i])); };
    std::size_t value_at = 0;
    std::size_t length = 0;
    if (offset + 8 <= bytes.size() && bytes[offset + 4] == vr[0] && bytes[offset + 5] == vr[1]) {
      value_at = offset + 8;
      length = u8(offset + 6) | (u8(offset + 7) << 8);
    } else if (offset + 8 <= bytes.size()) {
      value_at = offset + 8;
      length = u8(offset + 4) | (u8(offset + 5) << 8) | (u8(offset + 6) << 16) | (u8(offset + 7) << 24);
    }
    if (value_at == 0 || length == 0 || length > 256 || value_at + length > bytes.size()) continue;
    std::string value = edit(std::string(bytes.begin() + static_cast<std::ptrdiff_t>(value_at),
                                         bytes.begin() + static_cast<std::ptrdiff_t>(value_at + length)));
    if (value.size() > length) {
      ADD_FAILURE() << "new value '" << value << "' is longer than the old one in " << path;
      return false;
    }
    value.resize(length, ' ');
    std::copy(value.begin(), value.end(), bytes.begin() + static_cast<std::ptrdiff_t>(value_at));
    write_bytes(path, bytes);
    return true;
  }
  return false;
}

bool rewrite_modality(const fs::path& path, const std::string& modality) {
  return rewrite_text_element(path, 0x0008, 0x0060, "CS", [&](const std::string&) { return modality; });
}

// ImagePositionPatient as three numbers.
std::vector<double> parse_position(const std::string& text) {
  std::vector<double> values;
  std::stringstream stream(text);
  for (std::string item; std::getline(stream, item, '\\');) values.push_back(std::stod(item));
  return values;
}

std::string format_position(const std::vector<double>& p) {
  char buffer[96];
  std::snprintf(buffer, sizeof buffer, "%.3f\\%.3f\\%.3f", p[0], p[1], p[2]);
  return buffer;
}

struct CaseRow {
  std::size_t n_slices = 0;
  double z_min = 0.0;
  double z_max = 0.0;
  std::string patient_position;
};

// The cases.tsv row of a case; fails the test when absent.
CaseRow case_row(const std::string& case_id) {
  CaseRow row;
  const std::string table = slicenav::test::data_path("cases.tsv");
  std::ifstream in(table);
  std::string line;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    std::stringstream stream(line);
    for (std::string field; std::getline(stream, field, '\t');) fields.push_back(field);
    if (header.empty()) {
      header = fields;
      continue;
    }
    if (fields.empty() || fields[0] != case_id) continue;
    for (std::size_t c = 0; c < header.size() && c < fields.size(); ++c) {
      if (header[c] == "n_slices") row.n_slices = std::stoul(fields[c]);
      if (header[c] == "z_min_mm") row.z_min = std::stod(fields[c]);
      if (header[c] == "z_max_mm") row.z_max = std::stod(fields[c]);
      if (header[c] == "patient_position") row.patient_position = fields[c];
    }
    return row;
  }
  ADD_FAILURE() << "case " << case_id << " not in " << table;
  return row;
}

bool has_warning(const slicenav::Volume& volume, const std::string& text) {
  const auto& warnings = volume.source().warnings;
  return std::any_of(warnings.begin(), warnings.end(),
                     [&](const std::string& w) { return w.find(text) != std::string::npos; });
}

std::string joined_warnings(const slicenav::Volume& volume) {
  std::string all;
  for (const std::string& w : volume.source().warnings) all += "\n  " + w;
  return all;
}

// Runs `body`, which must throw slicenav::Error; returns it (status internal when nothing was thrown).
template <typename Body>
slicenav::Error expect_error(Body body) {
  try {
    body();
  } catch (const slicenav::Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected a slicenav::Error";
  return slicenav::Error(slicenav::Status::internal, "nothing thrown");
}

float median_of(std::vector<float> values) {
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(values.size() / 2), values.end());
  return values[values.size() / 2];
}

// Checks slice count, world z of the ends against cases.tsv, patient position and modality.
void expect_matches_case(const slicenav::Volume& volume, const std::string& case_id) {
  const CaseRow row = case_row(case_id);
  const auto& g = volume.geometry();
  EXPECT_EQ(g.size[2], row.n_slices);
  const slicenav::CanonicalVolume canonical = slicenav::canonicalize(volume);
  ASSERT_EQ(canonical.mapping.slice_count(), row.n_slices);
  // Canonical slice 0 is the most superior one.
  EXPECT_NEAR(canonical.mapping.world_z(0.0), row.z_max, 1e-2);
  EXPECT_NEAR(canonical.mapping.world_z(static_cast<double>(row.n_slices - 1)), row.z_min, 1e-2);
  // Sorted ascending along the normal (+z for these axial series): slice 0 of the file is the lowest.
  EXPECT_NEAR(g.index_to_world({0.0, 0.0, 0.0})[2], row.z_min, 1e-2);
  EXPECT_NEAR(g.index_to_world({0.0, 0.0, static_cast<double>(g.size[2] - 1)})[2], row.z_max, 1e-2);
  EXPECT_EQ(volume.source().patient_position, row.patient_position);
  EXPECT_EQ(volume.source().modality, "CT");
  EXPECT_EQ(volume.source().format, "dicom");
  EXPECT_NE(volume.int16_voxels(), nullptr) << "whole HU within int16 are kept as int16";
}

// Air in a corner of the middle slice, bone somewhere, soft tissue common.
void expect_plausible_hu(const slicenav::Volume& volume) {
  const auto& g = volume.geometry();
  const std::size_t k = g.size[2] / 2;
  std::vector<float> corner;
  for (std::size_t j = 0; j < 20; ++j) {
    for (std::size_t i = 0; i < 20; ++i) corner.push_back(volume.at(i, j, k));
  }
  const float air = median_of(corner);
  EXPECT_LT(air, -900.0f) << "corner median should be air or FOV padding";
  EXPECT_GE(air, -3100.0f);
  const auto& v = volume.voxels_as_float();
  EXPECT_GT(*std::max_element(v.begin(), v.end()), 300.0f) << "no bone found";
  const auto soft = std::count_if(v.begin(), v.end(), [](float x) { return x > -100.0f && x < 100.0f; });
  EXPECT_GT(static_cast<double>(soft) / static_cast<double>(v.size()), 0.05) << "too little soft tissue";
}

}  // namespace

TEST(Dicom, ListsOneCtSeriesAndIgnoresRtstruct) {
  SLICENAV_REQUIRE_DATA(dir, "dicom/lung1_002");
  ASSERT_TRUE(fs::exists(fs::path(dir) / "RTSTRUCT_1.dcm"));
  const std::vector<slicenav::DicomSeries> series = slicenav::list_dicom_series(dir);
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series[0].series_uid, kLung1Uid);
  EXPECT_EQ(series[0].modality, "CT");
  EXPECT_EQ(series[0].file_count, 111u);
}

TEST(Dicom, HeadFirstSeriesMatchesDicomPositions) {
  SLICENAV_REQUIRE_DATA(dir, "dicom/lung1_002");
  const slicenav::Volume volume = slicenav::read_dicom_series(dir);
  expect_matches_case(volume, "lung1_002");
  const auto& g = volume.geometry();
  EXPECT_EQ(g.size[0], 512u);
  EXPECT_EQ(g.size[1], 512u);
  EXPECT_NEAR(g.spacing[0], 0.977, 1e-6);
  EXPECT_NEAR(g.spacing[1], 0.977, 1e-6);
  EXPECT_NEAR(g.spacing[2], 3.0, 1e-3);
  // First sorted slice's ImagePositionPatient is the origin (x, y from the file header).
  EXPECT_NEAR(g.origin[0], -250.112, 1e-6);
  EXPECT_NEAR(g.origin[1], -250.112, 1e-6);
  EXPECT_EQ(slicenav::orientation_code(g), "LPS");
  EXPECT_EQ(volume.source().series_uid, kLung1Uid);
  EXPECT_EQ(volume.source().pixel_type, "int16");
  EXPECT_TRUE(volume.source().warnings.empty()) << joined_warnings(volume);
  expect_plausible_hu(volume);
}

TEST(Dicom, FeetFirstSeriesMatchesDicomPositions) {
  SLICENAV_REQUIRE_DATA(dir, "dicom/cptac_C3L-00189");
  const slicenav::Volume volume = slicenav::read_dicom_series(dir);
  expect_matches_case(volume, "cptac_C3L-00189");
  const auto& g = volume.geometry();
  EXPECT_NEAR(g.spacing[0], 0.859375, 1e-9);
  EXPECT_NEAR(g.spacing[2], 5.0, 1e-3);
  EXPECT_NEAR(g.origin[0], -235.56, 1e-6);
  EXPECT_NEAR(g.origin[1], -220.0, 1e-6);
  EXPECT_EQ(volume.source().series_uid, kCptacUid);
  EXPECT_EQ(volume.source().series_description, "LUNG BASES 5MM");
  EXPECT_FALSE(volume.source().pixel_type.empty());
  EXPECT_TRUE(volume.source().warnings.empty()) << joined_warnings(volume);
  // Stored values are offset by RescaleIntercept -1024; plausible HU show that it was applied.
  expect_plausible_hu(volume);
}

TEST(Dicom, ReadVolumeDispatchesDirectories) {
  SLICENAV_REQUIRE_DATA(dir, "dicom/cptac_C3L-00189");
  const slicenav::Volume volume = slicenav::read_volume(dir);
  EXPECT_EQ(volume.source().format, "dicom");
  EXPECT_EQ(volume.geometry().size[2], 35u);
}

namespace {

// The data README's ct.nii.gz is the DICOM series with f x f in-plane blocks averaged and rounded to int16
// (a trailing row or column that does not fill a block dropped); compare the middle slice and the grid.
void expect_matches_block_averaged_nifti(const std::string& dicom_dir, const std::string& nifti_path, std::size_t f) {
  const slicenav::Volume dicom = slicenav::read_dicom_series(dicom_dir);
  const slicenav::Volume nifti = slicenav::read_volume(nifti_path);
  const auto& d = dicom.geometry();
  const auto& n = nifti.geometry();
  ASSERT_EQ(n.size[0], d.size[0] / f);
  ASSERT_EQ(n.size[1], d.size[1] / f);
  ASSERT_EQ(n.size[2], d.size[2]);
  // Voxel centres of the averaged grid sit at DICOM index (f - 1) / 2 of each block.
  const double centre = (static_cast<double>(f) - 1.0) / 2.0;
  const slicenav::Vec3 d_world = d.index_to_world({centre, centre, 0.0});
  const slicenav::Vec3 n_world = n.index_to_world({0.0, 0.0, 0.0});
  for (int a = 0; a < 3; ++a) EXPECT_NEAR(d_world[a], n_world[a], 1e-3) << "axis " << a;
  EXPECT_NEAR(n.spacing[2], d.spacing[2], 1e-4);
  const std::size_t k = d.size[2] / 2;
  double max_diff = 0.0;
  for (std::size_t j = 0; j < n.size[1]; ++j) {
    for (std::size_t i = 0; i < n.size[0]; ++i) {
      double sum = 0.0;
      for (std::size_t dj = 0; dj < f; ++dj) {
        for (std::size_t di = 0; di < f; ++di) sum += dicom.at(f * i + di, f * j + dj, k);
      }
      max_diff = std::max(max_diff, std::abs(sum / static_cast<double>(f * f) - nifti.at(i, j, k)));
    }
  }
  EXPECT_LE(max_diff, 0.5 + 1e-6) << "block means differ from the NIfTI by more than rounding";
}

}  // namespace

TEST(Dicom, HeadFirstMiddleSliceMatchesBlockAveragedNifti) {
  SLICENAV_REQUIRE_DATA(dir, "dicom/lung1_002");
  SLICENAV_REQUIRE_DATA(nifti, "ct/lung1_002/ct.nii.gz");
  expect_matches_block_averaged_nifti(dir, nifti, 2);
}

TEST(Dicom, FeetFirstMiddleSliceMatchesBlockAveragedNifti) {
  SLICENAV_REQUIRE_DATA(dir, "dicom/cptac_C3L-00189");
  SLICENAV_REQUIRE_DATA(nifti, "ct/cptac_C3L-00189/ct.nii.gz");
  expect_matches_block_averaged_nifti(dir, nifti, 3);
}

TEST(Dicom, MissingDirectoryIsNotFound) {
  const std::string dir = (fs::path(SLICENAV_TEST_TMP) / "dicom_test" / "does_not_exist").string();
  fs::remove_all(dir);
  const slicenav::Error e = expect_error([&] { slicenav::read_dicom_series(dir); });
  EXPECT_EQ(e.status(), slicenav::Status::not_found);
  EXPECT_NE(std::string(e.what()).find(dir), std::string::npos) << e.what();
  EXPECT_EQ(expect_error([&] { slicenav::list_dicom_series(dir); }).status(), slicenav::Status::not_found);
}

TEST(Dicom, EmptyDirectoryIsUnsupportedInput) {
  const fs::path dir = fresh_dir("empty");
  const RemoveOnExit cleanup{dir};
  EXPECT_EQ(expect_error([&] { slicenav::read_dicom_series(dir.string()); }).status(),
            slicenav::Status::unsupported_input);
  EXPECT_EQ(expect_error([&] { slicenav::list_dicom_series(dir.string()); }).status(),
            slicenav::Status::unsupported_input);
}

TEST(Dicom, DirectoryOfTextFilesIsUnsupportedInput) {
  const fs::path dir = fresh_dir("text");
  const RemoveOnExit cleanup{dir};
  for (const char* name : {"a.txt", "b.dcm", "notes"}) {
    std::ofstream(dir / name) << "not a DICOM file\n";
  }
  const slicenav::Error e = expect_error([&] { slicenav::read_dicom_series(dir.string()); });
  EXPECT_EQ(e.status(), slicenav::Status::unsupported_input);
  EXPECT_NE(std::string(e.what()).find("no DICOM image"), std::string::npos) << e.what();
}

TEST(Dicom, OnlyRtstructIsUnsupportedInput) {
  SLICENAV_REQUIRE_DATA(dir, "dicom/lung1_002");
  const fs::path copy = fresh_dir("rtstruct_only");
  const RemoveOnExit cleanup{copy};
  fs::copy_file(fs::path(dir) / "RTSTRUCT_1.dcm", copy / "RTSTRUCT_1.dcm");
  EXPECT_EQ(expect_error([&] { slicenav::read_dicom_series(copy.string()); }).status(),
            slicenav::Status::unsupported_input);
}

TEST(Dicom, SeveralCtSeriesNeedAChoice) {
  SLICENAV_REQUIRE_DATA(cptac, "dicom/cptac_C3L-00189");
  SLICENAV_REQUIRE_DATA(lung1, "dicom/lung1_002");
  const fs::path dir = fresh_dir("two_series");
  const RemoveOnExit cleanup{dir};
  copy_files(cptac, dir, "cptac_");
  copy_files(lung1, dir, "lung1_");

  const std::vector<slicenav::DicomSeries> series = slicenav::list_dicom_series(dir.string());
  ASSERT_EQ(series.size(), 2u);

  const slicenav::Error e = expect_error([&] { slicenav::read_dicom_series(dir.string()); });
  EXPECT_EQ(e.status(), slicenav::Status::unsupported_input);
  const std::string message = e.what();
  EXPECT_NE(message.find(kCptacUid), std::string::npos) << message;
  EXPECT_NE(message.find(kLung1Uid), std::string::npos) << message;
  EXPECT_NE(message.find("series_uid"), std::string::npos) << message;
  EXPECT_NE(message.find("--dicom-series"), std::string::npos) << message;

  slicenav::ReadOptions options;
  options.series_uid = kCptacUid;
  const slicenav::Volume chosen = slicenav::read_dicom_series(dir.string(), options);
  EXPECT_EQ(chosen.source().series_uid, kCptacUid);
  EXPECT_EQ(chosen.geometry().size[2], 35u);
  EXPECT_EQ(chosen.source().patient_position, "FFS");

  options.series_uid = "1.2.3.4";
  const slicenav::Error unknown = expect_error([&] { slicenav::read_dicom_series(dir.string(), options); });
  EXPECT_EQ(unknown.status(), slicenav::Status::not_found);
  EXPECT_NE(std::string(unknown.what()).find(kLung1Uid), std::string::npos) << unknown.what();
}

TEST(Dicom, SeriesWithValuesThatAreNotWholeHuIsKeptAsFloat) {
  const fs::path dir = fresh_dir("fractional");
  const RemoveOnExit cleanup{dir};
  slicenav::test::DicomSeriesOptions o;
  o.slope = 0.5;  // files 3 to 7: 0.5 x stored - 1024
  o.slope_from = 3;
  slicenav::test::write_dicom_series(dir.string(), o);
  const slicenav::Volume volume = slicenav::read_dicom_series(dir.string());
  ASSERT_NE(volume.float_voxels(), nullptr);
  EXPECT_EQ(volume.int16_voxels(), nullptr);
  // Slice i is file 7 - i (sorted by position, lowest first). Outside the disc the files store 24, inside
  // 1024 + k % 2.
  const std::size_t centre = o.size / 2;
  for (std::size_t i = 0; i < o.slices; ++i) {
    const std::size_t k = o.slices - 1 - i;
    const double slope = k >= o.slope_from ? 0.5 : 1.0;
    EXPECT_EQ(volume.at(0, 0, i), static_cast<float>(24 * slope - 1024)) << i;
    EXPECT_EQ(volume.at(centre, centre, i), static_cast<float>((1024 + k % 2) * slope - 1024)) << i;
  }
}

TEST(Dicom, MissingMiddleSliceWarns) {
  SLICENAV_REQUIRE_DATA(cptac, "dicom/cptac_C3L-00189");
  const fs::path dir = fresh_dir("missing_slice");
  const RemoveOnExit cleanup{dir};
  copy_files(cptac, dir);
  fs::remove(dir / "1-18.dcm");
  const slicenav::Volume volume = slicenav::read_dicom_series(dir.string());
  EXPECT_EQ(volume.geometry().size[2], 34u);
  EXPECT_TRUE(has_warning(volume, "missing slices: about 1 slice")) << joined_warnings(volume);
  // The ends are still where the DICOM files put them.
  const slicenav::CanonicalVolume canonical = slicenav::canonicalize(volume);
  EXPECT_NEAR(canonical.mapping.world_z(0.0), -8.329, 1e-2);
  EXPECT_NEAR(canonical.mapping.world_z(33.0), -178.329, 1e-2);
}

TEST(Dicom, DuplicateSlicePositionKeepsOneFileAndWarns) {
  SLICENAV_REQUIRE_DATA(cptac, "dicom/cptac_C3L-00189");
  const fs::path dir = fresh_dir("duplicate_slice");
  const RemoveOnExit cleanup{dir};
  copy_files(cptac, dir);
  fs::copy_file(dir / "1-10.dcm", dir / "1-10-copy.dcm");
  const slicenav::Volume volume = slicenav::read_dicom_series(dir.string());
  EXPECT_EQ(volume.geometry().size[2], 35u);
  EXPECT_TRUE(has_warning(volume, "duplicate slice positions")) << joined_warnings(volume);
  EXPECT_FALSE(has_warning(volume, "missing")) << joined_warnings(volume);
}

TEST(Dicom, SingleSliceTakesSliceThicknessAndWarns) {
  SLICENAV_REQUIRE_DATA(cptac, "dicom/cptac_C3L-00189");
  const fs::path dir = fresh_dir("single_slice");
  const RemoveOnExit cleanup{dir};
  fs::copy_file(fs::path(cptac) / "1-05.dcm", dir / "1-05.dcm");
  const slicenav::Volume volume = slicenav::read_dicom_series(dir.string());
  EXPECT_EQ(volume.geometry().size[2], 1u);
  EXPECT_NEAR(volume.geometry().spacing[2], 5.0, 1e-9);
  EXPECT_TRUE(has_warning(volume, "single-slice")) << joined_warnings(volume);
}

TEST(Dicom, TruncatedFileIsIoErrorNamingTheFile) {
  SLICENAV_REQUIRE_DATA(cptac, "dicom/cptac_C3L-00189");
  const fs::path dir = fresh_dir("truncated");
  const RemoveOnExit cleanup{dir};
  copy_files(cptac, dir);
  const fs::path victim = dir / "1-12.dcm";
  fs::resize_file(victim, fs::file_size(victim) / 2);
  const slicenav::Error e = expect_error([&] { slicenav::read_dicom_series(dir.string()); });
  EXPECT_EQ(e.status(), slicenav::Status::io);
  EXPECT_NE(std::string(e.what()).find("1-12.dcm"), std::string::npos) << e.what();
}

TEST(Dicom, NonCtModalityIsAWarning) {
  SLICENAV_REQUIRE_DATA(cptac, "dicom/cptac_C3L-00189");
  const fs::path dir = fresh_dir("modality_mr");
  const RemoveOnExit cleanup{dir};
  copy_files(cptac, dir);
  for (const auto& entry : fs::directory_iterator(dir)) {
    ASSERT_TRUE(rewrite_modality(entry.path(), "MR")) << entry.path();
  }
  const std::vector<slicenav::DicomSeries> series = slicenav::list_dicom_series(dir.string());
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series[0].modality, "MR");
  const slicenav::Volume volume = slicenav::read_dicom_series(dir.string());
  EXPECT_EQ(volume.source().modality, "MR");
  EXPECT_EQ(volume.geometry().size[2], 35u);
  EXPECT_TRUE(has_warning(volume, "modality is MR, not CT")) << joined_warnings(volume);
}

TEST(Dicom, SeveralNonCtSeriesWithoutCtAreUnsupported) {
  SLICENAV_REQUIRE_DATA(cptac, "dicom/cptac_C3L-00189");
  SLICENAV_REQUIRE_DATA(lung1, "dicom/lung1_002");
  const fs::path dir = fresh_dir("two_mr_series");
  const RemoveOnExit cleanup{dir};
  copy_files(cptac, dir, "cptac_");
  copy_files(lung1, dir, "lung1_");
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().find("RTSTRUCT") != std::string::npos) continue;
    ASSERT_TRUE(rewrite_modality(entry.path(), "MR")) << entry.path();
  }
  const slicenav::Error e = expect_error([&] { slicenav::read_dicom_series(dir.string()); });
  EXPECT_EQ(e.status(), slicenav::Status::unsupported_input);
  EXPECT_NE(std::string(e.what()).find(kCptacUid), std::string::npos) << e.what();
}

TEST(Dicom, UnevenSliceSpacingWarnsWithMinAndMaxStep) {
  SLICENAV_REQUIRE_DATA(cptac, "dicom/cptac_C3L-00189");
  const fs::path dir = fresh_dir("uneven_spacing");
  const RemoveOnExit cleanup{dir};
  copy_files(cptac, dir);
  // Move one slice 1 mm along z: its neighbours are now 4 and 6 mm away instead of 5.
  double moved_from = 0.0;
  ASSERT_TRUE(rewrite_text_element(dir / "1-20.dcm", 0x0020, 0x0032, "DS", [&](const std::string& old) {
    std::vector<double> p = parse_position(old);
    moved_from = p[2];
    p[2] += 1.0;
    return format_position(p);
  }));
  const slicenav::Volume volume = slicenav::read_dicom_series(dir.string());
  EXPECT_EQ(volume.geometry().size[2], 35u);
  EXPECT_TRUE(has_warning(volume, "uneven slice spacing: steps along the normal range from 4.000 to 6.000 mm"))
      << "moved slice from z " << moved_from << joined_warnings(volume);
  EXPECT_FALSE(has_warning(volume, "missing")) << joined_warnings(volume);
}

TEST(Dicom, GantryTiltWarnsWithAngle) {
  SLICENAV_REQUIRE_DATA(cptac, "dicom/cptac_C3L-00189");
  const fs::path dir = fresh_dir("gantry_tilt");
  const RemoveOnExit cleanup{dir};
  copy_files(cptac, dir);
  // Shear the stack: each slice moves posteriorly by tan(10 deg) per mm of z, as a tilted gantry does.
  const double shear = std::tan(10.0 * 3.14159265358979323846 / 180.0);
  for (const auto& entry : fs::directory_iterator(dir)) {
    ASSERT_TRUE(rewrite_text_element(entry.path(), 0x0020, 0x0032, "DS", [&](const std::string& old) {
      std::vector<double> p = parse_position(old);
      p[1] += shear * (p[2] + 178.329);
      return format_position(p);
    })) << entry.path();
  }
  const slicenav::Volume volume = slicenav::read_dicom_series(dir.string());
  EXPECT_TRUE(has_warning(volume, "gantry tilt: slices are stacked 10.0")) << joined_warnings(volume);
  EXPECT_FALSE(has_warning(volume, "uneven")) << joined_warnings(volume);
}

namespace slicenav {

// Found by fuzz_dicom: a file meta element whose VR is not two letters ("U\x04" for "UL") made GDCM abort the process
// on an assertion, and an element length past the end of the file made GDCM allocate that length (4 GiB for a 1.4 KiB
// file). Such files are now skipped as damaged before GDCM reads them, and the series reads with a warning.
TEST(Dicom, MalformedHeadersAreSkippedNotACrash) {
  const auto bad_vr = [](std::string& bytes) {
    ASSERT_EQ(bytes.substr(136, 2), "UL");
    std::swap(bytes[137], bytes[138]);
  };
  const auto long_length = [](std::string& bytes) {
    // Modality in the implicit VR data set GDCM writes: tag, 4-byte length 2, "CT". Claim 4 GiB instead.
    const auto at = bytes.find(std::string("\x08\x00\x60\x00\x02\x00\x00\x00", 8));
    ASSERT_NE(at, std::string::npos);
    bytes.replace(at + 4, 4, std::string("\xf0\xff\xff\xff", 4));
  };
  // Found by fuzz_dicom: GDCM asserted on a photometric interpretation it does not know.
  const auto unknown_photometric = [](std::string& bytes) {
    const auto at = bytes.find("MONOCHROME2 ");
    ASSERT_NE(at, std::string::npos);
    bytes.replace(at, 12, "PALETTE COL ");
  };
  for (const auto& damage : {std::function<void(std::string&)>(bad_vr), std::function<void(std::string&)>(long_length),
                             std::function<void(std::string&)>(unknown_photometric)}) {
    const fs::path dir = fs::path(SLICENAV_TEST_TMP) / "dicom_malformed_header";
    fs::remove_all(dir);
    fs::create_directories(dir);
    test::DicomSeriesOptions options;
    options.size = 16;
    options.slices = 5;
    const auto files = test::write_dicom_series(dir.string(), options);
    std::string bytes = test::read_text(files[4]);
    ASSERT_EQ(bytes.substr(128, 4), "DICM");
    damage(bytes);
    std::ofstream(files[4], std::ios::binary | std::ios::trunc) << bytes;
    const Volume v = read_volume(dir.string());
    EXPECT_EQ(v.geometry().size[2], 4u);
    bool warned = false;
    for (const auto& w : v.source().warnings)
      warned = warned || w.find("could not be parsed and were skipped") != std::string::npos;
    EXPECT_TRUE(warned);
  }
}

// Found by fuzz_dicom: a BitsAllocated that is not a whole number of bytes made GDCM abort the process on an
// assertion. It is now unsupported input naming the file.
TEST(Dicom, BitsAllocatedThatAreNotWholeBytesAreUnsupported) {
  const fs::path dir = fresh_dir("odd_bits_allocated");
  RemoveOnExit cleanup{dir};
  test::DicomSeriesOptions options;
  options.size = 16;
  options.slices = 4;
  const auto files = test::write_dicom_series(dir.string(), options);
  std::string bytes = test::read_text(files[2]);
  // BitsAllocated in the implicit VR data set GDCM writes: tag, 4-byte length 2, the value 16.
  const std::string element("\x28\x00\x00\x01\x02\x00\x00\x00\x10\x00", 10);
  const auto at = bytes.find(element);
  ASSERT_NE(at, std::string::npos);
  bytes[at + 8] = 13;
  std::ofstream(files[2], std::ios::binary | std::ios::trunc) << bytes;
  std::string message;
  EXPECT_EQ(test::status_of([&] { read_volume(dir.string()); }, &message), Status::unsupported_input) << message;
  EXPECT_NE(message.find("13 bits allocated"), std::string::npos) << message;
  EXPECT_NE(message.find(fs::path(files[2]).filename().string()), std::string::npos) << message;
}

}  // namespace slicenav

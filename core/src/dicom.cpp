// DICOM series directories: GDCM scans the headers and decodes the pixels, and the geometry is built
// here from ImageOrientationPatient, PixelSpacing and ImagePositionPatient.
#include "slicenav/dicom.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <new>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <gdcmDirectory.h>
#include <gdcmImage.h>
#include <gdcmImageReader.h>
#include <gdcmPixelFormat.h>
#include <gdcmReader.h>
#include <gdcmRescaler.h>
#include <gdcmScanner.h>
#include <gdcmTag.h>
#include <gdcmTrace.h>

#include "dicom_structure.hpp"
#include "slicenav/error.hpp"
#include "stats.hpp"
#include "text.hpp"

namespace slicenav {
namespace {

namespace fs = std::filesystem;

const gdcm::Tag kModality(0x0008, 0x0060);
const gdcm::Tag kSeriesDescription(0x0008, 0x103e);
const gdcm::Tag kSliceThickness(0x0018, 0x0050);
const gdcm::Tag kGantryTilt(0x0018, 0x1120);
const gdcm::Tag kPatientPosition(0x0018, 0x5100);
const gdcm::Tag kSeriesInstanceUid(0x0020, 0x000e);
const gdcm::Tag kInstanceNumber(0x0020, 0x0013);
const gdcm::Tag kImagePosition(0x0020, 0x0032);
const gdcm::Tag kImageOrientation(0x0020, 0x0037);
const gdcm::Tag kNumberOfFrames(0x0028, 0x0008);
const gdcm::Tag kRows(0x0028, 0x0010);
const gdcm::Tag kColumns(0x0028, 0x0011);
const gdcm::Tag kPixelSpacing(0x0028, 0x0030);
const gdcm::Tag kPixelData(0x7fe0, 0x0010);

// Modalities whose objects are not anatomical images even when they carry positions or pixels.
const std::set<std::string> kNonImageModalities = {"RTSTRUCT", "RTPLAN", "RTDOSE", "RTRECORD", "SEG",
                                                   "SR",       "PR",     "KO",     "REG",      "DOC"};

// Slices closer than this along the normal (mm) are the same position.
constexpr double kDuplicateTolerance = 0.01;
constexpr double kTiltWarningDeg = 0.5;
constexpr double kPi = 3.14159265358979323846;

// One image file's header values.
struct SliceHeader {
  std::string path;
  std::string series_uid;
  std::string modality;
  std::string description;
  std::string patient_position;
  Vec3 position{0.0, 0.0, 0.0};         // ImagePositionPatient, LPS mm
  std::array<double, 6> orientation{};  // ImageOrientationPatient: row dir, column dir
  std::vector<double> pixel_spacing;    // row spacing \ column spacing, possibly empty
  double gantry_tilt_deg = 0.0;
  double slice_thickness = 0.0;
  double instance_number = 0.0;
  long frames = 1;
};

struct DirectoryScan {
  std::size_t file_count = 0;           // regular files in the directory
  std::size_t dicom_count = 0;          // files GDCM could parse
  std::vector<SliceHeader> images;      // image files, in file-name order
  std::vector<std::string> unreadable;  // files with a DICOM preamble that GDCM could not parse
};

struct SeriesGroup {
  std::string uid;
  std::string modality;
  std::string description;
  std::vector<const SliceHeader*> files;
};

std::string trim(const char* text) {
  if (text == nullptr) return {};
  std::string value(text);
  const auto keep = [](char c) { return c != ' ' && c != '\0' && c != '\t' && c != '\r' && c != '\n'; };
  const auto first = std::find_if(value.begin(), value.end(), keep);
  const auto last = std::find_if(value.rbegin(), value.rend(), keep).base();
  return first < last ? std::string(first, last) : std::string();
}

// Backslash-separated decimal strings (DS, IS); stops at the first value that does not parse.
std::vector<double> parse_numbers(const std::string& text) {
  std::vector<double> values;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find('\\', start);
    if (end == std::string::npos) end = text.size();
    std::string item = trim(text.substr(start, end - start).c_str());
    if (!item.empty() && item.front() == '+') item.erase(0, 1);
    double value = 0.0;
    const auto result = std::from_chars(item.data(), item.data() + item.size(), value);
    if (item.empty() || result.ec != std::errc() || result.ptr != item.data() + item.size() || !std::isfinite(value)) {
      break;
    }
    values.push_back(value);
    start = end + 1;
  }
  return values;
}

bool has_dicom_preamble(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  char magic[4] = {};
  file.seekg(128);
  return file.read(magic, 4) && std::string(magic, 4) == "DICM";
}

Vec3 cross(const Vec3& a, const Vec3& b) {
  return {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
}
double dot(const Vec3& a, const Vec3& b) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }
double norm(const Vec3& a) { return std::sqrt(dot(a, a)); }

std::vector<std::string> directory_files(const std::string& directory) {
  std::error_code ec;
  const fs::file_status status = fs::status(directory, ec);
  if (ec || !fs::exists(status)) {
    fail(Status::not_found, "DICOM directory '" + directory + "' does not exist");
  }
  if (!fs::is_directory(status)) {
    fail(Status::unsupported_input, "'" + directory + "' is not a directory of DICOM files");
  }
  std::vector<std::string> files;
  fs::directory_iterator it(directory, ec);
  if (ec) fail(Status::io, "cannot list DICOM directory '" + directory + "': " + ec.message());
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) fail(Status::io, "cannot list DICOM directory '" + directory + "': " + ec.message());
    std::error_code file_ec;
    if (it->is_regular_file(file_ec)) files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Reads the headers of every file in the directory and keeps the single-frame image files.
DirectoryScan scan_directory(const std::string& directory) {
  // GDCM prints a line to stderr for every nonconforming element (thousands per series on some
  // scanners' files); slicenav reports what matters as warnings instead. GDCM's switch is process-wide.
  gdcm::Trace::WarningOff();
  gdcm::Trace::DebugOff();
  DirectoryScan scan;
  const std::vector<std::string> files = directory_files(directory);
  scan.file_count = files.size();
  if (files.empty()) return scan;

  std::vector<std::string> readable;
  for (const std::string& file : files) {
    if (dicom_structure(file) != DicomStructure::damaged) {
      readable.push_back(file);  // a truncated file is reported when its slice is decoded
    } else if (has_dicom_preamble(file)) {
      scan.unreadable.push_back(file);  // a damaged DICOM file; files of other kinds are left alone
    }
  }
  gdcm::Scanner scanner;
  // Rescale slope/intercept are not scanned: the decoder applies each file's own pair.
  for (const gdcm::Tag& tag :
       {kModality, kSeriesDescription, kSliceThickness, kGantryTilt, kPatientPosition, kSeriesInstanceUid,
        kInstanceNumber, kImagePosition, kImageOrientation, kNumberOfFrames, kRows, kColumns, kPixelSpacing}) {
    scanner.AddTag(tag);
  }
  gdcm::Directory::FilenamesType names(readable.begin(), readable.end());
  scanner.Scan(names);

  for (const std::string& file : readable) {
    if (!scanner.IsKey(file.c_str())) {
      if (has_dicom_preamble(file)) scan.unreadable.push_back(file);
      continue;
    }
    ++scan.dicom_count;
    const auto value = [&](const gdcm::Tag& tag) { return trim(scanner.GetValue(file.c_str(), tag)); };
    SliceHeader header;
    header.path = file;
    header.series_uid = value(kSeriesInstanceUid);
    header.modality = value(kModality);
    if (header.series_uid.empty() || kNonImageModalities.count(header.modality) != 0) continue;
    const std::vector<double> position = parse_numbers(value(kImagePosition));
    const std::vector<double> orientation = parse_numbers(value(kImageOrientation));
    if (position.size() != 3 || orientation.size() != 6 || value(kRows).empty() || value(kColumns).empty()) {
      continue;  // not an image with a place in the patient (or an enhanced multi-frame object)
    }
    header.description = value(kSeriesDescription);
    header.patient_position = value(kPatientPosition);
    header.position = {position[0], position[1], position[2]};
    std::copy(orientation.begin(), orientation.end(), header.orientation.begin());
    header.pixel_spacing = parse_numbers(value(kPixelSpacing));
    if (const auto tilt = parse_numbers(value(kGantryTilt)); !tilt.empty()) header.gantry_tilt_deg = tilt[0];
    if (const auto thick = parse_numbers(value(kSliceThickness)); !thick.empty()) {
      header.slice_thickness = thick[0];
    }
    if (const auto number = parse_numbers(value(kInstanceNumber)); !number.empty()) {
      header.instance_number = number[0];
    }
    if (const auto frames = parse_numbers(value(kNumberOfFrames)); !frames.empty()) {
      header.frames = static_cast<long>(frames[0]);
    }
    scan.images.push_back(std::move(header));
  }
  return scan;
}

[[noreturn]] void fail_no_images(const std::string& directory, const DirectoryScan& scan) {
  std::ostringstream message;
  message << "no DICOM image file in '" << directory << "' (" << scan.file_count << " files, " << scan.dicom_count
          << " readable as DICOM";
  if (!scan.unreadable.empty()) message << ", " << scan.unreadable.size() << " damaged";
  message << "; objects without ImagePositionPatient/ImageOrientationPatient such as RTSTRUCT and "
             "enhanced multi-frame files are not read)";
  fail(Status::unsupported_input, message.str());
}

std::vector<SeriesGroup> group_series(const DirectoryScan& scan) {
  std::map<std::string, SeriesGroup> groups;
  for (const SliceHeader& header : scan.images) {
    SeriesGroup& group = groups[header.series_uid];
    if (group.files.empty()) {
      group.uid = header.series_uid;
      group.modality = header.modality;
      group.description = header.description;
    }
    group.files.push_back(&header);
  }
  std::vector<SeriesGroup> result;
  for (auto& entry : groups) result.push_back(std::move(entry.second));
  return result;
}

std::string describe(const std::vector<SeriesGroup>& groups) {
  std::ostringstream text;
  for (const SeriesGroup& group : groups) {
    text << "\n  " << group.uid << "  " << (group.modality.empty() ? "?" : group.modality) << "  \""
         << group.description << "\"  " << group.files.size() << (group.files.size() == 1 ? " file" : " files");
  }
  return text.str();
}

const SeriesGroup& choose_series(const std::string& directory, const std::vector<SeriesGroup>& groups,
                                 const ReadOptions& options) {
  const std::string how =
      "choose one by its SeriesInstanceUID (C: slicenav_read_params.dicom_series_uid, listed by "
      "slicenav_dicom_series_list_read; CLI: --dicom-series UID)";
  if (!options.series_uid.empty()) {
    for (const SeriesGroup& group : groups) {
      if (group.uid == options.series_uid) return group;
    }
    fail(Status::not_found, "DICOM series '" + options.series_uid + "' is not in '" + directory +
                                "'; available series:" + describe(groups));
  }
  std::vector<SeriesGroup> ct;
  const SeriesGroup* only_ct = nullptr;
  for (const SeriesGroup& group : groups) {
    if (group.modality == "CT") {
      ct.push_back(group);
      only_ct = &group;
    }
  }
  if (ct.size() == 1) return *only_ct;
  if (ct.size() > 1) {
    fail(Status::unsupported_input,
         "'" + directory + "' holds " + std::to_string(ct.size()) + " CT series; " + how + ":" + describe(ct));
  }
  if (groups.size() == 1) return groups.front();
  fail(Status::unsupported_input, "'" + directory + "' holds no CT series but " + std::to_string(groups.size()) +
                                      " other image series; " + how + ":" + describe(groups));
}

std::string scalar_name(gdcm::PixelFormat::ScalarType type) {
  switch (type) {
    case gdcm::PixelFormat::UINT8: return "uint8";
    case gdcm::PixelFormat::INT8: return "int8";
    case gdcm::PixelFormat::UINT12: return "uint12";
    case gdcm::PixelFormat::INT12: return "int12";
    case gdcm::PixelFormat::UINT16: return "uint16";
    case gdcm::PixelFormat::INT16: return "int16";
    case gdcm::PixelFormat::UINT32: return "uint32";
    case gdcm::PixelFormat::INT32: return "int32";
    case gdcm::PixelFormat::UINT64: return "uint64";
    case gdcm::PixelFormat::INT64: return "int64";
    case gdcm::PixelFormat::FLOAT16: return "float16";
    case gdcm::PixelFormat::FLOAT32: return "float32";
    case gdcm::PixelFormat::FLOAT64: return "float64";
    default: return "unknown";
  }
}

// One decoded slice: float values with rescale slope/intercept applied.
struct DecodedSlice {
  std::size_t columns = 0;
  std::size_t rows = 0;
  std::string stored_type;
  std::vector<float> values;
};

// GDCM decodes the pixel data (any transfer syntax it supports) and gdcm::Rescaler applies the file's
// RescaleSlope/Intercept, as ITK's GDCMImageIO does internally. Going to GDCM directly avoids a second
// header parse, ITK's warning per private element with an unexpected VR, and lets truncation be caught.
DecodedSlice decode_slice(const std::string& path) {
  // GDCM reads a pixel data element cut short by the end of the file without failing, after allocating what its
  // length claims: the structure is checked first.
  std::string problem;
  switch (dicom_structure(path, &problem)) {
    case DicomStructure::sound: break;
    case DicomStructure::truncated: fail(Status::io, "DICOM file '" + path + "' is truncated: " + problem);
    case DicomStructure::damaged: fail(Status::io, "DICOM file '" + path + "' is damaged: " + problem);
  }
  gdcm::ImageReader reader;
  reader.SetFileName(path.c_str());
  if (!reader.Read()) fail(Status::io, "cannot read DICOM file '" + path + "': GDCM could not parse it");
  const gdcm::Image& image = reader.GetImage();
  const gdcm::PixelFormat& format = image.GetPixelFormat();
  if (format.GetSamplesPerPixel() != 1) {
    fail(Status::unsupported_input, "DICOM file '" + path + "' has " + std::to_string(format.GetSamplesPerPixel()) +
                                        " samples per pixel; only grayscale images are read");
  }
  // GDCM asserts (Debian builds it with assertions on, so the process aborts) on a bit depth that is not whole bytes.
  if (const unsigned bits = format.GetBitsAllocated(); bits != 8 && bits != 16 && bits != 32 && bits != 64) {
    fail(Status::unsupported_input, "DICOM file '" + path + "' has " + std::to_string(bits) +
                                        " bits allocated per pixel; only 8, 16, 32 or 64 are read");
  }
  const unsigned int frames = image.GetNumberOfDimensions() > 2 ? image.GetDimension(2) : 1;
  if (frames != 1) {
    fail(Status::unsupported_input,
         "DICOM file '" + path + "' holds " + std::to_string(frames) + " frames; multi-frame files are not supported");
  }
  const unsigned long length = image.GetBufferLength();
  if (const gdcm::ByteValue* raw = image.GetDataElement().GetByteValue()) {
    if (raw->GetLength() < length) {
      fail(Status::io, "DICOM file '" + path + "' is truncated: its pixel data holds " +
                           std::to_string(raw->GetLength()) + " of " + std::to_string(length) + " bytes");
    }
  } else if (image.GetDataElement().GetSequenceOfFragments() == nullptr) {
    fail(Status::io, "DICOM file '" + path + "' has no pixel data");
  }
  std::vector<char> stored(length);
  if (length == 0 || !image.GetBuffer(stored.data())) {
    fail(Status::io, "cannot decode the pixel data of DICOM file '" + path +
                         "' (damaged, or a compression "
                         "GDCM does not support)");
  }

  DecodedSlice slice;
  slice.columns = image.GetColumns();
  slice.rows = image.GetRows();
  slice.stored_type = scalar_name(format.GetScalarType());
  slice.values.resize(slice.columns * slice.rows);
  gdcm::Rescaler rescaler;
  rescaler.SetIntercept(image.GetIntercept());
  rescaler.SetSlope(image.GetSlope());
  rescaler.SetPixelFormat(format);
  rescaler.SetTargetPixelType(gdcm::PixelFormat::FLOAT32);
  rescaler.SetUseTargetPixelType(true);
  if (slice.values.size() * format.GetPixelSize() != stored.size() ||
      !rescaler.Rescale(reinterpret_cast<char*>(slice.values.data()), stored.data(), stored.size())) {
    fail(Status::unsupported_input,
         "cannot convert the " + slice.stored_type + " pixels of DICOM file '" + path + "' to float");
  }
  return slice;
}

struct Slice {
  const SliceHeader* header = nullptr;
  double position = 0.0;  // ImagePositionPatient projected on the slice normal, mm
};

// Sorted, de-duplicated slices of one series.
struct SliceStack {
  std::vector<Slice> slices;
  Vec3 row_dir{}, col_dir{}, normal{};
};

SliceStack sort_slices(const SeriesGroup& group, std::vector<std::string>& warnings) {
  SliceStack stack;
  const SliceHeader& first = *group.files.front();
  Vec3 row{first.orientation[0], first.orientation[1], first.orientation[2]};
  Vec3 col{first.orientation[3], first.orientation[4], first.orientation[5]};
  const double row_norm = norm(row);
  const double col_norm = norm(col);
  if (row_norm < 1e-6 || col_norm < 1e-6 || std::abs(dot(row, col)) / (row_norm * col_norm) > 1e-3) {
    fail(Status::unsupported_input,
         "ImageOrientationPatient of '" + first.path + "' is not two orthogonal unit vectors");
  }
  for (double& v : row) v /= row_norm;
  for (double& v : col) v /= col_norm;
  // Remove the tiny non-orthogonality DS rounding leaves, so the direction matrix is a rotation.
  const double overlap = dot(row, col);
  for (int a = 0; a < 3; ++a) col[a] -= overlap * row[a];
  const double col_norm2 = norm(col);
  for (double& v : col) v /= col_norm2;
  stack.row_dir = row;
  stack.col_dir = col;
  stack.normal = cross(row, col);

  for (const SliceHeader* header : group.files) {
    for (int a = 0; a < 6; ++a) {
      if (std::abs(header->orientation[a] - first.orientation[a]) > 1e-3) {
        fail(Status::unsupported_input, "DICOM series " + group.uid + " mixes slice orientations: '" + header->path +
                                            "' differs from '" + first.path + "'");
      }
    }
  }
  std::vector<std::pair<double, const SliceHeader*>> order;
  for (const SliceHeader* header : group.files) order.emplace_back(dot(header->position, stack.normal), header);
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    if (a.second->instance_number != b.second->instance_number) {
      return a.second->instance_number < b.second->instance_number;
    }
    return a.second->path < b.second->path;
  });

  std::size_t duplicates = 0;
  std::string example;
  for (const auto& [position, header] : order) {
    if (!stack.slices.empty() && position - stack.slices.back().position < kDuplicateTolerance) {
      if (duplicates++ == 0) {
        example = "'" + fs::path(header->path).filename().string() + "' repeats '" +
                  fs::path(stack.slices.back().header->path).filename().string() +
                  "' at z = " + detail::fixed_decimals(header->position[2], 3) + " mm";
      }
      continue;
    }
    stack.slices.push_back({header, position});
  }
  if (duplicates > 0) {
    warnings.push_back(
        "duplicate slice positions: " + std::to_string(duplicates) + " file(s) repeat a position already present (" +
        example + "); kept the first file of each position, " + std::to_string(stack.slices.size()) + " slices remain");
  }
  return stack;
}

// Spacing along k plus warnings about tilt, uneven and missing slices.
double slice_spacing(const SliceStack& stack, std::vector<std::string>& warnings) {
  const auto& slices = stack.slices;
  const std::size_t n = slices.size();
  const SliceHeader& first = *slices.front().header;
  const SliceHeader& last = *slices.back().header;

  double tag_tilt = 0.0;
  for (const Slice& s : slices) tag_tilt = std::max(tag_tilt, std::abs(s.header->gantry_tilt_deg));

  if (n == 1) {
    const double spacing = first.slice_thickness > 0.0 ? first.slice_thickness : 1.0;
    warnings.push_back("single-slice series: the spacing along k is " + detail::fixed_decimals(spacing, 2) +
                       " mm, from " + (first.slice_thickness > 0.0 ? "SliceThickness" : "a 1 mm default"));
    if (tag_tilt > kTiltWarningDeg) {
      warnings.push_back("gantry tilt: GantryDetectorTilt is " + detail::fixed_decimals(tag_tilt, 2) + " degrees");
    }
    return spacing;
  }

  const Vec3 span{last.position[0] - first.position[0], last.position[1] - first.position[1],
                  last.position[2] - first.position[2]};
  const double cosine = std::min(1.0, std::abs(dot(span, stack.normal)) / norm(span));
  const double stack_tilt = std::acos(cosine) * 180.0 / kPi;
  if (stack_tilt > kTiltWarningDeg || tag_tilt > kTiltWarningDeg) {
    warnings.push_back("gantry tilt: slices are stacked " + detail::fixed_decimals(stack_tilt, 2) +
                       " degrees off the slice normal (GantryDetectorTilt " + detail::fixed_decimals(tag_tilt, 2) +
                       " degrees); the volume stacks them along the normal, so positions away from the "
                       "first slice are approximate");
  }

  std::vector<double> steps;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    steps.push_back(slices[i + 1].position - slices[i].position);
  }
  const double mean_step = (slices.back().position - slices.front().position) / static_cast<double>(n - 1);
  const double median_step = stats::median(steps);

  std::size_t missing = 0;
  std::string where;
  double min_regular = std::numeric_limits<double>::infinity();
  double max_regular = 0.0;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (steps[i] > 1.5 * median_step) {
      const auto here = static_cast<std::size_t>(std::max(1.0, std::round(steps[i] / median_step) - 1.0));
      missing += here;
      if (!where.empty()) where += "; ";
      where += std::to_string(here) + " between slices " + std::to_string(i) + " and " + std::to_string(i + 1) +
               " (z " + detail::fixed_decimals(slices[i].header->position[2], 3) + " to " +
               detail::fixed_decimals(slices[i + 1].header->position[2], 3) + " mm, gap " +
               detail::fixed_decimals(steps[i], 3) + " mm)";
    } else {
      min_regular = std::min(min_regular, steps[i]);
      max_regular = std::max(max_regular, steps[i]);
    }
  }
  if (missing > 0) {
    warnings.push_back("missing slices: about " + std::to_string(missing) + " slice(s) missing: " + where +
                       "; median step " + detail::fixed_decimals(median_step, 3) +
                       " mm; the volume assumes a uniform step of " + detail::fixed_decimals(mean_step, 3) +
                       " mm, so slices between the ends are misplaced");
  }
  if (std::max(median_step - min_regular, max_regular - median_step) > 0.01 * median_step) {
    warnings.push_back("uneven slice spacing: steps along the normal range from " +
                       detail::fixed_decimals(min_regular, 3) + " to " + detail::fixed_decimals(max_regular, 3) +
                       " mm (median " + detail::fixed_decimals(median_step, 3) +
                       " mm); the volume uses the mean step " + detail::fixed_decimals(mean_step, 3) + " mm");
  }
  return mean_step;
}

Volume read_series(const std::string& directory, const ReadOptions& options) {
  const DirectoryScan scan = scan_directory(directory);
  if (scan.images.empty()) fail_no_images(directory, scan);
  const std::vector<SeriesGroup> groups = group_series(scan);
  const SeriesGroup& group = choose_series(directory, groups, options);

  SourceInfo source;
  source.path = directory;
  source.format = "dicom";
  source.modality = group.modality;
  source.series_uid = group.uid;
  source.series_description = group.description;
  source.patient_position = group.files.front()->patient_position;
  if (group.modality != "CT") {
    source.warnings.push_back("modality is " + (group.modality.empty() ? std::string("missing") : group.modality) +
                              ", not CT: voxel values may not be Hounsfield units and CT-trained models may "
                              "not apply (series " +
                              group.uid + ")");
  }
  if (!scan.unreadable.empty()) {
    source.warnings.push_back(std::to_string(scan.unreadable.size()) +
                              " file(s) with a DICOM preamble could not be parsed and were skipped, e.g. '" +
                              scan.unreadable.front() + "'");
  }
  for (const SliceHeader* header : group.files) {
    if (header->frames > 1) {
      fail(Status::unsupported_input, "DICOM file '" + header->path + "' holds " + std::to_string(header->frames) +
                                          " frames; multi-frame files are not supported");
    }
  }

  const SliceStack stack = sort_slices(group, source.warnings);
  const double k_spacing = slice_spacing(stack, source.warnings);
  const SliceHeader& first = *stack.slices.front().header;

  Geometry geometry;
  DecodedSlice decoded = decode_slice(first.path);
  geometry.size = {decoded.columns, decoded.rows, stack.slices.size()};
  source.pixel_type = decoded.stored_type;
  std::vector<double> pixel_spacing = first.pixel_spacing;
  if (pixel_spacing.size() < 2 || pixel_spacing[0] <= 0.0 || pixel_spacing[1] <= 0.0) {
    source.warnings.push_back("PixelSpacing is missing or not positive; in-plane spacing set to 1 mm");
    pixel_spacing = {1.0, 1.0};
  }
  for (const Slice& slice : stack.slices) {
    const std::vector<double>& other = slice.header->pixel_spacing;
    if (other.size() >= 2 && (std::abs(other[0] - pixel_spacing[0]) > 1e-4 * pixel_spacing[0] ||
                              std::abs(other[1] - pixel_spacing[1]) > 1e-4 * pixel_spacing[1])) {
      fail(Status::unsupported_input, "DICOM series " + group.uid + " mixes pixel spacings: '" + slice.header->path +
                                          "' differs from '" + first.path + "'");
    }
  }
  // PixelSpacing is (row spacing, column spacing): i runs along a row, so its spacing is the second value.
  geometry.spacing = {pixel_spacing[1], pixel_spacing[0], k_spacing};
  geometry.origin = first.position;
  for (int r = 0; r < 3; ++r) {
    geometry.direction[3 * r + 0] = stack.row_dir[r];
    geometry.direction[3 * r + 1] = stack.col_dir[r];
    geometry.direction[3 * r + 2] = stack.normal[r];
  }

  const std::size_t slice_voxels = decoded.values.size();
  // Kept as int16 while every value is a whole HU within int16 (CT), as read_volume keeps int16 files; as float from
  // the first slice that is not.
  std::shared_ptr<std::int16_t> whole = allocate_voxels<std::int16_t>(geometry.voxel_count());
  std::shared_ptr<float> voxels;  // set from the first slice that is not whole HU
  for (std::size_t k = 0; k < stack.slices.size(); ++k) {
    const std::string& path = stack.slices[k].header->path;
    options.progress.at(static_cast<double>(k) / static_cast<double>(stack.slices.size()));
    if (k > 0) decoded = decode_slice(path);
    if (decoded.columns != geometry.size[0] || decoded.rows != geometry.size[1]) {
      fail(Status::unsupported_input, "DICOM file '" + path + "' has " + std::to_string(decoded.columns) + "x" +
                                          std::to_string(decoded.rows) + " pixels but '" + first.path + "' has " +
                                          std::to_string(geometry.size[0]) + "x" + std::to_string(geometry.size[1]));
    }
    const auto bad =
        std::find_if(decoded.values.begin(), decoded.values.end(), [](float v) { return !std::isfinite(v); });
    if (bad != decoded.values.end()) {
      fail(Status::invalid_argument, "DICOM file '" + path + "' decodes to a non-finite value");
    }
    const std::size_t at = k * slice_voxels;
    if (!voxels) {
      bool all_whole = true;  // converted and checked in one pass
      for (std::size_t n = 0; n < slice_voxels; ++n) {
        const float v = decoded.values[n];
        const bool in_range = v >= -32768.0f && v <= 32767.0f;  // false for NaN
        const auto stored = static_cast<std::int16_t>(in_range ? v : 0.0f);
        all_whole = all_whole && in_range && static_cast<float>(stored) == v;
        whole.get()[at + n] = stored;
      }
      if (!all_whole) {
        voxels = allocate_voxels<float>(geometry.voxel_count());
        std::copy(whole.get(), whole.get() + at, voxels.get());  // the slices before this one
        whole.reset();
      }
    }
    if (voxels) std::copy(decoded.values.begin(), decoded.values.end(), voxels.get() + at);
  }
  if (!voxels) return Volume(geometry, std::shared_ptr<const std::int16_t>(std::move(whole)), std::move(source));
  return Volume(geometry, std::shared_ptr<const float>(std::move(voxels)), std::move(source));
}

// Runs `body`, turning library failures (GDCM, the file system) into slicenav::Error.
template <typename Body>
auto guarded(const std::string& directory, Body body) -> decltype(body()) {
  try {
    return body();
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const fs::filesystem_error& e) {
    fail(Status::io, "reading DICOM directory '" + directory + "' failed: " + e.what());
  } catch (const std::exception& e) {
    fail(Status::internal, "reading DICOM directory '" + directory + "' failed: " + e.what());
  }
}

}  // namespace

std::vector<DicomSeries> list_dicom_series(const std::string& directory) {
  return guarded(directory, [&] {
    const DirectoryScan scan = scan_directory(directory);
    if (scan.images.empty()) fail_no_images(directory, scan);
    std::vector<DicomSeries> result;
    for (const SeriesGroup& group : group_series(scan)) {
      result.push_back({group.uid, group.modality, group.description, group.files.size()});
    }
    return result;
  });
}

Volume read_dicom_series(const std::string& directory, const ReadOptions& options) {
  return guarded(directory, [&] { return read_series(directory, options); });
}

}  // namespace slicenav

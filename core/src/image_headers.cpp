#include "image_headers.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <vector>

#include "slicenav/error.hpp"
#include "text.hpp"

namespace slicenav::detail {
namespace {

namespace fs = std::filesystem;

// MetaIO takes an ElementDataFile of several words as a numbered-file pattern ("PATTERN FIRST LAST STEP") and
// "LIST" as a list of slice files on the lines that follow, both read without checks (a zero step ended the process
// with SIGFPE; a damaged list freed memory it did not own), and one that names no file as a file it cannot open,
// after allocating from the header's sizes. slicenav reads the voxels from the header's own file (LOCAL) or from
// one data file. `name` is the value.
void check_metaimage_data_file(const std::string& path, const std::string& name) {
  if (name.empty()) {
    fail(Status::io, "cannot read '" + path + "': its MetaImage ElementDataFile names no file (damaged header)");
  }
  if (name.rfind("LIST", 0) == 0 || name.find_first_of(" \t") != std::string::npos) {
    fail(Status::unsupported_input, "'" + path +
                                        "' keeps its voxels in several files (MetaImage ElementDataFile "
                                        "LIST or 'PATTERN FIRST LAST STEP'), which slicenav does not read: save the "
                                        "volume as one .mha, .nrrd or .nii.gz file");
  }
}

}  // namespace

MetaImageHeader read_metaimage_header(const std::string& path) {
  constexpr std::size_t kMaxText = 254;  // MetaIO's 255-byte buffers with their terminating zero
  const auto damaged = [&](int number, const std::string& what) {
    fail(Status::io, "cannot read '" + path + "': key " + std::to_string(number) + " of its MetaImage header " + what +
                         " (damaged, or not a MetaImage file)");
  };
  std::ifstream in(path, std::ios::binary);
  MetaImageHeader header;
  std::string key, value;
  for (int number = 1; in; ++number) {
    key.clear();
    value.clear();
    // As MetaIO reads them: a key up to '=', ':' or the end of its line; its value from the next '=' or ':', on a
    // later line when the key's line has none (the lines between are skipped, whatever keys they hold), to the end
    // of that line.
    int c = in.get();
    while (c != EOF && c != '=' && c != ':' && std::isspace(c)) c = in.get();
    while (c != EOF && c != '=' && c != ':' && c != '\n' && c != '\r' && key.size() <= kMaxText) {
      key.push_back(static_cast<char>(c));
      c = in.get();
    }
    if (key.size() > kMaxText) damaged(number, "is longer than " + std::to_string(kMaxText) + " characters");
    key = key.substr(0, key.find('\0'));  // MetaIO compares keys as C strings: "ElementDataFile\0..." is that key
    key.erase(key.find_last_not_of(" \t") + 1);
    while (c != EOF && c != '=' && c != ':') c = in.get();
    while (c != EOF && c != '\n' && value.size() <= kMaxText + 1) {  // the separator, then the value
      value.push_back(static_cast<char>(c));
      c = in.get();
    }
    if (value.size() > kMaxText + 1)
      damaged(number, "has a value longer than " + std::to_string(kMaxText) + " characters");
    value = value.substr(0, value.find('\0'));
    value.erase(0, std::min(value.size(), value.find_first_not_of(" \t=:")));
    value.erase(value.find_last_not_of(" \t\r") + 1);
    if (key == "NDims") {
      char* end = nullptr;
      const long dims = std::strtol(value.c_str(), &end, 10);
      if (end == value.c_str() || dims < 1 || dims > 16)
        damaged(number, "gives an NDims that is not a number from 1 to 16");
    }
    header.fields[key] = value;
    if (key == "ElementDataFile") {  // the header's last key
      header.data_offset = static_cast<unsigned long long>(in.tellg());
      check_metaimage_data_file(path, value);
      return header;
    }
  }
  return header;
}

// Deflate never compresses by more than 1032:1, so a gzip payload smaller than 1/1032 of the voxel bytes its header
// promises is truncated, or its header lies about the size.
constexpr unsigned long long kMaxDeflateRatio = 1032;

void check_metaimage_payload(const std::string& path, const MetaImageHeader& header, std::size_t voxel_bytes) {
  const auto field = [&](const char* key) {
    const auto it = header.fields.find(key);
    return it == header.fields.end() ? std::string() : it->second;
  };
  const bool compressed = lowercase(field("CompressedData")) == "true";
  unsigned long long compressed_size = 0;
  if (const std::string size = field("CompressedDataSize"); !size.empty()) {
    char* end = nullptr;
    compressed_size = std::strtoull(size.c_str(), &end, 10);
    if (end == size.c_str()) fail(Status::io, "cannot read '" + path + "': bad CompressedDataSize '" + size + "'");
  }
  const std::string data_file = field("ElementDataFile");
  unsigned long long present = 0;
  if (data_file == "LOCAL") {
    present = fs::file_size(path) - std::min<unsigned long long>(header.data_offset, fs::file_size(path));
  } else if (!data_file.empty()) {
    const fs::path data = fs::path(path).parent_path() / data_file;
    if (data.string().size() > 254) {  // MetaIO builds the data file's path in a 255-byte buffer
      fail(Status::unsupported_input, "cannot read '" + path + "': the path of its data file is " +
                                          std::to_string(data.string().size()) +
                                          " characters long; ITK's MetaImage reader takes at most 254");
    }
    std::error_code ec;
    if (!fs::is_regular_file(data, ec)) {
      fail(Status::io, "cannot read '" + path + "': its data file '" + data.string() + "' is missing");
    }
    present = fs::file_size(data);
  } else {
    return;
  }
  const unsigned long long needed = compressed ? compressed_size : voxel_bytes;
  if (present < needed || (compressed && present * kMaxDeflateRatio < voxel_bytes)) {
    fail(Status::io, "cannot read '" + path + "': voxel data ends early (the file is truncated)");
  }
}

void check_nrrd_payload(const std::string& path, std::size_t voxel_bytes) {
  std::ifstream in(path, std::ios::binary);
  std::string line, encoding, data_file;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) break;  // the end of an attached header
    const auto colon = line.find(": ");
    if (line[0] == '#' || colon == std::string::npos) continue;
    const std::string key = lowercase(line.substr(0, colon)), value = line.substr(colon + 2);
    if (key == "encoding") encoding = lowercase(value);
    if (key == "data file" || key == "datafile") data_file = value;
    if (key == "line skip" || key == "lineskip" || key == "byte skip" || key == "byteskip") return;
  }
  unsigned long long present = 0;
  fs::path data = path;
  if (data_file.empty()) {
    if (!in) return;
    present = fs::file_size(path) - static_cast<unsigned long long>(in.tellg());
  } else {
    if (data_file.find(' ') != std::string::npos || data_file.find('%') != std::string::npos ||
        lowercase(data_file) == "list")
      return;
    data = data_file;
    if (data.is_relative()) data = fs::path(path).parent_path() / data;
    std::error_code ec;
    if (!fs::exists(data, ec))
      fail(Status::io, "cannot read '" + path + "': its data file '" + data.string() + "' is missing");
    present = fs::file_size(data);
  }
  const bool gzip = encoding == "gzip" || encoding == "gz";
  if (encoding != "raw" && !gzip) return;
  bool complete = (gzip ? present * kMaxDeflateRatio : present) >= voxel_bytes;
  if (complete && gzip && present >= 4) {
    // The gzip trailer's last field is the data's size mod 2^32: a cut stream ends in other bytes.
    std::ifstream tail(data, std::ios::binary);
    tail.seekg(-4, std::ios::end);
    unsigned char isize[4] = {0, 0, 0, 0};
    tail.read(reinterpret_cast<char*>(isize), 4);
    const std::uint32_t stored = isize[0] | (isize[1] << 8) | (isize[2] << 16) | (std::uint32_t(isize[3]) << 24);
    complete = !tail || stored == static_cast<std::uint32_t>(voxel_bytes);
  }
  if (!complete) {
    fail(Status::io, "cannot read '" + path + "': voxel data ends early (the file is truncated, or its header claims " +
                         std::to_string(voxel_bytes) + " bytes of voxels that are not there)");
  }
}

}  // namespace slicenav::detail

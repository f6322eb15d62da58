// Checks that keep damaged MetaImage and NRRD files away from ITK's readers, which crash, hang or read past
// their buffers on them, and which do not notice a short voxel block. Internal to core (io.cpp).
#pragma once

#include <cstddef>
#include <map>
#include <string>

namespace slicenav::detail {

// A MetaImage header as ITK's MetaIO reads it: a key is the characters after leading white space up to '=', ':' or a
// newline, its value the rest of the line (less the separator and surrounding blanks); both are cut at a NUL byte, as
// MetaIO keeps them as C strings; a later key of the same name wins; reading stops after the key ElementDataFile.
struct MetaImageHeader {
  std::map<std::string, std::string> fields;
  unsigned long long data_offset = 0;  // where LOCAL voxel data begins
};

// Reads the header and refuses what MetaIO cannot read safely: it copies keys and string values into 255-byte
// buffers without a bound (glibc aborted the process on the overflow, or the copy read past the buffer), and loops
// over NDims as it reads it (a huge NDims hung it).
MetaImageHeader read_metaimage_header(const std::string& path);

// MetaImage readers do not report a short data block either: compare the bytes present with what the
// header promises (CompressedDataSize when compressed, else the voxel bytes). Data split over a list of
// files is left to the reader.
void check_metaimage_payload(const std::string& path, const MetaImageHeader& header, std::size_t voxel_bytes);

// NRRD readers do not report a short data block either: check the raw or gzip data that follows the header (or
// sits in the one detached data file) against the voxel bytes the header promises. Other encodings and data split
// over several files are left to the reader.
void check_nrrd_payload(const std::string& path, std::size_t voxel_bytes);

}  // namespace slicenav::detail

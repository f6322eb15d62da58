// The self-describing model file: magic, format version, JSON metadata, named float32 tensors, checksum.
//
// Layout (all integers little-endian):
//   "SLICENAV"                      8 bytes magic
//   u32 format_version              kModelFormatVersion when written
//   u32 flags                       0
//   u64 metadata_bytes, bytes       UTF-8 JSON object: architecture and sizes, preprocessing, landmark
//                                   names, templates, training data summary, metrics
//   u64 tensor_count
//   per tensor: u32 name_bytes, name, u32 dtype (0 = float32), u32 ndim, i64 dims[ndim],
//               u64 data_bytes, data
//   u32 CRC-32 of every byte before it
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace slicenav {

inline constexpr std::uint32_t kModelFormatVersion = 1;

struct ModelTensor {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<float> values;  // row-major; size = product of shape
};

struct ModelFile {
  std::string metadata_json = "{}";  // must parse as a JSON object
  std::vector<ModelTensor> tensors;
};

// Writes atomically (temporary file + rename). Identical content gives identical bytes. Throws
// Error(invalid_argument) for metadata that is not a JSON object, a tensor whose values do not match
// its shape, or duplicate tensor names; Error(io) when the file cannot be written.
void save_model_file(const ModelFile& model, const std::string& path);

// Reads and verifies a model file; values round-trip bit for bit. Throws Error:
//   not_found         the file does not exist
//   io                it cannot be read
//   model_format      not a slicenav model file, truncated, damaged (checksum), or inconsistent
//   version_mismatch  written by a newer format version than this library reads
ModelFile load_model_file(const std::string& path);

}  // namespace slicenav

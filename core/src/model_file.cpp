#include "slicenav/model_file.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include <nlohmann/json.hpp>

#include "atomic_file.hpp"
#include "slicenav/error.hpp"

namespace slicenav {
namespace {

constexpr char kMagic[8] = {'S', 'L', 'I', 'C', 'E', 'N', 'A', 'V'};
constexpr std::uint32_t kFloat32 = 0;
constexpr std::uint32_t kMaxDims = 8;

class Writer {
 public:
  template <typename T>
  void put(T value) {
    unsigned char bytes[sizeof(T)];
    std::memcpy(bytes, &value, sizeof(T));  // the targets slicenav builds for are little-endian
    out_.insert(out_.end(), bytes, bytes + sizeof(T));
  }
  void put_bytes(const void* data, std::size_t size) {
    const auto* p = static_cast<const unsigned char*>(data);
    out_.insert(out_.end(), p, p + size);
  }
  std::vector<unsigned char>& bytes() { return out_; }

 private:
  std::vector<unsigned char> out_;
};

class Reader {
 public:
  Reader(const std::vector<unsigned char>& data, std::size_t end, std::string path)
      : data_(data), end_(end), path_(std::move(path)) {}
  template <typename T>
  T get(const char* what) {
    T value;
    std::memcpy(&value, take(sizeof(T), what), sizeof(T));
    return value;
  }
  const unsigned char* take(std::uint64_t size, const char* what) {
    if (size > end_ - pos_) {
      fail(Status::model_format, "model file '" + path_ + "' is truncated or inconsistent (reading " + what + ")");
    }
    const unsigned char* p = data_.data() + pos_;
    pos_ += static_cast<std::size_t>(size);
    return p;
  }
  bool done() const { return pos_ == end_; }

 private:
  const std::vector<unsigned char>& data_;
  std::size_t end_;
  std::size_t pos_ = 0;
  std::string path_;
};

std::uint32_t crc32_of(const unsigned char* data, std::size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths: feed large buffers in pieces.
  while (size > 0) {
    const uInt chunk = static_cast<uInt>(std::min<std::size_t>(size, 1u << 30));
    crc = crc32(crc, data, chunk);
    data += chunk;
    size -= chunk;
  }
  return static_cast<std::uint32_t>(crc);
}

void check_metadata(const std::string& text, const std::string& context, Status status) {
  const nlohmann::json parsed = nlohmann::json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) fail(status, context + ": metadata is not a JSON object");
}

}  // namespace

void save_model_file(const ModelFile& model, const std::string& path) {
  check_metadata(model.metadata_json, "cannot save model file '" + path + "'", Status::invalid_argument);
  std::set<std::string> names;
  Writer w;
  w.put_bytes(kMagic, sizeof(kMagic));
  w.put<std::uint32_t>(kModelFormatVersion);
  w.put<std::uint32_t>(0);
  w.put<std::uint64_t>(model.metadata_json.size());
  w.put_bytes(model.metadata_json.data(), model.metadata_json.size());
  w.put<std::uint64_t>(model.tensors.size());
  for (const ModelTensor& t : model.tensors) {
    if (!names.insert(t.name).second)
      fail(Status::invalid_argument, "model tensor name '" + t.name + "' is used twice");
    std::uint64_t count = 1;
    for (std::int64_t d : t.shape) {
      if (d < 0) fail(Status::invalid_argument, "model tensor '" + t.name + "' has a negative dimension");
      count *= static_cast<std::uint64_t>(d);
    }
    if (t.shape.size() > kMaxDims || count != t.values.size()) {
      fail(Status::invalid_argument, "model tensor '" + t.name + "' holds " + std::to_string(t.values.size()) +
                                         " values that do not match its shape");
    }
    w.put<std::uint32_t>(static_cast<std::uint32_t>(t.name.size()));
    w.put_bytes(t.name.data(), t.name.size());
    w.put<std::uint32_t>(kFloat32);
    w.put<std::uint32_t>(static_cast<std::uint32_t>(t.shape.size()));
    for (std::int64_t d : t.shape) w.put<std::int64_t>(d);
    w.put<std::uint64_t>(t.values.size() * sizeof(float));
    w.put_bytes(t.values.data(), t.values.size() * sizeof(float));
  }
  w.put<std::uint32_t>(crc32_of(w.bytes().data(), w.bytes().size()));
  detail::write_atomically(path, [&](const std::string& temp) {
    std::ofstream out(temp, std::ios::binary);
    out.write(reinterpret_cast<const char*>(w.bytes().data()), static_cast<std::streamsize>(w.bytes().size()));
    out.close();
    if (!out) fail(Status::io, "cannot write model file '" + path + "'");
  });
}

ModelFile load_model_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) fail(Status::not_found, "model file '" + path + "' does not exist");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(Status::io, "cannot open model file '" + path + "'");
  const std::vector<unsigned char> data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(Status::io, "cannot read model file '" + path + "'");

  if (data.size() < sizeof(kMagic) + 8 || std::memcmp(data.data(), kMagic, sizeof(kMagic)) != 0) {
    fail(Status::model_format, "'" + path + "' is not a slicenav model file (bad magic)");
  }
  std::uint32_t version = 0;
  std::memcpy(&version, data.data() + sizeof(kMagic), sizeof(version));
  if (version > kModelFormatVersion) {
    fail(Status::version_mismatch, "model file '" + path + "' has format version " + std::to_string(version) +
                                       "; this library reads versions up to " + std::to_string(kModelFormatVersion) +
                                       ": upgrade slicenav");
  }
  if (version == 0) fail(Status::model_format, "model file '" + path + "' has format version 0");
  if (data.size() < sizeof(kMagic) + 8 + 4) fail(Status::model_format, "model file '" + path + "' is truncated");
  const std::size_t body = data.size() - 4;
  std::uint32_t stored_crc = 0;
  std::memcpy(&stored_crc, data.data() + body, sizeof(stored_crc));
  if (crc32_of(data.data(), body) != stored_crc) {
    fail(Status::model_format, "model file '" + path + "' is damaged or truncated (checksum mismatch)");
  }

  Reader r(data, body, path);
  r.take(sizeof(kMagic), "magic");
  r.get<std::uint32_t>("version");
  r.get<std::uint32_t>("flags");
  ModelFile model;
  const auto meta_size = r.get<std::uint64_t>("metadata size");
  const unsigned char* meta = r.take(meta_size, "metadata");
  model.metadata_json.assign(reinterpret_cast<const char*>(meta), static_cast<std::size_t>(meta_size));
  check_metadata(model.metadata_json, "model file '" + path + "'", Status::model_format);
  const auto count = r.get<std::uint64_t>("tensor count");
  if (count > body) fail(Status::model_format, "model file '" + path + "' declares an impossible tensor count");
  for (std::uint64_t n = 0; n < count; ++n) {
    ModelTensor t;
    const auto name_size = r.get<std::uint32_t>("tensor name size");
    const unsigned char* name = r.take(name_size, "tensor name");
    t.name.assign(reinterpret_cast<const char*>(name), name_size);
    if (r.get<std::uint32_t>("tensor type") != kFloat32) {
      fail(Status::model_format, "model file '" + path + "': tensor '" + t.name + "' has an unknown element type");
    }
    const auto ndim = r.get<std::uint32_t>("tensor rank");
    if (ndim > kMaxDims)
      fail(Status::model_format, "model file '" + path + "': tensor '" + t.name + "' has rank " + std::to_string(ndim));
    std::uint64_t values = 1;
    for (std::uint32_t d = 0; d < ndim; ++d) {
      const auto dim = r.get<std::int64_t>("tensor shape");
      if (dim < 0 || (dim > 0 && values > body / static_cast<std::uint64_t>(dim))) {
        fail(Status::model_format, "model file '" + path + "': tensor '" + t.name + "' has an impossible shape");
      }
      t.shape.push_back(dim);
      values *= static_cast<std::uint64_t>(dim);
    }
    const auto bytes = r.get<std::uint64_t>("tensor size");
    if (bytes != values * sizeof(float)) {
      fail(Status::model_format, "model file '" + path + "': tensor '" + t.name + "' size does not match its shape");
    }
    const unsigned char* p = r.take(bytes, "tensor data");
    t.values.resize(static_cast<std::size_t>(values));
    if (bytes > 0) std::memcpy(t.values.data(), p, static_cast<std::size_t>(bytes));
    model.tensors.push_back(std::move(t));
  }
  if (!r.done()) fail(Status::model_format, "model file '" + path + "' has trailing bytes");
  return model;
}

}  // namespace slicenav

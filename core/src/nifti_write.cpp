#include <libdeflate.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "nifti.hpp"
#include "slicenav/error.hpp"

namespace slicenav::detail {
namespace {

constexpr std::size_t kHeaderBytes = 348;
constexpr std::size_t kVoxOffset = 352;  // the header and 4 bytes saying "no extensions"
// Voxel bytes per gzip member: members are compressed in parallel and concatenated (one valid gzip stream).
constexpr std::size_t kMemberBytes = std::size_t{8} << 20;

template <typename T>
void put(std::array<unsigned char, kVoxOffset>& h, std::size_t at, T value) {
  std::memcpy(h.data() + at, &value, sizeof value);
}

// The quaternion (b, c, d; a >= 0 implied) and qfac of a rotation (columns of `r`, RAS), as the NIfTI
// standard stores it: a left-handed frame gets qfac -1 and its third column negated first.
struct Quaternion {
  double b = 0, c = 0, d = 0, qfac = 1;
};

Quaternion quaternion_of(std::array<std::array<double, 3>, 3> r) {
  Quaternion q;
  const double det = r[0][0] * (r[1][1] * r[2][2] - r[1][2] * r[2][1]) -
                     r[0][1] * (r[1][0] * r[2][2] - r[1][2] * r[2][0]) +
                     r[0][2] * (r[1][0] * r[2][1] - r[1][1] * r[2][0]);
  if (det < 0) {
    q.qfac = -1;
    for (auto& row : r) row[2] = -row[2];
  }
  double a = r[0][0] + r[1][1] + r[2][2] + 1.0, b = 0, c = 0, d = 0;
  if (a > 0.5) {
    a = 0.5 * std::sqrt(a);
    b = 0.25 * (r[2][1] - r[1][2]) / a;
    c = 0.25 * (r[0][2] - r[2][0]) / a;
    d = 0.25 * (r[1][0] - r[0][1]) / a;
  } else {
    const double xd = 1.0 + r[0][0] - (r[1][1] + r[2][2]);
    const double yd = 1.0 + r[1][1] - (r[0][0] + r[2][2]);
    const double zd = 1.0 + r[2][2] - (r[0][0] + r[1][1]);
    if (xd > 1.0) {
      b = 0.5 * std::sqrt(xd);
      c = 0.25 * (r[0][1] + r[1][0]) / b;
      d = 0.25 * (r[0][2] + r[2][0]) / b;
      a = 0.25 * (r[2][1] - r[1][2]) / b;
    } else if (yd > 1.0) {
      c = 0.5 * std::sqrt(yd);
      b = 0.25 * (r[0][1] + r[1][0]) / c;
      d = 0.25 * (r[1][2] + r[2][1]) / c;
      a = 0.25 * (r[0][2] - r[2][0]) / c;
    } else {
      d = 0.5 * std::sqrt(zd);
      b = 0.25 * (r[0][2] + r[2][0]) / d;
      c = 0.25 * (r[1][2] + r[2][1]) / d;
      a = 0.25 * (r[1][0] - r[0][1]) / d;
    }
    if (a < 0) b = -b, c = -c, d = -d;
  }
  q.b = b, q.c = c, q.d = d;
  return q;
}

// A NIfTI-1 header (and empty extension flag) for the grid, in this machine's (little-endian) byte order. World
// coordinates are LPS in slicenav and RAS in NIfTI: x and y change sign. The sform holds direction x spacing and
// the origin exactly (as float); the qform holds the same rotation with its columns made orthonormal. Both codes
// are 1 (scanner anatomical), as ITK writes them.
std::array<unsigned char, kVoxOffset> nifti_header(const Geometry& g, std::int16_t datatype, std::size_t width,
                                                   std::size_t components) {
  std::array<unsigned char, kVoxOffset> h{};
  put<std::int32_t>(h, 0, kHeaderBytes);
  put<std::int16_t>(h, 40, components > 1 ? 5 : 3);
  for (int a = 0; a < 3; ++a) put<std::int16_t>(h, 42 + 2 * a, static_cast<std::int16_t>(g.size[a]));
  for (int a = 3; a < 7; ++a) put<std::int16_t>(h, 42 + 2 * a, 1);
  if (components > 1) {
    put<std::int16_t>(h, 50, static_cast<std::int16_t>(components));  // dim[5]
    put<std::int16_t>(h, 68, 1007);                                   // intent_code: NIFTI_INTENT_VECTOR
    put<float>(h, 92, 1.0f);                                          // pixdim[4]
    put<float>(h, 96, 1.0f);                                          // pixdim[5]
  }
  put<std::int16_t>(h, 70, datatype);
  put<std::int16_t>(h, 72, static_cast<std::int16_t>(8 * width));
  put<float>(h, 108, static_cast<float>(kVoxOffset));
  put<float>(h, 112, 1.0f);                    // scl_slope
  h[123] = 2 | 8;                              // xyzt_units: mm, s
  std::array<std::array<double, 3>, 3> ras{};  // direction columns in RAS
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) ras[r][c] = (r < 2 ? -1.0 : 1.0) * g.direction[3 * r + c];
  }
  const std::array<double, 3> origin{-g.origin[0], -g.origin[1], g.origin[2]};
  // The qform's rotation: columns normalised, then made orthogonal (Gram-Schmidt).
  std::array<std::array<double, 3>, 3> rot = ras;
  for (int c = 0; c < 3; ++c) {
    for (int p = 0; p < c; ++p) {
      double dot = 0;
      for (int r = 0; r < 3; ++r) dot += rot[r][c] * rot[r][p];
      for (int r = 0; r < 3; ++r) rot[r][c] -= dot * rot[r][p];
    }
    double norm = 0;
    for (int r = 0; r < 3; ++r) norm += rot[r][c] * rot[r][c];
    norm = std::sqrt(norm);
    for (int r = 0; r < 3; ++r) rot[r][c] /= norm;
  }
  const Quaternion q = quaternion_of(rot);
  put<float>(h, 76, static_cast<float>(q.qfac));
  for (int a = 0; a < 3; ++a) put<float>(h, 80 + 4 * a, static_cast<float>(g.spacing[a]));
  put<std::int16_t>(h, 252, 1);  // qform_code
  put<std::int16_t>(h, 254, 1);  // sform_code
  put<float>(h, 256, static_cast<float>(q.b));
  put<float>(h, 260, static_cast<float>(q.c));
  put<float>(h, 264, static_cast<float>(q.d));
  for (int a = 0; a < 3; ++a) put<float>(h, 268 + 4 * a, static_cast<float>(origin[a]));
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) put<float>(h, 280 + 16 * r + 4 * c, static_cast<float>(ras[r][c] * g.spacing[c]));
    put<float>(h, 280 + 16 * r + 12, static_cast<float>(origin[r]));
  }
  std::memcpy(h.data() + 344, "n+1", 4);
  return h;
}

// Writes `n` bytes; Error(io) naming the output when the disk takes fewer.
void write_all(std::FILE* out, const unsigned char* bytes, std::size_t n, const std::string& path) {
  if (n > 0 && std::fwrite(bytes, 1, n, out) != n) {
    fail(Status::io, "cannot write '" + path + "': the file written is incomplete (is the disk full?)");
  }
}

// gzip members of `data`, kMemberBytes each, compressed in parallel on the hardware threads.
std::vector<std::vector<unsigned char>> gzip_members(const unsigned char* data, std::size_t n, int level) {
  const std::size_t members = std::max<std::size_t>(1, (n + kMemberBytes - 1) / kMemberBytes);
  std::vector<std::vector<unsigned char>> out(members);
  const auto work = [&](std::size_t first, std::size_t step) {
    const std::unique_ptr<libdeflate_compressor, void (*)(libdeflate_compressor*)> compressor(
        libdeflate_alloc_compressor(level), libdeflate_free_compressor);
    if (!compressor) return;  // left empty: reported below
    for (std::size_t m = first; m < members; m += step) {
      const std::size_t begin = m * kMemberBytes, size = std::min(kMemberBytes, n - begin);
      out[m].resize(libdeflate_gzip_compress_bound(compressor.get(), size));
      out[m].resize(libdeflate_gzip_compress(compressor.get(), data + begin, size, out[m].data(), out[m].size()));
    }
  };
  const std::size_t threads = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, members);
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work, t, threads);
  work(0, threads);
  for (auto& thread : pool) thread.join();
  for (const auto& m : out) {
    if (m.empty()) fail(Status::internal, "cannot compress: out of memory for the compressor");
  }
  return out;
}

}  // namespace

void write_nifti(const std::string& file, const std::string& path, bool compressed, const Geometry& geometry,
                 std::int16_t datatype, const unsigned char* voxels, std::size_t voxel_bytes, int gzip_level,
                 std::size_t components) {
  const std::size_t width = nifti_datatype_bytes(static_cast<std::uint64_t>(static_cast<std::uint16_t>(datatype)));
  if (width == 0 || components == 0 || components > 32767 ||
      voxel_bytes != geometry.voxel_count() * width * components) {
    fail(Status::invalid_argument, "cannot write '" + path + "': voxel bytes do not match NIfTI datatype " +
                                       std::to_string(datatype) + " on the grid");
  }
  for (std::size_t a = 0; a < 3; ++a) {
    if (geometry.size[a] > 32767) {
      fail(Status::invalid_argument, "cannot write '" + path + "': " + std::to_string(geometry.size[a]) +
                                         " voxels along one axis is more than NIfTI-1 holds (32767)");
    }
  }
  const auto header = nifti_header(geometry, datatype, width, components);
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(file.c_str(), "wb"), std::fclose);
  if (!out) fail(Status::io, "cannot write '" + path + "': cannot create the file");
  if (!compressed) {
    write_all(out.get(), header.data(), header.size(), path);
    write_all(out.get(), voxels, voxel_bytes, path);
  } else {
    for (const auto& member : gzip_members(header.data(), header.size(), gzip_level)) {
      write_all(out.get(), member.data(), member.size(), path);
    }
    for (const auto& member : gzip_members(voxels, voxel_bytes, gzip_level)) {
      write_all(out.get(), member.data(), member.size(), path);
    }
  }
  if (std::fclose(out.release()) != 0) {
    fail(Status::io, "cannot write '" + path + "': the file written is incomplete (is the disk full?)");
  }
}

}  // namespace slicenav::detail

#include "packed_voxels.hpp"

#include <algorithm>
#include <limits>

#include "slicenav/error.hpp"
#include "slicenav/volume.hpp"

namespace slicenav::detail {
namespace {

constexpr std::size_t kBlock = 64;  // voxels per block; a row's last block may be shorter
constexpr std::size_t kHeader = 3;  // a block's smallest value (int16, little end first) and its bit width
constexpr std::size_t kPad = 2;     // bytes after a slice's last block, so a value is read as three bytes

std::size_t packed_bytes(std::size_t m, unsigned width) { return kHeader + (m * width + 7) / 8; }

std::uint8_t* pack_block(const std::int16_t* v, std::size_t m, std::uint8_t* p) {
  int lo = v[0], hi = v[0];
  for (std::size_t i = 1; i < m; ++i) {
    lo = std::min<int>(lo, v[i]);
    hi = std::max<int>(hi, v[i]);
  }
  const auto range = static_cast<unsigned>(hi - lo);
  unsigned width = 0;
  while ((range >> width) != 0) ++width;
  const auto low = static_cast<std::uint16_t>(lo);
  p[0] = static_cast<std::uint8_t>(low & 0xff);
  p[1] = static_cast<std::uint8_t>(low >> 8);
  p[2] = static_cast<std::uint8_t>(width);
  p += kHeader;
  if (width == 0) return p;
  std::uint32_t bits = 0;  // pending bits: fewer than 8 before a value is added, so at most 23
  unsigned pending = 0;
  for (std::size_t i = 0; i < m; ++i) {
    bits |= static_cast<std::uint32_t>(v[i] - lo) << pending;
    pending += width;
    while (pending >= 8) {
      *p++ = static_cast<std::uint8_t>(bits & 0xff);
      bits >>= 8;
      pending -= 8;
    }
  }
  if (pending > 0) *p++ = static_cast<std::uint8_t>(bits & 0xff);
  return p;
}

int block_low(const std::uint8_t* p) {
  return static_cast<std::int16_t>(static_cast<std::uint16_t>(p[0] | (p[1] << 8)));
}

// Value n of a block's packed differences of `width` bits, 1 to 16: it lies within three bytes (a block of width 0
// has no bytes of differences, so the three could lie beyond the slice's padding).
unsigned packed_value(const std::uint8_t* bits, std::size_t n, unsigned width) {
  const std::size_t bit = n * width;
  const std::uint8_t* b = bits + bit / 8;
  const std::uint32_t word = b[0] | (static_cast<std::uint32_t>(b[1]) << 8) | (static_cast<std::uint32_t>(b[2]) << 16);
  return (word >> (bit % 8)) & ((1u << width) - 1);
}

template <typename Out>
const std::uint8_t* unpack_block(const std::uint8_t* p, std::size_t m, Out* out) {
  const int lo = block_low(p);
  const unsigned width = p[2];
  const std::uint8_t* bits = p + kHeader;
  if (width == 0) {
    std::fill(out, out + m, static_cast<Out>(lo));
  } else {
    for (std::size_t i = 0; i < m; ++i) out[i] = static_cast<Out>(lo + static_cast<int>(packed_value(bits, i, width)));
  }
  return p + packed_bytes(m, width);
}

}  // namespace

PackedVoxels::PackedVoxels(const std::array<std::size_t, 3>& size) : size_(size) {
  const std::size_t blocks = (size[0] + kBlock - 1) / kBlock;
  // The most a slice can take (every block 16 bits wide) must be addressable by 32-bit row offsets.
  if (size[0] == 0 || size[1] == 0 || size[2] == 0 ||
      size[1] > (std::numeric_limits<std::uint32_t>::max() - kPad) / (2 * size[0] + kHeader * blocks)) {
    fail(Status::internal, "packed voxels: a grid of this size cannot be packed");
  }
  slices_.reserve(size[2]);
  row_offsets_.reserve(size[1] * size[2]);
  scratch_.resize(size[1] * (2 * size[0] + kHeader * blocks) + kPad);
}

void PackedVoxels::add_slice(const std::int16_t* voxels) {
  if (complete()) fail(Status::internal, "packed voxels: more slices than the grid has");
  std::uint8_t* const first = scratch_.data();
  std::uint8_t* p = first;
  for (std::size_t j = 0; j < size_[1]; ++j) {
    row_offsets_.push_back(static_cast<std::uint32_t>(p - first));
    const std::int16_t* row = voxels + j * size_[0];
    for (std::size_t i = 0; i < size_[0]; i += kBlock) p = pack_block(row + i, std::min(kBlock, size_[0] - i), p);
  }
  std::fill(p, p + kPad, std::uint8_t{0});
  slices_.emplace_back(first, p + kPad);
  bytes_ += slices_.back().size() + size_[1] * sizeof(std::uint32_t);
  if (complete()) scratch_ = std::vector<std::uint8_t>();
}

const std::uint8_t* PackedVoxels::row_start(std::size_t j, std::size_t k) const {
  return slices_[k].data() + row_offsets_[j + size_[1] * k];
}

template <typename Out>
void PackedVoxels::row(std::size_t j, std::size_t k, Out* out) const {
  const std::uint8_t* p = row_start(j, k);
  for (std::size_t i = 0; i < size_[0]; i += kBlock) p = unpack_block(p, std::min(kBlock, size_[0] - i), out + i);
}
template void PackedVoxels::row<float>(std::size_t, std::size_t, float*) const;
template void PackedVoxels::row<std::int16_t>(std::size_t, std::size_t, std::int16_t*) const;

std::int16_t PackedVoxels::at(std::size_t i, std::size_t j, std::size_t k) const {
  const std::uint8_t* p = row_start(j, k);
  for (std::size_t b = 0; b < i / kBlock; ++b) p += packed_bytes(kBlock, p[2]);
  const unsigned width = p[2];
  const int low = block_low(p);
  return static_cast<std::int16_t>(width == 0 ? low
                                              : low + static_cast<int>(packed_value(p + kHeader, i % kBlock, width)));
}

const std::int16_t* PackedVoxels::unpacked() const {
  std::call_once(unpack_once_, [this] {
    if (!complete()) fail(Status::internal, "packed voxels: unpacked before every slice was added");
    const std::shared_ptr<std::int16_t> all = allocate_voxels<std::int16_t>(size_[0] * size_[1] * size_[2]);
    std::int16_t* dst = all.get();
    for (std::size_t k = 0; k < size_[2]; ++k) {
      for (std::size_t j = 0; j < size_[1]; ++j, dst += size_[0]) row(j, k, dst);
    }
    std::atomic_store(&unpacked_, all);
  });
  return unpacked_.get();
}

bool PackedVoxels::is_unpacked() const { return std::atomic_load(&unpacked_) != nullptr; }

}  // namespace slicenav::detail

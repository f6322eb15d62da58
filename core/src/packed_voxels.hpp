// Int16 voxels held packed (internal to libslicenav): every row of 64-voxel blocks, each block stored as its
// smallest value and the differences from it in as many bits as the block's range needs. Lossless; a CT packs to
// 0.45-0.8 of its int16 size (air and the padding outside the field of view take a few bits a voxel or none) and
// unpacks at well over 1 GB/s, row by row, so a long scan can be navigated without all of its voxels resident.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace slicenav::detail {

class PackedVoxels {
 public:
  // An empty store for a grid of `size` voxels (x fastest); add_slice() fills it slice by slice.
  explicit PackedVoxels(const std::array<std::size_t, 3>& size);

  // Packs the next slice: size[0] * size[1] voxels, x fastest. Throws Error(internal) past the last slice.
  void add_slice(const std::int16_t* voxels);
  bool complete() const { return slices_.size() == size_[2]; }
  const std::array<std::size_t, 3>& size() const { return size_; }
  // Bytes held: the packed blocks and the row offsets (not the unpacked copy, if one was made).
  std::size_t bytes() const { return bytes_; }

  // Row (j, k) into out[0..size[0]), as float or int16.
  template <typename Out>
  void row(std::size_t j, std::size_t k, Out* out) const;
  std::int16_t at(std::size_t i, std::size_t j, std::size_t k) const;
  // Voxel n = i + size[0] * (j + size[1] * k).
  std::int16_t at(std::size_t n) const {
    return at(n % size_[0], (n / size_[0]) % size_[1], n / (size_[0] * size_[1]));
  }

  // Every voxel, unpacked once (thread safe) into memory this store keeps for as long as it lives.
  const std::int16_t* unpacked() const;
  bool is_unpacked() const;

 private:
  const std::uint8_t* row_start(std::size_t j, std::size_t k) const;

  std::array<std::size_t, 3> size_;
  std::vector<std::vector<std::uint8_t>> slices_;  // packed rows of each slice
  std::vector<std::uint32_t> row_offsets_;         // byte offset of row j of slice k at [j + size[1] * k]
  std::vector<std::uint8_t> scratch_;              // one slice's packing, before it is copied to its exact size
  std::size_t bytes_ = 0;
  mutable std::once_flag unpack_once_;
  mutable std::shared_ptr<std::int16_t> unpacked_;
};

}  // namespace slicenav::detail

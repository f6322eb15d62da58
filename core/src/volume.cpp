#include "slicenav/volume.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <type_traits>

#include "memory_map.hpp"
#include "packed_voxels.hpp"
#include "slicenav/error.hpp"

namespace slicenav {
namespace {

double determinant(const Mat3& m) {
  return m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6]);
}

}  // namespace

Vec3 Geometry::index_to_world(const Vec3& index) const {
  Vec3 world = origin;
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) world[r] += direction[3 * r + c] * spacing[c] * index[c];
  }
  return world;
}

Vec3 Geometry::world_to_index(const Vec3& world) const {
  const Mat3& m = direction;
  const double det = determinant(m);
  // Inverse of the direction matrix by cofactors (a rotation in practice, but shear is tolerated).
  const Mat3 inv{
      (m[4] * m[8] - m[5] * m[7]) / det, (m[2] * m[7] - m[1] * m[8]) / det, (m[1] * m[5] - m[2] * m[4]) / det,
      (m[5] * m[6] - m[3] * m[8]) / det, (m[0] * m[8] - m[2] * m[6]) / det, (m[2] * m[3] - m[0] * m[5]) / det,
      (m[3] * m[7] - m[4] * m[6]) / det, (m[1] * m[6] - m[0] * m[7]) / det, (m[0] * m[4] - m[1] * m[3]) / det};
  const Vec3 d{world[0] - origin[0], world[1] - origin[1], world[2] - origin[2]};
  Vec3 index{};
  for (int r = 0; r < 3; ++r) {
    index[r] = (inv[3 * r] * d[0] + inv[3 * r + 1] * d[1] + inv[3 * r + 2] * d[2]) / spacing[r];
  }
  return index;
}

void Geometry::validate() const {
  const char* axes = "ijk";
  for (int a = 0; a < 3; ++a) {
    if (size[a] == 0) fail(Status::invalid_argument, std::string("volume size along ") + axes[a] + " is 0");
    if (!std::isfinite(spacing[a]) || spacing[a] <= 0.0) {
      std::ostringstream msg;
      msg << "voxel spacing along " << axes[a] << " is " << spacing[a] << " mm: it must be finite and > 0";
      fail(Status::invalid_argument, msg.str());
    }
    if (!std::isfinite(origin[a])) fail(Status::invalid_argument, "volume origin is not finite");
  }
  const std::size_t max = std::numeric_limits<std::size_t>::max();
  if (size[0] > max / size[1] || size[0] * size[1] > max / size[2]) {
    fail(Status::invalid_argument, "volume size overflows the address space");
  }
  for (double v : direction) {
    if (!std::isfinite(v)) fail(Status::invalid_argument, "volume direction matrix is not finite");
  }
  for (int c = 0; c < 3; ++c) {
    const double norm = std::sqrt(direction[c] * direction[c] + direction[3 + c] * direction[3 + c] +
                                  direction[6 + c] * direction[6 + c]);
    if (std::abs(norm - 1.0) > 1e-3) {
      std::ostringstream msg;
      msg << "volume direction column " << c << " has length " << norm << ": direction cosines must be unit vectors";
      fail(Status::invalid_argument, msg.str());
    }
  }
  if (std::abs(determinant(direction)) < 1e-3) {
    fail(Status::invalid_argument, "volume direction matrix is singular (two index axes point the same way)");
  }
}

WorldBox WorldBox::enlarged(double factor) const {
  WorldBox b;
  const Vec3 c = centre();
  for (std::size_t a = 0; a < 3; ++a) {
    b.lo[a] = c[a] - factor * (c[a] - lo[a]);
    b.hi[a] = c[a] + factor * (hi[a] - c[a]);
  }
  return b;
}

double WorldBox::volume() const {
  double v = 1;
  for (std::size_t a = 0; a < 3; ++a) v *= std::max(0.0, hi[a] - lo[a]);
  return v;
}

WorldBox intersection(const WorldBox& a, const WorldBox& b) {
  WorldBox c;
  for (std::size_t k = 0; k < 3; ++k) {
    c.lo[k] = std::max(a.lo[k], b.lo[k]);
    c.hi[k] = std::min(a.hi[k], b.hi[k]);
  }
  return c;
}

WorldBox world_bounds(const Geometry& grid, const Vec3& first, const Vec3& last) {
  WorldBox out{{1e300, 1e300, 1e300}, {-1e300, -1e300, -1e300}};
  for (int corner = 0; corner < 8; ++corner) {
    Vec3 index;
    for (std::size_t a = 0; a < 3; ++a) index[a] = ((corner >> a) & 1) ? last[a] : first[a];
    const Vec3 w = grid.index_to_world(index);
    for (std::size_t a = 0; a < 3; ++a) {
      out.lo[a] = std::min(out.lo[a], w[a]);
      out.hi[a] = std::max(out.hi[a], w[a]);
    }
  }
  return out;
}

namespace {

// A vector's data as a shared pointer that keeps the vector alive.
template <typename T>
std::shared_ptr<const T> shared_data(std::vector<T> values) {
  auto owner = std::make_shared<const std::vector<T>>(std::move(values));
  return std::shared_ptr<const T>(owner, owner->data());
}

}  // namespace

void Volume::check_count(std::size_t count) const {
  geometry_.validate();
  if (count != geometry_.voxel_count()) {
    std::ostringstream msg;
    msg << "volume holds " << count << " voxels but its size " << geometry_.size[0] << "x" << geometry_.size[1] << "x"
        << geometry_.size[2] << " needs " << geometry_.voxel_count();
    fail(Status::invalid_argument, msg.str());
  }
}

Volume::Volume(Geometry geometry, std::vector<float> voxels, SourceInfo source)
    : geometry_(geometry), source_(std::move(source)) {
  check_count(voxels.size());
  check_finite(voxels.data());
  float_ = shared_data(std::move(voxels));
}

Volume::Volume(Geometry geometry, std::vector<std::int16_t> voxels, SourceInfo source)
    : geometry_(geometry), source_(std::move(source)) {
  check_count(voxels.size());
  int16_ = shared_data(std::move(voxels));
}

Volume::Volume(Geometry geometry, std::shared_ptr<const float> voxels, SourceInfo source)
    : geometry_(geometry), float_(std::move(voxels)), source_(std::move(source)) {
  geometry_.validate();
  if (float_ == nullptr) fail(Status::invalid_argument, "volume: no voxels given");
  check_finite(float_.get());
}

Volume::Volume(Geometry geometry, std::shared_ptr<const std::int16_t> voxels, SourceInfo source)
    : geometry_(geometry), int16_(std::move(voxels)), source_(std::move(source)) {
  geometry_.validate();
  if (int16_ == nullptr) fail(Status::invalid_argument, "volume: no voxels given");
}

Volume::Volume(Geometry geometry, std::shared_ptr<const detail::PackedVoxels> voxels, SourceInfo source)
    : geometry_(geometry), packed_(std::move(voxels)), source_(std::move(source)) {
  geometry_.validate();
  if (packed_ == nullptr) fail(Status::invalid_argument, "volume: no voxels given");
  if (packed_->size() != geometry_.size || !packed_->complete()) {
    fail(Status::internal, "volume: the packed voxels do not fill the volume's grid");
  }
}

const std::int16_t* Volume::int16_voxels() const {
  if (int16_ != nullptr) return int16_.get();
  return packed_ != nullptr ? packed_->unpacked() : nullptr;
}

std::size_t Volume::voxel_bytes() const {
  if (float_ != nullptr) return voxel_count() * sizeof(float);
  if (int16_ != nullptr) return voxel_count() * sizeof(std::int16_t);
  if (packed_ == nullptr) return 0;
  return packed_->bytes() + (packed_->is_unpacked() ? voxel_count() * sizeof(std::int16_t) : 0);
}

float Volume::packed_at(std::size_t n) const { return packed_->at(n); }

void Volume::check_finite(const float* voxels) const {
  const std::size_t count = geometry_.voxel_count();
  for (std::size_t n = 0; n < count; ++n) {
    if (!std::isfinite(voxels[n])) {
      const std::size_t nx = geometry_.size[0], ny = geometry_.size[1];
      std::ostringstream msg;
      msg << "volume has a non-finite voxel value (" << voxels[n] << ") at index (" << n % nx << ", " << (n / nx) % ny
          << ", " << n / (nx * ny) << ")";
      fail(Status::invalid_argument, msg.str());
    }
  }
}

template <typename T>
std::shared_ptr<T> allocate_voxels(std::size_t count) {
  const auto memory =
      std::make_shared<detail::Mapping>(detail::Mapping::anonymous(std::max<std::size_t>(count, 1) * sizeof(T)));
  return std::shared_ptr<T>(memory, reinterpret_cast<T*>(memory->data()));
}
template std::shared_ptr<float> allocate_voxels<float>(std::size_t);
template std::shared_ptr<std::int16_t> allocate_voxels<std::int16_t>(std::size_t);

namespace {

// Calls stop(row) for the rows of a packed volume in storage order, each unpacked into one reused buffer, until
// it returns true; whether it did.
template <typename F>
bool packed_rows_until(const detail::PackedVoxels& packed, F&& stop) {
  const auto& size = packed.size();
  std::vector<std::int16_t> row(size[0]);
  for (std::size_t k = 0; k < size[2]; ++k) {
    for (std::size_t j = 0; j < size[1]; ++j) {
      packed.row(j, k, row.data());
      if (stop(row.data())) return true;
    }
  }
  return false;
}

}  // namespace

void Volume::copy_as_float(float* out) const {
  if (float_ != nullptr) {
    std::copy(float_.get(), float_.get() + voxel_count(), out);
  } else if (int16_ != nullptr) {
    std::copy(int16_.get(), int16_.get() + voxel_count(), out);
  } else if (packed_ != nullptr) {
    packed_rows_until(*packed_, [&](const std::int16_t* row) {
      out = std::copy(row, row + geometry_.size[0], out);
      return false;
    });
  }
}

std::vector<float> Volume::voxels_as_float() const {
  std::vector<float> out(voxel_count());
  copy_as_float(out.data());
  return out;
}

std::array<float, 2> Volume::value_range() const {
  if (empty()) fail(Status::invalid_argument, "value_range of an empty volume");
  const auto range = [](const auto* v, std::size_t count) {
    auto lo = v[0], hi = v[0];
    for (std::size_t n = 1; n < count; ++n) {  // min and max without branches: vectorised
      lo = std::min(lo, v[n]);
      hi = std::max(hi, v[n]);
    }
    return std::array<float, 2>{static_cast<float>(lo), static_cast<float>(hi)};
  };
  if (packed_ != nullptr) {
    std::array<float, 2> all{std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
    packed_rows_until(*packed_, [&](const std::int16_t* row) {
      const auto r = range(row, geometry_.size[0]);
      all = {std::min(all[0], r[0]), std::max(all[1], r[1])};
      return false;
    });
    return all;
  }
  return float_ != nullptr ? range(float_.get(), voxel_count()) : range(int16_.get(), voxel_count());
}

bool Volume::any_below(float threshold) const {
  const auto below = [&](const auto* v) {
    return std::any_of(v, v + voxel_count(), [&](auto x) { return static_cast<float>(x) < threshold; });
  };
  if (packed_ != nullptr) {
    return packed_rows_until(*packed_, [&](const std::int16_t* row) {
      return std::any_of(row, row + geometry_.size[0], [&](auto x) { return static_cast<float>(x) < threshold; });
    });
  }
  return float_ != nullptr ? below(float_.get()) : int16_ != nullptr && below(int16_.get());
}

Volume pack_voxels(const Volume& volume) {
  if (volume.packed() || volume.float_voxels() != nullptr || volume.empty()) return volume;
  const Geometry& g = volume.geometry();
  const auto packed = std::make_shared<detail::PackedVoxels>(g.size);
  const std::size_t per_slice = g.size[0] * g.size[1];
  for (std::size_t k = 0; k < g.size[2]; ++k) packed->add_slice(volume.int16_voxels() + k * per_slice);
  return Volume(g, std::shared_ptr<const detail::PackedVoxels>(packed), volume.source());
}

Volume slice_range(const Volume& volume, int axis, std::size_t first, std::size_t count) {
  if (axis < 0 || axis > 2) fail(Status::invalid_argument, "slice_range: axis must be 0, 1 or 2");
  const auto a = static_cast<std::size_t>(axis);
  const std::size_t n = volume.geometry().size[a];
  if (count == 0 || first >= n || count > n - first) {
    fail(Status::invalid_argument, "slice_range: slices [" + std::to_string(first) + ", " +
                                       std::to_string(first + count) + ") are not within the " + std::to_string(n) +
                                       " slices along axis " + std::to_string(axis));
  }
  Geometry g = volume.geometry();
  Vec3 first_index{0, 0, 0};
  first_index[a] = static_cast<double>(first);
  g.origin = volume.geometry().index_to_world(first_index);
  g.size[a] = count;
  std::array<std::size_t, 3> offset{0, 0, 0};
  offset[a] = first;
  const auto copy = [&](const auto* stored) {
    using T = std::remove_const_t<std::remove_pointer_t<decltype(stored)>>;
    std::vector<T> voxels;
    voxels.reserve(g.voxel_count());
    const auto& size = volume.geometry().size;
    for (std::size_t k = 0; k < g.size[2]; ++k) {
      for (std::size_t j = 0; j < g.size[1]; ++j) {
        const T* row = stored + offset[0] + size[0] * (j + offset[1] + size[1] * (k + offset[2]));
        voxels.insert(voxels.end(), row, row + g.size[0]);
      }
    }
    return voxels;
  };
  SourceInfo source = volume.source();
  source.path.clear();
  source.format = "memory";
  if (volume.float_voxels() != nullptr) return Volume(g, copy(volume.float_voxels()), std::move(source));
  if (const detail::PackedVoxels* packed = volume.packed_voxels()) {
    std::vector<std::int16_t> voxels(g.voxel_count()), row(volume.geometry().size[0]);
    auto dst = voxels.begin();
    for (std::size_t k = 0; k < g.size[2]; ++k) {
      for (std::size_t j = 0; j < g.size[1]; ++j) {
        packed->row(j + offset[1], k + offset[2], row.data());
        dst = std::copy_n(row.begin() + static_cast<std::ptrdiff_t>(offset[0]), g.size[0], dst);
      }
    }
    return Volume(g, std::move(voxels), std::move(source));
  }
  return Volume(g, copy(volume.int16_voxels()), std::move(source));
}

}  // namespace slicenav

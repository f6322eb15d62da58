// Key slices read off the bone in CT (measure.hpp's other half): the top of the femoral heads, found as a
// left-right pair of bone domes, and the skull base, found as the lower edge of the bone around the foramen
// magnum below the posterior cranial fossa. docs/navigation.md gives the rules and their accuracy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "slicenav/orientation.hpp"

namespace slicenav::detail {

// Canonical slice of the femoral heads' top, searched among slices [first, last]; nullopt when no left-right
// pair of head-sized bone domes is there. A pair with lung on both sides of the body near or below it
// (lungs_both_sides, one flag per canonical slice) is a pair of shoulders and is passed over. Works on a 2 mm
// grid, a slab at a time (memory does not grow with the scan).
std::optional<std::size_t> measure_femur_head_top(const CanonicalView& view, std::size_t first, std::size_t last,
                                                  const std::vector<std::uint8_t>& lungs_both_sides);

// Canonical slice of the skull base (the lower edge of the occipital bone and condyles around the foramen
// magnum), where the cranial cavity is found among slices [first, last]; nullopt when no brain enclosed by
// bone is found there.
std::optional<std::size_t> measure_skull_base(const CanonicalView& view, std::size_t first, std::size_t last);

}  // namespace slicenav::detail

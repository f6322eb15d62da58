// A small crop record for tests and fuzz seeds: the bundled model's liver region on a 30 x 20 x 16 grid (RAI),
// box [5, 25) x [3, 17) x [2, 14).
#pragma once

#include "slicenav/crop.hpp"
#include "slicenav/navigation.hpp"
#include "slicenav/phantom.hpp"

namespace slicenav::test {

inline CropRecord small_crop_record(const Region& region) {
  CropRecord r;
  r.region = region;
  r.model_version = "test";
  r.method = "insertion";
  r.original.size = {30, 20, 16};
  r.original.spacing = {1.5, 2.0, 3.0};
  r.original.origin = {-20.0, 10.0, 100.0};
  r.original.direction = direction_from_code("RAI");
  r.box.begin = {5, 3, 2};
  r.box.end = {25, 17, 14};
  return r;
}

}  // namespace slicenav::test

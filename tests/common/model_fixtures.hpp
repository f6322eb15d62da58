// Fixtures for fast unit tests of the navigation models: a tiny model configuration (32 px input, two small
// stages, d_model 16) and small noiseless phantoms.
#pragma once

#include <string>
#include <utility>

#include "slicenav/model.hpp"
#include "slicenav/phantom.hpp"

namespace slicenav::test {

inline ModelConfig tiny_model_config() {
  ModelConfig c;
  c.preprocess.image_size = 32;
  c.preprocess.max_slices = 24;
  c.encoder_widths = {4, 8, 8};
  c.d_model = 16;
  c.heads = 2;
  c.ffn = 16;
  c.self_layers = 1;
  c.cross_layers = 1;
  return c;
}

// A noiseless phantom of 48 x 40 in-plane voxels of 10 mm and `slices` slices of step_mm in `orientation`
// (any axis order: the slice axis is the one the code puts along S/I), its most superior slice at top_z_mm.
inline Volume small_phantom(const std::string& orientation, std::size_t slices, double top_z_mm, double step_mm) {
  PhantomOptions o;
  o.size = {48, 40, slices};
  o.spacing = {10.0, 10.0, step_mm};
  o.orientation = orientation;
  o.top_z_mm = top_z_mm;
  o.noise_hu = 0.0;
  if (orientation[2] != 'S' && orientation[2] != 'I') {
    for (int a = 0; a < 3; ++a) {
      if (orientation[a] == 'S' || orientation[a] == 'I') {
        std::swap(o.size[a], o.size[2]);
        std::swap(o.spacing[a], o.spacing[2]);
      }
    }
  }
  return make_phantom(o).volume;
}

}  // namespace slicenav::test

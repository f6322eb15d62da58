// A tiny navigation-model configuration for fast unit tests (32 px input, two small stages, d_model 16).
#pragma once

#include "slicenav/models.hpp"

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

}  // namespace slicenav::test

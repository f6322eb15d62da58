// Turning a canonical volume into the slice stack the navigation models read. Training and inference
// share this one implementation.
#pragma once

#include <cstddef>
#include <vector>

#include "slicenav/orientation.hpp"

namespace slicenav {

struct PreprocessOptions {
  std::size_t image_size = 96;  // output slices are image_size x image_size pixels
  double pixel_mm = 5.0;        // in-plane size of an output pixel: a fixed physical scale (480 mm FOV)
  float hu_low = -1000.0f;      // HU window, mapped linearly to [-1, 1] after clamping
  float hu_high = 1000.0f;
  std::size_t max_slices = 256;  // uniform_slices() never selects more
};

struct SliceStack {
  std::size_t image_size = 0;
  // slices x image_size x image_size, row-major: pixel (row v, column u) of slice s is
  // pixels[(s * image_size + v) * image_size + u]; rows run anterior -> posterior, columns right -> left.
  std::vector<float> pixels;
  std::vector<std::size_t> canonical_slice;  // canonical index of each slice in the stack
  std::vector<double> world_z_mm;            // world z of each slice's centre
  std::size_t slice_count() const { return canonical_slice.size(); }
};

// Up to max_slices canonical indices spread evenly over [0, slice_count), first and last included,
// ascending; every index when slice_count <= max_slices. Throws Error(invalid_argument) when either is 0.
std::vector<std::size_t> uniform_slices(std::size_t slice_count, std::size_t max_slices);

// In-plane centre (mm from canonical voxel (0, 0)) that preprocess() centres its grid on: the centroid of
// voxels above -500 HU over up to 32 of the given slices, or the grid centre when there is no body. Throws
// like preprocess() for an empty or out-of-range slice list.
struct InPlaneCentre {
  double x_mm = 0.0;
  double y_mm = 0.0;
};
InPlaneCentre body_centre(const CanonicalView& view, const std::vector<std::size_t>& slices);

// Resamples the given canonical slices to the model's grid: HU clamped to the window, area-averaged
// (anti-aliased) onto pixel_mm pixels centred on `centre`, outside the scan filled with hu_low, and
// mapped to [-1, 1]. Throws Error(invalid_argument) for an out-of-range slice index, an empty list, or
// bad options. A scan preprocessed in chunks with one centre gives the same pixels as in one call.
SliceStack preprocess(const CanonicalView& view, const std::vector<std::size_t>& slices,
                      const PreprocessOptions& options, const InPlaneCentre& centre);
// The same, centred on body_centre(view, slices).
SliceStack preprocess(const CanonicalView& view, const std::vector<std::size_t>& slices,
                      const PreprocessOptions& options);
SliceStack preprocess(const CanonicalVolume& volume, const std::vector<std::size_t>& slices,
                      const PreprocessOptions& options);

// Where model input is centred in-plane.
enum class Centring {
  scan,        // on the body of the whole scan (body_centre over every slice): what the models learned from
  each_slice,  // every slice on its own body: slices matched across scans in which the patient may lie elsewhere
               // in the field (the embedding and intensity prealignments)
};

// The one path from a scan's canonical slices to model input: `slices` preprocessed with `options` and centred
// as `centring` says. Every caller (preparing a scan, training, the prealignments) goes through it, so the
// model sees the same pixels for the same slice whichever call asks. With Centring::scan, a scan taken in
// chunks gives the same pixels as in one call. each_slice shares its slices among the hardware threads.
SliceStack model_input(const CanonicalView& view, const std::vector<std::size_t>& slices,
                       const PreprocessOptions& options, Centring centring);

}  // namespace slicenav

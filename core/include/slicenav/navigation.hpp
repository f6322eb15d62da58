// Slice navigation on whole scans: where each slice of one scan belongs in another (insertion), a
// body-part score per slice, the key slices of a scan, and whether a region is covered. Built on the
// models (model.hpp) and canonical geometry (orientation.hpp); every answer refers back to the original
// slice indices and world z of the volumes given.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "slicenav/measure.hpp"
#include "slicenav/model.hpp"
#include "slicenav/orientation.hpp"
#include "slicenav/progress.hpp"
#include "slicenav/regions.hpp"
#include "slicenav/volume.hpp"

namespace slicenav {

// A volume made ready for navigation: its canonical geometry, every canonical slice's embedding and score,
// and the key slices measured in its voxels. Preparing costs one pass of the slice encoder; the other calls
// reuse it.
struct PreparedScan {
  SliceMapping mapping;
  SliceEmbeddings slices;                  // one row per canonical slice, canonical order
  std::vector<double> score;               // per canonical slice, atlas mm
  std::vector<MeasuredKeySlice> measured;  // measure_key_slices(); locate() refines its answers with them
  std::size_t slice_count() const { return slices.slice_count(); }
};

// Throws Error(unsupported_input) unless the intensities look like CT in HU: some voxels below -200 HU
// (fat or air), as every CT of a body part has and MR intensities do not.
void require_ct(const Volume& volume);

struct PrepareOptions {
  // Measure the key slices in the voxels (scan.measured, for locate()); 0.05 to 0.7 s on a real scan
  // (docs/navigation.md), so calls that never locate skip it.
  bool measure_key_slices = true;
  Progress progress;  // reported after every chunk of slices the encoder embeds
};
inline const PrepareOptions kWithoutMeasurement{false, {}};  // for scans that are inserted or scored only

// Checks that the intensities look like CT in HU (some voxels below -200 HU: fat or air) and prepares the
// volume. Throws Error(unsupported_input) for non-CT intensities or a volume too oblique to canonicalize.
PreparedScan prepare_scan(const Model& model, const Volume& volume, const PrepareOptions& options = {});

// Where a slice sits in a scan: inside (with a fractional canonical slice, the original slice index and
// world z), or above / below the scan's coverage.
struct ScanPosition {
  InsertedSlice::Where where = InsertedSlice::Where::inside;
  double canonical_slice = 0;  // inside only
  double original_slice = 0;   // inside only; index along the file's slice axis
  double world_z_mm = 0;       // inside only
};

// Where a world z falls in a prepared scan's coverage (half a slice beyond the end slices still counts as
// inside).
ScanPosition position_at_z(const PreparedScan& scan, double world_z_mm);

struct SliceInsertion {
  double query_original_slice = 0;
  double query_world_z_mm = 0;
  ScanPosition target;
  float peak = 0;     // highest probability in the slice's distribution
  float entropy = 0;  // of the distribution, nats (log of the slot count at most)
};

struct Insertion {
  std::vector<SliceInsertion> slices;  // one per query canonical slice, canonical order
  // The target positions the distributions are over: slot 0 = above, slot n+1 = below, slot s in between is
  // target canonical slice target_slots[s - 1] (up to max_slices spread evenly over the target).
  std::vector<std::size_t> target_slots;
  // query canonical slices x (target_slots.size() + 2), row-major; kept only when asked for.
  std::vector<float> distribution;
};

// Inserts every slice of `query` into `target`. Queries longer than the model's max_slices are answered
// in interleaved passes (slices p, p + P, p + 2P, ...), so every slice is seen with context spanning the
// whole query.
Insertion insert_scan(const Model& model, const PreparedScan& query, const PreparedScan& target,
                      bool keep_distribution = false);

// A key slice located in a scan.
struct LocatedLandmark {
  std::string name;
  ScanPosition position;
  double atlas_mm = 0;    // the landmark's atlas position
  float confidence = 0;   // insertion: peak of the ensembled distribution; score: 0..1 from the fit's residual
  double spread_mm = 0;   // insertion: standard deviation of the individual templates' answers (world z, mm)
  std::size_t votes = 0;  // templates (insertion) or slices (score) that contributed
  bool measured = false;  // the position is the key slice measured in the image (locate() only)
};

enum class LocateMethod {
  insertion,  // insert the bundled templates' labelled slices into the scan and ensemble the distributions
  score,      // find where a robust line through the slice scores crosses each landmark's atlas position
              // (a line with an implausible slope is replaced by slope 1 and its answers get confidence 0)
};

// Whether the scan shows body anatomy the model knows. The slice scores of a scan inside the atlas (head and
// neck to pelvis) rise superiorly at about one atlas mm per mm (Theil-Sen slope 0.46 to 1.35 with the bundled
// model on the 42 real scans with world coordinates of ../shared/data), while extremity scans give falling or
// flat scores (-1.44 to 0.23). A scan is recognised when the slope is at least kMinRecognisedSlope; scans shorter than
// kMinJudgedExtentMm cannot be judged and count as recognised.
struct Recognition {
  static constexpr double kMinRecognisedSlope = 0.25;
  static constexpr double kMinJudgedExtentMm = 60.0;
  bool recognised = true;
  double score_slope = 1.0;  // Theil-Sen slope of score over world z (atlas mm per mm)
};
Recognition recognise(const PreparedScan& scan);

// Every landmark of the model's atlas that at least one template can show, superior first. An answer
// (inside the scan, or the scan's end when it is above or below) within the window of the same key slice
// measured in the image (scan.measured; MeasuredKeySlice::window_mm), before or after the checks of
// anatomical order, is replaced by the measurement, which is more precise where it exists
// (docs/navigation.md); `measured` tells which.
// C7 is then placed between a measured skull base and a measured lung apex, at its atlas fraction (it is not
// crisp in the image; `measured` stays false). In a scan that is not recognised (see
// recognise()) every confidence is 0. Throws Error(unsupported_input) when
// the model has no templates (insertion) or no atlas.
std::vector<LocatedLandmark> locate(const Model& model, const PreparedScan& scan,
                                    LocateMethod method = LocateMethod::insertion);

// Locates arbitrary atlas positions (landmark positions plus or minus margins) the same way. Names are
// copied into the result. With the insertion method, a position no template shows comes back with
// votes = 0, confidence 0 and no meaningful position (callers check votes).
std::vector<LocatedLandmark> locate_atlas_positions(const Model& model, const PreparedScan& scan,
                                                    const std::vector<std::pair<std::string, double>>& positions,
                                                    LocateMethod method = LocateMethod::insertion);

// Locates atlas positions (a region's ends, with or without margins) in one pass together with every atlas
// landmark, and gives each an answer: a position no template shows is extrapolated through the scan's own
// anatomical map (fitted to the landmarks located inside the scan), or failing that read off the
// slice-score line, with confidence 0. Throws Error(unsupported_input) like locate().
std::vector<LocatedLandmark> locate_region_positions(const Model& model, const PreparedScan& scan,
                                                     const std::vector<std::pair<std::string, double>>& positions,
                                                     LocateMethod method = LocateMethod::insertion);

struct Coverage {
  enum class Status { full, partial, none } status = Status::none;
  Region region;
  LocatedLandmark superior;  // the region's superior end located in the scan
  LocatedLandmark inferior;  // and its inferior end
  bool recognised = true;    // see recognise(); when false the status is none and the confidences 0
};

// Whether the scan covers the region: full when both ends lie inside the scan, partial when only one
// does or the scan lies within the region, none when both lie above or both below, or when the scan is
// not recognised.
Coverage coverage(const Model& model, const PreparedScan& scan, const std::string& region,
                  LocateMethod method = LocateMethod::insertion);

const char* where_name(InsertedSlice::Where where);  // "inside", "above", "below"
const char* coverage_name(Coverage::Status status);  // "full", "partial", "none"

}  // namespace slicenav

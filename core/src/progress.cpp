#include "slicenav/progress.hpp"

#include <algorithm>

#include "slicenav/error.hpp"

namespace slicenav {

void Progress::at(double done) const {
  if (report) report(std::clamp(done, 0.0, 1.0));
  if (stop && stop()) fail(Status::cancelled, "stopped by the caller");
}

void Progress::done() const {
  if (report) report(1.0);
}

Progress Progress::stage(double from, double to) const {
  Progress part;
  if (report) {
    part.report = [report = report, from, to](double done) { report(from + (to - from) * std::clamp(done, 0.0, 1.0)); };
  }
  part.stop = stop;
  return part;
}

}  // namespace slicenav

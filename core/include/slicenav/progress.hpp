// How a long call tells its caller how far it is, and how the caller stops it (the C API's slicenav_callbacks).
#pragma once

#include <functional>

namespace slicenav {

struct Progress {
  std::function<void(double)> report;  // the share of the call's work done, 0..1, non-decreasing; may be empty
  std::function<bool()> stop;          // true: the caller asks the call to stop; may be empty

  // Reports `done` (clamped to 0..1), then throws Error(cancelled) when the caller asks to stop. Long calls
  // call it between their stages and within their long loops, always on the caller's thread.
  void at(double done) const;
  // Reports 1 (a call that has finished its work), without asking whether to stop.
  void done() const;
  // The same callbacks for one stage of a longer call: its 0..1 maps onto from..to of the whole.
  Progress stage(double from, double to) const;
};

}  // namespace slicenav

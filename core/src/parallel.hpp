// Splitting a loop over slices among the hardware threads. Internal.
#pragma once

#include <algorithm>
#include <cstddef>
#include <exception>
#include <future>
#include <thread>
#include <vector>

namespace slicenav::detail {

// Runs work(begin, end) on contiguous ranges covering [0, n): one range per hardware thread, but no range
// shorter than min_per_range items; the calling thread takes the first. Waits for every range, then
// rethrows the first exception any of them threw.
template <class Work>
void parallel_ranges(std::size_t n, std::size_t min_per_range, const Work& work) {
  const std::size_t ranges = std::clamp<std::size_t>(
      std::thread::hardware_concurrency(), 1, std::max<std::size_t>(n / std::max<std::size_t>(min_per_range, 1), 1));
  std::vector<std::future<void>> others;
  for (std::size_t r = 1; r < ranges; ++r) {
    others.push_back(
        std::async(std::launch::async, [&work, n, r, ranges] { work(n * r / ranges, n * (r + 1) / ranges); }));
  }
  std::exception_ptr first_error;
  try {
    work(0, n / ranges);
  } catch (...) {
    first_error = std::current_exception();
  }
  for (auto& f : others) {
    try {
      f.get();
    } catch (...) {
      if (!first_error) first_error = std::current_exception();
    }
  }
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace slicenav::detail

// Atomic output: write to a temporary sibling, then rename over the destination.
#pragma once

#include <functional>
#include <string>

namespace slicenav::detail {

// Calls write(temp_path) with a temporary path in the destination's directory that keeps the
// destination's extension (".nii.gz" included, so format-by-extension writers pick the same format),
// then renames it to `path`. The temporary file is removed if write throws or the rename fails.
// Throws Error(io) when the directory does not exist or is not writable.
void write_atomically(const std::string& path, const std::function<void(const std::string&)>& write);

}  // namespace slicenav::detail

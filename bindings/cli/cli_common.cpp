#include "cli_common.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <system_error>
#include <utility>
#include <vector>

namespace slicenav::cli {
namespace {

// The reader's warnings about the volume read from `path` (none for NULL), one line each on stderr.
void print_warnings(const std::string& path, const slicenav_volume* volume) {
  for (std::size_t i = 0; volume != nullptr && slicenav_volume_warning(volume, i) != nullptr; ++i) {
    std::cerr << "slicenav: warning: '" << path << "': " << slicenav_volume_warning(volume, i) << "\n";
  }
}

}  // namespace

int exit_code(slicenav_status status) {
  if (status == SLICENAV_OK) return 0;
  // Statuses are small negative numbers; anything unexpected still exits non-zero, below 100.
  if (status < 0 && status > -100) return -status;
  return 99;
}

int report(slicenav_status status) { return report(status, slicenav_last_error()); }

int report(slicenav_status status, const std::string& message) {
  std::cerr << "slicenav: " << slicenav_status_name(status) << ": " << message << '\n';
  return exit_code(status);
}

namespace {

std::string errno_text(int err) { return std::strerror(err); }

// Writes all of `data` to `fd`, retrying on short writes and EINTR.
bool write_all(int fd, const std::string& data) {
  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

slicenav_status check_output_path(const std::string& path, std::string* error) {
  if (path.empty() || path == "-") return SLICENAV_OK;
  const std::string::size_type slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? std::string(".") : path.substr(0, slash + 1);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    const int err = errno;
    *error = "cannot write '" + path + "': directory '" + dir + "': " + errno_text(err);
    return SLICENAV_ERR_IO;
  }
  if (!S_ISDIR(st.st_mode)) {
    *error = "cannot write '" + path + "': '" + dir + "' is not a directory";
    return SLICENAV_ERR_IO;
  }
  if (slash + 1 == path.size() || (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))) {
    *error = "cannot write '" + path + "': it is a directory";
    return SLICENAV_ERR_IO;
  }
  return SLICENAV_OK;
}

namespace {

slicenav_status write_file_atomically(const std::string& text, const std::string& path, std::string* error) {
  if (const slicenav_status status = check_output_path(path, error); status != SLICENAV_OK) return status;
  const std::string::size_type slash = path.find_last_of('/');
  const std::string dir = slash == std::string::npos ? std::string(".") : path.substr(0, slash + 1);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);

  std::string temp = (slash == std::string::npos ? std::string() : dir) + "." + base + ".tmp.XXXXXX";
  std::vector<char> name(temp.begin(), temp.end());
  name.push_back('\0');
  const int fd = ::mkstemp(name.data());
  if (fd < 0) {
    const int err = errno;
    *error = "cannot write '" + path + "': cannot create a file in '" + dir + "': " + errno_text(err);
    return SLICENAV_ERR_IO;
  }
  temp.assign(name.data());

  // mkstemp creates 0600; give the result the permissions a plain create would (0666 & ~umask).
  const mode_t mask = ::umask(0);
  ::umask(mask);
  bool ok = ::fchmod(fd, 0666 & ~mask) == 0;
  int err = ok ? 0 : errno;
  if (ok && !write_all(fd, text)) {
    ok = false;
    err = errno;
  }
  if (ok && ::fsync(fd) != 0) {
    ok = false;
    err = errno;
  }
  if (::close(fd) != 0 && ok) {
    ok = false;
    err = errno;
  }
  if (ok && ::rename(temp.c_str(), path.c_str()) != 0) {
    ok = false;
    err = errno;
  }
  if (!ok) {
    ::unlink(temp.c_str());
    *error = "cannot write '" + path + "': " + errno_text(err);
    return SLICENAV_ERR_IO;
  }
  return SLICENAV_OK;
}

}  // namespace

slicenav_status write_json(const nlohmann::json& json, const std::string& path, std::string* error) {
  // Strings from files (paths, DICOM tags) need not be valid UTF-8; replace bad bytes rather than fail.
  const std::string text = json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (path.empty() || path == "-") {
    std::cout << text << std::flush;
    if (!std::cout) {
      *error = "cannot write to standard output";
      return SLICENAV_ERR_IO;
    }
    return SLICENAV_OK;
  }
  return write_file_atomically(text, path, error);
}

const CLI::Validator& non_negative() {
  static const CLI::Validator check(
      [](const std::string& text) {
        double value = 0;
        return CLI::detail::lexical_cast(text, value) && value >= 0 ? std::string()
                                                                    : "must be a number >= 0, not " + text;
      },
      "NONNEGATIVE");
  return check;
}

void add_model_options(CLI::App* cmd, ModelOptions& options, const std::string& threads_help) {
  cmd->add_option("--model", options.path, "Model file (default: the bundled model)");
  cmd->add_option("--threads", options.threads, threads_help)->check(non_negative());
  cmd->add_option("--device", options.device, "cpu, or cuda:N with a CUDA-enabled build");
}

slicenav_status load_model(const ModelOptions& options, ModelPtr& out) {
  slicenav_model_params params = slicenav_model_default_params();
  params.path = options.path.empty() ? nullptr : options.path.c_str();
  params.threads = options.threads;
  params.device = options.device.c_str();
  slicenav_model* raw = nullptr;
  const slicenav_status status = slicenav_model_load(&raw, &params);
  out.reset(raw);
  return status;
}

slicenav_status read_volume(const std::string& path, VolumePtr& out) {
  slicenav_volume* raw = nullptr;
  const slicenav_status status = slicenav_volume_read(&raw, path.c_str(), nullptr);
  out.reset(raw);
  print_warnings(path, raw);
  return status;
}

VolumePrefetcher::VolumePrefetcher(std::vector<std::string> paths) : paths_(std::move(paths)) {}

VolumePrefetcher::~VolumePrefetcher() {
  if (ahead_.valid()) ahead_.wait();
}

VolumePtr VolumePrefetcher::take(const std::string& path) {
  const auto read = [](std::string file) {
    Read r;
    slicenav_volume* raw = nullptr;
    r.status = slicenav_volume_read(&raw, file.c_str(), nullptr);
    r.volume.reset(raw);
    if (r.status != SLICENAV_OK) r.error = slicenav_last_error();
    return r;
  };
  std::future<Read> mine;
  if (ahead_.valid() && ahead_path_ == path) {
    mine = std::move(ahead_);
  } else if (ahead_.valid()) {
    ahead_.wait();  // read ahead for a case that was not run after all: dropped
    ahead_ = {};
  }
  const auto next = std::find(paths_.begin(), paths_.end(), path);
  if (next != paths_.end() && next + 1 != paths_.end()) {
    try {
      ahead_ = std::async(std::launch::async, read, *(next + 1));
      ahead_path_ = *(next + 1);
    } catch (const std::system_error&) {
      // No thread to read ahead on: the next image is read when it is taken.
    }
  }
  Read r = mine.valid() ? mine.get() : read(path);
  print_warnings(path, r.volume.get());
  if (r.status != SLICENAV_OK) throw Failure{r.status, r.error};
  return std::move(r.volume);
}

void add_gzip_level_option(CLI::App* cmd, slicenav_write_params& params) {
  cmd->add_option(
         "--gzip-level", params.gzip_level,
         "gzip level of the .nii.gz images written: 0 (none, fastest) to 12 (smallest, slowest); default 1, for "
         "intermediate files")
      ->type_name("N")
      ->check(CLI::Range(0, 12));
}

void check(slicenav_status status) {
  if (status != SLICENAV_OK) throw Failure{status, slicenav_last_error()};
}

namespace {
// Command-line name of each prealignment method, the default first.
const std::pair<const char*, slicenav_prealign_method> kPrealignMethods[] = {
    {"auto", SLICENAV_PREALIGN_AUTO},
    {"score", SLICENAV_PREALIGN_SCORE},
    {"three-slice", SLICENAV_PREALIGN_THREE_SLICE},
    {"insertion", SLICENAV_PREALIGN_INSERTION},
    {"embedding", SLICENAV_PREALIGN_EMBEDDING},
    {"key-slices", SLICENAV_PREALIGN_KEY_SLICES},
    {"intensity", SLICENAV_PREALIGN_INTENSITY}};
}  // namespace

const std::vector<std::string>& prealign_method_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> v;
    for (const auto& [name, method] : kPrealignMethods) v.emplace_back(name);
    return v;
  }();
  return names;
}

slicenav_prealign_method prealign_method(const std::string& name) {
  for (const auto& [n, method] : kPrealignMethods) {
    if (name == n) return method;
  }
  return SLICENAV_PREALIGN_AUTO;
}

std::string prealign_method_name(slicenav_prealign_method method) {
  for (const auto& [name, m] : kPrealignMethods) {
    if (m == method) return name;
  }
  return std::to_string(static_cast<int>(method));
}

}  // namespace slicenav::cli

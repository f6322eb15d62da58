#include "slicenav/elastix/parameters.hpp"

#include <dlfcn.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "slicenav/elastix/process.hpp"

#ifndef SLICENAV_INSTALL_ELASTIX_PRESET_DIR
#  error "plugins/elastix/CMakeLists.txt must define SLICENAV_INSTALL_ELASTIX_PRESET_DIR"
#endif
#ifndef SLICENAV_SOURCE_ELASTIX_PRESET_DIR
#  error "plugins/elastix/CMakeLists.txt must define SLICENAV_SOURCE_ELASTIX_PRESET_DIR"
#endif

namespace slicenav::elastix {
namespace fs = std::filesystem;
namespace {

std::string trim(const std::string& s) {
  const auto begin = s.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return {};
  return s.substr(begin, s.find_last_not_of(" \t\r") - begin + 1);
}

// The line without its "//" comment; "//" inside a quoted value is kept.
std::string strip_comment(const std::string& line) {
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '"') quoted = !quoted;
    if (!quoted && line.compare(i, 2, "//") == 0) return line.substr(0, i);
  }
  return line;
}

}  // namespace

const std::vector<std::string>& preset_names() {
  static const std::vector<std::string> names{"rigid", "affine"};
  return names;
}

std::string preset_path(const std::string& name_or_path) {
  bool bundled = false;
  for (const auto& n : preset_names()) bundled = bundled || n == name_or_path;
  if (!bundled) {
    std::string names;
    for (const auto& n : preset_names()) names += (names.empty() ? "" : ", ") + n;
    if (name_or_path.find('/') == std::string::npos && name_or_path.find('.') == std::string::npos) {
      throw Error(SLICENAV_ERR_INVALID_ARGUMENT,
                  "unknown elastix preset '" + name_or_path + "': use one of " + names + ", or a parameter file path");
    }
    std::error_code ec;
    if (!fs::is_regular_file(name_or_path, ec)) {
      throw Error(SLICENAV_ERR_NOT_FOUND, "elastix parameter file '" + name_or_path + "' does not exist");
    }
    return fs::absolute(name_or_path).lexically_normal().string();
  }
  const std::string file = name_or_path + ".txt";
  std::vector<fs::path> candidates;
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&preset_path), &info) != 0 && info.dli_fname != nullptr) {
    candidates.push_back(fs::absolute(info.dli_fname).parent_path().parent_path() / "share/slicenav/elastix" / file);
  }
  candidates.push_back(fs::path(SLICENAV_INSTALL_ELASTIX_PRESET_DIR) / file);
  candidates.push_back(fs::path(SLICENAV_SOURCE_ELASTIX_PRESET_DIR) / file);
  std::string tried;
  for (const auto& c : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(c, ec)) return fs::absolute(c).lexically_normal().string();
    tried += "\n  " + c.lexically_normal().string();
  }
  throw Error(SLICENAV_ERR_NOT_FOUND, "bundled elastix preset '" + name_or_path + "' not found; tried:" + tried);
}

ParameterFile ParameterFile::read(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec))
    throw Error(SLICENAV_ERR_NOT_FOUND, "elastix parameter file '" + path + "' does not exist");
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in && !in.eof()) throw Error(SLICENAV_ERR_IO, "cannot read elastix parameter file '" + path + "'");
  return parse(text.str(), path);
}

ParameterFile ParameterFile::parse(const std::string& text, const std::string& origin) {
  ParameterFile file;
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    const std::string entry = trim(strip_comment(line));
    if (entry.empty()) continue;
    const auto close = entry.rfind(')');
    const auto space = entry.find_first_of(" \t");
    if (entry.front() != '(' || close != entry.size() - 1 || space == std::string::npos || space > close) {
      throw Error(SLICENAV_ERR_INVALID_ARGUMENT, "elastix parameter file '" + origin + "' line " +
                                                     std::to_string(number) +
                                                     " is not a (Key value) entry: " + trim(line));
    }
    file.set(entry.substr(1, space - 1), trim(entry.substr(space, close - space)));
  }
  return file;
}

std::string ParameterFile::value(const std::string& key) const {
  for (const auto& [k, v] : entries_) {
    if (k == key) return v;
  }
  return {};
}

bool ParameterFile::has(const std::string& key) const {
  for (const auto& entry : entries_) {
    if (entry.first == key) return true;
  }
  return false;
}

std::vector<double> ParameterFile::numbers(const std::string& key) const {
  if (!has(key)) throw Error(SLICENAV_ERR_INVALID_ARGUMENT, "elastix parameter " + key + " is missing");
  std::istringstream in(value(key));
  std::vector<double> out;
  std::string word;
  while (in >> word) {
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(word.c_str(), &end);
    if (end == word.c_str() || *end != '\0' || errno == ERANGE) {
      throw Error(SLICENAV_ERR_INVALID_ARGUMENT, "elastix parameter " + key + " is not numeric: " + value(key));
    }
    out.push_back(v);
  }
  return out;
}

std::string ParameterFile::text(const std::string& key) const {
  std::string v = value(key);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
  return v;
}

void ParameterFile::set(const std::string& key, const std::string& raw_value) {
  for (auto& [k, v] : entries_) {
    if (k == key) {
      v = raw_value;
      return;
    }
  }
  entries_.emplace_back(key, raw_value);
}

void ParameterFile::set_text(const std::string& key, const std::string& value) { set(key, "\"" + value + "\""); }

std::string ParameterFile::str() const {
  std::string out;
  for (const auto& [k, v] : entries_) out += "(" + k + " " + v + ")\n";
  return out;
}

}  // namespace slicenav::elastix

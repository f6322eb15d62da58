// elastix parameter files ("(Key value ...)" lines, "//" comments): the bundled CT presets, reading a
// file into an ordered list of entries, changing entries, and writing it back.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace slicenav::elastix {

// The bundled presets: "rigid" (EulerTransform) and "affine" (AffineTransform), both for CT-to-CT
// registration with mutual information.
const std::vector<std::string>& preset_names();

// The absolute path of a preset: a bundled name, found in share/slicenav/elastix beside the running
// executable's prefix, then the install prefix, then the source tree (as the default model is found); or a
// path to an existing parameter file. Throws Error: INVALID_ARGUMENT (neither a preset name nor a path;
// the message lists the names), NOT_FOUND (a path that does not exist, or a bundled preset missing from
// every place; the message lists them).
std::string preset_path(const std::string& name_or_path);

class ParameterFile {
 public:
  // Parses `path`. Throws Error: NOT_FOUND, IO, INVALID_ARGUMENT (a line that is neither an entry, a
  // comment nor blank: the message gives the file and line).
  static ParameterFile read(const std::string& path);
  // Parses text; `origin` names it in error messages.
  static ParameterFile parse(const std::string& text, const std::string& origin);

  // The raw value text of `key` (e.g. "\"EulerTransform\"" or "4 2 1"); "" when absent.
  std::string value(const std::string& key) const;
  bool has(const std::string& key) const;
  // The value of `key` as numbers. Throws Error(INVALID_ARGUMENT) when absent or not numeric.
  std::vector<double> numbers(const std::string& key) const;
  // The value of `key` without its quotes ("EulerTransform"); "" when absent.
  std::string text(const std::string& key) const;

  // Replaces `key`'s value (raw text), or appends the entry.
  void set(const std::string& key, const std::string& raw_value);
  // Sets a quoted string value.
  void set_text(const std::string& key, const std::string& value);

  // Entries as "(Key value)" lines.
  std::string str() const;

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

}  // namespace slicenav::elastix

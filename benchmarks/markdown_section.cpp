#include "markdown_section.hpp"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace slicenav::bench {

namespace {

std::string first_line_with(const std::string& file, const std::string& key) {
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) {
      const auto colon = line.find(':');
      std::string value = colon == std::string::npos ? line : line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  }
  return "unknown";
}

}  // namespace

void replace_markdown_section(const std::string& file, const std::string& heading_text, const std::string& section) {
  std::string text;
  if (std::ifstream in(file); in) {
    std::ostringstream all;
    all << in.rdbuf();
    text = all.str();
  } else {
    text = "# Benchmarks\n\nResults of the programs in `benchmarks/`. Timings are never asserted in tests.\n\n";
  }
  const std::string heading = heading_text + "\n";
  std::size_t begin = text.rfind(heading, 0) == 0 ? 0 : text.find("\n" + heading);
  if (begin == std::string::npos) {
    if (!text.empty() && text.back() != '\n') text += '\n';
    if (text.size() >= 2 && text.substr(text.size() - 2) != "\n\n") text += '\n';
    text += section;
  } else {
    if (begin != 0) begin += 1;
    std::size_t end = text.find("\n## ", begin + heading.size());
    end = end == std::string::npos ? text.size() : end + 1;
    text.replace(begin, end - begin, section + (end < text.size() ? "\n" : ""));
  }
  const std::string temp = file + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + temp);
  }
  std::filesystem::rename(temp, file);
}

std::string machine_description() {
  std::ostringstream out;
  out << first_line_with("/proc/cpuinfo", "model name") << ", " << std::thread::hardware_concurrency()
      << " cores visible, ";
  const double mem_kib = std::atof(first_line_with("/proc/meminfo", "MemTotal").c_str());
  out << std::fixed << std::setprecision(1) << mem_kib / (1024.0 * 1024.0) << " GiB RAM";
  std::ifstream loadavg("/proc/loadavg");
  double load1 = 0.0;
  if (loadavg >> load1) out << ", load average " << std::fixed << std::setprecision(2) << load1 << " at start";
  return out.str();
}

std::string compiler() {
#if defined(__clang__)
  return std::string("Clang ") + __clang_version__;
#elif defined(__GNUC__)
  return std::string("GCC ") + __VERSION__;
#else
  return "unknown compiler";
#endif
}

std::string today_utc() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d", std::gmtime(&now));
  return text;
}

std::string fixed(double v, int digits) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(digits) << v;
  return out.str();
}

}  // namespace slicenav::bench

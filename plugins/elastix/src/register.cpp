#include "slicenav/elastix/register.hpp"

#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "slicenav/elastix/parameters.hpp"
#include "slicenav/elastix/process.hpp"

namespace slicenav::elastix {
namespace fs = std::filesystem;
namespace {

using nlohmann::json;

// Error lines and tail of a log quoted in failure messages.
constexpr std::size_t kMaxErrorLines = 8;
constexpr std::size_t kTailLines = 12;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) throw Error(SLICENAV_ERR_IO, "cannot write '" + path.string() + "'");
}

std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// The lines of a log that name an error, then its last lines.
std::string log_excerpt(const fs::path& log) {
  std::vector<std::string> lines;
  std::istringstream in(read_file(log));
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") != std::string::npos) lines.push_back(line);
  }
  std::string errors;
  std::size_t count = 0;
  for (const auto& line : lines) {
    if ((line.find("ERROR") != std::string::npos || line.find("Exception") != std::string::npos) &&
        errors.find(line) == std::string::npos && count++ < kMaxErrorLines) {
      errors += "\n  " + line;
    }
  }
  std::string tail;
  for (std::size_t k = lines.size() > kTailLines ? lines.size() - kTailLines : 0; k < lines.size(); ++k) {
    tail += "\n  " + lines[k];
  }
  std::string out = "\n" + log.filename().string() + ":";
  if (!errors.empty()) out += errors + "\n  ...";
  return out + tail;
}

// Runs one tool; a failure or timeout becomes an Error quoting `log` (or, when the tool wrote no log, its
// console output).
ProcessResult run_tool(const std::string& what, const std::vector<std::string>& argv, const fs::path& console,
                       const fs::path& log, double timeout_s) {
  const ProcessResult r = run_process(argv, console.string(), timeout_s);
  if (r.exit_code == 0 && !r.timed_out) return r;
  std::error_code ec;
  const fs::path quoted = fs::is_regular_file(log, ec) && fs::file_size(log, ec) > 0 ? log : console;
  if (r.timed_out) {
    throw Error(SLICENAV_ERR_CANCELLED, what + " did not finish within " +
                                            std::to_string(static_cast<long>(timeout_s)) + " s and was stopped" +
                                            log_excerpt(quoted));
  }
  const std::string how = r.signal != 0 ? "was killed by signal " + std::to_string(r.signal)
                                        : "failed with exit status " + std::to_string(r.exit_code);
  throw Error(SLICENAV_ERR_UNSUPPORTED_INPUT, what + " " + how + log_excerpt(quoted));
}

std::string existing_input(const std::string& path, const char* what) {
  std::error_code ec;
  if (path.empty()) throw Error(SLICENAV_ERR_INVALID_ARGUMENT, std::string(what) + " image path is empty");
  if (!fs::is_regular_file(path, ec)) {
    throw Error(SLICENAV_ERR_NOT_FOUND, std::string(what) + " image '" + path + "' does not exist or is not a file");
  }
  return fs::absolute(path).lexically_normal().string();
}

std::string number_text(double value) {
  std::ostringstream out;
  out.precision(17);
  out << value;
  return out.str();
}

// The centre of the fixed image's grid as elastix recorded it (Direction lists index axis directions
// one after the other).
std::vector<double> fixed_centre(const ParameterFile& result) {
  const auto size = result.numbers("Size"), spacing = result.numbers("Spacing"), origin = result.numbers("Origin");
  const auto direction = result.numbers("Direction");
  if (size.size() != 3 || spacing.size() != 3 || origin.size() != 3 || direction.size() != 9) {
    throw Error(SLICENAV_ERR_UNSUPPORTED_INPUT, "elastix's result transform does not describe a 3D fixed image");
  }
  std::vector<double> centre = origin;
  for (int axis = 0; axis < 3; ++axis) {
    for (int row = 0; row < 3; ++row) centre[row] += direction[axis * 3 + row] * spacing[axis] * (size[axis] - 1) / 2.0;
  }
  return centre;
}

// Maps one point through a transform file with transformix -def.
std::vector<double> transform_point(const Tools& tools, const fs::path& transform, const std::vector<double>& point,
                                    const fs::path& work, const RegisterOptions& o) {
  fs::create_directory(work);
  write_file(work / "point.txt",
             "point\n1\n" + number_text(point[0]) + " " + number_text(point[1]) + " " + number_text(point[2]) + "\n");
  std::vector<std::string> argv{tools.transformix, "-def", (work / "point.txt").string(), "-out", work.string(), "-tp",
                                transform.string()};
  if (o.threads > 0) argv.insert(argv.end(), {"-threads", std::to_string(o.threads)});
  run_tool("transformix", argv, work / "console.txt", work / "transformix.log", o.timeout_s);
  const std::string text = read_file(work / "outputpoints.txt");
  const auto at = text.find("OutputPoint = [");
  std::istringstream in(at == std::string::npos ? std::string() : text.substr(at + 15));
  std::vector<double> out(3);
  if (!(in >> out[0] >> out[1] >> out[2])) {
    throw Error(SLICENAV_ERR_UNSUPPORTED_INPUT,
                "transformix wrote no output point in '" + (work / "outputpoints.txt").string() + "'");
  }
  return out;
}

// Removes the private folder (and an output folder this run created) unless the run was committed, and
// the files already moved into place when the move itself failed.
struct Staging {
  fs::path output_dir, dir;
  bool created_output = false;
  bool committed = false;
  std::vector<fs::path> moved;

  ~Staging() {
    if (committed) return;
    std::error_code ec;
    for (const auto& m : moved) fs::remove(m, ec);
    if (!dir.empty()) fs::remove_all(dir, ec);
    if (created_output) fs::remove(output_dir, ec);
  }
};

}  // namespace

const char* initialisation_name(Initialisation init) {
  switch (init) {
    case Initialisation::none: return "none";
    case Initialisation::transform: return "transform";
    case Initialisation::geometric_centre: return "geometric-centre";
    case Initialisation::centre_of_gravity: return "centre-of-gravity";
  }
  return "none";
}

Tools find_tools(const std::string& configured) {
  Tools tools;
  const std::string from_env = env("SLICENAV_ELASTIX");
  const std::string wanted = !configured.empty() ? configured : !from_env.empty() ? from_env : "elastix";
  const char* source = !configured.empty() ? "the configured path" : !from_env.empty() ? "$SLICENAV_ELASTIX" : "$PATH";
  tools.elastix = find_executable(wanted);
  if (tools.elastix.empty()) {
    throw Error(SLICENAV_ERR_NOT_FOUND, "elastix not found ('" + wanted + "' from " + source +
                                            " is not an executable file): install elastix (Debian package 'elastix'), "
                                            "put it on PATH, or give its path with --elastix or $SLICENAV_ELASTIX");
  }
  const std::string transformix_env = env("SLICENAV_TRANSFORMIX");
  if (!transformix_env.empty()) {
    tools.transformix = find_executable(transformix_env);
    if (tools.transformix.empty()) {
      throw Error(SLICENAV_ERR_NOT_FOUND,
                  "transformix not found: $SLICENAV_TRANSFORMIX '" + transformix_env + "' is not an executable file");
    }
    return tools;
  }
  const fs::path beside = fs::path(tools.elastix).parent_path() / "transformix";
  tools.transformix = find_executable(beside.string());
  if (tools.transformix.empty()) tools.transformix = find_executable("transformix");
  if (tools.transformix.empty()) {
    throw Error(SLICENAV_ERR_NOT_FOUND, "transformix not found beside '" + tools.elastix +
                                            "' or on PATH: install elastix's transformix or set $SLICENAV_TRANSFORMIX");
  }
  return tools;
}

json register_images(const RegisterOptions& o) {
  const std::string fixed = existing_input(o.fixed, "fixed");
  const std::string moving = existing_input(o.moving, "moving");
  if (o.output_dir.empty()) throw Error(SLICENAV_ERR_INVALID_ARGUMENT, "output folder is empty");
  if (!(o.timeout_s > 0)) throw Error(SLICENAV_ERR_INVALID_ARGUMENT, "timeout must be > 0 s");
  if (o.threads < 0) throw Error(SLICENAV_ERR_INVALID_ARGUMENT, "threads must be >= 0");
  if (o.init == Initialisation::transform && o.fixed_volume == nullptr) {
    throw Error(SLICENAV_ERR_INVALID_ARGUMENT, "an initial transform needs the fixed volume it is written on");
  }
  const Tools tools = find_tools(o.elastix);
  const std::string preset = preset_path(o.preset);
  ParameterFile parameters = ParameterFile::read(preset);
  const bool automatic = o.init == Initialisation::geometric_centre || o.init == Initialisation::centre_of_gravity;
  parameters.set_text("AutomaticTransformInitialization", automatic ? "true" : "false");
  if (automatic) {
    parameters.set_text("AutomaticTransformInitializationMethod",
                        o.init == Initialisation::geometric_centre ? "GeometricalCenter" : "CenterOfGravity");
  }
  parameters.set_text("WriteResultImage", "false");
  parameters.set_text("ResultImageFormat", "nii.gz");

  Staging staging;
  staging.output_dir = fs::absolute(o.output_dir).lexically_normal();
  std::error_code ec;
  if (fs::exists(staging.output_dir, ec) && !fs::is_directory(staging.output_dir, ec)) {
    throw Error(SLICENAV_ERR_IO, "output folder '" + o.output_dir + "' exists and is not a folder");
  }
  if (!fs::exists(staging.output_dir, ec)) {
    if (!fs::create_directory(staging.output_dir, ec) || ec) {
      throw Error(SLICENAV_ERR_IO, "cannot create output folder '" + o.output_dir + "': " + ec.message());
    }
    staging.created_output = true;
  }
  std::string pattern = (staging.output_dir / ".slicenav-register-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw Error(SLICENAV_ERR_IO, "cannot write into output folder '" + o.output_dir + "'");
  }
  staging.dir = pattern;
  const fs::path& work = staging.dir;

  json summary = {{"fixed", fixed}, {"moving", moving}, {"preset", {{"name", o.preset}, {"file", preset}}}};
  json init = o.init_details.is_object() ? o.init_details : json::object();
  if (!init.contains("mode")) init["mode"] = initialisation_name(o.init);

  write_file(work / "parameters.txt", "// Parameters of slicenav register, from " + preset + "\n" + parameters.str());
  std::vector<std::string> argv{
      tools.elastix, "-f", fixed, "-m", moving, "-out", work.string(), "-p", (work / "parameters.txt").string()};
  if (o.init == Initialisation::transform) {
    if (slicenav_rigid_transform_write_elastix((work / "init.txt").c_str(), &o.initial_transform, o.fixed_volume) !=
            SLICENAV_OK ||
        slicenav_rigid_transform_write_itk((work / "init.tfm").c_str(), &o.initial_transform) != SLICENAV_OK) {
      throw Error(SLICENAV_ERR_IO, std::string("cannot write the initial transform: ") + slicenav_last_error());
    }
    argv.insert(argv.end(), {"-t0", (work / "init.txt").string()});
    const auto& t = o.initial_transform;
    init["translation_mm"] = {t.translation_mm[0], t.translation_mm[1], t.translation_mm[2]};
    init["rotation_rad"] = {t.rotation_rad[0], t.rotation_rad[1], t.rotation_rad[2]};
    init["centre_mm"] = {t.centre_mm[0], t.centre_mm[1], t.centre_mm[2]};
    init["transform_file"] = "init.txt";
    init["itk_transform_file"] = "init.tfm";
  }
  if (o.threads > 0) argv.insert(argv.end(), {"-threads", std::to_string(o.threads)});
  summary["init"] = init;

  // The version, which also shows that the executable runs at all.
  std::string version;
  if (run_process({tools.elastix, "--version"}, (work / "version.txt").string(), 60).exit_code == 0) {
    const std::string text = read_file(work / "version.txt");
    const auto colon = text.find(':');
    if (colon != std::string::npos) version = text.substr(colon + 1, text.find('\n') - colon - 1);
    version.erase(0, version.find_first_not_of(' '));
  }
  fs::remove(work / "version.txt", ec);

  const ProcessResult run = run_tool("elastix", argv, work / "console.txt", work / "elastix.log", o.timeout_s);
  fs::remove(work / "console.txt", ec);
  const fs::path result_file = work / "TransformParameters.0.txt";
  if (!fs::is_regular_file(result_file, ec)) {
    throw Error(SLICENAV_ERR_UNSUPPORTED_INPUT,
                "elastix wrote no TransformParameters.0.txt" + log_excerpt(work / "elastix.log"));
  }
  summary["elastix"] = {{"executable", tools.elastix},
                        {"version", version.empty() ? json(nullptr) : json(version)},
                        {"runtime_s", run.seconds},
                        {"threads", o.threads}};

  const ParameterFile result = ParameterFile::read(result_file.string());
  const std::vector<double> centre = fixed_centre(result);
  const std::vector<double> mapped = transform_point(tools, result_file, centre, work / "points", o);
  fs::remove_all(work / "points", ec);
  json r = {{"transform_file", "TransformParameters.0.txt"},
            {"transform", result.text("Transform")},
            {"parameters", result.numbers("TransformParameters")},
            {"initial_transform_file", o.init == Initialisation::transform ? json("init.txt") : json(nullptr)},
            {"fixed_centre_mm", centre},
            {"fixed_centre_maps_to_mm", mapped},
            {"translation_at_fixed_centre_mm", {mapped[0] - centre[0], mapped[1] - centre[1], mapped[2] - centre[2]}}};
  if (result.has("CenterOfRotationPoint")) r["center_of_rotation_mm"] = result.numbers("CenterOfRotationPoint");
  summary["result"] = r;

  std::vector<std::string> files{"TransformParameters.0.txt", "elastix.log", "parameters.txt"};
  if (o.init == Initialisation::transform) files.insert(files.end(), {"init.txt", "init.tfm"});
  summary["resampled"] = nullptr;
  if (o.resample) {
    const fs::path out = work / "transformix";
    fs::create_directory(out);
    std::vector<std::string> targv{tools.transformix, "-in", moving, "-out", out.string(), "-tp", result_file.string()};
    if (o.threads > 0) targv.insert(targv.end(), {"-threads", std::to_string(o.threads)});
    const ProcessResult t = run_tool("transformix", targv, out / "console.txt", out / "transformix.log", o.timeout_s);
    if (!fs::is_regular_file(out / "result.nii.gz", ec)) {
      throw Error(SLICENAV_ERR_UNSUPPORTED_INPUT,
                  "transformix wrote no result.nii.gz" + log_excerpt(out / "transformix.log"));
    }
    fs::rename(out / "result.nii.gz", work / "resampled.nii.gz");
    fs::rename(out / "transformix.log", work / "transformix.log");
    files.insert(files.end(), {"resampled.nii.gz", "transformix.log"});
    summary["resampled"] = {{"file", "resampled.nii.gz"}, {"transformix_runtime_s", t.seconds}};
  }
  summary["files"] = files;

  // The result chains the initial transform by path: point it at the copy that stays.
  if (o.init == Initialisation::transform) {
    std::string text = read_file(result_file);
    const std::string from = "\"" + (work / "init.txt").string() + "\"";
    const auto at = text.find(from);
    if (at == std::string::npos) {
      throw Error(SLICENAV_ERR_UNSUPPORTED_INPUT, "elastix's result does not name its initial transform " + from);
    }
    text.replace(at, from.size(), "\"" + (staging.output_dir / "init.txt").string() + "\"");
    write_file(result_file, text);
  }
  write_file(work / "registration.json", summary.dump(2) + "\n");
  files.push_back("registration.json");
  for (const auto& name : files) {
    fs::rename(work / name, staging.output_dir / name, ec);
    if (ec) throw Error(SLICENAV_ERR_IO, "cannot move '" + name + "' into '" + o.output_dir + "': " + ec.message());
    staging.moved.push_back(staging.output_dir / name);
  }
  staging.committed = true;
  fs::remove_all(work, ec);
  return summary;
}

}  // namespace slicenav::elastix

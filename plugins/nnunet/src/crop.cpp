#include "slicenav/nnunet/crop.hpp"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <system_error>
#include <utility>
#include <vector>

namespace slicenav::nnunet {
namespace {

namespace fs = std::filesystem;
using VolumePtr = std::unique_ptr<slicenav_volume, decltype(&slicenav_volume_free)>;
using RecordPtr = std::unique_ptr<slicenav_crop_record, decltype(&slicenav_crop_record_free)>;

// Throws Error(status) with `context` (if any) and the library's message, when status is not OK.
void check(slicenav_status status, const std::string& context = "") {
  if (status != SLICENAV_OK) throw Error(status, (context.empty() ? "" : context + ": ") + slicenav_last_error());
}

void require_file(const std::string& path, const std::string& what) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(SLICENAV_ERR_NOT_FOUND, what + ": '" + path + "' does not exist");
}

std::string channel_text(const Dataset& dataset, std::size_t k) {
  return "channel " + std::to_string(k) + " ('" + dataset.channel_names[k] + "')";
}

// The staging folder of one case: emptied on creation, removed with everything left in it on destruction.
class Staging {
 public:
  explicit Staging(std::string dir) : dir_(std::move(dir)) {
    std::error_code ec;
    fs::remove_all(dir_, ec);  // what a killed run left behind
    if (!fs::create_directory(dir_, ec)) {
      throw Error(SLICENAV_ERR_IO, "cannot create '" + dir_ + "': " + (ec ? ec.message() : "it exists"));
    }
  }
  ~Staging() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;
  std::string path(const std::string& final_path) const {
    return (fs::path(dir_) / fs::path(final_path).filename()).string();
  }

 private:
  std::string dir_;
};

}  // namespace

void prepare_output(const Dataset& dataset, const std::string& out_dir) {
  const bool has_test =
      std::any_of(dataset.cases.begin(), dataset.cases.end(), [](const Case& c) { return c.split == Split::test; });
  std::vector<fs::path> dirs = {out_dir, fs::path(out_dir) / "imagesTr", fs::path(out_dir) / "labelsTr",
                                fs::path(out_dir) / "crop_records"};
  if (has_test) dirs.push_back(fs::path(out_dir) / "imagesTs");
  for (const fs::path& dir : dirs) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec || !fs::is_directory(dir)) {
      throw Error(SLICENAV_ERR_IO, "cannot create '" + dir.string() + "': " + (ec ? ec.message() : "not a directory"));
    }
  }
}

CropOutcome crop_case(const slicenav_model* model, const Dataset& dataset, const Case& c, const std::string& out_dir,
                      const slicenav_crop_params& params, const slicenav_write_params* write) {
  if (!c.problems.empty()) {
    std::string message = c.problems.front();
    for (std::size_t p = 1; p < c.problems.size(); ++p) message += "; " + c.problems[p];
    throw Error(SLICENAV_ERR_INVALID_ARGUMENT, message);
  }
  for (std::size_t k = 0; k < c.images.size(); ++k) require_file(c.images[k], "missing " + channel_text(dataset, k));
  if (!c.label.empty()) require_file(c.label, "missing label map");

  RecordPtr record(nullptr, &slicenav_crop_record_free);
  {
    slicenav_volume* raw_volume = nullptr;
    const slicenav_status read_status = slicenav_volume_read(&raw_volume, c.images[0].c_str(), nullptr);
    const VolumePtr volume(raw_volume, &slicenav_volume_free);
    check(read_status, channel_text(dataset, 0) + " '" + c.images[0] + "'");
    slicenav_crop_record* raw_record = nullptr;
    const slicenav_status plan_status = slicenav_crop_record_plan(&raw_record, model, volume.get(), &params);
    record.reset(raw_record);
    check(plan_status, "cropping '" + c.images[0] + "' to region '" + std::string(params.region) + "'");
  }  // the CT volume is released before the channels are cut

  const CaseOutputs outputs = case_outputs(dataset, c, out_dir);
  std::vector<std::pair<std::string, std::string>> moves;  // (staged, final)
  const Staging staging(staging_dir(out_dir, c.name));
  for (std::size_t k = 0; k < c.images.size(); ++k) {
    moves.emplace_back(staging.path(outputs.images[k]), outputs.images[k]);
    check(slicenav_crop_record_crop_file(moves.back().first.c_str(), record.get(), c.images[k].c_str(), write),
          channel_text(dataset, k) + " '" + c.images[k] + "'");
  }
  if (!c.label.empty()) {
    moves.emplace_back(staging.path(outputs.label), outputs.label);
    check(slicenav_crop_record_crop_file(moves.back().first.c_str(), record.get(), c.label.c_str(), write),
          "label map '" + c.label + "'");
  }

  // Every file exists: move them into place (same file system, so each rename is atomic), then the record.
  std::size_t moved = 0;
  try {
    for (; moved < moves.size(); ++moved) {
      std::error_code ec;
      fs::rename(moves[moved].first, moves[moved].second, ec);
      if (ec) throw Error(SLICENAV_ERR_IO, "cannot write '" + moves[moved].second + "': " + ec.message());
    }
    check(slicenav_crop_record_write(outputs.record.c_str(), record.get()));  // the message names the file
  } catch (...) {
    for (std::size_t m = 0; m < moved; ++m) {
      std::error_code ec;
      fs::remove(moves[m].second, ec);
    }
    throw;
  }
  return {slicenav_crop_record_partial(record.get()) != 0};
}

std::string record_path(const std::string& records_dir, const std::string& case_name) {
  return (fs::path(records_dir) / (case_name + ".json")).string();
}

void restore_case(const std::string& records_dir, const std::string& case_name, const std::string& prediction,
                  const std::string& out_path, const slicenav_write_params* write) {
  const std::string path = record_path(records_dir, case_name);
  require_file(path, "no crop record for prediction '" + prediction + "'");
  slicenav_crop_record* raw = nullptr;
  const slicenav_status status = slicenav_crop_record_read(&raw, path.c_str());
  const RecordPtr record(raw, &slicenav_crop_record_free);
  check(status, "crop record '" + path + "'");
  check(slicenav_crop_record_uncrop_file(out_path.c_str(), record.get(), prediction.c_str(), write),
        "prediction '" + prediction + "'");
}

}  // namespace slicenav::nnunet

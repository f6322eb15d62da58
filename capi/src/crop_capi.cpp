// The C API's cropping calls: plan a region's crop box, read and write crop records, crop and uncrop image
// files. Thin shims over core/include/slicenav/crop.hpp, guarded like every other call.
#include <memory>
#include <string>

#include "capi_support.hpp"
#include "slicenav.h"
#include "slicenav/crop.hpp"

struct slicenav_crop_record {
  slicenav::CropRecord record;
  std::string json;
};

namespace {

using namespace slicenav::capi;

slicenav_crop_record* new_record(slicenav::CropRecord record) {
  auto out = std::make_unique<slicenav_crop_record>();
  out->json = record.to_json();
  out->record = std::move(record);
  return out.release();
}

}  // namespace

slicenav_crop_params slicenav_crop_default_params(void) {
  slicenav_crop_params params{};
  params.struct_size = sizeof(slicenav_crop_params);
  params.region = nullptr;
  params.method = SLICENAV_LOCATE_INSERTION;
  return params;
}

slicenav_status slicenav_crop_record_plan(slicenav_crop_record** out, const slicenav_model* model,
                                          const slicenav_volume* volume, const slicenav_crop_params* params) {
  return guarded("slicenav_crop_record_plan", [&] {
    require(out, "out");
    *out = nullptr;
    require(model, "model");
    require(volume, "volume");
    require(params, "params");
    check_struct_size(*params, &slicenav_crop_params::region, "params");
    require(params->region, "params->region");
    slicenav::LocateMethod method = slicenav::LocateMethod::insertion;
    if (has_field(*params, &slicenav_crop_params::method)) method = to_locate_method(params->method, "params->method");
    const slicenav::Progress progress = progress_of(params);
    *out = new_record(slicenav::plan_crop(model->model, volume->volume, params->region, method, progress));
    progress.done();
  });
}

slicenav_status slicenav_crop_record_read(slicenav_crop_record** out, const char* path) {
  return guarded("slicenav_crop_record_read", [&] {
    require(out, "out");
    *out = nullptr;
    require(path, "path");
    *out = new_record(slicenav::read_crop_record(path));
  });
}

slicenav_status slicenav_crop_record_write(const char* path, const slicenav_crop_record* record) {
  return guarded("slicenav_crop_record_write", [&] {
    require(record, "record");
    require(path, "path");
    slicenav::write_crop_record(record->record, path);
  });
}

const char* slicenav_crop_record_json(const slicenav_crop_record* record) {
  return record == nullptr ? nullptr : record->json.c_str();
}

int32_t slicenav_crop_record_partial(const slicenav_crop_record* record) {
  return record != nullptr && record->record.partial ? 1 : 0;
}

slicenav_status slicenav_crop_record_crop_file(const char* out_path, const slicenav_crop_record* record,
                                               const char* image_path, const slicenav_write_params* params) {
  return guarded("slicenav_crop_record_crop_file", [&] {
    require(out_path, "out_path");
    require(record, "record");
    require(image_path, "image_path");
    const slicenav::Progress progress = progress_of(params);
    slicenav::crop_file(record->record, image_path, out_path, gzip_level_of(params), progress);
    progress.done();
  });
}

slicenav_status slicenav_crop_record_uncrop_file(const char* out_path, const slicenav_crop_record* record,
                                                 const char* prediction_path, const slicenav_write_params* params) {
  return guarded("slicenav_crop_record_uncrop_file", [&] {
    require(out_path, "out_path");
    require(record, "record");
    require(prediction_path, "prediction_path");
    const slicenav::Progress progress = progress_of(params);
    slicenav::uncrop_file(record->record, prediction_path, out_path, gzip_level_of(params), progress);
    progress.done();
  });
}

void slicenav_crop_record_free(slicenav_crop_record* record) { delete record; }

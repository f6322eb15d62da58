// The navigation model's metadata (the JSON section of a model file, model_file.hpp): its architecture,
// preprocessing and templates as JSON and back. Internal to core (model.cpp).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slicenav/error.hpp"

#include "slicenav/model.hpp"
#include "slicenav/model_file.hpp"

namespace slicenav::detail {

// parse(), with what goes wrong reported as Error(model_format) naming the file and `what` the section describes:
// values that fail their checks make it "invalid", missing or mistyped fields leave it without a "usable" one.
template <typename Parse>
auto parse_metadata_section(const std::string& path, const char* what, Parse&& parse) {
  try {
    return parse();
  } catch (const Error& e) {
    fail(Status::model_format, path + ": model metadata describes an invalid " + what + ": " + e.what());
  } catch (const std::exception& e) {
    fail(Status::model_format, path + ": model metadata lacks a usable " + what + ": " + e.what());
  }
}

// Tensor names of the templates' embeddings in a model file: "template/<i>".
inline constexpr const char* kTemplatePrefix = "template/";

nlohmann::json architecture_json(const ModelConfig& c);
nlohmann::json preprocessing_json(const PreprocessOptions& p);
// The configuration the metadata describes; Error(model_format) naming `path` when it is missing or invalid.
ModelConfig config_from_json(const nlohmann::json& meta, const std::string& path);

nlohmann::json templates_json(const std::vector<Template>& templates);
// The templates the metadata describes, with their embeddings from the file's "template/<i>" tensors (`extra`);
// Error(model_format) naming `path` when the two disagree.
std::vector<Template> templates_from_file(const nlohmann::json& meta, const std::vector<ModelTensor>& extra,
                                          std::size_t dim, const std::string& path);

}  // namespace slicenav::detail

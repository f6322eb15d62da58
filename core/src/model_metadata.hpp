// The navigation model's metadata (the JSON section of a model file, model_file.hpp): its architecture,
// preprocessing and templates as JSON and back. Internal to core (model.cpp).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "slicenav/model.hpp"
#include "slicenav/model_file.hpp"

namespace slicenav::detail {

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

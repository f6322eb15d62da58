#include "model_metadata.hpp"

#include <stdexcept>

#include "json_number.hpp"
#include "slicenav/error.hpp"

namespace slicenav::detail {

using nlohmann::json;

namespace {

const char* encoding_name(PositionalEncoding e) {
  return e == PositionalEncoding::absolute ? "absolute" : "spacing_scaled";
}

}  // namespace

json architecture_json(const ModelConfig& c) {
  return {{"name", "insertion_network"},
          {"encoder_widths", c.encoder_widths},
          {"d_model", c.d_model},
          {"heads", c.heads},
          {"ffn", c.ffn},
          {"self_layers", c.self_layers},
          {"cross_layers", c.cross_layers},
          {"dropout", c.dropout},
          {"positional_encoding", encoding_name(c.positional_encoding)},
          {"score_scale_mm", c.score_scale_mm},
          {"score_unit", "atlas mm (superior positive, lung apex = 0)"}};
}

json preprocessing_json(const PreprocessOptions& p) {
  return {{"image_size", p.image_size},
          {"pixel_mm", p.pixel_mm},
          {"hu_low", p.hu_low},
          {"hu_high", p.hu_high},
          {"max_slices", p.max_slices},
          {"slices", "canonical axial (superior first), uniform sampling up to max_slices"},
          {"in_plane", "area-averaged onto pixel_mm pixels centred on the body centroid; HU window to [-1, 1]"}};
}

ModelConfig config_from_json(const json& meta, const std::string& path) {
  return parse_metadata_section(path, "architecture", [&] {
    const json& a = meta.at("architecture");
    const json& p = meta.at("preprocessing");
    ModelConfig c;
    c.encoder_widths = json_numbers<int>(a.at("encoder_widths"));
    c.d_model = json_number<int>(a.at("d_model"));
    c.heads = json_number<int>(a.at("heads"));
    c.ffn = json_number<int>(a.at("ffn"));
    c.self_layers = json_number<int>(a.at("self_layers"));
    c.cross_layers = json_number<int>(a.at("cross_layers"));
    c.dropout = a.at("dropout").get<double>();
    const auto pe = a.at("positional_encoding").get<std::string>();
    if (pe != "absolute" && pe != "spacing_scaled") throw std::runtime_error("unknown positional_encoding " + pe);
    c.positional_encoding = pe == "absolute" ? PositionalEncoding::absolute : PositionalEncoding::spacing_scaled;
    c.score_scale_mm = a.at("score_scale_mm").get<double>();
    c.preprocess.image_size = json_number<std::size_t>(p.at("image_size"));
    c.preprocess.pixel_mm = p.at("pixel_mm").get<double>();
    c.preprocess.hu_low = json_number<float>(p.at("hu_low"));
    c.preprocess.hu_high = json_number<float>(p.at("hu_high"));
    c.preprocess.max_slices = json_number<std::size_t>(p.at("max_slices"));
    c.validate();
    return c;
  });
}

json templates_json(const std::vector<Template>& templates) {
  json out = json::array();
  for (const auto& t : templates) {
    json landmarks = json::array();
    for (const auto& l : t.landmarks) landmarks.push_back({{"name", l.name}, {"z_mm", l.z_mm}});
    out.push_back({{"name", t.name}, {"world_z_mm", t.slices.world_z_mm}, {"landmarks", std::move(landmarks)}});
  }
  return out;
}

std::vector<Template> templates_from_file(const json& meta, const std::vector<ModelTensor>& extra, std::size_t dim,
                                          const std::string& path) {
  std::vector<Template> templates;
  const json none = json::array();
  const json& list = meta.contains("templates") ? meta.at("templates") : none;
  try {
    if (!list.is_array()) throw std::runtime_error("\"templates\" is not a list");
    if (list.size() != extra.size()) {
      throw std::runtime_error(std::to_string(list.size()) + " templates are described but " +
                               std::to_string(extra.size()) + " template tensors are stored");
    }
    for (std::size_t i = 0; i < list.size(); ++i) {
      const json& item = list[i];
      const ModelTensor& tensor = extra[i];
      Template t;
      t.name = item.at("name").get<std::string>();
      t.slices.dim = dim;
      t.slices.world_z_mm = item.at("world_z_mm").get<std::vector<double>>();
      for (const auto& l : item.at("landmarks"))
        t.landmarks.push_back({l.at("name").get<std::string>(), l.at("z_mm").get<double>()});
      const std::vector<std::int64_t> shape{static_cast<std::int64_t>(t.slices.slice_count()),
                                            static_cast<std::int64_t>(dim)};
      if (tensor.name != kTemplatePrefix + std::to_string(i) || tensor.shape != shape || t.slices.slice_count() == 0) {
        throw std::runtime_error("tensor '" + tensor.name + "' does not match template " + std::to_string(i) + " ('" +
                                 t.name + "')");
      }
      t.slices.values = tensor.values;
      templates.push_back(std::move(t));
    }
  } catch (const std::exception& e) {
    fail(Status::model_format, path + ": bad templates: " + e.what());
  }
  return templates;
}

}  // namespace slicenav::detail

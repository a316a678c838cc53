#include "paddlex/io/model_dir.h"

#include <algorithm>
#include <filesystem>
#include <vector>

#include "paddlex/core/errors.h"
#include "paddlex/core/logging.h"
#include "paddlex/io/paddle_layout.h"

namespace fs = std::filesystem;

namespace paddlex {
namespace {
// _Attributes keys the engine writes itself; task attributes never use them.
const char* const kEngineAttributes[] = {"model_type", "fixed_input_shape", "eval_metrics"};
}  // namespace

std::string yaml_text(const YAML::Node& node) {
  YAML::Emitter e;
  e << node;
  return std::string(e.c_str()) + "\n";
}

bool same_attributes(const YAML::Node& a, const YAML::Node& b) { return yaml_text(a) == yaml_text(b); }

YAML::Node model_yml(const ModelInfo& model, const std::string& status, int64_t completed_epochs,
                     const std::map<std::string, double>& metrics) {
  YAML::Node root;
  root["version"] = "1.0.0";
  root["Model"] = model.model_name;
  YAML::Node attributes;
  attributes["model_type"] = model.task;
  if (model.attributes.IsMap())
    for (const auto& kv : model.attributes) attributes[kv.first.as<std::string>()] = kv.second;
  attributes["fixed_input_shape"] = YAML::Node(YAML::NodeType::Null);
  YAML::Node eval(YAML::NodeType::Map);
  for (const auto& [k, v] : metrics) eval[k] = v;
  attributes["eval_metrics"] = eval;
  root["_Attributes"] = attributes;
  root["Transforms"] = model.transforms;
  root["completed_epochs"] = completed_epochs;
  root["status"] = status;
  root["eval_weights"] = model.eval_weights;
  return root;
}

namespace {
// root[key] as a string; a missing or non-scalar value is a RunError naming the file, line and key.
std::string required_text(const YAML::Node& map, const std::string& key, const std::string& path,
                          const std::string& where) {
  const YAML::Node value = map[key];
  if (!value || !value.IsScalar()) {
    const int line = map.Mark().line >= 0 ? map.Mark().line + 1 : 1;
    throw RunError(at_line(path, line, "model.yml needs " + where + key + " (a string)"));
  }
  return value.Scalar();
}
}  // namespace

ModelInfo read_model_yml(const std::string& path) {
  if (!fs::is_regular_file(path)) throw RunError("model description not found: '" + path + "'");
  try {
    YAML::Node root = YAML::LoadFile(path);
    if (!root.IsMap()) throw RunError(path + ": not a model.yml (expected a mapping with Model and _Attributes)");
    ModelInfo m;
    m.source = path;
    m.model_name = required_text(root, "Model", path, "");
    const YAML::Node attributes = root["_Attributes"];
    if (!attributes || !attributes.IsMap()) throw RunError(path + ": _Attributes is missing or not a mapping");
    m.task = required_text(attributes, "model_type", path, "_Attributes.");
    m.attributes = YAML::Node(YAML::NodeType::Map);
    for (const auto& kv : attributes) {
      const std::string key = kv.first.as<std::string>();
      if (std::none_of(std::begin(kEngineAttributes), std::end(kEngineAttributes), [&](const char* k) { return key == k; }))
        m.attributes[key] = kv.second;
    }
    m.transforms = root["Transforms"];
    if (root["eval_weights"]) {
      m.eval_weights = required_text(root, "eval_weights", path, "");
    } else {
      // Written before model.yml named its weights: the heads of PP-LCNet and MobileNetV3 applied dropout as
      // identity at inference then, and now scale by 0.8 as PaddlePaddle's downscale_in_infer dropout does.
      Log::warn(path + " was written by an earlier version of this engine; PP-LCNet and MobileNetV3 classifiers "
                       "now scale their head features by 0.8 at inference (PaddleClas's dropout), so such a "
                       "model's scores differ from before: retrain it for exact results");
    }
    if (m.eval_weights.find('/') != std::string::npos || m.eval_weights.empty())
      throw RunError(path + ": eval_weights must name a file beside model.yml, got '" + m.eval_weights + "'");
    return m;
  } catch (const YAML::Exception& e) {
    throw RunError(at_line(path, e.mark.line + 1, "bad model.yml: " + e.msg));
  }
}

CheckpointRef open_checkpoint(const std::string& path, const std::string& key) {
  CheckpointRef ref;
  ref.dir = resolve_checkpoint_dir(path, key);
  ref.info = read_model_yml((fs::path(ref.dir) / "model.yml").string());
  if (fs::is_regular_file(path) && fs::path(path).filename() != "model.yml")
    ref.info.eval_weights = fs::path(path).filename().string();
  ref.weights = (fs::path(ref.dir) / ref.info.eval_weights).string();
  return ref;
}

std::string paddle_weights_at(const std::string& path, const std::string& key) {
  refuse_paddle_non_weight_file(path, key);
  if (is_paddle_weight_file(path)) return path;
  if (!fs::is_directory(path) || fs::exists(fs::path(path) / "model.yml")) return "";
  std::vector<std::string> found;
  for (const auto& entry : fs::directory_iterator(path))
    if (entry.is_regular_file() && entry.path().extension() == ".pdparams") found.push_back(entry.path().string());
  if (found.size() > 1) {
    std::sort(found.begin(), found.end());
    std::string list;
    for (const auto& f : found) list += (list.empty() ? "" : ", ") + fs::path(f).filename().string();
    throw RunError(key + ": '" + path + "' holds several PaddlePaddle weight files (" + list + "); name one");
  }
  return found.empty() ? "" : found.front();
}

std::string resolve_checkpoint_dir(const std::string& path, const std::string& key) {
  fs::path p(path);
  if (fs::is_regular_file(p)) p = p.parent_path();
  if (!fs::is_directory(p))
    throw RunError(key + ": '" + path + "' is neither a checkpoint directory nor a file inside one");
  if (fs::exists(p / "inference.yml") && !fs::exists(p / "model.pt"))
    throw RunError(key + ": '" + p.string() + "' is an exported (Infer) directory, not a checkpoint; name the "
                   "checkpoint it was exported from (e.g. <Global.output>/best_model)");
  if (!fs::exists(p / "model.pt") || !fs::exists(p / "model.yml"))
    throw RunError(key + ": '" + p.string() + "' is not a checkpoint directory (needs model.pt and model.yml)");
  return p.string();
}

}  // namespace paddlex

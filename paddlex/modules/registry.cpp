#include "paddlex/modules/registry.h"

#include <algorithm>

#include "paddlex/core/errors.h"
#include "paddlex/modules/image_classification/cls_task.h"
#include "paddlex/modules/image_multilabel_classification/ml_task.h"
#include "paddlex/modules/text_recognition/rec_task.h"

namespace paddlex {

std::vector<std::unique_ptr<Task>> make_all_tasks() {
  std::vector<std::unique_ptr<Task>> tasks;
  tasks.push_back(std::make_unique<cls::ClsTask>());
  tasks.push_back(std::make_unique<mlcls::MultiLabelTask>());
  tasks.push_back(std::make_unique<ocr::TextRecTask>());
  return tasks;
}

std::unique_ptr<Task> task_for_model(const std::string& model, const std::string& origin) {
  std::string known;
  for (auto& task : make_all_tasks()) {
    auto names = task->model_names();
    if (std::find(names.begin(), names.end(), model) != names.end()) return std::move(task);
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
  }
  throw ConfigError(origin + ": Global.model '" + model + "' is not a known model; known models: " + known);
}

Schema schema_for_model(const std::string& model, const std::string& origin) {
  std::shared_ptr<const Task> task = task_for_model(model, origin);
  Schema schema;
  schema.task = task->name();
  schema.groups.push_back(&core_config_keys());
  for (const KeyGroup* g : task->config_keys()) schema.groups.push_back(g);
  schema.check = [task](const Config& cfg) { task->check_config(cfg); };
  for (const auto& other : make_all_tasks()) {
    if (other->name() == task->name()) continue;
    for (const KeyGroup* g : other->config_keys())
      for (const auto& spec : g->keys) {
        if (schema.find(spec.key)) continue;
        std::string& tasks = schema.other_keys[spec.key];
        if (tasks.find(other->name()) == std::string::npos) tasks += (tasks.empty() ? "" : ", ") + other->name();
      }
  }
  return schema;
}

std::vector<DocGroup> documented_key_groups() {
  std::vector<DocGroup> groups = {{&core_config_keys(), {}}};
  for (const auto& task : make_all_tasks())
    for (const KeyGroup* g : task->config_keys()) {
      auto it = std::find_if(groups.begin(), groups.end(), [&](const DocGroup& d) { return d.group == g; });
      if (it == groups.end()) groups.push_back({g, {task->name()}});
      else it->tasks.push_back(task->name());
    }
  return groups;
}

}  // namespace paddlex

#include "paddlex/modules/registry.h"

#include <algorithm>

#include "paddlex/core/errors.h"
#include "paddlex/modules/image_classification/cls_task.h"

namespace paddlex {

std::vector<std::unique_ptr<Task>> make_all_tasks() {
  std::vector<std::unique_ptr<Task>> tasks;
  tasks.push_back(std::make_unique<cls::ClsTask>());
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

}  // namespace paddlex

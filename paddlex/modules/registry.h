// The explicit table of tasks and their model names (no static-initializer registration to lose at link).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "paddlex/trainers/task.h"

namespace paddlex {

std::vector<std::unique_ptr<Task>> make_all_tasks();
// The task that trains `model`; throws ConfigError listing the known models and the nearest one.
std::unique_ptr<Task> task_for_model(const std::string& model, const std::string& origin);

}  // namespace paddlex

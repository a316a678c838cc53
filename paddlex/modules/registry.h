// The explicit table of tasks and their model names (no static-initializer registration to lose at link), and
// what follows from it: the config schema of a model and the grouped key documentation.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "paddlex/core/config_schema.h"
#include "paddlex/task/task.h"

namespace paddlex {

std::vector<std::unique_ptr<Task>> make_all_tasks();
// The task that trains `model`; throws ConfigError naming `origin` and listing the known models.
std::unique_ptr<Task> task_for_model(const std::string& model, const std::string& origin);
// The config schema for `model`: the core keys plus its task's, with the task's cross-field checks
// (a SchemaLookup for Config::load).
Schema schema_for_model(const std::string& model, const std::string& origin);
// Every key group once, with the tasks that use it: docs/CONFIG.md and `main --help`.
std::vector<DocGroup> documented_key_groups();

}  // namespace paddlex

// The annotated config schema: parsing, validation, `main --help` and docs/CONFIG.md all come from it. The core
// keys (Global, CheckDataset, the training engine, Evaluate, Export, Predict) are defined here; each task adds
// its own groups of keys and cross-field checks, and a config is checked against the core keys plus those of
// the task of its Global.model.
#pragma once
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace paddlex {

class Config;

enum class ValueType { Int, Float, Bool, String, IntList, FloatList };

struct KeySpec {
  std::string key;                  // dotted path, e.g. "Train.learning_rate"
  ValueType type;
  std::string default_yaml;         // default as YAML text; "null" for none
  bool nullable = false;            // null/None allowed
  std::optional<double> min;        // inclusive bounds, applied to each list element too
  std::optional<double> max;
  std::vector<std::string> choices; // allowed values of a String key (case-sensitive)
  std::string doc;                  // one line for --help and docs/CONFIG.md
};

// Builders for schema tables.
KeySpec key(std::string name, ValueType type, std::string default_yaml, std::string doc);  // nullable iff default null
KeySpec range(KeySpec s, std::optional<double> lo, std::optional<double> hi);
KeySpec oneof(KeySpec s, std::vector<std::string> choices);
KeySpec nullable(KeySpec s);

// A titled set of keys; tasks may share a group (e.g. the class count of both classification tasks).
struct KeyGroup {
  std::string title;
  std::vector<KeySpec> keys;
};

const KeyGroup& core_config_keys();

// The keys one config is checked against.
struct Schema {
  std::string task;                              // e.g. "image_classification"
  std::vector<const KeyGroup*> groups;           // core first
  std::function<void(const Config&)> check;      // the task's cross-field checks (may be empty)
  std::map<std::string, std::string> other_keys; // keys only other tasks use -> those tasks, for messages
  const KeySpec* find(const std::string& key) const;
  bool has_keys_below(const std::string& prefix) const;
};

// The schema for the model named by Global.model; throws ConfigError naming `origin` for an unknown model.
using SchemaLookup = std::function<Schema(const std::string& model_name, const std::string& origin)>;

// PaddleX keys that we accept so PaddleX YAMLs load unchanged, but do not act on: a key equal to one of
// these, or below one of them, gets a warning instead of an error.
const std::vector<std::string>& accepted_paddlex_keys();

std::string type_name(ValueType type);

// A group as documented: its keys and the tasks that use it (empty: every task).
struct DocGroup {
  const KeyGroup* group;
  std::vector<std::string> tasks;
};
// docs/CONFIG.md and the key table of `main --help`, generated from the groups.
std::string config_markdown(const std::vector<DocGroup>& groups);
std::string config_help_text(const std::vector<DocGroup>& groups);

}  // namespace paddlex

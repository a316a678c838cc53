// The one annotated config schema: parsing, validation, `main --help` and docs/CONFIG.md all come from it.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace paddlex {

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

const std::vector<KeySpec>& config_schema();
const KeySpec* find_key_spec(const std::string& key);

// PaddleX keys that we accept so PaddleX YAMLs load unchanged, but do not act on: a key equal to one of
// these, or below one of them, gets a warning instead of an error.
const std::vector<std::string>& accepted_paddlex_keys();

std::string type_name(ValueType type);

// docs/CONFIG.md, generated from the schema.
std::string config_markdown();
// The key table for `main --help`.
std::string config_help_text();

}  // namespace paddlex

// Resolved configuration: YAML file + `-o Key=value` overrides, validated against the schema.
#pragma once
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "paddlex/core/config_schema.h"

namespace paddlex {

class Config {
 public:
  // Reads `path`, applies overrides in order (later wins), fills defaults and validates against the schema
  // `lookup` gives for the config's Global.model (the core keys plus its task's).
  // Throws ConfigError naming file:line (or the -o argument), the key, the expected type and a near key.
  static Config load(const std::string& path, const std::vector<std::string>& overrides, const SchemaLookup& lookup);
  // Same from YAML text; `name` stands in for the file name in messages.
  static Config from_text(const std::string& yaml_text, const std::vector<std::string>& overrides,
                          const SchemaLookup& lookup, const std::string& name = "<config>");

  bool is_null(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  std::string get_string(const std::string& key) const;
  std::vector<int64_t> get_int_list(const std::string& key) const;
  std::vector<double> get_float_list(const std::string& key) const;
  // The value, or `fallback` when the key is null.
  std::string get_string_or(const std::string& key, const std::string& fallback) const;
  int64_t get_int_or(const std::string& key, int64_t fallback) const;

  // Where a key's value came from: "file.yaml:12", "-o Train.x=1" or "default".
  std::string origin(const std::string& key) const;
  // The resolved config as nested YAML (every schema key, schema order).
  std::string to_yaml() const;
  // Hash of to_yaml(), stored in checkpoints to flag resumed runs whose config changed.
  std::string hash() const;
  // The keys this config was checked against (core + its task's).
  const Schema& schema() const { return schema_; }

 private:
  void apply_override(const std::string& arg);
  void read_tree(const YAML::Node& node, const std::string& prefix, const std::string& file);
  void store(const std::string& key, const YAML::Node& value, const std::string& where);
  void fill_defaults();
  void check_cross_fields() const;
  const YAML::Node& value(const std::string& key) const;

  std::string unknown_key_message(const std::string& key) const;

  Schema schema_;
  std::map<std::string, YAML::Node> values_;
  std::map<std::string, std::string> origin_;
};

// The key of `schema` nearest to `key` (edit distance, case-insensitive), for "did you mean" hints.
std::string nearest_key(const Schema& schema, const std::string& key);

}  // namespace paddlex

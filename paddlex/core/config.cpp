#include "paddlex/core/config.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fstream>
#include <sstream>

#include "paddlex/core/config_schema.h"
#include "paddlex/core/errors.h"
#include "paddlex/core/files.h"
#include "paddlex/core/logging.h"
#include "paddlex/core/text.h"

namespace paddlex {
namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

bool is_accepted_paddlex_key(const std::string& key) {
  for (const auto& k : accepted_paddlex_keys())
    if (key == k || key.rfind(k + ".", 0) == 0) return true;
  return false;
}

bool is_null_scalar(const YAML::Node& n) {
  if (n.IsNull()) return true;
  if (!n.IsScalar()) return false;
  const std::string& s = n.Scalar();
  return s.empty() || s == "null" || s == "Null" || s == "NULL" || s == "None" || s == "~";
}

std::string show(const YAML::Node& n) {
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  YAML::Emitter e;
  e << YAML::Flow << n;
  return e.c_str();
}

// Converts one scalar to the schema type; throws a message (without location) when it does not fit.
YAML::Node convert_scalar(const KeySpec& spec, ValueType type, const YAML::Node& n) {
  auto fail = [&](const std::string& why) -> YAML::Node {
    throw ConfigError("key '" + spec.key + "' expects " + type_name(spec.type) + ", got " + show(n) + why);
  };
  if (!n.IsScalar()) return fail("");
  auto check_range = [&](double v) {
    if (!std::isfinite(v)) fail(": not a finite number");
    if ((spec.min && v < *spec.min) || (spec.max && v > *spec.max)) {
      std::ostringstream os;
      os << ": out of range [" << (spec.min ? std::to_string(*spec.min) : "-inf") << ", "
         << (spec.max ? std::to_string(*spec.max) : "inf") << "]";
      fail(os.str());
    }
  };
  try {
    switch (type) {
      case ValueType::Int: {
        long long v = n.as<long long>();
        check_range(static_cast<double>(v));
        return YAML::Node(v);
      }
      case ValueType::Float: {
        double v = n.as<double>();
        check_range(v);
        return YAML::Node(shortest_text(v));
      }
      case ValueType::Bool: return YAML::Node(n.as<bool>());
      case ValueType::String: {
        const std::string& s = n.Scalar();
        if (!spec.choices.empty() && std::find(spec.choices.begin(), spec.choices.end(), s) == spec.choices.end()) {
          std::string list;
          for (const auto& c : spec.choices) list += (list.empty() ? "" : ", ") + c;
          fail(": allowed values are " + list);
        }
        return YAML::Node(s);
      }
      default: break;
    }
  } catch (const YAML::Exception&) {
    return fail("");
  }
  return fail("");
}

YAML::Node convert_value(const KeySpec& spec, const YAML::Node& n) {
  if (is_null_scalar(n)) {
    if (!spec.nullable) throw ConfigError("key '" + spec.key + "' expects " + type_name(spec.type) + ", got null");
    return YAML::Node(YAML::NodeType::Null);
  }
  if (spec.type == ValueType::IntList || spec.type == ValueType::FloatList) {
    ValueType elem = spec.type == ValueType::IntList ? ValueType::Int : ValueType::Float;
    if (!n.IsSequence())
      throw ConfigError("key '" + spec.key + "' expects " + type_name(spec.type) + " like [1, 2], got " + show(n));
    YAML::Node out(YAML::NodeType::Sequence);
    for (const auto& item : n) out.push_back(convert_scalar(spec, elem, item));
    return out;
  }
  return convert_scalar(spec, spec.type, n);
}

std::vector<std::string> split_dots(const std::string& key) {
  std::vector<std::string> parts;
  std::stringstream ss(key);
  std::string part;
  while (std::getline(ss, part, '.')) parts.push_back(part);
  return parts;
}

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c); });
}

}  // namespace

std::string nearest_key(const Schema& schema, const std::string& key) {
  // Candidates are the keys and their sections ("Train", "Train.optimizer"), so a misspelled section
  // suggests the section.
  std::string best;
  size_t best_d = std::string::npos;
  for (const KeyGroup* group : schema.groups) {
    for (const auto& s : group->keys) {
      for (size_t dot = s.key.find('.'); ; dot = s.key.find('.', dot + 1)) {
        const std::string candidate = s.key.substr(0, dot);
        size_t d = edit_distance(ascii_lower(key), ascii_lower(candidate));
        if (d < best_d) best_d = d, best = candidate;
        if (dot == std::string::npos) break;
      }
    }
  }
  return best;
}

std::string Config::unknown_key_message(const std::string& key) const {
  // The key itself, or a section or list element of it, may belong to another task.
  for (const auto& [other_key, tasks] : schema_.other_keys)
    if (other_key == key || other_key.rfind(key + ".", 0) == 0 || key.rfind(other_key + ".", 0) == 0)
      return "key '" + key + "' is not used by " + schema_.task + " models (it is a key of " + tasks + ")";
  return "unknown key '" + key + "' (did you mean " + nearest_key(schema_, key) + "?)";
}

Config Config::load(const std::string& path, const std::vector<std::string>& overrides, const SchemaLookup& lookup) {
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read config file '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return from_text(ss.str(), overrides, lookup, path);
}

Config Config::from_text(const std::string& text, const std::vector<std::string>& overrides,
                         const SchemaLookup& lookup, const std::string& name) {
  Config cfg;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::ParserException& e) {
    throw ConfigError(at_line(name, e.mark.line + 1, "YAML syntax error: " + e.msg));
  }
  if (!root.IsNull() && !root.IsMap())
    throw ConfigError(name + ": the config must be a mapping of sections (Global, Train, ...)");
  // The model decides the task, and so which keys the rest of the config may hold.
  std::string model, model_origin = "default";
  if (root.IsMap() && root["Global"].IsMap() && root["Global"]["model"]) {
    const YAML::Node node = root["Global"]["model"];
    model_origin = at_line(name, node.Mark().line + 1, "");
    model_origin = model_origin.substr(0, model_origin.size() - 2);
    if (!node.IsScalar() && !node.IsNull())
      throw ConfigError(model_origin + ": key 'Global.model' expects string, got " + show(node));
    model = node.IsScalar() ? node.Scalar() : "";
  }
  for (const auto& o : overrides)
    if (o.rfind("Global.model=", 0) == 0) model = o.substr(13), model_origin = "-o " + o;
  if (is_null_scalar(YAML::Node(model)))
    throw ConfigError(model_origin + ": Global.model is required (e.g. ResNet18)");
  cfg.schema_ = lookup(model, model_origin);
  if (root.IsMap()) cfg.read_tree(root, "", name);
  for (const auto& o : overrides) cfg.apply_override(o);
  cfg.fill_defaults();
  cfg.check_cross_fields();
  return cfg;
}

void Config::read_tree(const YAML::Node& node, const std::string& prefix, const std::string& file) {
  for (auto it = node.begin(); it != node.end(); ++it) {
    const std::string name = it->first.as<std::string>();
    const std::string key = prefix.empty() ? name : prefix + "." + name;
    const YAML::Node& child = it->second;
    const std::string where = at_line(file, it->first.Mark().line + 1, "");
    const std::string loc = where.substr(0, where.size() - 2);
    if (const KeySpec* spec = schema_.find(key)) {
      try {
        store(key, convert_value(*spec, child), loc);
      } catch (const ConfigError& e) {
        throw ConfigError(loc + ": " + e.what());
      }
    } else if (is_accepted_paddlex_key(key)) {
      Log::warn(loc + ": PaddleX key '" + key + "' is accepted but has no effect in this engine");
    } else if (schema_.has_keys_below(key) && (child.IsMap() || child.IsNull())) {
      if (child.IsMap()) read_tree(child, key, file);  // an empty section ("Evaluate:") keeps the defaults
    } else {
      throw ConfigError(loc + ": " + unknown_key_message(key));
    }
  }
}

void Config::apply_override(const std::string& arg) {
  const std::string where = "-o " + arg;
  size_t eq = arg.find('=');
  if (eq == std::string::npos || eq == 0)
    throw ConfigError(where + ": expected Key=value with no spaces around '=' (e.g. -o Global.mode=train)");
  std::string key = arg.substr(0, eq);
  const std::string text = arg.substr(eq + 1);
  auto parts = split_dots(key);
  const KeySpec* direct = schema_.find(key);
  YAML::Node parsed;
  if (direct && direct->type == ValueType::String) {
    // Strings are taken literally ("#run1", "a: b"); convert_value still maps null/None to null.
    parsed = YAML::Node(text);
  } else {
    try {
      parsed = text.empty() ? YAML::Node(YAML::NodeType::Null) : YAML::Load(text);
    } catch (const YAML::Exception& e) {
      throw ConfigError(where + ": cannot parse value '" + text + "' as YAML: " + e.msg);
    }
  }
  // A trailing number indexes into a list key: Train.mean.0=0.5
  if (parts.size() > 1 && all_digits(parts.back())) {
    std::string list_key = key.substr(0, key.rfind('.'));
    const KeySpec* spec = schema_.find(list_key);
    if (spec && (spec->type == ValueType::IntList || spec->type == ValueType::FloatList)) {
      if (!values_.count(list_key)) store(list_key, YAML::Load(spec->default_yaml), "default");
      YAML::Node list = YAML::Clone(values_.at(list_key));
      const size_t size = list.IsSequence() ? list.size() : 0;
      if (parts.back().size() > 9 || std::stoul(parts.back()) >= size)
        throw ConfigError(where + ": index " + parts.back() + " is outside the list " + list_key + " (size " +
                          std::to_string(size) + ")");
      list[std::stoul(parts.back())] = parsed;
      try {
        store(list_key, convert_value(*spec, list), where);
      } catch (const ConfigError& e) {
        throw ConfigError(where + ": " + e.what());
      }
      return;
    }
  }
  const KeySpec* spec = direct;
  if (!spec) {
    if (is_accepted_paddlex_key(key)) {
      Log::warn(where + ": PaddleX key '" + key + "' is accepted but has no effect in this engine");
      return;
    }
    throw ConfigError(where + ": " + unknown_key_message(key));
  }
  try {
    store(key, convert_value(*spec, parsed), where);
  } catch (const ConfigError& e) {
    throw ConfigError(where + ": " + e.what());
  }
}

void Config::store(const std::string& key, const YAML::Node& value, const std::string& where) {
  values_[key] = value;
  origin_[key] = where;
}

void Config::fill_defaults() {
  for (const KeyGroup* group : schema_.groups)
    for (const auto& s : group->keys)
      if (!values_.count(s.key)) store(s.key, convert_value(s, YAML::Load(s.default_yaml)), "default");
}

void Config::check_cross_fields() const {
  auto fail = [&](const std::string& key, const std::string& msg) { throw ConfigError(origin(key) + ": " + msg); };
  if (get_bool("CheckDataset.split.enable")) {
    if (is_null("CheckDataset.split.train_percent") || is_null("CheckDataset.split.val_percent"))
      fail("CheckDataset.split.enable",
           "CheckDataset.split.enable needs CheckDataset.split.train_percent and val_percent");
    if (get_int("CheckDataset.split.train_percent") + get_int("CheckDataset.split.val_percent") != 100)
      fail("CheckDataset.split.val_percent", "CheckDataset.split.train_percent + val_percent must be 100");
  }
  auto milestones = get_int_list("Train.lr_scheduler.milestones");
  if (!std::is_sorted(milestones.begin(), milestones.end()))
    fail("Train.lr_scheduler.milestones", "Train.lr_scheduler.milestones must be ascending");
  if (get_string("Train.amp") != "OFF")
    fail("Train.amp", "Train.amp=" + get_string("Train.amp") +
                          ": mixed precision is not implemented in this engine yet; training runs in float32 "
                          "(set Train.amp=OFF)");
  if (schema_.check) schema_.check(*this);
}

const YAML::Node& Config::value(const std::string& key) const {
  auto it = values_.find(key);
  if (it == values_.end()) throw ConfigError("internal: no config key '" + key + "'");
  return it->second;
}

bool Config::is_null(const std::string& key) const { return value(key).IsNull(); }

namespace {
template <typename V>
V read_as(const YAML::Node& n, const std::string& key) {
  if (n.IsNull()) throw ConfigError("key '" + key + "' is null but a value is needed here");
  return n.as<V>();
}
}  // namespace

int64_t Config::get_int(const std::string& key) const { return read_as<long long>(value(key), key); }
double Config::get_float(const std::string& key) const { return read_as<double>(value(key), key); }
bool Config::get_bool(const std::string& key) const { return read_as<bool>(value(key), key); }
std::string Config::get_string(const std::string& key) const { return read_as<std::string>(value(key), key); }

std::vector<int64_t> Config::get_int_list(const std::string& key) const {
  std::vector<int64_t> out;
  for (const auto& n : value(key)) out.push_back(n.as<long long>());
  return out;
}

std::vector<double> Config::get_float_list(const std::string& key) const {
  std::vector<double> out;
  for (const auto& n : value(key)) out.push_back(n.as<double>());
  return out;
}

std::string Config::get_string_or(const std::string& key, const std::string& fallback) const {
  return is_null(key) ? fallback : get_string(key);
}

int64_t Config::get_int_or(const std::string& key, int64_t fallback) const {
  return is_null(key) ? fallback : get_int(key);
}

std::string Config::origin(const std::string& key) const {
  auto it = origin_.find(key);
  return it == origin_.end() ? "default" : it->second;
}

std::string Config::to_yaml() const {
  YAML::Node root(YAML::NodeType::Map);
  for (const KeyGroup* group : schema_.groups) {
    for (const auto& s : group->keys) {
      auto parts = split_dots(s.key);
      // yaml-cpp nodes are handles: walk down by reassigning the handle, creating maps on the way.
      std::vector<YAML::Node> chain{root};
      for (size_t i = 0; i + 1 < parts.size(); ++i) chain.push_back(chain.back()[parts[i]]);
      chain.back()[parts.back()] = values_.at(s.key);
    }
  }
  YAML::Emitter e;
  e.SetSeqFormat(YAML::Flow);
  e << root;
  return std::string(e.c_str()) + "\n";
}

std::string Config::hash() const {
  return fnv1a_hex(to_yaml());
}

}  // namespace paddlex

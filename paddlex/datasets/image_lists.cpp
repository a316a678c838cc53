#include "paddlex/datasets/image_lists.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "paddlex/core/errors.h"
#include "paddlex/core/utf8.h"
#include "paddlex/datasets/image_io.h"

namespace fs = std::filesystem;

namespace paddlex {

void Problems::add(const std::string& message) {
  ++count;
  if (messages.size() < kMaxReported) messages.push_back(message);
}

std::string Problems::summary() const {
  std::string out;
  for (const auto& m : messages) out += m + "\n";
  if (count > messages.size()) out += "... and " + std::to_string(count - messages.size()) + " more problems\n";
  return out;
}

namespace {

std::vector<std::string> split_fields(const std::string& line, char delimiter) {
  std::vector<std::string> fields;
  if (delimiter == ' ') {
    std::istringstream ss(line);
    std::string f;
    while (ss >> f) fields.push_back(f);
  } else {
    std::stringstream ss(line);
    std::string f;
    while (std::getline(ss, f, delimiter)) fields.push_back(f);
  }
  return fields;
}

bool parse_int(const std::string& s, int64_t& out) {
  if (s.empty()) return false;
  size_t used = 0;
  try {
    out = std::stoll(s, &used);
  } catch (const std::exception&) {
    return false;
  }
  return used == s.size();
}

// Calls fn(line, number) for each non-blank line of `in` (1-based numbers, CR of CRLF files removed).
template <typename Fn>
void for_each_content_line(std::istream& in, Fn fn) {
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) fn(line, number);
  }
}

}  // namespace

bool path_stays_inside(const std::string& rel_path) {
  fs::path p(rel_path);
  if (p.is_absolute() || rel_path.empty()) return false;
  int depth = 0;
  for (const auto& part : p.lexically_normal()) {
    if (part == "..") {
      if (--depth < 0) return false;
    } else if (part != "." && !part.empty()) {
      ++depth;
    }
  }
  return true;
}

std::vector<std::string> read_label_file(const std::string& path, Problems& problems) {
  std::ifstream in(path);
  if (!in) {
    problems.add(path + ": file not found (each line: '<class id> <class name>')");
    return {};
  }
  std::map<int64_t, std::string> names;
  for_each_content_line(in, [&](const std::string& line, int number) {
    auto space = line.find(' ');
    int64_t id;
    if (!parse_int(line.substr(0, space), id) || id < 0) {
      problems.add(at_line(path, number, "expected '<class id> <class name>' with a non-negative integer id, got '" + line + "'"));
      return;
    }
    if (names.count(id)) {
      problems.add(at_line(path, number, "class id " + std::to_string(id) + " is listed twice"));
      return;
    }
    names[id] = space == std::string::npos ? std::to_string(id) : line.substr(space + 1);
  });
  if (names.empty()) {
    if (problems.empty()) problems.add(path + ": no classes listed");
    return {};
  }
  std::vector<std::string> out(static_cast<size_t>(names.rbegin()->first + 1));
  for (size_t i = 0; i < out.size(); ++i) out[i] = std::to_string(i);
  for (const auto& [id, name] : names) out[static_cast<size_t>(id)] = name;
  return out;
}

namespace {

// The image of a list line: relative, inside the dataset dir, present (and decodable when asked). Returns the
// absolute path, or "" after reporting the problem.
std::string checked_image(const std::string& dataset_dir, const std::string& rel_path, bool decode,
                          const std::string& list_path, int line, Problems& problems) {
  if (!path_stays_inside(rel_path)) {
    problems.add(at_line(list_path, line, "image path '" + rel_path + "' leaves the dataset directory"));
    return "";
  }
  const std::string abs_path = (fs::path(dataset_dir) / rel_path).string();
  if (!fs::is_regular_file(abs_path)) {
    problems.add(at_line(list_path, line, "image file '" + rel_path + "' does not exist"));
    return "";
  }
  if (decode && try_read_image_rgb(abs_path).empty()) {
    problems.add(at_line(list_path, line, "image file '" + rel_path + "' cannot be decoded"));
    return "";
  }
  return abs_path;
}

}  // namespace

std::vector<ClsSample> read_cls_list(const std::string& dataset_dir, const std::string& list_name,
                                     const ClsListOptions& options, Problems& problems) {
  const std::string path = (fs::path(dataset_dir) / list_name).string();
  std::ifstream in(path);
  if (!in) {
    problems.add(path + ": file not found");
    return {};
  }
  const std::string delimiter_name = options.delimiter == ' ' ? "a space" : "a tab";
  std::vector<ClsSample> samples;
  for_each_content_line(in, [&](const std::string& line, int number) {
    auto fields = split_fields(line, options.delimiter);
    if (fields.size() != 2) {
      problems.add(at_line(path, number, "expected 2 fields '<image path> <label>' separated by " + delimiter_name +
                                             ", got " + std::to_string(fields.size())));
      return;
    }
    ClsSample s;
    s.rel_path = fields[0];
    s.line = number;
    if (!parse_int(fields[1], s.label)) {
      problems.add(at_line(path, number, "label '" + fields[1] + "' is not an integer"));
      return;
    }
    if (s.label < 0 || (options.num_classes >= 0 && s.label >= options.num_classes)) {
      problems.add(at_line(path, number, s.label < 0 ? "label " + fields[1] + " is negative"
                                                     : "label " + fields[1] + " is outside label.txt's ids 0.." +
                                                           std::to_string(options.num_classes - 1)));
      return;
    }
    s.abs_path = checked_image(dataset_dir, s.rel_path, options.decode_images, path, number, problems);
    if (!s.abs_path.empty()) samples.push_back(std::move(s));
  });
  return samples;
}

namespace {

// "<image path><TAB><field>" with exactly one tab (the text recognition and detection lists); false after reporting
// the line when it is not.
bool split_at_tab(const std::string& line, const std::string& path, int number, const std::string& field,
                  Problems& problems, std::string& image, std::string& rest) {
  const size_t tab = line.find('\t');
  if (tab == std::string::npos || line.find('\t', tab + 1) != std::string::npos) {
    problems.add(at_line(path, number, "expected '<image path><TAB><" + field + ">' with exactly one tab, got " +
                                           (tab == std::string::npos ? "none" : "more")));
    return false;
  }
  image = line.substr(0, tab);
  rest = line.substr(tab + 1);
  return true;
}

// A polygon of a TextDetDataset line: [[x, y], ...] with at least 3 finite points; "" when it is one.
std::string read_polygon(const nlohmann::json& points, std::vector<std::array<float, 2>>& out) {
  if (!points.is_array() || points.size() < 3) return "needs a list of at least 3 [x, y] points";
  for (const auto& p : points) {
    if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number())
      return "has a point that is not [x, y] numbers: " + p.dump();
    const float x = p[0].get<float>(), y = p[1].get<float>();
    if (!std::isfinite(x) || !std::isfinite(y)) return "has a non-finite coordinate";
    out.push_back({x, y});
  }
  return "";
}

}  // namespace

namespace {

// The lines of an "<image path><TAB><field>" list. `parse(sample, text, path, line)` reads the field into the
// sample and returns false after reporting a problem; then the image is checked.
template <typename Sample, typename Parse>
std::vector<Sample> read_tab_list(const std::string& dataset_dir, const std::string& list_name,
                                  const std::string& field, bool decode_images, Problems& problems, Parse parse) {
  const std::string path = (fs::path(dataset_dir) / list_name).string();
  std::ifstream in(path);
  if (!in) {
    problems.add(path + ": file not found");
    return {};
  }
  std::vector<Sample> samples;
  for_each_content_line(in, [&](const std::string& line, int number) {
    Sample s;
    std::string text;
    if (!split_at_tab(line, path, number, field, problems, s.rel_path, text)) return;
    s.line = number;
    if (!parse(s, text, path, number)) return;
    s.abs_path = checked_image(dataset_dir, s.rel_path, decode_images, path, number, problems);
    if (!s.abs_path.empty()) samples.push_back(std::move(s));
  });
  return samples;
}

}  // namespace

std::vector<TextRecSample> read_text_rec_list(const std::string& dataset_dir, const std::string& list_name,
                                              bool decode_images, Problems& problems) {
  return read_tab_list<TextRecSample>(
      dataset_dir, list_name, "text", decode_images, problems,
      [&](TextRecSample& s, const std::string& text, const std::string& path, int number) {
        try {
          s.text = utf8_decode(text);
        } catch (const std::invalid_argument& e) {
          problems.add(at_line(path, number, "text: " + std::string(e.what())));
          return false;
        }
        if (s.text.empty()) {
          problems.add(at_line(path, number, "empty text"));
          return false;
        }
        return true;
      });
}

std::vector<TextDetSample> read_text_det_list(const std::string& dataset_dir, const std::string& list_name,
                                              bool decode_images, Problems& problems) {
  return read_tab_list<TextDetSample>(
      dataset_dir, list_name, "annotation", decode_images, problems,
      [&](TextDetSample& s, const std::string& text, const std::string& path, int number) {
        nlohmann::json regions;
        try {
          regions = nlohmann::json::parse(text);
        } catch (const nlohmann::json::parse_error& e) {
          problems.add(at_line(path, number, "annotation is not valid JSON: " + std::string(e.what())));
          return false;
        }
        if (!regions.is_array()) {
          problems.add(at_line(path, number, "annotation must be a JSON list of {\"transcription\", \"points\"}"));
          return false;
        }
        for (size_t i = 0; i < regions.size(); ++i) {
          const auto& r = regions[i];
          const std::string where = "region " + std::to_string(i + 1) + ": ";
          if (!r.is_object() || !r.contains("points") || !r.contains("transcription") ||
              !r["transcription"].is_string()) {
            problems.add(at_line(path, number, where + "needs \"transcription\" (a string) and \"points\""));
            return false;
          }
          TextRegion region;
          if (const std::string why = read_polygon(r["points"], region.points); !why.empty()) {
            problems.add(at_line(path, number, where + "\"points\" " + why));
            return false;
          }
          region.transcription = r["transcription"].get<std::string>();
          region.ignore = region.transcription == "###" || region.transcription == "*";
          s.regions.push_back(std::move(region));
        }
        return true;
      });
}

std::string format_name(MultiLabelFormat format) {
  return format == MultiLabelFormat::kMultiHot ? "multi_hot" : "class_ids";
}

MultiLabelList read_mlcls_list(const std::string& dataset_dir, const std::string& list_name, int64_t num_classes,
                               bool decode_images, Problems& problems) {
  const std::string path = (fs::path(dataset_dir) / list_name).string();
  MultiLabelList list;
  std::ifstream in(path);
  if (!in) {
    problems.add(path + ": file not found");
    return list;
  }
  // First every line's syntax, then the format (it depends on all lines), then the values.
  struct Parsed {
    MultiLabelSample sample;
    std::vector<int64_t> values;
  };
  std::vector<Parsed> parsed;
  for_each_content_line(in, [&](const std::string& line, int number) {
    const auto tab = line.find('\t');
    if (tab == std::string::npos) {
      problems.add(at_line(path, number, line.find(' ') != std::string::npos
                                             ? "the image path and the labels must be separated by a tab, not a space"
                                             : "expected '<image path><TAB><labels>'"));
      return;
    }
    Parsed p;
    p.sample.rel_path = line.substr(0, tab);
    p.sample.line = number;
    std::string field = line.substr(tab + 1);
    field.erase(0, field.find_first_not_of(" "));
    field.erase(field.find_last_not_of(" ") + 1);
    if (field.find('\t') != std::string::npos) {
      problems.add(at_line(path, number, "expected 2 tab-separated fields '<image path><TAB><labels>', got more"));
      return;
    }
    if (field.empty()) {
      problems.add(at_line(path, number, "empty label set"));
      return;
    }
    if (field.back() == ',') {
      problems.add(at_line(path, number, "the labels end with a comma"));
      return;
    }
    for (const auto& token : split_fields(field, ',')) {
      int64_t v;
      if (!parse_int(token, v)) {
        problems.add(at_line(path, number, "label '" + token + "' is not an integer (labels: comma-separated class ids)"));
        return;
      }
      p.values.push_back(v);
    }
    p.sample.abs_path = checked_image(dataset_dir, p.sample.rel_path, decode_images, path, number, problems);
    if (!p.sample.abs_path.empty()) parsed.push_back(std::move(p));
  });
  // A file of "0" lines with one class is class ids (every image of class 0), not vectors of nothing: some 1
  // must appear for the vector reading.
  const bool multi_hot =
      num_classes > 0 && !parsed.empty() &&
      std::all_of(parsed.begin(), parsed.end(),
                  [&](const Parsed& p) {
                    return static_cast<int64_t>(p.values.size()) == num_classes &&
                           std::all_of(p.values.begin(), p.values.end(), [](int64_t v) { return v == 0 || v == 1; });
                  }) &&
      std::any_of(parsed.begin(), parsed.end(), [](const Parsed& p) {
        return std::find(p.values.begin(), p.values.end(), 1) != p.values.end();
      });
  list.format = multi_hot ? MultiLabelFormat::kMultiHot : MultiLabelFormat::kClassIds;
  for (auto& p : parsed) {
    std::vector<int64_t>& labels = p.sample.labels;
    if (multi_hot) {
      for (size_t c = 0; c < p.values.size(); ++c)
        if (p.values[c] == 1) labels.push_back(static_cast<int64_t>(c));
      if (labels.empty()) {
        problems.add(at_line(path, p.sample.line, "empty label set (every value of the 0/1 vector is 0)"));
        continue;
      }
    } else {
      std::string bad;
      for (int64_t id : p.values) {
        if (id < 0 || (num_classes >= 0 && id >= num_classes)) {
          bad = "class id " + std::to_string(id) + " is not in label.txt (ids 0.." + std::to_string(num_classes - 1) + ")";
          break;
        }
        if (std::find(labels.begin(), labels.end(), id) != labels.end()) {
          bad = "class id " + std::to_string(id) + " is listed twice";
          break;
        }
        labels.push_back(id);
      }
      if (!bad.empty()) {
        problems.add(at_line(path, p.sample.line, bad));
        continue;
      }
      std::sort(labels.begin(), labels.end());
    }
    list.samples.push_back(std::move(p.sample));
  }
  return list;
}

}  // namespace paddlex

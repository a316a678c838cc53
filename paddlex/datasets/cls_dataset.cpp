#include "paddlex/datasets/cls_dataset.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "paddlex/core/errors.h"
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
    if (!path_stays_inside(s.rel_path)) {
      problems.add(at_line(path, number, "image path '" + s.rel_path + "' leaves the dataset directory"));
      return;
    }
    s.abs_path = (fs::path(dataset_dir) / s.rel_path).string();
    if (!fs::is_regular_file(s.abs_path)) {
      problems.add(at_line(path, number, "image file '" + s.rel_path + "' does not exist"));
      return;
    }
    if (options.decode_images && try_read_image_rgb(s.abs_path).empty()) {
      problems.add(at_line(path, number, "image file '" + s.rel_path + "' cannot be decoded"));
      return;
    }
    samples.push_back(std::move(s));
  });
  return samples;
}

}  // namespace paddlex

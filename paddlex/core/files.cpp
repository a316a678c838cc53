#include "paddlex/core/files.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "paddlex/core/errors.h"

namespace fs = std::filesystem;

namespace paddlex {
namespace {
std::string temp_name(const std::string& path) {
  return path + ".tmp." + std::to_string(::getpid());
}
}  // namespace

void write_bytes_atomic(const std::string& path, const std::vector<char>& bytes) {
  const std::string tmp = temp_name(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw RunError("cannot write '" + tmp + "' (directory missing or not writable?)");
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) throw RunError("write to '" + tmp + "' failed (disk full?)");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw RunError("cannot move '" + tmp + "' to '" + path + "': " + ec.message());
  }
}

void write_file_atomic(const std::string& path, const std::string& content) {
  write_bytes_atomic(path, std::vector<char>(content.begin(), content.end()));
}

void write_json_atomic(const std::string& path, const nlohmann::json& value) {
  write_file_atomic(path, value.dump(4) + "\n");
}

void write_json_atomic(const std::string& path, const nlohmann::ordered_json& value) {
  write_file_atomic(path, value.dump(4) + "\n");
}

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RunError("cannot read '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<char> read_binary_file(const std::string& path) {
  std::string text = read_text_file(path);
  return std::vector<char>(text.begin(), text.end());
}

nlohmann::json read_json_file(const std::string& path) {
  try {
    return nlohmann::json::parse(read_text_file(path));
  } catch (const nlohmann::json::parse_error& e) {
    throw RunError("'" + path + "' is not valid JSON: " + e.what());
  }
}

void ensure_writable_dir(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw RunError("cannot create output directory '" + dir + "': " + ec.message());
  const std::string probe = (fs::path(dir) / (".write_probe." + std::to_string(::getpid()))).string();
  std::ofstream out(probe);
  if (!out) throw RunError("output directory '" + dir + "' is not writable");
  out.close();
  fs::remove(probe, ec);
}

void replace_dir_atomic(const std::string& staged, const std::string& dst) {
  std::error_code ec;
  if (fs::exists(dst)) {
    // Linux swaps the two names in one step; `staged` then holds the old contents.
    if (::renameat2(AT_FDCWD, staged.c_str(), AT_FDCWD, dst.c_str(), RENAME_EXCHANGE) != 0)
      throw RunError("cannot replace '" + dst + "' by '" + staged + "': " + std::strerror(errno));
    fs::remove_all(staged, ec);
    return;
  }
  fs::rename(staged, dst, ec);
  if (ec) throw RunError("cannot move '" + staged + "' to '" + dst + "': " + ec.message());
}

std::string fnv1a_hex(const std::string& data) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace paddlex

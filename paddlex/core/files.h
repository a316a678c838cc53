// File-system helpers: atomic writes (temp file + rename) so no reader ever sees a half-written result.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace paddlex {

void write_file_atomic(const std::string& path, const std::string& content);
void write_bytes_atomic(const std::string& path, const std::vector<char>& bytes);
void write_json_atomic(const std::string& path, const nlohmann::json& value);
// Keys in insertion order (result files whose field order users know from PaddleX).
void write_json_atomic(const std::string& path, const nlohmann::ordered_json& value);
std::string read_text_file(const std::string& path);  // throws RunError naming the path
std::vector<char> read_binary_file(const std::string& path);
nlohmann::json read_json_file(const std::string& path);

// Creates `dir` (and parents) and proves it is writable, so a run fails before hours of training, not after.
void ensure_writable_dir(const std::string& dir);

// Replaces directory `dst` by the fully written directory `staged` in two renames: a reader sees either the
// old or the new complete directory, never a partial one.
void replace_dir_atomic(const std::string& staged, const std::string& dst);

// Stable 64-bit FNV-1a hash as 16 hex digits (same value on every build, unlike std::hash).
std::string fnv1a_hex(const std::string& data);

}  // namespace paddlex

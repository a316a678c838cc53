#include "paddlex/core/logging.h"

#include <chrono>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace paddlex {
namespace {
std::mutex g_mutex;
std::ofstream g_file;

std::string timestamp() {
  auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  localtime_r(&now, &tm);
  std::ostringstream os;
  os << std::put_time(&tm, "%Y-%m-%d %H:%M:%S");
  return os.str();
}
}  // namespace

void Log::write(const std::string& level, const std::string& msg) {
  std::lock_guard<std::mutex> lock(g_mutex);
  // Appended rather than "[" + timestamp(): GCC 12 warns falsely (-Wstringop-overflow) on literal + rvalue.
  std::string line = "[";
  line += timestamp() + "] " + level + msg;
  (level.empty() ? std::cout : std::cerr) << line << std::endl;
  if (g_file.is_open()) g_file << line << std::endl;
}

void Log::info(const std::string& msg) { write("", msg); }
void Log::warn(const std::string& msg) { write("WARNING: ", msg); }

void Log::attach_file(const std::string& path) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_file.is_open()) g_file.close();
  g_file.open(path, std::ios::app);
}

void Log::detach_file() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_file.is_open()) g_file.close();
}

std::string format_duration(double seconds) {
  long s = seconds < 0 ? 0 : static_cast<long>(seconds + 0.5);
  std::ostringstream os;
  os << s / 3600 << ":" << std::setw(2) << std::setfill('0') << (s / 60) % 60 << ":" << std::setw(2)
     << std::setfill('0') << s % 60;
  return os.str();
}

}  // namespace paddlex

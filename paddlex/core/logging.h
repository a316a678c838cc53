// Logging to stdout and, once a log file is attached, to that file too (train.log).
#pragma once
#include <fstream>
#include <mutex>
#include <string>

namespace paddlex {

class Log {
 public:
  static void info(const std::string& msg);
  static void warn(const std::string& msg);
  // Lines also go to `path` (appended) until detach_file(); only rank 0 attaches one.
  static void attach_file(const std::string& path);
  static void detach_file();

 private:
  static void write(const std::string& level, const std::string& msg);
};

// "1:02:03" for a number of seconds.
std::string format_duration(double seconds);

}  // namespace paddlex

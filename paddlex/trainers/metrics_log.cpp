#include "paddlex/trainers/metrics_log.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "paddlex/core/errors.h"
#include "paddlex/core/files.h"
#include "paddlex/core/logging.h"
#include "paddlex/core/plot.h"

namespace fs = std::filesystem;

namespace paddlex {
namespace {
// Keys of a train record that are not loss terms.
bool is_loss_key(const std::string& key) {
  return key != "type" && key != "step" && key != "epoch" && key != "iter" && key != "lr" &&
         key.find("/s") == std::string::npos;
}
}  // namespace

MetricsLog::MetricsLog(const std::string& output_dir, std::optional<int64_t> resume_step)
    : path_((fs::path(output_dir) / "metrics.jsonl").string()),
      curves_path_((fs::path(output_dir) / "train_curves.png").string()) {
  std::string kept;
  if (resume_step && fs::exists(path_)) {
    std::ifstream in(path_);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
      if (line.empty()) continue;
      nlohmann::json record;
      try {
        record = nlohmann::json::parse(line);
      } catch (const nlohmann::json::exception&) {
        Log::warn(at_line(path_, number, "not a JSON record; dropped"));  // e.g. cut off by a crash
        continue;
      }
      if (record.value("step", int64_t{0}) > *resume_step) continue;
      kept += line + "\n";
      absorb(record);
    }
  }
  write_file_atomic(path_, kept);
}

void MetricsLog::append(const nlohmann::json& record) {
  std::ofstream out(path_, std::ios::app);
  out << record.dump() << "\n";
  if (!out.flush()) throw RunError("cannot append to '" + path_ + "'");
}

void MetricsLog::absorb(const nlohmann::json& record) {
  const double step = record.contains("step") && record["step"].is_number() ? record["step"].get<double>() : 0.0;
  if (record.value("type", "") == "train") {
    for (const auto& [key, value] : record.items())
      if (is_loss_key(key) && value.is_number()) losses_[key].emplace_back(step, value.get<double>());
    if (record.contains("lr") && record["lr"].is_number()) lr_.emplace_back(step, record["lr"].get<double>());
  } else if (record.value("type", "") == "eval" && record.contains("metrics")) {
    primary_ = record.value("primary", "");
    const auto& metrics = record["metrics"];
    // NaN is written as null: it leaves a gap in the curve.
    if (metrics.contains(primary_) && metrics[primary_].is_number())
      primary_values_.emplace_back(step, metrics[primary_].get<double>());
  }
}

void MetricsLog::train_record(const nlohmann::json& record) {
  append(record);
  absorb(record);
}

void MetricsLog::eval_record(int64_t step, int64_t epoch, const Metrics& metrics) {
  const nlohmann::json record = {{"type", "eval"}, {"step", step}, {"epoch", epoch},
                                 {"primary", metrics.primary}, {"metrics", metrics.values}};
  append(record);
  absorb(record);
  draw_curves();
}

void MetricsLog::draw_curves() const {
  auto series = [](const std::string& name, const std::vector<std::pair<double, double>>& points) {
    Series s{name, {}, {}};
    for (const auto& [x, y] : points) s.x.push_back(x), s.y.push_back(y);
    return s;
  };
  ChartPanel loss{"loss (mean over each log interval)", {}}, lr{"learning rate", {series("lr", lr_)}};
  // The total only adds a line when there are several terms; with one it is that term.
  if (losses_.count("loss") && losses_.size() > 2) loss.series.push_back(series("loss", losses_.at("loss")));
  for (const auto& [name, points] : losses_)
    if (name != "loss") loss.series.push_back(series(name, points));
  ChartPanel metric{"evaluation: " + primary_, {series(primary_, primary_values_)}};
  draw_line_charts({loss, lr, metric}, "step", curves_path_);
}

}  // namespace paddlex

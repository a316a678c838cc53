// main: argv -> Config -> run the mode. Exit codes: 0 ok, 1 run/dataset failure, 2 bad config or command line.
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "paddlex/core/config.h"
#include "paddlex/core/config_schema.h"
#include "paddlex/core/errors.h"
#include "paddlex/engine.h"
#include "paddlex/modules/registry.h"

namespace {

void print_help() {
  std::cout << "Usage: main -c <config.yaml> [-o Section.key=value ...]\n"
               "       main --help | --config-doc\n\n"
               "Runs one mode of PaddleX's single-model workflow, chosen by Global.mode:\n"
               "  check_dataset  validate the dataset, write check_dataset_result.json and plots\n"
               "  train          train, writing checkpoints (epoch_N/, latest/, best_model/) and train_result.json\n"
               "  evaluate       metrics of a checkpoint on the val split -> evaluate_result.json\n"
               "  export         checkpoint -> deployment dir (BN-folded weights, inference.yml)\n"
               "  predict        run a model on images -> <stem>.json and <stem>.jpg per image\n\n"
               "-o overrides any key (later -o wins; list elements by index: -o Train.mean.0=0.5).\n"
               "Exit codes: 0 success, 1 dataset or run failure, 2 bad config or command line.\n\nModels:\n";
  for (const auto& task : paddlex::make_all_tasks()) {
    std::cout << "  " << task->name() << ":";
    for (const auto& m : task->model_names()) std::cout << " " << m;
    std::cout << "\n";
  }
  std::cout << "\nConfig keys:\n" << paddlex::config_help_text(paddlex::documented_key_groups());
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path;
  std::vector<std::string> overrides;
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string arg = argv[i];
      if (arg == "-h" || arg == "--help") {
        print_help();
        return 0;
      }
      if (arg == "--config-doc") {
        std::cout << paddlex::config_markdown(paddlex::documented_key_groups());
        return 0;
      }
      if ((arg == "-c" || arg == "-o") && i + 1 >= argc)
        throw paddlex::ConfigError(arg + " needs a value");
      if (arg == "-c") {
        config_path = argv[++i];
      } else if (arg == "-o") {
        overrides.push_back(argv[++i]);
      } else {
        throw paddlex::ConfigError("unexpected argument '" + arg +
                                   "' (write -o Key=value without spaces; see main --help)");
      }
    }
    if (config_path.empty()) throw paddlex::ConfigError("no config file given (-c <config.yaml>); see main --help");
    paddlex::Config cfg = paddlex::Config::load(config_path, overrides, paddlex::schema_for_model);
    paddlex::run_mode(cfg, std::vector<std::string>(argv + 1, argv + argc));
    return 0;
  } catch (const paddlex::ConfigError& e) {
    std::cerr << "Config error: " << e.what() << std::endl;
    return 2;
  } catch (const paddlex::RunError& e) {
    std::cerr << "Error: " << e.what() << std::endl;
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "Error: " << e.what() << std::endl;
    return 1;
  }
}

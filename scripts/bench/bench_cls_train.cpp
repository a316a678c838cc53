// Training throughput of the engine for image classification, in two forms:
//   files      the real input pipeline: list file -> decode -> random resized crop -> flip -> normalize
//   synthetic  the same steps on pre-made random tensors: compute only (what the input pipeline must match)
// Both use the engine's own loader, model, optimizer and TrainStep, so they measure what `main` runs.
// usage: bench_cls_train DATASET_DIR MODEL RES BATCH THREADS WORKERS STEPS files|synthetic [Key=value ...]
// (trailing arguments are config overrides, e.g. Train.channels_last=False). Prints img/s over STEPS steps after 2 warm-up steps.
#include <chrono>
#include <iostream>

#include "paddlex/core/config.h"
#include "paddlex/engine.h"
#include "paddlex/modules/image_classification/cls_task.h"
#include "paddlex/modules/registry.h"
#include "paddlex/trainers/distributed.h"
#include "paddlex/trainers/optimizer.h"
#include "paddlex/trainers/train_step.h"

namespace {

// Random images of the batch shape, made once: loading costs nothing.
class SyntheticSource : public paddlex::SampleSource {
 public:
  SyntheticSource(size_t n, int64_t res, int64_t classes) : images_(torch::randn({16, 3, res, res})), n_(n), classes_(classes) {}
  size_t size() const override { return n_; }
  paddlex::Sample get(size_t index, uint64_t) const override {
    paddlex::Sample s;
    s.tensors["image"] = images_[static_cast<int64_t>(index % 16)];
    s.tensors["label"] = torch::tensor(static_cast<int64_t>(index) % classes_, torch::kInt64);
    return s;
  }

 private:
  torch::Tensor images_;
  size_t n_;
  int64_t classes_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 9) {
    std::cerr << "usage: bench_cls_train DATASET_DIR MODEL RES BATCH THREADS WORKERS STEPS files|synthetic "
                 "[Key=value ...]\n";
    return 2;
  }
  const std::string dataset = argv[1], model_name = argv[2], res = argv[3], batch = argv[4], threads = argv[5],
                    workers = argv[6], kind = argv[8];
  const int steps = std::stoi(argv[7]);
  try {
    std::vector<std::string> overrides = {
        "Global.model=" + model_name, "Global.dataset_dir=" + dataset, "Global.num_threads=" + threads,
        "Train.input_size=" + res,    "Train.resize_short=" + res,     "Train.batch_size=" + batch,
        "Train.num_workers=" + workers, "Train.learning_rate=0.01",   "Train.optimizer.weight_decay=0.0001"};
    for (int i = 9; i < argc; ++i) overrides.push_back(argv[i]);
    auto cfg = paddlex::Config::from_text("", overrides, paddlex::schema_for_model);
    paddlex::configure_threads(cfg);
    paddlex::cls::ClsTask task;
    auto data = task.load_data(cfg, nullptr);
    std::shared_ptr<const paddlex::SampleSource> source = data.train;
    const int64_t classes = data.model.attributes["num_classes"].as<int64_t>();
    if (kind == "synthetic") source = std::make_shared<SyntheticSource>(data.train->size(), std::stoi(res), classes);
    torch::manual_seed(0);
    auto model = task.build_model(data.model);
    const bool channels_last = cfg.get_bool("Train.channels_last");
    paddlex::prepare_model_for_compute(*model, torch::kCPU, channels_last);
    model->train();
    auto optimizer = paddlex::make_optimizer(cfg, *model);
    const paddlex::DistEnv env = paddlex::read_dist_env();
    std::unique_ptr<paddlex::DistContext> dist;
    if (env.distributed()) {
      dist = std::make_unique<paddlex::DistContext>(env, std::chrono::seconds(120));
      dist->broadcast_module(*model);
      dist->attach(*model);
    }
    paddlex::TrainStep step(*model, task.make_criterion(cfg, data.model), optimizer, torch::kCPU, channels_last,
                            dist.get());
    paddlex::LoaderOptions opts;
    opts.batch_size = std::stoul(batch);
    opts.shuffle = true;
    opts.drop_last = true;
    opts.num_workers = std::stoi(workers);
    opts.rank = env.rank;
    opts.world_size = env.world_size;
    paddlex::DataLoader loader(source, opts);
    int done = 0;
    int64_t images = 0;
    double sync_at_start = 0.0;
    auto start = std::chrono::steady_clock::now();
    for (int64_t epoch = 0; done < steps + 2; ++epoch) {
      loader.start_epoch(epoch);
      paddlex::Batch b;
      while (done < steps + 2 && loader.next(b)) {
        step.run(b, 0.01);
        if (++done == 2) {
          start = std::chrono::steady_clock::now();
          sync_at_start = dist ? dist->gradient_sync_seconds() : 0.0;
        }
        if (done > 2) images += b.size();
      }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (env.rank != 0) return 0;
    std::cout << model_name << " " << kind << " res=" << res << " bs=" << batch << " threads=" << threads
              << " workers=" << workers << " world=" << env.world_size << ": " << images * env.world_size / seconds
              << " img/s (" << images * env.world_size << " imgs)";
    if (dist)
      std::cout << ", all-reduce " << 100.0 * (dist->gradient_sync_seconds() - sync_at_start) / seconds
                << "% of step time";
    std::cout << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

#include "paddlex/trainers/evaluation.h"

#include "paddlex/core/logging.h"
#include "paddlex/io/tensor_file.h"
#include "paddlex/trainers/distributed.h"

namespace paddlex {

Metrics run_evaluation(Network& network, std::shared_ptr<const SampleSource> source, Evaluator& evaluator,
                       const EvalOptions& options, DistContext* dist) {
  LoaderOptions opts;
  opts.batch_size = options.batch_size;
  opts.num_workers = options.num_workers;
  opts.seed = options.seed;
  opts.sharding = Sharding::kBatches;
  if (dist) {
    opts.rank = dist->rank();
    opts.world_size = dist->world_size();
  }
  DataLoader loader(std::move(source), opts);
  evaluator.reset();
  const bool was_training = network.is_training();
  network.eval();
  {
    torch::NoGradGuard no_grad;
    loader.start_epoch(0);
    const size_t batches = loader.batches_per_epoch();
    Batch batch;
    for (size_t i = 1; loader.next(batch); ++i) {
      TensorMap outputs = network.forward(network_inputs(network, batch, options.device, options.channels_last));
      for (auto& entry : outputs) entry.second = entry.second.to(torch::kCPU);
      evaluator.process(batch, outputs);
      if (options.log_interval > 0 && (i % static_cast<size_t>(options.log_interval) == 0 || i == batches))
        Log::info("[Eval] batch " + std::to_string(i) + "/" + std::to_string(batches));
    }
  }
  network.train(was_training);
  if (dist) {
    // Every rank merges the others' states in rank order, so all of them compute the same metrics.
    const auto states = dist->all_gather_bytes(tensor_map_to_bytes(evaluator.state()));
    for (int r = 0; r < dist->world_size(); ++r)
      if (r != dist->rank()) evaluator.merge(tensor_map_from_bytes(states[static_cast<size_t>(r)]));
  }
  return evaluator.evaluate();
}

}  // namespace paddlex

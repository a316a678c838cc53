// One evaluation pass, shared by training (every eval_interval) and evaluate mode.
#pragma once
#include <torch/torch.h>

#include <memory>

#include "paddlex/task/task.h"

namespace paddlex {

class DistContext;

struct EvalOptions {
  size_t batch_size = 32;
  int num_workers = 0;
  uint64_t seed = 0;
  torch::Device device = torch::kCPU;
  bool channels_last = false;
  int64_t log_interval = 0;  // log progress every N batches; 0 = silent
};

// Runs `network` (in eval mode, without gradients) over `source` into `evaluator`. With `dist`, each rank takes
// whole batches r, r+world, ... of the single-process batching, the ranks exchange their evaluator states and
// every rank returns the same Metrics, equal to a single process's.
Metrics run_evaluation(Network& network, std::shared_ptr<const SampleSource> source, Evaluator& evaluator,
                       const EvalOptions& options, DistContext* dist = nullptr);

}  // namespace paddlex

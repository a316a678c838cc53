// Multi-threaded, deterministic batch loader.
//
// Determinism: the order of an epoch is a shuffle seeded by (seed, epoch) and each sample's augmentation is
// seeded by (seed, epoch, dataset index); worker threads only decide *when* a batch is built, never *what*
// is in it. The same run therefore yields the same batches for any num_workers, and resuming at
// (epoch, batch) reproduces the rest of the epoch exactly.
#pragma once
#include <torch/torch.h>

#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "paddlex/datasets/sample.h"

namespace paddlex {

// What a task's dataset offers the loader.
class SampleSource {
 public:
  virtual ~SampleSource() = default;
  virtual size_t size() const = 0;
  // Sample `index`; `seed` drives its random augmentation. Called from loader threads concurrently, as is
  // collate: both should avoid ATen operations that run in parallel (torch::stack, large copy_), whose thread
  // teams would compete with the training step for the cores (plain loops and memcpy cost nothing extra).
  virtual Sample get(size_t index, uint64_t seed) const = 0;
  // Combines the samples of one batch (in batch order); the default stacks every tensor.
  virtual Batch collate(std::vector<Sample> samples) const { return stack_samples(std::move(samples)); }
};

// How a distributed run divides an epoch between the ranks.
enum class Sharding {
  // DistributedSampler: the order is padded to a multiple of world_size and rank r takes positions r, r+world,
  // ... (every rank steps equally often; training).
  kSamples,
  // Rank r takes whole batches r, r+world, ... of the single-process batching, unpadded: every sample once, in
  // batches identical to a single process's (evaluation, whose merged result then equals one process's).
  kBatches,
};

struct LoaderOptions {
  size_t batch_size = 32;
  bool shuffle = false;
  bool drop_last = false;
  uint64_t seed = 0;
  int num_workers = 0;  // threads; 0 loads in the caller's thread
  int rank = 0;
  int world_size = 1;
  Sharding sharding = Sharding::kSamples;
};

class DataLoader {
 public:
  DataLoader(std::shared_ptr<const SampleSource> source, LoaderOptions options);
  ~DataLoader();
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  size_t batches_per_epoch() const;
  // Starts epoch `epoch` at batch `first_batch` (non-zero when resuming mid-epoch).
  void start_epoch(int64_t epoch, size_t first_batch = 0);
  // Next batch of the epoch; false at its end. Rethrows a worker's exception (e.g. an undecodable file).
  bool next(Batch& out);
  // The dataset indices this rank visits in `epoch`, in order.
  std::vector<int64_t> epoch_order(int64_t epoch) const;

 private:
  Batch build(size_t batch_number) const;
  // This rank's batch `batch_number` as [begin, end) positions of order_.
  std::pair<size_t, size_t> batch_range(size_t batch_number) const;
  void stop_workers();
  void worker_loop();

  std::shared_ptr<const SampleSource> source_;
  LoaderOptions options_;
  int64_t epoch_ = 0;
  std::vector<int64_t> order_;
  size_t next_batch_ = 0;  // the batch next() returns next
  size_t end_batch_ = 0;

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable cv_;
  size_t next_claim_ = 0;  // the batch the next idle worker builds
  std::map<size_t, Batch> ready_;
  std::exception_ptr error_;
  size_t error_batch_ = 0;  // the batch whose loading failed
  bool stopping_ = false;
};

}  // namespace paddlex

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

namespace paddlex {

struct Batch {
  torch::Tensor input;           // e.g. images [B,3,H,W] float
  torch::Tensor target;          // e.g. class ids [B] int64
  std::vector<int64_t> indices;  // dataset index of each row
};

// What a task's dataset offers the loader.
class SampleSource {
 public:
  virtual ~SampleSource() = default;
  virtual size_t size() const = 0;
  // Empty tensors for a batch of `n` samples.
  virtual Batch allocate(size_t n) const = 0;
  // Fills row `slot` of `batch` with sample `index`; `seed` drives its augmentation.
  virtual void load(size_t index, uint64_t seed, Batch& batch, size_t slot) const = 0;
};

struct LoaderOptions {
  size_t batch_size = 32;
  bool shuffle = false;
  bool drop_last = false;
  uint64_t seed = 0;
  int num_workers = 0;  // threads; 0 loads in the caller's thread
  // Distributed sharding (DistributedSampler semantics): the epoch order is padded to a multiple of
  // world_size and rank r takes positions r, r+world, ...
  int rank = 0;
  int world_size = 1;
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

#include "paddlex/datasets/data_loader.h"

#include <numeric>

#include "paddlex/core/random.h"

namespace paddlex {

DataLoader::DataLoader(std::shared_ptr<const SampleSource> source, LoaderOptions options)
    : source_(std::move(source)), options_(options) {}

DataLoader::~DataLoader() { stop_workers(); }

std::vector<int64_t> DataLoader::epoch_order(int64_t epoch) const {
  const size_t n = source_->size();
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (options_.shuffle) {
    SampleRng rng(mix_seed(options_.seed, static_cast<uint64_t>(epoch), 0x5EED));
    for (size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
  }
  if (options_.world_size <= 1 || options_.sharding == Sharding::kBatches) return order;
  const size_t world = static_cast<size_t>(options_.world_size);
  const size_t per_rank = (n + world - 1) / world;
  for (size_t i = 0; order.size() < per_rank * world; ++i) order.push_back(order[i % n]);
  std::vector<int64_t> mine;
  for (size_t i = static_cast<size_t>(options_.rank); i < order.size(); i += world) mine.push_back(order[i]);
  return mine;
}

size_t DataLoader::batches_per_epoch() const {
  const size_t world = static_cast<size_t>(std::max(1, options_.world_size));
  size_t n = source_->size();
  if (options_.sharding == Sharding::kSamples) n = (n + world - 1) / world;
  const size_t batches =
      options_.drop_last ? n / options_.batch_size : (n + options_.batch_size - 1) / options_.batch_size;
  if (options_.sharding == Sharding::kSamples || world == 1) return batches;
  const size_t rank = static_cast<size_t>(options_.rank);
  return batches > rank ? (batches - rank + world - 1) / world : 0;
}

std::pair<size_t, size_t> DataLoader::batch_range(size_t batch_number) const {
  const size_t global = options_.sharding == Sharding::kBatches && options_.world_size > 1
                            ? static_cast<size_t>(options_.rank) + batch_number * options_.world_size
                            : batch_number;
  const size_t begin = global * options_.batch_size;
  return {begin, std::min(order_.size(), begin + options_.batch_size)};
}

Batch DataLoader::build(size_t batch_number) const {
  const auto [begin, end] = batch_range(batch_number);
  std::vector<Sample> samples;
  samples.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) {
    const int64_t index = order_[i];
    samples.push_back(source_->get(static_cast<size_t>(index), mix_seed(options_.seed, static_cast<uint64_t>(epoch_), index)));
  }
  Batch batch = source_->collate(std::move(samples));
  batch.indices.assign(order_.begin() + static_cast<std::ptrdiff_t>(begin), order_.begin() + static_cast<std::ptrdiff_t>(end));
  return batch;
}

void DataLoader::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
  ready_.clear();
  error_ = nullptr;
  stopping_ = false;
}

void DataLoader::start_epoch(int64_t epoch, size_t first_batch) {
  stop_workers();
  epoch_ = epoch;
  order_ = epoch_order(epoch);
  end_batch_ = batches_per_epoch();
  next_batch_ = std::min(first_batch, end_batch_);
  next_claim_ = next_batch_;
  for (int w = 0; w < options_.num_workers; ++w) workers_.emplace_back(&DataLoader::worker_loop, this);
}

void DataLoader::worker_loop() {
  // Each worker stays at most this many batches ahead of the consumer, bounding memory.
  const size_t max_ahead = static_cast<size_t>(options_.num_workers) + 1;
  while (true) {
    size_t claim;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || error_ || next_claim_ < std::min(end_batch_, next_batch_ + max_ahead); });
      if (stopping_ || error_ || next_claim_ >= end_batch_) return;
      claim = next_claim_++;
    }
    try {
      Batch batch = build(claim);
      std::lock_guard<std::mutex> lock(mutex_);
      ready_.emplace(claim, std::move(batch));
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      // Keep the error of the earliest failing batch: the consumer meets that one first.
      if (!error_ || claim < error_batch_) {
        error_ = std::current_exception();
        error_batch_ = claim;
      }
    }
    cv_.notify_all();
  }
}

bool DataLoader::next(Batch& out) {
  if (next_batch_ >= end_batch_) return false;
  if (workers_.empty()) {
    out = build(next_batch_++);
    return true;
  }
  std::unique_lock<std::mutex> lock(mutex_);
  // Batches before a failing one were all claimed and still complete, so the error surfaces exactly at
  // the failing batch, as without workers.
  cv_.wait(lock, [&] { return ready_.count(next_batch_) || (error_ && error_batch_ == next_batch_); });
  if (!ready_.count(next_batch_)) std::rethrow_exception(error_);
  out = std::move(ready_.at(next_batch_));
  ready_.erase(next_batch_);
  ++next_batch_;
  lock.unlock();
  cv_.notify_all();
  return true;
}

}  // namespace paddlex

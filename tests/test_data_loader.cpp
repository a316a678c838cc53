// Seeded randomness, samples and collation, and the deterministic multi-threaded DataLoader.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "paddlex/core/errors.h"
#include "paddlex/datasets/data_loader.h"
#include "paddlex/core/random.h"

namespace {

using paddlex::Batch;
using paddlex::DataLoader;
using paddlex::LoaderOptions;
using paddlex::SampleRng;
using paddlex::SampleSource;

// ---------------------------------------------------------------- SampleRng / mix_seed

TEST(SampleRng, SameSeedSameSequence) {
  SampleRng a(123), b(123), c(124);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    uint64_t va = a.next_u64();
    EXPECT_EQ(va, b.next_u64());
    differs |= va != c.next_u64();
  }
  EXPECT_TRUE(differs);
}

TEST(SampleRng, KnownFirstValue) {
  // SplitMix64 reference value (Vigna): seed 0 -> 0xE220A8397B1DCDAF. Pins the generator across platforms.
  SampleRng rng(0);
  EXPECT_EQ(rng.next_u64(), 0xE220A8397B1DCDAFULL);
}

TEST(SampleRng, RangesRespected) {
  SampleRng rng(5);
  std::set<uint64_t> seen;
  for (int i = 0; i < 2000; ++i) {
    double u = rng.uniform();
    EXPECT_GE(u, 0.0);
    EXPECT_LT(u, 1.0);
    double v = rng.uniform(-2.0, 3.0);
    EXPECT_GE(v, -2.0);
    EXPECT_LT(v, 3.0);
    uint64_t k = rng.below(7);
    EXPECT_LT(k, 7u);
    seen.insert(k);
  }
  EXPECT_EQ(seen.size(), 7u);  // every value of [0, 7) shows up
}

TEST(MixSeed, DeterministicAndSensitiveToEveryArgument) {
  using paddlex::mix_seed;
  const uint64_t base = mix_seed(1, 2, 3, 4);
  EXPECT_EQ(base, mix_seed(1, 2, 3, 4));
  EXPECT_NE(base, mix_seed(0, 2, 3, 4));
  EXPECT_NE(base, mix_seed(1, 0, 3, 4));
  EXPECT_NE(base, mix_seed(1, 2, 0, 4));
  EXPECT_NE(base, mix_seed(1, 2, 3, 0));
  EXPECT_NE(mix_seed(1, 2), mix_seed(2, 1));
  EXPECT_NE(mix_seed(7, 0, 1), mix_seed(7, 1, 0));
  // Neighbouring indices give unrelated seeds (not seed + index).
  std::set<uint64_t> seeds;
  for (uint64_t i = 0; i < 1000; ++i) seeds.insert(mix_seed(42, 3, i));
  EXPECT_EQ(seeds.size(), 1000u);
}

// ---------------------------------------------------------------- DataLoader

// Sample i -> "input" [i, low 32 bits of its seed], "target" i, meta {"i": i}. Optional: throws for one index,
// is slow for another.
class FakeSource : public SampleSource {
 public:
  explicit FakeSource(size_t n, int64_t bad_index = -1, int64_t slow_index = -1)
      : n_(n), bad_index_(bad_index), slow_index_(slow_index) {}
  size_t size() const override { return n_; }
  paddlex::Sample get(size_t index, uint64_t seed) const override {
    if (static_cast<int64_t>(index) == bad_index_)
      throw paddlex::RunError("images/bad.png: cannot be decoded (sample " + std::to_string(index) + ")");
    if (static_cast<int64_t>(index) == slow_index_) std::this_thread::sleep_for(std::chrono::milliseconds(300));
    paddlex::Sample s;
    s.tensors["input"] = torch::tensor({static_cast<double>(index), static_cast<double>(seed & 0xFFFFFFFFULL)},
                                       torch::kFloat64);
    s.tensors["target"] = torch::tensor(static_cast<int64_t>(index));
    s.meta["i"] = index;
    return s;
  }

 private:
  size_t n_;
  int64_t bad_index_;
  int64_t slow_index_;
};

std::vector<Batch> run_epoch(DataLoader& loader, int64_t epoch, size_t first_batch = 0) {
  loader.start_epoch(epoch, first_batch);
  std::vector<Batch> out;
  Batch b;
  while (loader.next(b)) out.push_back(b);
  return out;
}

::testing::AssertionResult same_batches(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  if (a.size() != b.size()) return ::testing::AssertionFailure() << a.size() << " vs " << b.size() << " batches";
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].indices != b[i].indices) return ::testing::AssertionFailure() << "batch " << i << ": indices differ";
    for (const char* name : {"input", "target"})
      if (!torch::equal(a[i].at(name), b[i].at(name))) return ::testing::AssertionFailure() << "batch " << i << ": " << name;
  }
  return ::testing::AssertionSuccess();
}

std::vector<int64_t> all_indices(const std::vector<Batch>& batches) {
  std::vector<int64_t> out;
  for (const auto& b : batches) out.insert(out.end(), b.indices.begin(), b.indices.end());
  return out;
}

LoaderOptions shuffled(size_t batch_size, int workers, uint64_t seed = 11) {
  LoaderOptions o;
  o.batch_size = batch_size;
  o.shuffle = true;
  o.seed = seed;
  o.num_workers = workers;
  return o;
}

// Runs `body` on another thread; a hang becomes a test failure instead of a stuck test binary.
void run_with_timeout(std::function<void()> body, std::chrono::seconds limit) {
  auto task = std::make_shared<std::packaged_task<void()>>(std::move(body));
  std::future<void> done = task->get_future();
  std::thread t([task] { (*task)(); });
  if (done.wait_for(limit) == std::future_status::timeout) {
    t.detach();
    FAIL() << "timed out after " << limit.count() << " s (deadlock?)";
  }
  t.join();
  done.get();  // rethrows a failure of the body
}

TEST(DataLoader, BatchContentMatchesSource) {
  auto source = std::make_shared<FakeSource>(10);
  LoaderOptions o;
  o.batch_size = 4;
  DataLoader loader(source, o);
  EXPECT_EQ(loader.batches_per_epoch(), 3u);
  auto batches = run_epoch(loader, 0);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(all_indices(batches), (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));  // no shuffle
  EXPECT_EQ(batches[2].at("input").size(0), 2);
  for (const auto& b : batches)
    for (size_t r = 0; r < b.indices.size(); ++r) {
      const auto row = static_cast<int64_t>(r);
      EXPECT_EQ(b.at("input")[row][0].item<double>(), static_cast<double>(b.indices[r]));
      EXPECT_EQ(b.at("target")[row].item<int64_t>(), b.indices[r]);
      EXPECT_EQ(b.meta[r]["i"], b.indices[r]);  // per-sample metadata travels with its row
    }
}

TEST(DataLoader, SameBatchesForAnyWorkerCount) {
  auto source = std::make_shared<FakeSource>(23);
  std::vector<std::vector<Batch>> per_workers;
  for (int workers : {0, 1, 3}) {
    DataLoader loader(source, shuffled(4, workers));
    std::vector<Batch> both = run_epoch(loader, 0);
    std::vector<Batch> second = run_epoch(loader, 1);
    both.insert(both.end(), second.begin(), second.end());
    per_workers.push_back(both);
  }
  ASSERT_EQ(per_workers[0].size(), 12u);  // 6 batches x 2 epochs
  EXPECT_TRUE(same_batches(per_workers[0], per_workers[1]));
  EXPECT_TRUE(same_batches(per_workers[0], per_workers[2]));
  // The augmentation seed depends on the epoch: sample rows of epoch 0 and 1 differ in column 1.
  auto seed_of = [](const std::vector<Batch>& batches, size_t first, size_t last, int64_t index) {
    for (size_t i = first; i < last; ++i)
      for (size_t r = 0; r < batches[i].indices.size(); ++r)
        if (batches[i].indices[r] == index) return batches[i].at("input")[static_cast<int64_t>(r)][1].item<double>();
    return -1.0;
  };
  EXPECT_NE(seed_of(per_workers[0], 0, 6, 5), seed_of(per_workers[0], 6, 12, 5));
}

TEST(DataLoader, ShuffleDependsOnSeedAndEpochOnly) {
  auto source = std::make_shared<FakeSource>(50);
  DataLoader a(source, shuffled(8, 0, 11)), b(source, shuffled(8, 2, 11)), c(source, shuffled(8, 0, 12));
  auto e0 = a.epoch_order(0), e1 = a.epoch_order(1);
  EXPECT_NE(e0, e1);
  EXPECT_EQ(e0, b.epoch_order(0));
  EXPECT_EQ(e1, b.epoch_order(1));
  EXPECT_NE(e0, c.epoch_order(0));
  std::vector<int64_t> sorted = e0, identity(50);
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 50; ++i) identity[static_cast<size_t>(i)] = i;
  EXPECT_EQ(sorted, identity);  // a permutation
  EXPECT_NE(e0, identity);      // actually shuffled
  // The batches follow epoch_order.
  EXPECT_EQ(all_indices(run_epoch(a, 1)), e1);
}

TEST(DataLoader, ResumeMidEpochGivesTheRemainingBatches) {
  auto source = std::make_shared<FakeSource>(30);
  for (int workers : {0, 2}) {
    DataLoader full(source, shuffled(4, workers)), resumed(source, shuffled(4, workers));
    auto all = run_epoch(full, 3);
    ASSERT_EQ(all.size(), 8u);
    auto rest = run_epoch(resumed, 3, 5);
    EXPECT_TRUE(same_batches(rest, std::vector<Batch>(all.begin() + 5, all.end()))) << workers << " workers";
    // Restarting past the end gives an empty epoch.
    EXPECT_TRUE(run_epoch(resumed, 3, 99).empty());
  }
}

TEST(DataLoader, DropLast) {
  auto source = std::make_shared<FakeSource>(10);
  LoaderOptions o;
  o.batch_size = 4;
  o.drop_last = true;
  DataLoader loader(source, o);
  EXPECT_EQ(loader.batches_per_epoch(), 2u);
  auto batches = run_epoch(loader, 0);
  ASSERT_EQ(batches.size(), 2u);
  for (const auto& b : batches) EXPECT_EQ(b.size(), 4);
  o.drop_last = false;
  DataLoader keep(source, o);
  auto kept = run_epoch(keep, 0);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept.back().size(), 2);
}

TEST(DataLoader, WorldSizeTwoShardsTheEpoch) {
  const size_t n = 11;
  auto source = std::make_shared<FakeSource>(n);
  LoaderOptions o = shuffled(2, 1);
  o.world_size = 2;
  o.rank = 0;
  DataLoader r0(source, o);
  o.rank = 1;
  DataLoader r1(source, o);
  auto i0 = all_indices(run_epoch(r0, 2)), i1 = all_indices(run_epoch(r1, 2));
  EXPECT_EQ(i0, r0.epoch_order(2));
  EXPECT_EQ(i1, r1.epoch_order(2));
  ASSERT_EQ(i0.size(), 6u);  // ceil(11 / 2), padded
  ASSERT_EQ(i1.size(), 6u);
  EXPECT_EQ(r0.batches_per_epoch(), 3u);
  std::set<int64_t> s0(i0.begin(), i0.end()), s1(i1.begin(), i1.end()), both;
  EXPECT_EQ(s0.size(), 6u);
  EXPECT_EQ(s1.size(), 6u);
  for (int64_t v : s0)
    if (s1.count(v)) both.insert(v);
  EXPECT_EQ(both.size(), 1u);  // only the one padding sample appears twice
  std::set<int64_t> all(s0);
  all.insert(s1.begin(), s1.end());
  EXPECT_EQ(all.size(), n);
  // Interleaved, the two ranks give the full epoch order (DistributedSampler: rank r takes r, r+2, ...).
  DataLoader single(source, shuffled(2, 0));
  auto order = single.epoch_order(2);
  for (size_t k = 0; k < 6; ++k) {
    EXPECT_EQ(i0[k], order[(2 * k) % n]);
    EXPECT_EQ(i1[k], order[(2 * k + 1) % n]);
  }
}

// Evaluation sharding: rank r takes whole batches r, r+world, ... of the single-process batching, unpadded, so
// every sample is seen once and each batch is the one a single process builds.
TEST(DataLoader, BatchShardingKeepsTheSingleProcessBatches) {
  auto source = std::make_shared<FakeSource>(11);
  LoaderOptions o;
  o.batch_size = 3;
  DataLoader single(source, o);
  const auto all = run_epoch(single, 0);
  ASSERT_EQ(all.size(), 4u);
  o.sharding = paddlex::Sharding::kBatches;
  o.world_size = 3;
  std::vector<std::vector<Batch>> ranks;
  for (int r = 0; r < 3; ++r) {
    o.rank = r;
    DataLoader loader(source, o);
    ranks.push_back(run_epoch(loader, 0));
    EXPECT_EQ(loader.batches_per_epoch(), ranks.back().size());
  }
  EXPECT_EQ(ranks[0].size(), 2u);  // batches 0 and 3
  EXPECT_EQ(ranks[1].size(), 1u);
  EXPECT_EQ(ranks[2].size(), 1u);
  EXPECT_TRUE(same_batches({ranks[0][0], ranks[1][0], ranks[2][0], ranks[0][1]}, all));
  // More ranks than batches: the extra ranks get none.
  o.world_size = 5;
  o.rank = 4;
  DataLoader idle(source, o);
  EXPECT_EQ(idle.batches_per_epoch(), 0u);
  EXPECT_TRUE(run_epoch(idle, 0).empty());
}

// A task's own collate pads variable-length targets (boxes, label sequences) with their lengths.
class VariableSource : public SampleSource {
 public:
  size_t size() const override { return 5; }
  paddlex::Sample get(size_t index, uint64_t) const override {
    paddlex::Sample s;
    s.tensors["image"] = torch::full({2}, static_cast<float>(index));
    s.tensors["boxes"] = torch::full({static_cast<int64_t>(index), 4}, static_cast<float>(index + 1));
    return s;
  }
  Batch collate(std::vector<paddlex::Sample> samples) const override {
    auto [boxes, lengths] = paddlex::pad_to_longest(samples, "boxes", -1.0);
    for (auto& s : samples) s.tensors.erase("boxes");
    Batch b = paddlex::stack_samples(std::move(samples));
    b.tensors["boxes"] = boxes;
    b.tensors["box_count"] = lengths;
    return b;
  }
};

TEST(DataLoader, TaskCollatePadsVariableSizeTargets) {
  LoaderOptions o;
  o.batch_size = 3;
  DataLoader loader(std::make_shared<VariableSource>(), o);
  const auto batches = run_epoch(loader, 0);
  ASSERT_EQ(batches.size(), 2u);
  const auto& b = batches[1];  // samples 3 and 4
  EXPECT_EQ(b.at("image").sizes(), (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(b.at("boxes").sizes(), (std::vector<int64_t>{2, 4, 4}));
  EXPECT_TRUE(torch::equal(b.at("box_count"), torch::tensor({3, 4}, torch::kInt64)));
  EXPECT_EQ(b.at("boxes")[0][2][0].item<float>(), 4.0f);   // sample 3's last box
  EXPECT_EQ(b.at("boxes")[0][3][0].item<float>(), -1.0f);  // padding
  EXPECT_EQ(b.at("boxes")[1][3][3].item<float>(), 5.0f);
  EXPECT_EQ(batches[0].at("boxes").sizes(), (std::vector<int64_t>{3, 2, 4}));  // sample 0 has no box at all
}

TEST(Collate, DefaultStackRefusesVariableShapesByName) {
  std::vector<paddlex::Sample> samples(2);
  samples[0].tensors["label"] = torch::zeros({2});
  samples[1].tensors["label"] = torch::zeros({3});
  try {
    paddlex::stack_samples(samples);
    FAIL() << "no error";
  } catch (const paddlex::RunError& e) {
    EXPECT_NE(std::string(e.what()).find("tensor 'label' has shape [3] in sample 1 but [2] in sample 0"),
              std::string::npos) << e.what();
  }
  samples[1].tensors = {{"other", torch::zeros({2})}};
  EXPECT_THROW(paddlex::stack_samples(samples), paddlex::RunError);
  Batch empty;
  EXPECT_THROW(empty.at("image"), paddlex::RunError);
}

TEST(DataLoader, SourceErrorIsRethrownWithoutWorkers) {
  auto source = std::make_shared<FakeSource>(16, 7);
  LoaderOptions o;
  o.batch_size = 4;
  DataLoader loader(source, o);
  loader.start_epoch(0);
  Batch b;
  EXPECT_TRUE(loader.next(b));  // batch 0: samples 0..3
  EXPECT_THROW(loader.next(b), paddlex::RunError);
}

TEST(DataLoader, SourceErrorIsRethrownFromWorkersAndLoaderShutsDown) {
  for (int workers : {1, 3}) {
    run_with_timeout(
        [workers] {
          auto source = std::make_shared<FakeSource>(40, 7);
          auto loader = std::make_unique<DataLoader>(source, shuffled(4, workers));
          loader->start_epoch(0);
          Batch b;
          bool thrown = false;
          try {
            while (loader->next(b)) {
            }
          } catch (const paddlex::RunError& e) {
            thrown = true;
            EXPECT_NE(std::string(e.what()).find("sample 7"), std::string::npos) << e.what();
          }
          EXPECT_TRUE(thrown) << workers << " workers";
          loader.reset();  // joins the workers; must not hang
          // A loader abandoned mid-epoch with batches in flight also shuts down.
          auto busy = std::make_unique<DataLoader>(std::make_shared<FakeSource>(400), shuffled(2, workers));
          busy->start_epoch(0);
          EXPECT_TRUE(busy->next(b));
          busy.reset();
        },
        std::chrono::seconds(30));
  }
}

TEST(DataLoader, ErrorSurfacesAtTheFailingBatchWithWorkers) {
  // Regression: next() once rethrew a later batch's error while the requested batch was still being built by
  // another worker. Batch 0 is good but slow and batch 1 fails: as without workers, next() must return batch 0
  // and then throw, so the number of steps before the error does not depend on num_workers or timing.
  run_with_timeout(
      [] {
        LoaderOptions o;
        o.batch_size = 4;
        o.num_workers = 2;
        DataLoader loader(std::make_shared<FakeSource>(16, /*bad_index=*/5, /*slow_index=*/0), o);
        loader.start_epoch(0);
        Batch b;
        bool first_ok = false;
        try {
          first_ok = loader.next(b);
        } catch (const paddlex::RunError&) {
        }
        EXPECT_TRUE(first_ok) << "batch 0 holds only good samples";
        if (first_ok) {
          EXPECT_EQ(b.indices, (std::vector<int64_t>{0, 1, 2, 3}));
        }
        EXPECT_THROW(loader.next(b), paddlex::RunError);
      },
      std::chrono::seconds(30));
}

}  // namespace

// Image transforms (seeded randomness, crops, normalization) and the deterministic multi-threaded DataLoader.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <opencv2/core.hpp>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "paddlex/core/errors.h"
#include "paddlex/datasets/data_loader.h"
#include "paddlex/datasets/transforms.h"

namespace {

using paddlex::Batch;
using paddlex::DataLoader;
using paddlex::LoaderOptions;
using paddlex::SampleRng;
using paddlex::SampleSource;

bool same_mat(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

// A noisy 3-channel image, so different crops give different pixels.
cv::Mat noise_image(int w, int h, uint64_t seed) {
  cv::Mat img(h, w, CV_8UC3);
  SampleRng rng(seed);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) img.at<cv::Vec3b>(y, x)[c] = static_cast<uint8_t>(rng.below(256));
  return img;
}

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

// ---------------------------------------------------------------- crops

TEST(RandomResizedCrop, OutputSizeAndDeterminism) {
  const cv::Mat img = noise_image(40, 30, 1);
  for (uint64_t seed = 0; seed < 5; ++seed) {
    SampleRng r1(seed), r2(seed);
    cv::Mat a = paddlex::random_resized_crop(img, 16, 0.08, 1.0, r1);
    cv::Mat b = paddlex::random_resized_crop(img, 16, 0.08, 1.0, r2);
    EXPECT_EQ(a.rows, 16);
    EXPECT_EQ(a.cols, 16);
    EXPECT_EQ(a.type(), CV_8UC3);
    EXPECT_TRUE(same_mat(a, b)) << "seed " << seed;
  }
  SampleRng r1(1), r2(2);
  EXPECT_FALSE(same_mat(paddlex::random_resized_crop(img, 16, 0.08, 1.0, r1),
                        paddlex::random_resized_crop(img, 16, 0.08, 1.0, r2)));
}

TEST(RandomResizedCrop, FullScaleOfSquareImageKeepsContent) {
  // scale [1, 1] on a square image: the only crop is the whole image (ratio 1 fits), so a same-size
  // output equals the input.
  const cv::Mat img = noise_image(12, 12, 3);
  SampleRng rng(9);
  cv::Mat out = paddlex::random_resized_crop(img, 12, 1.0, 1.0, rng);
  EXPECT_TRUE(same_mat(out, img));
}

TEST(ResizeShortCenterCrop, SizeAndCenter) {
  cv::Mat img = noise_image(40, 30, 2);
  cv::Mat out = paddlex::resize_short_center_crop(img, 32, 24);
  EXPECT_EQ(out.rows, 24);
  EXPECT_EQ(out.cols, 24);
  EXPECT_TRUE(out.isContinuous());

  // 60x20 image in three vertical stripes red | green | blue; short side 20 -> no resize, the centre
  // 20x20 crop is exactly the green stripe.
  cv::Mat stripes(20, 60, CV_8UC3, cv::Scalar(255, 0, 0));
  stripes(cv::Rect(20, 0, 20, 20)).setTo(cv::Scalar(0, 255, 0));
  stripes(cv::Rect(40, 0, 20, 20)).setTo(cv::Scalar(0, 0, 255));
  cv::Mat center = paddlex::resize_short_center_crop(stripes, 20, 20);
  EXPECT_TRUE(same_mat(center, cv::Mat(20, 20, CV_8UC3, cv::Scalar(0, 255, 0))));
}

TEST(HorizontalFlip, MirrorsColumns) {
  cv::Mat img = noise_image(5, 3, 4), flipped = img.clone();
  paddlex::horizontal_flip_inplace(flipped);
  for (int y = 0; y < 3; ++y)
    for (int x = 0; x < 5; ++x) EXPECT_EQ(flipped.at<cv::Vec3b>(y, x), img.at<cv::Vec3b>(y, 4 - x));
}

TEST(NormalizeToChw, HandComputed2x2) {
  cv::Mat img(2, 2, CV_8UC3);
  img.at<cv::Vec3b>(0, 0) = {0, 51, 255};
  img.at<cv::Vec3b>(0, 1) = {255, 102, 0};
  img.at<cv::Vec3b>(1, 0) = {127, 153, 10};
  img.at<cv::Vec3b>(1, 1) = {25, 204, 200};
  paddlex::NormalizeSpec norm;
  norm.mean = {0.5, 0.25, 0.0};
  norm.std = {0.5, 0.25, 2.0};
  std::vector<float> out(12, -99.0f);
  paddlex::normalize_to_chw(img, norm, out.data());
  // (v / 255 - mean) / std, channel-major, rows then columns.
  const std::vector<double> expected = {
      // R: (0, 255, 127, 25) -> (v/255 - 0.5) / 0.5
      -1.0, 1.0, 127.0 / 255 * 2 - 1, 25.0 / 255 * 2 - 1,
      // G: (51, 102, 153, 204) -> (v/255 - 0.25) / 0.25 = 0.8 - 1, 1.6 - 1, 2.4 - 1, 3.2 - 1
      -0.2, 0.6, 1.4, 2.2,
      // B: (255, 0, 10, 200) -> v / 255 / 2
      0.5, 0.0, 10.0 / 510, 200.0 / 510};
  for (size_t i = 0; i < 12; ++i) EXPECT_NEAR(out[i], expected[i], 1e-5) << "element " << i;
}

// ---------------------------------------------------------------- DataLoader

// Sample i -> row [i, low 32 bits of its seed]; target i. Optional: throws for one index, is slow for another.
class FakeSource : public SampleSource {
 public:
  explicit FakeSource(size_t n, int64_t bad_index = -1, int64_t slow_index = -1)
      : n_(n), bad_index_(bad_index), slow_index_(slow_index) {}
  size_t size() const override { return n_; }
  Batch allocate(size_t n) const override {
    Batch b;
    b.input = torch::zeros({static_cast<int64_t>(n), 2}, torch::kFloat64);
    b.target = torch::zeros({static_cast<int64_t>(n)}, torch::kInt64);
    return b;
  }
  void load(size_t index, uint64_t seed, Batch& batch, size_t slot) const override {
    if (static_cast<int64_t>(index) == bad_index_)
      throw paddlex::RunError("images/bad.png: cannot be decoded (sample " + std::to_string(index) + ")");
    if (static_cast<int64_t>(index) == slow_index_) std::this_thread::sleep_for(std::chrono::milliseconds(300));
    const auto row = static_cast<int64_t>(slot);
    batch.input[row][0] = static_cast<double>(index);
    batch.input[row][1] = static_cast<double>(seed & 0xFFFFFFFFULL);
    batch.target[row] = static_cast<int64_t>(index);
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
    if (!torch::equal(a[i].input, b[i].input)) return ::testing::AssertionFailure() << "batch " << i << ": input";
    if (!torch::equal(a[i].target, b[i].target)) return ::testing::AssertionFailure() << "batch " << i << ": target";
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
  EXPECT_EQ(batches[2].input.size(0), 2);
  for (const auto& b : batches)
    for (size_t r = 0; r < b.indices.size(); ++r) {
      EXPECT_EQ(b.input[r][0].item<double>(), static_cast<double>(b.indices[r]));
      EXPECT_EQ(b.target[r].item<int64_t>(), b.indices[r]);
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
        if (batches[i].indices[r] == index) return batches[i].input[r][1].item<double>();
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
  for (const auto& b : batches) EXPECT_EQ(b.input.size(0), 4);
  o.drop_last = false;
  DataLoader keep(source, o);
  auto kept = run_epoch(keep, 0);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept.back().input.size(0), 2);
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

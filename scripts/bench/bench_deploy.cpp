// Inference speed of one model, 224 px, on the CPU with a fixed thread count: LibTorch eager (eval, no grad, the
// BN-folded network that predict runs with run_mode libtorch) vs the exported inference.onnx in OpenCV dnn
// (run_mode onnx) and on oneDNN (our deployment path, run_mode mkldnn, predict's default for exported dirs).
// Writes the ONNX file for scripts/bench/ort_latency.py to time in onnxruntime.
// usage: bench_deploy MODEL THREADS ONNX_OUT
// Prints one line per runtime and batch: "<runtime> batch <n>: <ms> ms per batch (median of k), <img/s> images/s".
#include <ATen/Parallel.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "paddlex/inference/onednn_runner.h"
#include "paddlex/inference/onnx_runner.h"
#include "paddlex/modules/image_classification/models/classifier.h"

namespace {

double median_ms(const std::function<void()>& run, int warmup, int repeats) {
  for (int i = 0; i < warmup; ++i) run();
  std::vector<double> ms;
  for (int i = 0; i < repeats; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    run();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

void report(const char* runtime, int batch, double ms, int repeats) {
  std::printf("%-9s batch %2d: %8.2f ms per batch (median of %d), %7.1f images/s\n", runtime, batch, ms, repeats,
              batch * 1000.0 / ms);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s MODEL THREADS ONNX_OUT\n", argv[0]);
    return 2;
  }
  const std::string model_name = argv[1];
  const int threads = std::stoi(argv[2]);
  at::set_num_threads(threads);
  torch::manual_seed(0);
  auto model = paddlex::cls::create_classifier(model_name, 1000);
  model->eval();
  model->fold_batchnorm();
  paddlex::nn::OnnxGraph graph(model_name);
  model->to_onnx(graph);
  graph.check();
  std::ofstream(argv[3], std::ios::binary) << graph.serialize();
  paddlex::OnnxRunner onnx(argv[3], {"image"}, {"logits"});
  paddlex::OneDnnRunner onednn(argv[3], {"image"}, {"logits"});

  torch::NoGradGuard no_grad;
  for (int batch : {1, 16}) {
    const auto x = torch::randn({batch, 3, 224, 224});
    const int repeats = batch == 1 ? 40 : 8;
    report("libtorch", batch, median_ms([&] { model->logits(x); }, 5, repeats), repeats);
    report("opencv", batch, median_ms([&] { onnx.run({{"image", x}}); }, 5, repeats), repeats);
    report("onednn", batch, median_ms([&] { onednn.run({{"image", x}}); }, 5, repeats), repeats);
  }
  return 0;
}

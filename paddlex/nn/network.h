// The base of every task's model: what the generic trainer and exporter need from a network.
#pragma once
#include <torch/torch.h>

namespace paddlex {

class Network : public torch::nn::Module {
 public:
  ~Network() override = default;
  virtual torch::Tensor forward(torch::Tensor input) = 0;
  // Folds every BatchNorm into the conv before it and removes the BN submodules (deployment form).
  virtual void fold_batchnorm() = 0;
};

}  // namespace paddlex

// Data-parallel training on LibTorch's c10d: the process group, the torchrun / Slurm environment, and the
// gradient averaging that PyTorch's DistributedDataParallel would do (LibTorch has no C++ DDP).
#pragma once
#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace c10d {
class Work;
}

namespace paddlex {

// Where this process sits in a distributed job.
struct DistEnv {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string launcher = "none";  // "torchrun" (MASTER_*/RANK/WORLD_SIZE), "slurm", or "none"
  bool distributed() const { return world_size > 1; }
};

using EnvLookup = std::function<const char*(const char*)>;

// torchrun's RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT; else Slurm's SLURM_PROCID, SLURM_NTASKS,
// SLURM_LOCALID with the first host of SLURM_JOB_NODELIST (or SLURM_NODELIST) as master (MASTER_ADDR/PORT win
// when set). Throws RunError for malformed values.
DistEnv read_dist_env(const EnvLookup& lookup = [](const char* name) { return std::getenv(name); });

// A TCP port on 127.0.0.1 that is free right now (for self-launched jobs).
int find_free_port();

// The first host of a Slurm node list: "gpu[03-05,07],cpu1" -> "gpu03".
std::string first_slurm_host(const std::string& nodelist);

// One process's membership in the process group (Gloo on CPU; NCCL on CUDA builds).
class DistContext {
 public:
  // Rendezvous through a TCPStore on master_addr:master_port (rank 0 hosts it); Gloo for a CPU `device`,
  // NCCL for a CUDA one (CUDA builds). Throws RunError when the rendezvous fails or times out.
  DistContext(const DistEnv& env, std::chrono::seconds timeout, torch::Device device = torch::kCPU);
  ~DistContext();
  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  int local_rank() const { return env_.local_rank; }

  // Rank 0's parameters and buffers to every rank.
  void broadcast_module(torch::nn::Module& module);
  // Rank 0's buffers only (BatchNorm statistics, which each rank updates from its own shard).
  void broadcast_buffers(torch::nn::Module& module);
  // Hooks the parameters of `module` so that each bucket's all-reduce starts during backward as soon as all of
  // its gradients exist (communication overlaps the rest of backward, as in PyTorch's DDP).
  void attach(torch::nn::Module& module);
  // Completes the step's all-reduces (starting those the hooks did not) and makes every parameter's .grad the
  // gradients summed over the ranks and divided by the world size. The .grad tensors are views of the buckets
  // until the next backward overwrites them: reset them to undefined before each backward (TrainStep does),
  // never accumulate into them.
  void average_gradients(torch::nn::Module& module);
  // Wall time spent in average_gradients so far (the data-parallel overhead of the step).
  double gradient_sync_seconds() const { return sync_seconds_; }
  // Rank 0's values to every rank.
  std::vector<double> broadcast_values(std::vector<double> values);
  // Every rank's `mine`, in rank order, on every rank (evaluation states; variable sizes).
  std::vector<std::string> all_gather_bytes(const std::string& mine);
  // True on every rank when `flag` is true on any rank (a stop request reaching one rank stops all together).
  bool any(bool flag);
  // The same for several flags in one collective.
  std::vector<bool> any(const std::vector<bool>& flags);

 private:
  struct Bucket;
  struct Impl;
  void join();  // waits until every rank has reached the store; names those that never do
  void broadcast_tensors(std::vector<at::Tensor> tensors);  // rank 0's values, as one collective
  void build_buckets(torch::nn::Module& module);
  void on_gradient(size_t index, const at::Tensor& grad);
  at::Tensor slot_view(size_t index) const;  // parameter `index`'s place in its bucket, shaped like it
  // Publishes in the store how many collectives this rank has entered, so that a rank whose collective fails
  // can name the peers that never arrived (missing_peers).
  void mark_progress();
  void complete_collective();
  std::string missing_peers();
  // Waits for a collective; a lost or stalled peer becomes a RunError naming it after Global.dist_timeout.
  void wait(const c10::intrusive_ptr<c10d::Work>& work, const char* what);

  DistEnv env_;
  std::chrono::seconds timeout_;
  std::unique_ptr<Impl> impl_;
  double sync_seconds_ = 0.0;
  int64_t progress_ = 0;          // collectives entered
  bool progress_marked_ = false;  // the current collective is already counted (hooks start it in backward)
};

}  // namespace paddlex

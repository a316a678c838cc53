#include "paddlex/trainers/distributed.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <functional>
#include <sstream>

#include "paddlex/core/errors.h"

namespace paddlex {
namespace {

int parse_env_int(const EnvLookup& lookup, const char* name, int fallback) {
  const char* value = lookup(name);
  if (!value || !*value) return fallback;
  try {
    size_t used = 0;
    int v = std::stoi(value, &used);
    if (used == std::string(value).size() && v >= 0) return v;
  } catch (const std::exception&) {
  }
  throw RunError(std::string("environment variable ") + name + "='" + value + "' is not a non-negative integer");
}

// All-reduce buckets of about this size: large enough for efficient messages, small enough that the first
// ones complete early in backward and their communication overlaps the rest of it.
constexpr int64_t kBucketBytes = 4 * 1024 * 1024;

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

int find_free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0) ::close(fd);
    throw RunError("cannot find a free TCP port on 127.0.0.1 for the rendezvous");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string first_slurm_host(const std::string& nodelist) {
  // The first entry ends at a comma outside brackets.
  std::string first;
  int depth = 0;
  for (char c : nodelist) {
    if (c == '[') ++depth;
    if (c == ']') --depth;
    if (c == ',' && depth == 0) break;
    first += c;
  }
  const auto open = first.find('[');
  if (open == std::string::npos) return first;
  std::string range = first.substr(open + 1, first.find(']') - open - 1);
  range = range.substr(0, range.find_first_of(",-"));  // first number of the first range
  return first.substr(0, open) + range;
}

DistEnv read_dist_env(const EnvLookup& lookup) {
  DistEnv env;
  auto text = [&](const char* name) -> std::string {
    const char* v = lookup(name);
    return v ? v : "";
  };
  if (!text("RANK").empty() || !text("WORLD_SIZE").empty()) {
    env.launcher = "torchrun";
    env.rank = parse_env_int(lookup, "RANK", 0);
    env.world_size = parse_env_int(lookup, "WORLD_SIZE", 1);
    env.local_rank = parse_env_int(lookup, "LOCAL_RANK", env.rank);
  } else if (!text("SLURM_PROCID").empty() && !text("SLURM_NTASKS").empty()) {
    env.launcher = "slurm";
    env.rank = parse_env_int(lookup, "SLURM_PROCID", 0);
    env.world_size = parse_env_int(lookup, "SLURM_NTASKS", 1);
    env.local_rank = parse_env_int(lookup, "SLURM_LOCALID", 0);
    std::string nodes = text("SLURM_JOB_NODELIST").empty() ? text("SLURM_NODELIST") : text("SLURM_JOB_NODELIST");
    if (!nodes.empty()) env.master_addr = first_slurm_host(nodes);
  }
  if (!text("MASTER_ADDR").empty()) env.master_addr = text("MASTER_ADDR");
  env.master_port = parse_env_int(lookup, "MASTER_PORT", env.master_port);
  if (env.world_size < 1) throw RunError("distributed environment: world size must be at least 1");
  if (env.rank >= env.world_size)
    throw RunError("distributed environment: rank " + std::to_string(env.rank) + " is not below the world size " +
                   std::to_string(env.world_size));
  if (env.master_port < 1 || env.master_port > 65535)
    throw RunError("distributed environment: MASTER_PORT " + std::to_string(env.master_port) + " is not a port");
  return env;
}

// Gradients of consecutive parameters (in backward order) flattened into one all-reduce.
struct DistContext::Bucket {
  at::Tensor flat;
  std::vector<size_t> params;  // parameter indices
  int64_t numel = 0;
  size_t ready = 0;            // parameters whose gradient arrived this step
  std::vector<bool> filled;    // by parameter index
  c10::intrusive_ptr<c10d::Work> work;
  std::vector<at::Tensor> io;  // {flat}: the argument c10d's allreduce takes
};

struct DistContext::Impl {
  using Collective = std::function<c10::intrusive_ptr<c10d::Work>(std::vector<at::Tensor>&)>;
  c10::intrusive_ptr<c10d::Store> store;
  // The group's collectives as callables: the backend classes derive from ProcessGroup in LibTorch 1.13 and
  // from Backend in 2.x, so no common base type holds both.
  Collective allreduce, broadcast;
  torch::Device device = torch::kCPU;  // where the group's tensors live (CUDA for NCCL)
  std::vector<at::Tensor> params;
  std::vector<Bucket> buckets;
  std::vector<std::pair<size_t, int64_t>> slot;  // parameter index -> (bucket, offset in its flat buffer)
};

DistContext::DistContext(const DistEnv& env, std::chrono::seconds timeout, torch::Device device)
    : env_(env), timeout_(timeout), impl_(std::make_unique<Impl>()) {
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  auto bind = [this](auto group) {
    impl_->allreduce = [group](std::vector<at::Tensor>& t) { return group->allreduce(t); };
    impl_->broadcast = [group](std::vector<at::Tensor>& t) { return group->broadcast(t); };
  };
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(env.master_port);
    store_options.isServer = env.rank == 0;
    store_options.numWorkers = env.world_size;
    store_options.waitWorkers = true;
    store_options.timeout = timeout;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
    if (device.is_cuda()) {
#ifdef USE_C10D_NCCL
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;
      bind(c10::make_intrusive<c10d::ProcessGroupNCCL>(impl_->store, env.rank, env.world_size, options));
      impl_->device = device;
#else
      throw RunError("this build has no NCCL process group (build against a CUDA LibTorch; docs/DISTRIBUTED.md)");
#endif
    } else {
      auto options = c10d::ProcessGroupGloo::Options::create();
      options->timeout = timeout;
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      bind(c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, env.rank, env.world_size, options));
    }
  } catch (const RunError&) {
    throw;
  } catch (const std::exception& e) {
    throw RunError("rank " + std::to_string(env.rank) + ": rendezvous with " + std::to_string(env.world_size) +
                   " processes at " + where + " failed (port taken, master unreachable, or a peer missing for " +
                   std::to_string(timeout.count()) + " s): " + first_line(e.what()));
  }
}

DistContext::~DistContext() = default;

namespace {
// Waits for a collective; a lost or stalled peer becomes a RunError after the process group's timeout.
void wait_for(const c10::intrusive_ptr<c10d::Work>& work, int rank, const char* what, std::chrono::seconds timeout) {
  try {
    work->wait();
  } catch (const std::exception& e) {
    throw RunError("rank " + std::to_string(rank) + ": " + what + " failed, a peer process is gone or did not answer "
                   "within Global.dist_timeout=" + std::to_string(timeout.count()) + " s: " + first_line(e.what()));
  }
}
}  // namespace

void DistContext::broadcast_module(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> tensors;
  for (auto& p : module.parameters()) tensors.push_back(p);
  for (auto& b : module.buffers()) tensors.push_back(b);
  for (auto& t : tensors) {
    // Gloo broadcasts contiguous tensors; channels_last parameters go through a contiguous copy.
    std::vector<at::Tensor> one{t.is_contiguous() ? t : t.contiguous()};
    wait_for(impl_->broadcast(one), env_.rank, "broadcasting the initial weights", timeout_);
    if (!one[0].is_same(t)) t.copy_(one[0]);
  }
}

void DistContext::attach(torch::nn::Module& module) {
  build_buckets(module);
  for (size_t i = 0; i < impl_->params.size(); ++i)
    impl_->params[i].register_hook([this, i](const at::Tensor& grad) { on_gradient(i, grad); });
}

void DistContext::build_buckets(torch::nn::Module& module) {
  impl_->params = module.parameters();
  impl_->buckets.clear();
  impl_->slot.assign(impl_->params.size(), {0, 0});
  // Backward produces gradients roughly from the last layer to the first: buckets follow that order so the
  // first buckets complete (and start their all-reduce) while backward still runs.
  int64_t bytes = 0;
  for (size_t k = impl_->params.size(); k-- > 0;) {
    const at::Tensor& p = impl_->params[k];
    if (impl_->buckets.empty() || bytes + static_cast<int64_t>(p.nbytes()) > kBucketBytes) {
      impl_->buckets.emplace_back();
      bytes = 0;
    }
    Bucket& b = impl_->buckets.back();
    impl_->slot[k] = {impl_->buckets.size() - 1, b.numel};
    b.params.push_back(k);
    b.numel += p.numel();
    bytes += static_cast<int64_t>(p.nbytes());
  }
  for (auto& b : impl_->buckets) {
    b.flat = torch::zeros({b.numel}, impl_->params.front().options());
    b.io = {b.flat};
    b.filled.assign(impl_->params.size(), false);
  }
}

void DistContext::on_gradient(size_t index, const at::Tensor& grad) {
  const auto [bucket_index, offset] = impl_->slot[index];
  Bucket& b = impl_->buckets[bucket_index];
  torch::NoGradGuard no_grad;
  b.flat.narrow(0, offset, grad.numel()).view(grad.sizes()).copy_(grad);
  if (!b.filled[index]) {
    b.filled[index] = true;
    if (++b.ready == b.params.size()) b.work = impl_->allreduce(b.io);
  }
}

void DistContext::average_gradients(torch::nn::Module& module) {
  const auto start = std::chrono::steady_clock::now();
  torch::NoGradGuard no_grad;
  if (impl_->buckets.empty()) build_buckets(module);  // not attached: bucket on the first step, reuse after
  const double scale = 1.0 / env_.world_size;
  for (auto& b : impl_->buckets) {
    if (!b.work) {  // not attached, or parameters that received no gradient this step (zeros stand in)
      for (size_t k : b.params) {
        if (b.filled[k]) continue;
        const at::Tensor& p = impl_->params[k];
        at::Tensor slot = b.flat.narrow(0, impl_->slot[k].second, p.numel()).view(p.sizes());
        if (p.grad().defined()) {
          slot.copy_(p.grad());
        } else {
          slot.zero_();
        }
      }
      b.work = impl_->allreduce(b.io);
    }
    wait_for(b.work, env_.rank, "all-reducing gradients", timeout_);
    b.flat.mul_(scale);
    for (size_t k : b.params) {
      at::Tensor& p = impl_->params[k];
      at::Tensor averaged = b.flat.narrow(0, impl_->slot[k].second, p.numel()).view(p.sizes());
      if (p.grad().defined()) {
        p.mutable_grad().copy_(averaged);
      } else {
        p.mutable_grad() = averaged.clone();
      }
    }
    b.work.reset();
    b.ready = 0;
    std::fill(b.filled.begin(), b.filled.end(), false);
  }
  sync_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::vector<double> DistContext::broadcast_values(std::vector<double> values) {
  std::vector<at::Tensor> t{torch::tensor(values, torch::kDouble).to(impl_->device)};
  wait_for(impl_->broadcast(t), env_.rank, "broadcasting metrics", timeout_);
  const at::Tensor result = t[0].cpu();
  auto acc = result.accessor<double, 1>();
  for (size_t i = 0; i < values.size(); ++i) values[i] = acc[static_cast<int64_t>(i)];
  return values;
}

bool DistContext::any(bool flag) {
  std::vector<at::Tensor> t{torch::full({1}, flag ? 1.0f : 0.0f, torch::TensorOptions().device(impl_->device))};
  wait_for(impl_->allreduce(t), env_.rank, "synchronizing", timeout_);
  return t[0].item<float>() > 0.0f;
}

}  // namespace paddlex

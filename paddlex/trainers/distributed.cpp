#include "paddlex/trainers/distributed.h"

#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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

// Flattened all-reduce buckets of about this size: few, large messages (as DDP's 25 MB default).
constexpr int64_t kBucketBytes = 25 * 1024 * 1024;

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

struct DistContext::Impl {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroup> group;
};

DistContext::DistContext(const DistEnv& env, std::chrono::seconds timeout)
    : env_(env), timeout_(timeout), impl_(std::make_unique<Impl>()) {
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(env.master_port);
    store_options.isServer = env.rank == 0;
    store_options.numWorkers = env.world_size;
    store_options.waitWorkers = true;
    store_options.timeout = timeout;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
    auto options = c10d::ProcessGroupGloo::Options::create();
    options->timeout = timeout;
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    impl_->group = c10::make_intrusive<c10d::ProcessGroupGloo>(impl_->store, env.rank, env.world_size, options);
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
    wait_for(impl_->group->broadcast(one), env_.rank, "broadcasting the initial weights", timeout_);
    if (!one[0].is_same(t)) t.copy_(one[0]);
  }
}

void DistContext::average_gradients(torch::nn::Module& module) {
  const auto start = std::chrono::steady_clock::now();
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> grads;
  for (auto& p : module.parameters()) {
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    grads.push_back(p.grad());
  }
  // Bucket: flatten consecutive gradients up to kBucketBytes, all-reduce every bucket, then unflatten.
  std::vector<std::vector<at::Tensor>> buckets;
  int64_t bytes = 0;
  for (auto& g : grads) {
    if (buckets.empty() || (bytes + static_cast<int64_t>(g.nbytes()) > kBucketBytes && !buckets.back().empty())) {
      buckets.emplace_back();
      bytes = 0;
    }
    buckets.back().push_back(g);
    bytes += static_cast<int64_t>(g.nbytes());
  }
  std::vector<std::vector<at::Tensor>> flats;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  for (auto& bucket : buckets) {
    std::vector<at::Tensor> parts;
    for (auto& g : bucket) parts.push_back(g.reshape({-1}));  // reshape copies channels_last grads
    flats.push_back({torch::cat(parts)});
    works.push_back(impl_->group->allreduce(flats.back()));
  }
  const double scale = 1.0 / env_.world_size;
  for (size_t b = 0; b < buckets.size(); ++b) {
    wait_for(works[b], env_.rank, "all-reducing gradients", timeout_);
    at::Tensor flat = flats[b][0].mul_(scale);
    int64_t offset = 0;
    for (auto& g : buckets[b]) {
      g.copy_(flat.narrow(0, offset, g.numel()).view(g.sizes()));
      offset += g.numel();
    }
  }
  sync_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::vector<double> DistContext::broadcast_values(std::vector<double> values) {
  std::vector<at::Tensor> t{torch::tensor(values, torch::kDouble)};
  wait_for(impl_->group->broadcast(t), env_.rank, "broadcasting metrics", timeout_);
  auto acc = t[0].accessor<double, 1>();
  for (size_t i = 0; i < values.size(); ++i) values[i] = acc[static_cast<int64_t>(i)];
  return values;
}

bool DistContext::any(bool flag) {
  std::vector<at::Tensor> t{torch::full({1}, flag ? 1.0f : 0.0f)};
  wait_for(impl_->group->allreduce(t), env_.rank, "synchronizing", timeout_);
  return t[0].item<float>() > 0.0f;
}

}  // namespace paddlex

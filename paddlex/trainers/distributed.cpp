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

#include <cstring>
#include <functional>
#include <sstream>
#include <thread>

#include "paddlex/core/errors.h"
#include "paddlex/core/text.h"

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
  at::Tensor inverse_world_size;                 // 1 / world size, a scalar tensor for mul_out
};

namespace {
std::string joined_key(int rank) { return "paddlex/joined/" + std::to_string(rank); }

// A failed TCPStore start, in the user's terms.
RunError store_error(const DistEnv& env, std::chrono::seconds timeout, const std::string& cause) {
  const std::string where = env.master_addr + ":" + std::to_string(env.master_port);
  const std::string rank = "rank " + std::to_string(env.rank) + ": ";
  // LibTorch 1.13 says "Address already in use"; 2.x's libuv store "EADDRINUSE ... address already in use".
  if (ascii_lower(cause).find("address already in use") != std::string::npos)
    return RunError(rank + "cannot host the rendezvous at " + where + ": port " + std::to_string(env.master_port) +
                    " is taken on this host (set MASTER_PORT to a free port)");
  if (env.rank != 0)
    return RunError(rank + "cannot reach the master " + where + " within Global.dist_timeout=" +
                    std::to_string(timeout.count()) + " s (is rank 0 running there, and are MASTER_ADDR and " +
                    "MASTER_PORT right?): " + first_line(cause));
  return RunError(rank + "rendezvous at " + where + " failed: " + first_line(cause));
}
}  // namespace

DistContext::DistContext(const DistEnv& env, std::chrono::seconds timeout, torch::Device device)
    : env_(env), timeout_(timeout), impl_(std::make_unique<Impl>()) {
  try {
    c10d::TCPStoreOptions store_options;
    store_options.port = static_cast<uint16_t>(env.master_port);
    store_options.isServer = env.rank == 0;
    store_options.numWorkers = env.world_size;
    store_options.waitWorkers = false;  // join() below waits, and names the ranks that never come
    store_options.timeout = timeout;
    impl_->store = c10::make_intrusive<c10d::TCPStore>(env.master_addr, store_options);
  } catch (const std::exception& e) {
    throw store_error(env, timeout, e.what());
  }
  join();
  auto bind = [this](auto group) {
    impl_->allreduce = [group](std::vector<at::Tensor>& t) { return group->allreduce(t); };
    impl_->broadcast = [group](std::vector<at::Tensor>& t) { return group->broadcast(t); };
  };
  try {
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
    throw RunError("rank " + std::to_string(env.rank) + ": connecting the " + std::to_string(env.world_size) +
                   " processes of the group failed: " + first_line(e.what()));
  }
}

void DistContext::join() {
  std::vector<std::string> everyone;
  for (int r = 0; r < env_.world_size; ++r) everyone.push_back(joined_key(r));
  try {
    impl_->store->set(joined_key(env_.rank), std::vector<uint8_t>{1});
    impl_->store->wait(everyone, timeout_);
  } catch (const std::exception& e) {
    std::string missing;
    try {
      for (int r = 0; r < env_.world_size; ++r)
        if (!impl_->store->check({joined_key(r)})) missing += (missing.empty() ? "" : ", ") + std::to_string(r);
    } catch (const std::exception&) {
      missing = "0 (the master)";
    }
    throw RunError("rank " + std::to_string(env_.rank) + ": rendezvous of " + std::to_string(env_.world_size) +
                   " processes at " + env_.master_addr + ":" + std::to_string(env_.master_port) + " failed: " +
                   (missing.empty() ? first_line(e.what())
                                    : "rank(s) " + missing + " did not join within Global.dist_timeout=" +
                                          std::to_string(timeout_.count()) + " s"));
  }
}

DistContext::~DistContext() = default;

namespace {
std::string progress_key(int rank) { return "paddlex/progress/" + std::to_string(rank); }
std::string failed_key(int rank) { return "paddlex/failed/" + std::to_string(rank); }
// How long a rank whose collective failed waits for its peers to report the same failure.
constexpr std::chrono::seconds kFailureGrace{2};
}  // namespace

void DistContext::mark_progress() {
  if (progress_marked_) return;
  progress_marked_ = true;
  ++progress_;
  const std::string count = std::to_string(progress_);
  try {
    impl_->store->set(progress_key(env_.rank), std::vector<uint8_t>(count.begin(), count.end()));
  } catch (const std::exception&) {
    // The store's host is gone: the collective fails too, and the diagnosis says so.
  }
}

std::string DistContext::missing_peers() {
  try {
    impl_->store->setTimeout(std::chrono::seconds(2));
    // Ranks alive in this collective fail too and say so here; give them a moment before naming the silent.
    impl_->store->set(failed_key(env_.rank), std::vector<uint8_t>{1});
    const auto deadline = std::chrono::steady_clock::now() + std::min(timeout_, kFailureGrace);
    std::string missing;
    for (int r = 0; r < env_.world_size; ++r) {
      if (r == env_.rank) continue;
      int64_t reached = 0;
      if (impl_->store->check({progress_key(r)})) {
        const auto value = impl_->store->get(progress_key(r));
        reached = std::stoll(std::string(value.begin(), value.end()));
      }
      std::string why;
      if (reached < progress_) {
        why = std::to_string(progress_ - reached) + " collective(s) behind";
      } else {
        while (!impl_->store->check({failed_key(r)}) && std::chrono::steady_clock::now() < deadline)
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (!impl_->store->check({failed_key(r)})) why = "stopped answering during this collective";
      }
      if (!why.empty())
        missing += (missing.empty() ? "" : ", ") + std::string("rank ") + std::to_string(r) + " (" + why + ")";
    }
    if (missing.empty()) return "every peer reached this collective and saw it fail";
    return "missing peer: " + missing;
  } catch (const std::exception&) {
    return "missing peer: rank 0, whose rendezvous store at " + env_.master_addr + ":" +
           std::to_string(env_.master_port) + " no longer answers";
  }
}

void DistContext::wait(const c10::intrusive_ptr<c10d::Work>& work, const char* what) {
  try {
    work->wait();
  } catch (const std::exception& e) {
    throw RunError("rank " + std::to_string(env_.rank) + ": " + what + " failed within Global.dist_timeout=" +
                   std::to_string(timeout_.count()) + " s; " + missing_peers() + " [" + first_line(e.what()) + "]");
  }
}

void DistContext::complete_collective() { progress_marked_ = false; }

void DistContext::broadcast_module(torch::nn::Module& module) {
  std::vector<at::Tensor> tensors = module.parameters();
  for (auto& b : module.buffers()) tensors.push_back(b);
  broadcast_tensors(tensors);
}

void DistContext::broadcast_buffers(torch::nn::Module& module) { broadcast_tensors(module.buffers()); }

void DistContext::broadcast_tensors(std::vector<at::Tensor> tensors) {
  torch::NoGradGuard no_grad;
  mark_progress();
  for (auto& t : tensors) {
    // Gloo broadcasts contiguous tensors; channels_last parameters go through a contiguous copy.
    std::vector<at::Tensor> one{t.is_contiguous() ? t : t.contiguous()};
    wait(impl_->broadcast(one), "broadcasting rank 0's weights");
    if (!one[0].is_same(t)) t.copy_(one[0]);
  }
  complete_collective();
}

void DistContext::attach(torch::nn::Module& module) {
  build_buckets(module);
  for (size_t i = 0; i < impl_->params.size(); ++i)
    impl_->params[i].register_hook([this, i](const at::Tensor& grad) { on_gradient(i, grad); });
}

void DistContext::build_buckets(torch::nn::Module& module) {
  // Frozen parameters (e.g. a fixed query embedding) get no gradient: they stay out of the buckets.
  impl_->params.clear();
  for (const auto& p : module.parameters())
    if (p.requires_grad()) impl_->params.push_back(p);
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
  impl_->inverse_world_size = torch::scalar_tensor(1.0 / env_.world_size, impl_->params.front().options());
  for (auto& b : impl_->buckets) {
    b.flat = torch::zeros({b.numel}, impl_->params.front().options());
    b.io = {b.flat};
    b.filled.assign(impl_->params.size(), false);
  }
}

at::Tensor DistContext::slot_view(size_t index) const {
  const auto [bucket_index, offset] = impl_->slot[index];
  const at::Tensor& flat = impl_->buckets[bucket_index].flat;
  const at::Tensor& p = impl_->params[index];
  // Shares the bucket's memory without being an autograd view (Optimizer::zero_grad detaches gradients in
  // place, which views refuse), with the parameter's own strides (channels_last included) so that copies in
  // are straight, not permuting.
  at::Tensor alias = at::empty({0}, flat.options());
  alias.set_(flat.storage(), flat.storage_offset() + offset, p.sizes(), p.strides());
  return alias;
}

void DistContext::on_gradient(size_t index, const at::Tensor& grad) {
  Bucket& b = impl_->buckets[impl_->slot[index].first];
  torch::NoGradGuard no_grad;
  mark_progress();
  // Pre-dividing by the world size as the gradient lands makes the all-reduced sum the average: one pass
  // over the gradient instead of a copy here and a scaling after the all-reduce.
  at::Tensor slot = slot_view(index);
  at::mul_out(slot, grad, impl_->inverse_world_size);
  // A .grad still sharing the bucket (zeroed, not reset, since the last step) would have this gradient added
  // into the memory just written: drop it, so that backward stores the gradient afresh.
  at::Tensor& current = impl_->params[index].mutable_grad();
  if (current.defined() && current.storage().is_alias_of(b.flat.storage())) current.reset();
  if (!b.filled[index]) {
    b.filled[index] = true;
    if (++b.ready == b.params.size()) b.work = impl_->allreduce(b.io);
  }
}

void DistContext::average_gradients(torch::nn::Module& module) {
  const auto start = std::chrono::steady_clock::now();
  torch::NoGradGuard no_grad;
  if (impl_->buckets.empty()) build_buckets(module);  // not attached: bucket on the first step, reuse after
  mark_progress();
  for (auto& b : impl_->buckets) {
    if (!b.work) {  // not attached, or parameters that received no gradient this step (zeros stand in)
      for (size_t k : b.params) {
        if (b.filled[k]) continue;
        at::Tensor slot = slot_view(k);
        const at::Tensor& grad = impl_->params[k].grad();
        if (grad.defined()) {
          at::mul_out(slot, grad, impl_->inverse_world_size);
        } else {
          slot.zero_();
        }
      }
      b.work = impl_->allreduce(b.io);
    }
    wait(b.work, "all-reducing gradients");
    // The bucket now holds the averages: the gradients become views of it, with no copy back.
    for (size_t k : b.params) impl_->params[k].mutable_grad() = slot_view(k);
    b.work.reset();
    b.ready = 0;
    std::fill(b.filled.begin(), b.filled.end(), false);
  }
  complete_collective();
  sync_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::vector<double> DistContext::broadcast_values(std::vector<double> values) {
  std::vector<at::Tensor> t{torch::tensor(values, torch::kDouble).to(impl_->device)};
  mark_progress();
  wait(impl_->broadcast(t), "broadcasting metrics");
  complete_collective();
  const at::Tensor result = t[0].cpu();
  auto acc = result.accessor<double, 1>();
  for (size_t i = 0; i < values.size(); ++i) values[i] = acc[static_cast<int64_t>(i)];
  return values;
}

std::vector<std::string> DistContext::all_gather_bytes(const std::string& mine) {
  // Two sum all-reduces (sizes, then bytes at each rank's offset over zeros elsewhere) use only the collectives
  // every backend has, and give every rank all the pieces exactly.
  const auto world = static_cast<int64_t>(env_.world_size);
  std::vector<at::Tensor> sizes{torch::zeros({world}, torch::kInt64)};
  sizes[0][env_.rank] = static_cast<int64_t>(mine.size());
  sizes[0] = sizes[0].to(impl_->device);
  mark_progress();
  wait(impl_->allreduce(sizes), "gathering evaluation results");
  complete_collective();
  const at::Tensor counts = sizes[0].cpu();
  std::vector<int64_t> offsets(static_cast<size_t>(world) + 1, 0);
  for (int64_t r = 0; r < world; ++r) offsets[r + 1] = offsets[r] + counts[r].item<int64_t>();
  at::Tensor flat = torch::zeros({offsets.back()}, torch::kUInt8);
  if (!mine.empty()) std::memcpy(flat.data_ptr<uint8_t>() + offsets[env_.rank], mine.data(), mine.size());
  std::vector<at::Tensor> bytes{flat.to(impl_->device)};
  mark_progress();
  wait(impl_->allreduce(bytes), "gathering evaluation results");
  complete_collective();
  const at::Tensor all = bytes[0].cpu();
  std::vector<std::string> pieces;
  for (int64_t r = 0; r < world; ++r)
    pieces.emplace_back(reinterpret_cast<const char*>(all.data_ptr<uint8_t>()) + offsets[r],
                        static_cast<size_t>(offsets[r + 1] - offsets[r]));
  return pieces;
}

bool DistContext::any(bool flag) { return any(std::vector<bool>{flag}).front(); }

std::vector<bool> DistContext::any(const std::vector<bool>& flags) {
  std::vector<float> values(flags.begin(), flags.end());
  std::vector<at::Tensor> t{torch::tensor(values).to(impl_->device)};
  mark_progress();
  wait(impl_->allreduce(t), "synchronizing");
  complete_collective();
  const at::Tensor sums = t[0].cpu();
  std::vector<bool> out;
  for (size_t i = 0; i < flags.size(); ++i) out.push_back(sums[static_cast<int64_t>(i)].item<float>() > 0.0f);
  return out;
}

}  // namespace paddlex

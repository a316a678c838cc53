// Data-parallel building blocks: environment mapping and gradient averaging over Gloo.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <map>
#include <thread>

#include "paddlex/core/errors.h"
#include "paddlex/trainers/distributed.h"

using paddlex::DistEnv;

namespace {

paddlex::EnvLookup env_of(const std::map<std::string, std::string>& vars) {
  return [vars](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(DistEnv, NoLauncherMeansOneProcess) {
  DistEnv env = paddlex::read_dist_env(env_of({}));
  EXPECT_EQ(env.launcher, "none");
  EXPECT_EQ(env.world_size, 1);
  EXPECT_FALSE(env.distributed());
}

TEST(DistEnv, Torchrun) {
  DistEnv env = paddlex::read_dist_env(env_of(
      {{"RANK", "3"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"}, {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "1234"}}));
  EXPECT_EQ(env.launcher, "torchrun");
  EXPECT_EQ(env.rank, 3);
  EXPECT_EQ(env.world_size, 8);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.master_addr, "node7");
  EXPECT_EQ(env.master_port, 1234);
}

TEST(DistEnv, SlurmWithMasterFromNodeListAndMasterVariablesWinning) {
  auto vars = std::map<std::string, std::string>{{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "8"}, {"SLURM_LOCALID", "1"},
                                                 {"SLURM_JOB_NODELIST", "gpu[03-05,07],cpu1"}};
  DistEnv env = paddlex::read_dist_env(env_of(vars));
  EXPECT_EQ(env.launcher, "slurm");
  EXPECT_EQ(env.rank, 5);
  EXPECT_EQ(env.world_size, 8);
  EXPECT_EQ(env.local_rank, 1);
  EXPECT_EQ(env.master_addr, "gpu03");
  EXPECT_EQ(env.master_port, 29500);
  vars["MASTER_ADDR"] = "10.0.0.1";
  vars["MASTER_PORT"] = "4000";
  env = paddlex::read_dist_env(env_of(vars));
  EXPECT_EQ(env.master_addr, "10.0.0.1");
  EXPECT_EQ(env.master_port, 4000);
}

TEST(DistEnv, FirstSlurmHost) {
  EXPECT_EQ(paddlex::first_slurm_host("node1"), "node1");
  EXPECT_EQ(paddlex::first_slurm_host("node1,node2"), "node1");
  EXPECT_EQ(paddlex::first_slurm_host("gpu[003-010]"), "gpu003");
  EXPECT_EQ(paddlex::first_slurm_host("a[7,9],b[1-2]"), "a7");
}

TEST(DistEnv, MalformedValuesAreClearErrors) {
  EXPECT_THROW(paddlex::read_dist_env(env_of({{"RANK", "x"}, {"WORLD_SIZE", "2"}})), paddlex::RunError);
  EXPECT_THROW(paddlex::read_dist_env(env_of({{"RANK", "2"}, {"WORLD_SIZE", "2"}})), paddlex::RunError);
  EXPECT_THROW(paddlex::read_dist_env(env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "70000"}})),
               paddlex::RunError);
}

torch::nn::Sequential small_net() {
  return torch::nn::Sequential(torch::nn::Linear(6, 16), torch::nn::Functional(torch::relu), torch::nn::Linear(16, 3));
}

// K SGD-momentum steps on batches of `batch` samples; with a DistContext each rank takes its half.
void train_steps(torch::nn::Sequential& net, paddlex::DistContext* dist, const torch::Tensor& x, const torch::Tensor& y,
                 int steps, int64_t global_batch) {
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9).weight_decay(1e-3));
  const int world = dist ? dist->world_size() : 1, rank = dist ? dist->rank() : 0;
  const int64_t per_rank = global_batch / world;
  for (int s = 0; s < steps; ++s) {
    const int64_t begin = s * global_batch + rank * per_rank;
    opt.zero_grad();
    auto out = net->forward(x.narrow(0, begin, per_rank));
    torch::nn::functional::cross_entropy(out, y.narrow(0, begin, per_rank)).backward();
    if (dist) dist->average_gradients(*net);
    opt.step();
  }
}

// Both ways of averaging: after backward, and overlapped with backward through gradient hooks.
class TwoGlooRanks : public ::testing::TestWithParam<bool> {};

TEST_P(TwoGlooRanks, MatchOneProcessWithTwiceTheBatch) {
  const bool overlap = GetParam();
  torch::manual_seed(3);
  const int steps = 5;
  const int64_t global_batch = 8;
  auto x = torch::randn({steps * global_batch, 6});
  auto y = torch::randint(0, 3, {steps * global_batch});
  torch::manual_seed(11);
  auto single = small_net();
  train_steps(single, nullptr, x, y, steps, global_batch);

  DistEnv env;
  env.world_size = 2;
  env.master_port = paddlex::find_free_port();
  std::vector<torch::nn::Sequential> nets(2);
  auto rank_main = [&](int rank) {
    DistEnv mine = env;
    mine.rank = rank;
    torch::manual_seed(100 + rank);  // different initial weights: the broadcast must make them equal
    nets[rank] = small_net();
    paddlex::DistContext dist(mine, std::chrono::seconds(20));
    if (rank == 0) {
      torch::manual_seed(11);
      auto reference_init = small_net();
      torch::NoGradGuard no_grad;
      for (size_t i = 0; i < nets[0]->parameters().size(); ++i)
        nets[0]->parameters()[i].copy_(reference_init->parameters()[i]);
    }
    dist.broadcast_module(*nets[rank]);
    if (overlap) dist.attach(*nets[rank]);
    train_steps(nets[rank], &dist, x, y, steps, global_batch);
  };
  std::thread r0(rank_main, 0), r1(rank_main, 1);
  r0.join();
  r1.join();
  for (int rank = 0; rank < 2; ++rank) {
    auto params = nets[rank]->parameters(), expected = single->parameters();
    for (size_t i = 0; i < params.size(); ++i)
      EXPECT_LE((params[i] - expected[i]).abs().max().item<double>(), 1e-5) << "rank " << rank << " param " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(AfterBackwardAndOverlapped, TwoGlooRanks, ::testing::Bool());

TEST(DistContext, MissingPeerTimesOutWithAClearError) {
  DistEnv env;
  env.world_size = 2;
  env.master_port = paddlex::find_free_port();
  try {
    paddlex::DistContext dist(env, std::chrono::seconds(2));  // rank 1 never comes
    FAIL() << "rendezvous without the peer succeeded";
  } catch (const paddlex::RunError& e) {
    EXPECT_NE(std::string(e.what()).find("rendezvous of 2 processes at 127.0.0.1:" +
                                         std::to_string(env.master_port) +
                                         " failed: rank(s) 1 did not join within Global.dist_timeout=2 s"),
              std::string::npos) << e.what();
  }
}

// Rank `stalled` enters one collective fewer than the others and then stays alive without answering (a hung
// peer); the other rank's collective must time out with an error naming it.
std::string error_with_stalled_rank(int stalled) {
  DistEnv env;
  env.world_size = 2;
  env.master_port = paddlex::find_free_port();
  std::promise<std::string> error;
  std::promise<void> released;
  auto rank_main = [&](int rank) {
    DistEnv mine = env;
    mine.rank = rank;
    paddlex::DistContext dist(mine, std::chrono::seconds(2));
    dist.any(false);  // both ranks complete one collective
    if (rank == stalled) {
      released.get_future().wait();  // alive, connected, silent
      return;
    }
    try {
      dist.any(false);
      error.set_value("");
    } catch (const paddlex::RunError& e) {
      error.set_value(e.what());
    }
    released.set_value();
  };
  std::thread r0(rank_main, 0), r1(rank_main, 1);
  r0.join();
  r1.join();
  return error.get_future().get();
}

TEST(DistContext, TimedOutCollectiveNamesTheStalledPeer) {
  for (int stalled : {0, 1}) {
    const std::string error = error_with_stalled_rank(stalled);
    const std::string other = std::to_string(1 - stalled);
    EXPECT_NE(error.find("rank " + other + ": synchronizing failed within Global.dist_timeout=2 s"),
              std::string::npos) << error;
    EXPECT_NE(error.find("missing peer: rank " + std::to_string(stalled) + " (1 collective(s) behind)"),
              std::string::npos) << error;
  }
}

TEST(DistContext, PortTakenIsAClearRendezvousError) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  DistEnv env;
  env.world_size = 2;
  env.master_port = ntohs(addr.sin_port);
  try {
    paddlex::DistContext dist(env, std::chrono::seconds(2));
    ADD_FAILURE() << "rank 0 hosted the store on a port that is taken";
  } catch (const paddlex::RunError& e) {
    EXPECT_NE(std::string(e.what()).find("port " + std::to_string(env.master_port) + " is taken"),
              std::string::npos) << e.what();
  }
  ::close(fd);
}

TEST(DistContext, UnreachableMasterIsAClearRendezvousError) {
  DistEnv env;
  env.world_size = 2;
  env.rank = 1;
  env.master_port = paddlex::find_free_port();  // nobody listens there
  const auto start = std::chrono::steady_clock::now();
  try {
    paddlex::DistContext dist(env, std::chrono::seconds(2));
    ADD_FAILURE() << "rank 1 joined a master that does not exist";
  } catch (const paddlex::RunError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot reach the master 127.0.0.1:" + std::to_string(env.master_port)),
              std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 30.0);
}

}  // namespace

// Self-launch of a multi-device run: `main` starts one child per device itself (no torchrun needed).
#pragma once
#include <chrono>
#include <string>
#include <vector>

namespace paddlex {

// Runs this binary `nprocs` times with `args` and the torchrun environment (RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1, MASTER_PORT=a free port). Every rank's output goes to
// <output>/distributed_train_logs/rank_<r>.log and rank 0's also to the console; SIGINT/SIGTERM are forwarded.
// When a rank fails, the others get `timeout` plus a grace period to fail on their own, then are killed.
// Throws RunError naming the first failing rank and its log.
void launch_local_ranks(const std::vector<std::string>& args, int nprocs, const std::string& output,
                        std::chrono::seconds timeout);

}  // namespace paddlex

#include "paddlex/trainers/launcher.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <thread>

#include "paddlex/core/errors.h"
#include "paddlex/core/logging.h"
#include "paddlex/core/stop_signal.h"
#include "paddlex/trainers/distributed.h"

namespace fs = std::filesystem;

namespace paddlex {
namespace {

struct Child {
  pid_t pid = -1;
  int output_fd = -1;
  std::string log_path;
  int exit_code = -1;
  bool running = true;
};

// Copies a child's output to its log file (and to stdout for rank 0) until the child closes it.
void pump_output(int fd, const std::string& log_path, bool to_console) {
  std::ofstream log(log_path, std::ios::binary);
  static std::mutex console_mutex;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof(buf))) > 0) {
    log.write(buf, n);
    log.flush();
    if (to_console) {
      std::lock_guard<std::mutex> lock(console_mutex);
      std::cout.write(buf, n);
      std::cout.flush();
    }
  }
  ::close(fd);
}

pid_t start_rank(const std::vector<std::string>& args, int rank, int nprocs, int port, int& output_fd) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw RunError("cannot create a pipe for rank " + std::to_string(rank));
  pid_t pid = ::fork();
  if (pid < 0) throw RunError("cannot start rank " + std::to_string(rank) + " (fork failed)");
  if (pid == 0) {
    ::dup2(pipe_fds[1], 1);
    ::dup2(pipe_fds[1], 2);
    ::close(pipe_fds[0]);
    ::close(pipe_fds[1]);
    ::setenv("RANK", std::to_string(rank).c_str(), 1);
    ::setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
    ::setenv("WORLD_SIZE", std::to_string(nprocs).c_str(), 1);
    ::setenv("LOCAL_WORLD_SIZE", std::to_string(nprocs).c_str(), 1);
    ::setenv("MASTER_ADDR", "127.0.0.1", 1);
    ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
    std::vector<char*> argv{const_cast<char*>("main")};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv("/proc/self/exe", argv.data());
    std::perror("execv /proc/self/exe");
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  output_fd = pipe_fds[0];
  return pid;
}

}  // namespace

void launch_local_ranks(const std::vector<std::string>& args, int nprocs, const std::string& output,
                        std::chrono::seconds timeout) {
  const fs::path log_dir = fs::path(output) / "distributed_train_logs";
  fs::create_directories(log_dir);
  const int port = find_free_port();
  Log::info("Launching " + std::to_string(nprocs) + " training processes (rendezvous 127.0.0.1:" +
            std::to_string(port) + "); logs in '" + log_dir.string() + "'");
  std::vector<Child> children(static_cast<size_t>(nprocs));
  std::vector<std::thread> pumps;
  for (int r = 0; r < nprocs; ++r) {
    Child& c = children[static_cast<size_t>(r)];
    c.log_path = (log_dir / ("rank_" + std::to_string(r) + ".log")).string();
    c.pid = start_rank(args, r, nprocs, port, c.output_fd);
    Log::info("rank " + std::to_string(r) + ": pid " + std::to_string(c.pid));
    pumps.emplace_back(pump_output, c.output_fd, c.log_path, r == 0);
  }
  int first_failed = -1;
  bool forwarded = false, terminated = false;
  bool failed_unasked = false;  // a rank failed before anyone asked the job to stop
  auto failure_time = std::chrono::steady_clock::now();
  const auto grace = timeout + std::chrono::seconds(30);
  for (int running = nprocs; running > 0;) {
    int status = 0;
    pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (size_t r = 0; r < children.size(); ++r) {
        Child& c = children[r];
        if (c.pid != pid) continue;
        c.running = false;
        c.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        --running;
        if (c.exit_code != 0 && first_failed < 0) {
          first_failed = static_cast<int>(r);
          failure_time = std::chrono::steady_clock::now();
          failed_unasked = !stop_requested();
        }
      }
      continue;
    }
    if (stop_requested() && !forwarded) {  // Ctrl-C / SIGTERM reach the ranks, which checkpoint and stop
      for (auto& c : children)
        if (c.running) ::kill(c.pid, stop_signal_number());
      forwarded = true;
    }
    // A failed rank makes the others fail within the collective timeout; past that, stop them.
    if (first_failed >= 0 && !terminated && std::chrono::steady_clock::now() - failure_time > grace) {
      for (auto& c : children)
        if (c.running) ::kill(c.pid, SIGKILL);
      terminated = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  for (auto& t : pumps) t.join();
  if (first_failed >= 0 && stop_requested() && !failed_unasked) {
    // The ranks stopped because they were asked to; rank 0 has printed where its checkpoint is.
    std::string codes;
    for (const auto& c : children) codes += (codes.empty() ? "" : ", ") + std::to_string(c.exit_code);
    throw RunError("stopped by signal " + std::to_string(stop_signal_number()) + " (rank exit codes " + codes +
                   "); rank 0's message above names the checkpoint to resume from");
  }
  if (first_failed >= 0) {
    const Child& c = children[static_cast<size_t>(first_failed)];
    throw RunError("rank " + std::to_string(first_failed) + " failed with exit code " + std::to_string(c.exit_code) +
                   "; see '" + c.log_path + "'");
  }
}

}  // namespace paddlex

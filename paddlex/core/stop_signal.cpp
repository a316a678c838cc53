#include "paddlex/core/stop_signal.h"

#include <csignal>

namespace paddlex {
namespace {

volatile std::sig_atomic_t g_signal = 0;

void on_signal(int signo) {
  if (g_signal != 0) {  // second signal: the user insists
    std::signal(signo, SIG_DFL);
    std::raise(signo);
    return;
  }
  g_signal = signo;
}

}  // namespace

void install_stop_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

bool stop_requested() { return g_signal != 0; }

int stop_signal_number() { return g_signal; }

}  // namespace paddlex

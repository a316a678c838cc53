// Graceful stop on SIGINT/SIGTERM (Ctrl-C, Slurm preemption, `kill`): the first signal asks the trainer
// to checkpoint at the next step boundary and exit; a second one ends the process at once.
#pragma once

namespace paddlex {

void install_stop_handlers();
bool stop_requested();
// The signal that asked to stop (for the message), 0 if none.
int stop_signal_number();

}  // namespace paddlex

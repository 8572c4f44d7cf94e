// How a command joins a distributed run: the world its launcher describes in the environment
// (nasforge launch, torchrun, Slurm, MPI; a plain process is a world of one), joined over c10d.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "nasforge/distributed/group.h"

namespace nasforge::cli {

// The group of this process's world; a world of one joins nothing. The timeout of the
// rendezvous and of every collective is NASFORGE_DIST_TIMEOUT seconds (default 300; nasforge
// launch --timeout sets it). Errors name the variable or the rendezvous that failed.
StatusOr<std::shared_ptr<distributed::Group>> join_group();

// The seconds in NASFORGE_DIST_TIMEOUT (nasforge launch --timeout sets it), or 300: how long a
// rendezvous, a collective, or a search worker's connection to its driver may wait.
StatusOr<std::chrono::milliseconds> dist_timeout();

// Every rank must start from the same state: an allgather of `digest` (the trainer's
// state_digest after any resume). An error names the ranks that differ from rank 0.
Status agree_on_start(distributed::Group& group, const std::string& digest);

// ", on K ranks" for a distributed run's first status line; empty for a world of one.
std::string ranks_note(const distributed::Group& group);

// Why a command that is not distributed may not run as `ranks` ranks, naming those that are.
std::string not_distributed(int ranks);

// The world the environment describes (a world of one when it names none, or names it wrongly:
// join_group reports that).
distributed::World current_world();

}  // namespace nasforge::cli

// search --workers K and search under a launcher: the driver's worker settings, and the worker
// side of the same command (docs/distributed.md, "Parallel search").
#pragma once

#include <optional>

#include "cli.h"
#include "nasforge/evaluation/search.h"

namespace nasforge::cli {

// Fills c.workers from --workers, --worker-timeout and the launcher's world (rank 0 drives the
// other ranks). False after printing what is wrong.
bool configure_workers(const Command& cmd, const Args& a, evaluation::SearchConfig& c);

// When this process is a search worker (started by a driver, or a rank above 0 under a
// launcher), serves trials until dismissed and returns the exit code; else nullopt.
std::optional<int> serve_if_worker(const Command& cmd, const Args& a,
                                   const evaluation::SearchConfig& c);

}  // namespace nasforge::cli

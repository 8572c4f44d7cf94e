// A task board over c10d's TCPStore: one driver hands tasks to workers one at a time and reads
// their replies; workers beat a heartbeat from a thread of their own, so a driver tells a worker
// that is busy from one that is gone. The parallel search (evaluation/parallel.h) runs on it.
//
// Keys, under "nasforge.search/", per worker id W (unique for the driver's lifetime; a restarted
// worker gets a new one):
//   agreement           what every worker must match (the driver's search configuration)
//   hello/W             "ok" once W has joined, or "refused: WHY"
//   task/W/N, reply/W/N W's N-th task and its reply (removed once read)
//   beat/W              a counter W's heartbeat thread increments
//   bye/W               set by W once it has read its dismissal
// Torch-free header.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "nasforge/searchspace/status.h"

namespace nasforge::distributed {

struct BoardOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // the driver's: 0 picks a free one (read it back with port())
  // The store is served already (torchrun's agent store): the driver joins it as a client.
  bool existing_store = false;
  // How long one store operation, and a worker's connection, may take.
  std::chrono::milliseconds timeout{std::chrono::seconds(60)};
  std::chrono::milliseconds beat{std::chrono::milliseconds(500)};  // heartbeat period
};

struct Task {
  uint64_t ticket = 0;
  int attempt = 1;  // 2 when a worker died evaluating it before
  std::string payload;
};

class TaskBoard {
 public:
  // Serves the store at options.host:options.port. `agreement` is published for workers to check.
  static StatusOr<std::unique_ptr<TaskBoard>> serve(const BoardOptions& options,
                                                    const std::string& agreement);
  ~TaskBoard();
  int port() const;

  enum class Join { kNotYet, kJoined, kRefused };
  // Whether worker `w` has joined; a refusal's reason goes to `why`.
  Join joined(int w, std::string* why);
  // Gives `w` its next task. One at a time: the previous one's reply must have been read.
  void assign(int w, const Task& task);
  // The reply to `w`'s current task, once it is there (read and removed).
  std::optional<std::string> reply(int w);
  // How long `w`'s heartbeat has not moved (zero until it has been seen once).
  std::chrono::milliseconds silence(int w);
  // Tells `w` to exit after its current task.
  void dismiss(int w);
  // Whether `w` has read its dismissal (the driver's store must outlive that read).
  bool left(int w);

  struct Impl;

 private:
  explicit TaskBoard(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class TaskClient {
 public:
  // Connects worker `w` to the board at host:port, checks `agreement` against the driver's
  // (a mismatch is refused, on both sides, with the two values) and starts the heartbeat.
  static StatusOr<std::unique_ptr<TaskClient>> join(const BoardOptions& options, int w,
                                                    const std::string& agreement);
  ~TaskClient();
  // Waits for the next task; nullopt when the driver dismissed this worker. An error when the
  // driver is gone (its store stopped answering).
  StatusOr<std::optional<Task>> next();
  Status reply(const Task& task, const std::string& payload);

  struct Impl;

 private:
  explicit TaskClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nasforge::distributed

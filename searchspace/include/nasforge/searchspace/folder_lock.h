// One writer per run folder. A FolderLock holds an advisory lock (flock) on DIR/.nasforge.lock
// for as long as it lives; the file records the holder's PID and command. The kernel drops the
// lock when the process ends in any way, so a kill -9 leaves no stale lock behind: the file
// stays, but nothing holds it. Readers (explain, export --run) do not take it.
#pragma once

#include <optional>
#include <string>

#include "nasforge/searchspace/status.h"

namespace nasforge {

class FolderLock {
 public:
  // Locks `dir` (created if missing) for `what` (for example "nasforge search"). When another
  // process holds it, the error names the folder, that process's PID and its command.
  static StatusOr<FolderLock> acquire(const std::string& dir, const std::string& what);

  // Whether a live process holds `dir`'s lock now, without taking it: its "PID COMMAND" when one
  // does, nullopt when none does (or the folder has no lock file). For readers that show a run
  // as still going (report).
  static std::optional<std::string> holder(const std::string& dir);

  FolderLock() = default;
  FolderLock(FolderLock&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) { o.fd_ = -1; }
  FolderLock& operator=(FolderLock&& o) noexcept;
  FolderLock(const FolderLock&) = delete;
  FolderLock& operator=(const FolderLock&) = delete;
  ~FolderLock();

  bool held() const { return fd_ >= 0; }
  const std::string& path() const { return path_; }  // DIR/.nasforge.lock

 private:
  int fd_ = -1;
  std::string path_;
};

}  // namespace nasforge

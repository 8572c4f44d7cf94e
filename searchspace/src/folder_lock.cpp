#include "nasforge/searchspace/folder_lock.h"
#include "nasforge/searchspace/files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace nasforge {

namespace {

// What the holder wrote into the lock file: "PID COMMAND".
std::string holder_of(int fd) {
  char buf[256] = {};
  const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  std::string s = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

StatusOr<FolderLock> FolderLock::acquire(const std::string& dir, const std::string& what) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return FailedPrecondition(dir + ": cannot create the folder (" + ec.message() + ")");
  FolderLock lock;
  lock.path_ = (std::filesystem::path(dir) / ".nasforge.lock").string();
  lock.fd_ = ::open(lock.path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (lock.fd_ < 0 && (errno == EACCES || errno == EPERM || errno == EROFS))
    return FailedPrecondition(dir + ": cannot write in the folder (" + std::strerror(errno) +
                              "), which its writer must; use another --out");
  if (lock.fd_ < 0)
    return FailedPrecondition(lock.path_ + ": cannot open the folder's lock file (" +
                              std::strerror(errno) + ")");
  if (::flock(lock.fd_, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err != EWOULDBLOCK)
      return FailedPrecondition(lock.path_ + ": cannot lock (" + std::strerror(err) + ")");
    std::string holder = holder_of(lock.fd_);
    const size_t space = holder.find(' ');
    const std::string pid = holder.empty() ? "unknown" : holder.substr(0, space);
    const std::string cmd = space == std::string::npos ? "" : holder.substr(space + 1);
    return FailedPrecondition(dir + " is in use by another process (PID " + pid +
                              (cmd.empty() ? "" : ", " + cmd) +
                              "), which holds its lock; wait for it to finish, or use another "
                              "--out");
  }
  const std::string me = std::to_string(::getpid()) + " " + what + "\n";
  if (::ftruncate(lock.fd_, 0) != 0 ||
      ::pwrite(lock.fd_, me.data(), me.size(), 0) != static_cast<ssize_t>(me.size()))
    return FailedPrecondition(lock.path_ + ": cannot write the lock file (" + std::strerror(errno) +
                              ")");
  remove_stale_temporaries(dir);  // left by a writer killed mid-write; the folder is ours now
  return lock;
}

std::optional<std::string> FolderLock::holder(const std::string& dir) {
  const std::string path = (std::filesystem::path(dir) / ".nasforge.lock").string();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return std::nullopt;
  std::optional<std::string> out;
  // A shared lock is refused exactly while a writer holds its exclusive one.
  if (::flock(fd, LOCK_SH | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) out = holder_of(fd);
  } else {
    ::flock(fd, LOCK_UN);
  }
  ::close(fd);
  return out;
}

FolderLock& FolderLock::operator=(FolderLock&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    o.fd_ = -1;
  }
  return *this;
}

FolderLock::~FolderLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace nasforge

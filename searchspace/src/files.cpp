#include "nasforge/searchspace/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <zlib.h>

namespace nasforge {

StatusOr<std::string> read_text_file(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return NotFound(path + ": no such file");
  if (std::filesystem::is_directory(path, ec))
    return InvalidArgument(path + ": expected a file, got a folder");
  // gzopen reads a plain file through unchanged, so one path serves both.
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) return NotFound(path + ": cannot open it");
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  int err = Z_OK;
  const std::string what = gzerror(f, &err);
  gzclose(f);
  if (n < 0 || (err != Z_OK && err != Z_STREAM_END))
    return InvalidArgument(path + ": cannot read it (" + what + "; a truncated or corrupt .gz?)");
  return out;
}

namespace {

// Marks write_atomically's temporary files, so that only they are ever cleaned up.
constexpr const char* kTemporaryMark = ".nasforge-tmp.";

// A byte count from a test hook's variable, or -1 when it is unset.
long long test_bytes(const char* variable) {
  const char* v = std::getenv(variable);
  return v && *v ? std::atoll(v) : -1;
}

// Writes all of `bytes` to `fd`; false with errno set when a write fails.
bool write_all(int fd, const std::string& bytes) {
  const long long limit = test_bytes("NASFORGE_TEST_FAIL_WRITES_AFTER");
  const long long kill_at = test_bytes("NASFORGE_TEST_KILL_WRITES_AFTER");
  size_t done = 0;
  while (done < bytes.size()) {
    size_t chunk = std::min<size_t>(bytes.size() - done, 1 << 20);
    if (kill_at >= 0) {
      if (static_cast<long long>(done) >= kill_at) ::raise(SIGKILL);  // a kill -9 mid-write
      chunk = std::min<size_t>(chunk, static_cast<size_t>(kill_at - static_cast<long long>(done)));
    }
    if (limit >= 0) {
      if (static_cast<long long>(done) >= limit) {
        errno = ENOSPC;
        return false;
      }
      chunk = std::min<size_t>(chunk, static_cast<size_t>(limit - static_cast<long long>(done)));
    }
    const ssize_t n = ::write(fd, bytes.data() + done, chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

const char* kind_of(const std::filesystem::file_status& st) {
  switch (st.type()) {
    case std::filesystem::file_type::directory:
      return "a folder";
    case std::filesystem::file_type::block:
    case std::filesystem::file_type::character:
      return "a device";
    case std::filesystem::file_type::fifo:
      return "a pipe";
    case std::filesystem::file_type::socket:
      return "a socket";
    default:
      return "not a regular file";
  }
}

}  // namespace

Status write_atomically(const std::string& path, const std::string& bytes,
                        const std::string& what) {
  namespace fs = std::filesystem;
  const std::string cannot = "cannot write " + path + " (the " + what + "): ";
  std::error_code ec;
  fs::path target = path;
  // A symlink (or a chain of them) is written through to the file it names.
  for (int hops = 0; fs::is_symlink(fs::symlink_status(target, ec)); ++hops) {
    if (hops == 40) return FailedPrecondition(cannot + "too many levels of symbolic links");
    const fs::path to = fs::read_symlink(target, ec);
    if (ec) return FailedPrecondition(cannot + ec.message());
    target = to.is_absolute() ? to : target.parent_path() / to;
  }
  const fs::file_status st = fs::status(target, ec);
  if (fs::exists(st) && !fs::is_regular_file(st))
    return FailedPrecondition(cannot + "expected a regular file or a new path, got " + kind_of(st) +
                              "; it is not replaced");
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::string tmp = (dir / ("." + target.filename().string() + kTemporaryMark + "XXXXXX")).string();
  const int fd = ::mkstemp(tmp.data());
  if (fd < 0) return FailedPrecondition(cannot + std::strerror(errno));
  // The file keeps the mode of the one it replaces; a new one gets rw-r--r--.
  ::fchmod(fd, fs::exists(st) ? static_cast<mode_t>(st.permissions()) : 0644);
  const bool ok = write_all(fd, bytes) && ::fsync(fd) == 0;
  const int err = errno;
  if (::close(fd) != 0 || !ok) {
    const int e = ok ? errno : err;
    ::unlink(tmp.c_str());
    return FailedPrecondition(cannot + std::strerror(e));
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const int e = errno;
    ::unlink(tmp.c_str());
    return FailedPrecondition(cannot + std::strerror(e));
  }
  return Status::Ok();
}

Status copy_atomically(const std::string& from, const std::string& to, const std::string& what) {
  auto bytes = read_text_file(from);
  if (!bytes.ok()) return bytes.status();
  return write_atomically(to, *bytes, what);
}

int remove_stale_temporaries(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  int removed = 0;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const size_t mark = name.rfind(kTemporaryMark);
    std::error_code type_ec;
    if (name.empty() || name[0] != '.' || mark == std::string::npos ||
        mark + std::strlen(kTemporaryMark) + 6 != name.size() ||
        !fs::is_regular_file(fs::symlink_status(it->path(), type_ec)))
      continue;
    if (fs::remove(it->path(), type_ec)) ++removed;
  }
  return removed;
}

}  // namespace nasforge

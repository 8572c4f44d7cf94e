#include "progress.h"

#include <unistd.h>

#include <cstdio>

namespace nasforge::cli {

std::string format_duration(double s) {
  char buf[32];
  const int64_t t = static_cast<int64_t>(s + 0.5);
  if (t >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(t / 3600),
                  static_cast<long long>(t / 60 % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(t / 60),
                  static_cast<long long>(t % 60));
  }
  return buf;
}

ProgressBar::ProgressBar(std::string label, int64_t total)
    : label_(std::move(label)),
      total_(total > 0 ? total : 1),
      tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(int64_t done, const std::string& status) {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double eta = done > 0 ? elapsed * static_cast<double>(total_ - done) / done : 0;
  const int width = 24;
  const int filled = static_cast<int>(width * done / total_);
  std::string bar = std::string(filled, '#') + std::string(width - filled, '.');
  char line[512];
  std::snprintf(line, sizeof line, "%s [%s] %lld/%lld %s ETA %s", label_.c_str(), bar.c_str(),
                static_cast<long long>(done), static_cast<long long>(total_), status.c_str(),
                format_duration(eta).c_str());
  if (tty_) {
    std::fprintf(stderr, "\r%s\033[K", line);
  } else {
    const int64_t tenth = 10 * done / total_;
    if (tenth == last_tenth_) return;
    last_tenth_ = tenth;
    std::fprintf(stderr, "%s\n", line);
  }
  std::fflush(stderr);
}

void ProgressBar::finish(const std::string& status) {
  update(total_, status);
  if (tty_) std::fprintf(stderr, "\n");
}

}  // namespace nasforge::cli

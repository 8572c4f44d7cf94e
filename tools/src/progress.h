// A progress bar for long loops: one redrawn line on a terminal, a line every tenth of the way
// otherwise (CI logs).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace nasforge::cli {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total);
  // Shows `done` of `total` with a free-form status ("loss 0.41 acc 0.87 1210 img/s").
  void update(int64_t done, const std::string& status);
  void finish(const std::string& status);

 private:
  std::string label_;
  int64_t total_;
  bool tty_;
  int64_t last_tenth_ = -1;
  std::chrono::steady_clock::time_point start_;
};

std::string format_duration(double seconds);

}  // namespace nasforge::cli

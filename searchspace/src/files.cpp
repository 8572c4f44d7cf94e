#include "nasforge/searchspace/files.h"

#include <filesystem>
#include <fstream>

namespace nasforge {

Status write_atomically(const std::string& path, const std::string& text, const std::string& what) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc | std::ios::binary);
    if (!f) return FailedPrecondition(path + ": cannot write the " + what + " here");
    f << text;
    if (!f.flush()) return FailedPrecondition(path + ": writing the " + what + " failed");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return FailedPrecondition(path + ": " + ec.message());
  return Status::Ok();
}

}  // namespace nasforge

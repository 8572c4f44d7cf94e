#include "nasforge/searchspace/files.h"

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

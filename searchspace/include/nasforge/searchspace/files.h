// Writing files so that a crash or a kill never leaves half of one: profiles, predictors and
// other state nasforge resumes from.
#pragma once

#include <string>

#include "nasforge/searchspace/status.h"

namespace nasforge {

// Reads a whole file. A gzip file (by its magic bytes, whatever its name) is decompressed, so
// `table.csv.gz` reads as its CSV text. Errors name the path and what went wrong.
StatusOr<std::string> read_text_file(const std::string& path);

// Writes `text` to PATH.tmp and renames it over `path`. `what` names the file in errors.
Status write_atomically(const std::string& path, const std::string& text,
                        const std::string& what = "file");

}  // namespace nasforge

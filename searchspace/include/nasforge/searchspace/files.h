// Writing files so that a crash or a kill never leaves half of one: profiles, predictors and
// other state nasforge resumes from.
#pragma once

#include <string>

#include "nasforge/searchspace/status.h"

namespace nasforge {

// Reads a whole file. A gzip file (by its magic bytes, whatever its name) is decompressed, so
// `table.csv.gz` reads as its CSV text. Errors name the path and what went wrong.
StatusOr<std::string> read_text_file(const std::string& path);

// The one way nasforge writes an output file (checkpoints, profiles, predictors, exports, run
// metadata):
//  - the bytes go to a new temporary file beside the target (mkstemp: a unique name, created
//    O_EXCL, so a link planted at a predictable name is never followed); every write and the
//    fsync are checked, and only then is it renamed over the target. On any failure the
//    temporary file is removed and whatever was at `path` before is left as it was.
//  - `path` must name a regular file or nothing yet: a device node, a folder, a pipe or a socket
//    is refused, never replaced. A symlink is written through to its target (the temporary file
//    beside the target), so the link itself stays.
//  - Errors read "cannot write PATH (the WHAT): REASON", e.g. "No space left on device".
// For tests, NASFORGE_TEST_FAIL_WRITES_AFTER=N makes every write past the N-th byte of a file fail
// with ENOSPC, as a full disk would; NASFORGE_TEST_KILL_WRITES_AFTER=N kills the process
// (SIGKILL, as kill -9 would) once N bytes of a file are written.
Status write_atomically(const std::string& path, const std::string& bytes,
                        const std::string& what = "file");
// Removes the temporary files write_atomically left in `dir` when its process was killed
// (".NAME.nasforge-tmp.XXXXXX", regular files only); returns how many. Only for a folder whose
// lock the caller holds, so that no live writer's file is taken away.
int remove_stale_temporaries(const std::string& dir);
// Copies the file at `from` to `to` through write_atomically (a run folder's copy of its space).
Status copy_atomically(const std::string& from, const std::string& to,
                       const std::string& what = "file");

}  // namespace nasforge

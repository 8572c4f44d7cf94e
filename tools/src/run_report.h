// The report.html that search, train-supernet and train-ghn leave in their run folder at the end
// (cmd_report.cpp). A report that cannot be written is a warning: the run's results are intact.
#pragma once

#include <string>
#include <vector>

namespace nasforge::cli {

// Writes DIRS' report to OUT and says where on stderr; on failure says why, and returns false.
bool write_run_report(const std::vector<std::string>& dirs, const std::string& out);

}  // namespace nasforge::cli

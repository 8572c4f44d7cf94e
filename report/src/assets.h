// The page's stylesheet and script, compiled in from report/assets/ (assets.cpp.in).
#pragma once

namespace nasforge::report {

extern const char* const kReportCss;
extern const char* const kReportJs;

}  // namespace nasforge::report

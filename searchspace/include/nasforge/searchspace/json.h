// Writing JSON strings. nasforge writes its JSON by hand (small, flat objects) and reads JSON
// with yaml-cpp, so this is all the JSON support it needs.
#pragma once

#include <charconv>
#include <cmath>
#include <cstdio>
#include <string>

namespace nasforge {

// `s` as a quoted JSON string, with quotes, backslashes and control characters escaped.
inline std::string json_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// `v` as a JSON number in its shortest form that reads back as the same double (57.14, not
// 57.140000000000001). JSON has no infinity or NaN: those are written as null, so the output
// always parses; callers that can meet them should say so on stderr.
inline std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  return std::string(buf, r.ptr);
}

}  // namespace nasforge

// Writing JSON strings. nasforge writes its JSON by hand (small, flat objects) and reads JSON
// with yaml-cpp, so this is all the JSON support it needs.
#pragma once

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

}  // namespace nasforge

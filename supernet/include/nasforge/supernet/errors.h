// Error text for users from an exception LibTorch (or the allocator) threw: the message alone,
// without the C++ stack trace and "Exception raised from" lines LibTorch appends.
#pragma once

#include <c10/util/Exception.h>

#include <exception>
#include <new>
#include <string>

namespace nasforge::supernet {

inline std::string error_text(const std::exception& e) {
  if (dynamic_cast<const std::bad_alloc*>(&e))
    return "out of memory (a tensor or buffer could not be allocated)";
  const auto* c10 = dynamic_cast<const c10::Error*>(&e);
  std::string s = c10 ? c10->what_without_backtrace() : e.what();
  for (const char* tail : {"\nException raised from", "\nframe #", "Exception raised from"})
    if (const size_t at = s.find(tail); at != std::string::npos) s.resize(at);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  for (char& c : s)
    if (c == '\n') c = ' ';
  return s.empty() ? "an internal error without a message" : s;
}

}  // namespace nasforge::supernet

// Trial records on the wire (internal/trial_wire.h).
#include "internal/trial_wire.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace nasforge::evaluation {

namespace {

std::string hex(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%a", v);
  return buf;
}

// Tabs and line breaks would end the field: an error message loses them.
std::string one_line(std::string s) {
  for (char& ch : s)
    if (ch == '\t' || ch == '\n' || ch == '\r') ch = ' ';
  return s;
}

bool number(const std::string& s, double* out) {
  char* end = nullptr;
  *out = std::strtod(s.c_str(), &end);
  return !s.empty() && end && *end == '\0';
}

}  // namespace

std::string encode_trial(const TrialRecord& r) {
  std::string s = "arch\t" + one_line(r.arch) + "\nhash\t" + r.hash + "\nstatus\t" + r.status +
                  "\nerror\t" + one_line(r.error) + "\nviolation\t" + hex(r.violation) +
                  "\nstarted\t" + hex(r.started_unix) + "\nseconds\t" + hex(r.seconds) + "\n";
  for (const auto& [k, v] : r.metrics) s += "m\t" + k + "\t" + hex(v) + "\n";
  for (const auto& [k, v] : r.report) s += "r\t" + k + "\t" + hex(v) + "\n";
  return s;
}

StatusOr<TrialRecord> decode_trial(const std::string& text) {
  TrialRecord r;
  std::istringstream in(text);
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    const size_t tab = line.find('\t');
    auto bad = [&] {
      return InvalidArgument("a worker's reply, line " + std::to_string(line_no) +
                             ": expected KEY<TAB>VALUE, got '" + line + "'");
    };
    if (tab == std::string::npos) return bad();
    const std::string k = line.substr(0, tab), v = line.substr(tab + 1);
    double x = 0;
    if (k == "arch") {
      r.arch = v;
    } else if (k == "hash") {
      r.hash = v;
    } else if (k == "status") {
      r.status = v;
    } else if (k == "error") {
      r.error = v;
    } else if (k == "violation" || k == "started" || k == "seconds") {
      if (!number(v, &x)) return bad();
      (k == "violation" ? r.violation : k == "started" ? r.started_unix : r.seconds) = x;
    } else if (k == "m" || k == "r") {
      const size_t t2 = v.find('\t');
      if (t2 == std::string::npos || !number(v.substr(t2 + 1), &x)) return bad();
      (k == "m" ? r.metrics : r.report)[v.substr(0, t2)] = x;
    } else {
      return bad();
    }
  }
  if (r.hash.empty() || r.arch.empty())
    return InvalidArgument("a worker's reply: expected its architecture and hash, got '" + text +
                           "'");
  return r;
}

}  // namespace nasforge::evaluation

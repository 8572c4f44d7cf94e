// What every bench program parses: the repository root (a bare argument), `--name value` pairs
// with defaults, and the space it measures.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "nasforge/searchspace/dsl.h"

namespace nasforge::bench {

class BenchFlags {
 public:
  // `defaults` names every accepted flag; an unknown one or a bad number exits with a message.
  BenchFlags(int argc, char** argv, std::map<std::string, std::string> defaults)
      : values_(std::move(defaults)) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--", 0) != 0) {
        root_ = a;
        continue;
      }
      if (!values_.count(a.substr(2)) || i + 1 >= argc) {
        std::fprintf(stderr, "unknown flag or missing value: %s\n", a.c_str());
        std::exit(2);
      }
      values_[a.substr(2)] = argv[++i];
    }
  }
  const std::string& root() const { return root_; }
  std::string str(const std::string& name) const { return values_.at(name); }
  // A comma-separated value's items, empty ones dropped.
  std::vector<std::string> list(const std::string& name) const {
    std::vector<std::string> out;
    std::stringstream in(values_.at(name));
    for (std::string item; std::getline(in, item, ',');)
      if (!item.empty()) out.push_back(item);
    return out;
  }
  int64_t num(const std::string& name) const {
    try {
      return std::stoll(values_.at(name));
    } catch (const std::exception&) {
      std::fprintf(stderr, "--%s: expected an integer, got '%s'\n", name.c_str(),
                   values_.at(name).c_str());
      std::exit(2);
    }
  }
  // The space under --space, relative to the root; exits with its diagnostics if it fails.
  std::shared_ptr<const SearchSpace> space() const {
    Diagnostics d;
    auto loaded = load_space(root_ + "/" + str("space"), d);
    if (!loaded) {
      std::fputs(d.str().c_str(), stderr);
      std::exit(1);
    }
    return std::make_shared<const SearchSpace>(std::move(*loaded));
  }

 private:
  std::string root_ = ".";
  std::map<std::string, std::string> values_;
};

}  // namespace nasforge::bench

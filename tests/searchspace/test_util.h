// Shared test helpers: loading spaces from the repository and from inline YAML.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "nasforge/searchspace/dsl.h"

namespace nasforge::testing {

// The repository root comes from the environment (ctest sets it), not from a compile-time path,
// so that the test objects are identical in every clone and ccache shares them. Run by hand,
// the binary falls back to the current directory.
inline std::string source_path(const std::string& rel) {
  const char* root = std::getenv("NASFORGE_SOURCE_DIR");
  return std::string(root && *root ? root : ".") + "/" + rel;
}

// A folder private to this test process (mkdtemp under $TMPDIR), removed when the process ends,
// so that tests running at once (ctest -j) never share a file. NASFORGE_TEST_TMP=DIR uses DIR
// instead and keeps it, for looking at what a test wrote.
inline const std::string& private_temp_dir() {
  struct Dir {
    std::string path;
    bool keep = false;
    Dir() {
      if (const char* keep_in = std::getenv("NASFORGE_TEST_TMP"); keep_in && *keep_in) {
        path = keep_in;
        keep = true;
        std::filesystem::create_directories(path);
        return;
      }
      std::string tmpl = (std::filesystem::temp_directory_path() / "nasforge_test_XXXXXX").string();
      if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed in " + tmpl);
      path = tmpl;
    }
    ~Dir() {
      std::error_code ec;
      if (!keep) std::filesystem::remove_all(path, ec);
    }
  };
  static const Dir dir;
  return dir.path;
}

// A path named `name` inside private_temp_dir() (nothing is created or removed).
inline std::string temp_path(const std::string& name) { return private_temp_dir() + "/" + name; }

// Loads a repository space file; fails the test with its diagnostics if it does not check.
inline SearchSpace load(const std::string& rel) {
  Diagnostics d;
  auto s = load_space(source_path(rel), d);
  EXPECT_TRUE(s.has_value()) << d.str();
  if (!s) throw std::runtime_error("space did not check: " + rel);
  return std::move(*s);
}

// Checks inline YAML named t.yaml and returns the diagnostics text ("" when it checks).
inline std::string diagnose(const std::string& yaml) {
  Diagnostics d;
  auto s = load_space_text(yaml, "t.yaml", d);
  EXPECT_EQ(s.has_value(), d.ok());
  return d.str();
}

inline SearchSpace load_text(const std::string& yaml) {
  Diagnostics d;
  auto s = load_space_text(yaml, "t.yaml", d);
  EXPECT_TRUE(s.has_value()) << d.str();
  if (!s) throw std::runtime_error("inline space did not check");
  return std::move(*s);
}

inline const char* kZoo[] = {"zoo/nb201.yaml",
                             "zoo/darts.yaml",
                             "zoo/mobilenet.yaml",
                             "zoo/mobilenet32.yaml",
                             "zoo/transformer.yaml",
                             "zoo/nasbench_macro.yaml",
                             "zoo/resnet.yaml",
                             "zoo/fbnet.yaml",
                             "zoo/spos.yaml",
                             "zoo/proxyless.yaml",
                             "tests/data/swish_choice.yaml",
                             "tests/data/design_mobile_tiny.yaml"};

}  // namespace nasforge::testing

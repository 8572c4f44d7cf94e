// The one output writer (files.h): atomic, checked, and never over what isn't a regular file.
#include "nasforge/searchspace/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_util.h"

namespace nasforge {
namespace {

namespace fs = std::filesystem;

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The names in `dir` other than `keep`: temporary files left behind show up here.
std::vector<std::string> others(const std::string& dir, const std::vector<std::string>& keep) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string n = e.path().filename().string();
    if (std::find(keep.begin(), keep.end(), n) == keep.end()) out.push_back(n);
  }
  return out;
}

// Sets NASFORGE_TEST_FAIL_WRITES_AFTER for its lifetime.
struct FailWritesAfter {
  explicit FailWritesAfter(int n) {
    setenv("NASFORGE_TEST_FAIL_WRITES_AFTER", std::to_string(n).c_str(), 1);
  }
  ~FailWritesAfter() { unsetenv("NASFORGE_TEST_FAIL_WRITES_AFTER"); }
};

TEST(WriteAtomically, AFailedWriteKeepsThePreviousFileAndLeavesNoTemporary) {
  const std::string dir = testing::temp_path("full_disk");
  fs::create_directories(dir);
  const std::string path = dir + "/model.bin";
  ASSERT_TRUE(write_atomically(path, "the previous model", "model").ok());
  for (int at : {0, 5, 4096}) {
    FailWritesAfter fail(at);
    const Status st = write_atomically(path, std::string(10000, 'x'), "model");
    ASSERT_FALSE(st.ok()) << at;
    EXPECT_EQ(st.message(), "cannot write " + path + " (the model): No space left on device");
  }
  EXPECT_EQ(slurp(path), "the previous model");
  EXPECT_TRUE(others(dir, {"model.bin"}).empty());
  ASSERT_TRUE(write_atomically(path, "the new model", "model").ok());
  EXPECT_EQ(slurp(path), "the new model");
  EXPECT_TRUE(others(dir, {"model.bin"}).empty());
}

// A writer killed mid-write (kill -9) leaves its temporary file; the next holder of the
// folder's lock removes it, and only what write_atomically could have made.
TEST(WriteAtomically, StaleTemporariesOfAKilledWriterAreRemovedAndNothingElse) {
  const std::string dir = testing::temp_path("stale_tmp");
  fs::create_directories(dir + "/.d.nasforge-tmp.abcdef");
  for (const char* name : {".checkpoint.pt.nasforge-tmp.Ab12Cd", ".train.yaml.nasforge-tmp.zzzzzz",
                           ".bashrc.backup", ".x.nasforge-tmp.ab", "checkpoint.pt"})
    std::ofstream(dir + "/" + name) << "x";
  ASSERT_EQ(::symlink((dir + "/checkpoint.pt").c_str(), (dir + "/.l.nasforge-tmp.qwerty").c_str()),
            0);
  EXPECT_EQ(remove_stale_temporaries(dir), 2);
  auto left = others(dir, {});
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{".bashrc.backup", ".d.nasforge-tmp.abcdef",
                                            ".l.nasforge-tmp.qwerty", ".x.nasforge-tmp.ab",
                                            "checkpoint.pt"}));
}

TEST(WriteAtomically, RefusesWhatIsNotARegularFile) {
  const std::string dir = testing::temp_path("not_regular");
  fs::create_directories(dir + "/folder");
  ASSERT_EQ(mkfifo((dir + "/pipe").c_str(), 0600), 0);
  Status st = write_atomically(dir + "/pipe", "x", "predictor");
  EXPECT_EQ(st.message(), "cannot write " + dir +
                              "/pipe (the predictor): expected a regular file or a new path, got "
                              "a pipe; it is not replaced");
  EXPECT_TRUE(fs::is_fifo(dir + "/pipe"));
  st = write_atomically(dir + "/folder", "x", "predictor");
  EXPECT_NE(st.message().find("got a folder; it is not replaced"), std::string::npos);
  EXPECT_TRUE(fs::is_directory(dir + "/folder"));
  st = write_atomically("/dev/null", "x", "predictor");
  EXPECT_NE(st.message().find("got a device; it is not replaced"), std::string::npos);
}

TEST(WriteAtomically, WritesThroughASymlinkAndIgnoresPlantedTemporaryNames) {
  const std::string dir = testing::temp_path("links");
  fs::create_directories(dir + "/real");
  const std::string target = dir + "/real/profile.json";
  ASSERT_TRUE(write_atomically(target, "old", "profile").ok());
  fs::create_symlink("real/profile.json", dir + "/link.json");
  ASSERT_TRUE(write_atomically(dir + "/link.json", "new", "profile").ok());
  EXPECT_TRUE(fs::is_symlink(dir + "/link.json"));
  EXPECT_EQ(slurp(target), "new");
  // A link planted at the old fixed temporary name (PATH.tmp) is never followed.
  const std::string victim = dir + "/victim";
  ASSERT_TRUE(write_atomically(victim, "precious", "file").ok());
  fs::create_symlink(victim, dir + "/out.json.tmp");
  ASSERT_TRUE(write_atomically(dir + "/out.json", "output", "file").ok());
  EXPECT_EQ(slurp(victim), "precious");
  EXPECT_EQ(slurp(dir + "/out.json"), "output");
}

}  // namespace
}  // namespace nasforge

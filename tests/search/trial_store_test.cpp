// The trial store's configuration check is atomic with its creation: processes that open a new
// store at the same moment with different configurations cannot all succeed.
#include "nasforge/evaluation/trial_store.h"

#include <grp.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <functional>

#include "../searchspace/test_util.h"
#include "nasforge/searchspace/folder_lock.h"

namespace nasforge::evaluation {
namespace {

TEST(TrialStore, ConcurrentCreatorsAgreeOnOneConfiguration) {
  constexpr int kProcesses = 6;
  for (int round = 0; round < 3; ++round) {
    const std::string path = testing::temp_path("race" + std::to_string(round) + "/trials.sqlite");
    int go[2];
    ASSERT_EQ(pipe(go), 0);
    std::vector<pid_t> kids;
    for (int k = 0; k < kProcesses; ++k) {
      const pid_t pid = fork();
      if (pid == 0) {
        close(go[1]);
        char c;
        if (read(go[0], &c, 1) != 0) _exit(3);  // wait until the parent closes the pipe
        auto store = TrialStore::open(path, {{"seed", std::to_string(k)}});
        _exit(store.ok() ? 0 : 1);
      }
      kids.push_back(pid);
    }
    close(go[0]);
    close(go[1]);  // all start at once
    int opened = 0, refused = 0;
    for (pid_t pid : kids) {
      int status = 0;
      waitpid(pid, &status, 0);
      ASSERT_TRUE(WIFEXITED(status));
      opened += WEXITSTATUS(status) == 0;
      refused += WEXITSTATUS(status) == 1;
    }
    EXPECT_EQ(opened, 1) << "round " << round;
    EXPECT_EQ(refused, kProcesses - 1) << "round " << round;
    auto snap = TrialStore::read_snapshot(path);
    ASSERT_TRUE(snap.ok()) << snap.status().message();
    EXPECT_EQ(snap->config.size(), 1u);
  }
}

TEST(TrialStore, ReadsASnapshotWithoutWriting) {
  const std::string path = testing::temp_path("snap/trials.sqlite");
  auto store = TrialStore::open(path, {{"seed", "1"}});
  ASSERT_TRUE(store.ok()) << store.status().message();
  TrialRecord r;
  r.arch = "a";
  r.hash = "h1";
  r.metrics["params"] = 57.14;
  ASSERT_TRUE((*store)->insert(r).ok());
  // A reader while the writer still holds the store open.
  auto snap = TrialStore::read_snapshot(path);
  ASSERT_TRUE(snap.ok()) << snap.status().message();
  ASSERT_EQ(snap->trials.size(), 1u);
  EXPECT_EQ(snap->trials[0].metrics.at("params"), 57.14);
  EXPECT_EQ(snap->config.at("seed"), "1");
  auto missing = TrialStore::read_snapshot(testing::temp_path("nothing/trials.sqlite"));
  EXPECT_FALSE(missing.ok());
}

// Runs `check` (0 when it holds) where `dir` cannot be written: as the unprivileged user
// nobody in a child process when we are root (root writes anywhere), else here after removing
// the folder's write permission. Returns check's result.
constexpr int kCannotTest = 77;

int where_read_only(const std::string& dir, const std::function<int()>& check) {
  namespace fs = std::filesystem;
  if (geteuid() != 0) {
    fs::permissions(dir, fs::perms::owner_write, fs::perm_options::remove);
    const int rc = check();
    fs::permissions(dir, fs::perms::owner_write, fs::perm_options::add);
    return rc;
  }
  // nobody must reach the folder: the test's own private folder is opened for traversal.
  fs::permissions(testing::private_temp_dir(), fs::perms::others_exec | fs::perms::others_read,
                  fs::perm_options::add);
  const pid_t pid = fork();
  if (pid == 0) {
    if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0) _exit(kCannotTest);
    if (access(dir.c_str(), R_OK | X_OK) != 0) _exit(kCannotTest);  // $TMPDIR closed to nobody
    _exit(check());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 98;
}

// A search folder its reader may not write to: explain, export --run and report read it (SQLite
// cannot make the WAL's shared-memory file there, so it is read as immutable); a writer gets a
// plain error naming the folder. Before, both read "not a nasforge trial store".
TEST(TrialStore, ReadOnlyFolderIsReadAndRefusedToWritersPlainly) {
  const std::string dir = testing::temp_path("readonly");
  const std::string path = dir + "/trials.sqlite";
  {
    auto store = TrialStore::open(path, {{"seed", "1"}});
    ASSERT_TRUE(store.ok()) << store.status().message();
    TrialRecord r;
    r.arch = "a";
    r.hash = "h1";
    r.metrics["params"] = 3;
    ASSERT_TRUE((*store)->insert(r).ok());
  }
  ASSERT_FALSE(std::filesystem::exists(path + "-wal"));  // a clean close merges the log
  const int rc = where_read_only(dir, [&] {
    auto snap = TrialStore::read_snapshot(path);
    if (!snap.ok()) {
      std::fprintf(stderr, "read_snapshot: %s\n", snap.status().message().c_str());
      return 1;
    }
    if (snap->trials.size() != 1 || snap->config.at("seed") != "1") return 2;
    auto lock = FolderLock::acquire(dir, "nasforge search");
    const std::string want =
        dir +
        ": cannot write in the folder (Permission denied), which its writer must; use "
        "another --out";
    if (lock.ok() || lock.status().message() != want) {
      std::fprintf(stderr, "lock: %s\n", lock.ok() ? "acquired" : lock.status().message().c_str());
      return 3;
    }
    return 0;
  });
  if (rc == kCannotTest)
    GTEST_SKIP() << "SKIPPED: cannot run as the user nobody, or it cannot reach " << dir;
  EXPECT_EQ(rc, 0);
}

}  // namespace
}  // namespace nasforge::evaluation

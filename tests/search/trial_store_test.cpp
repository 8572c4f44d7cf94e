// The trial store's configuration check is atomic with its creation: processes that open a new
// store at the same moment with different configurations cannot all succeed.
#include "nasforge/evaluation/trial_store.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../searchspace/test_util.h"

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

}  // namespace
}  // namespace nasforge::evaluation

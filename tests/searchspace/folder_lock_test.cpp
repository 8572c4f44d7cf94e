// One writer per run folder: FolderLock against another process, and after that process is
// killed with SIGKILL.
#include "nasforge/searchspace/folder_lock.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "test_util.h"

namespace nasforge {
namespace {

// A child process that takes the lock on `dir`, says so on a pipe, then waits to be killed.
pid_t hold_in_child(const std::string& dir) {
  int ready[2];
  if (pipe(ready) != 0) return -1;
  const pid_t pid = fork();
  if (pid == 0) {
    close(ready[0]);
    auto lock = FolderLock::acquire(dir, "test holder");
    const char c = lock.ok() ? '1' : '0';
    if (write(ready[1], &c, 1) != 1) _exit(2);
    for (;;) pause();
  }
  close(ready[1]);
  char c = 0;
  const bool ok = read(ready[0], &c, 1) == 1 && c == '1';
  close(ready[0]);
  return ok ? pid : -1;
}

TEST(FolderLock, ASecondWriterIsRefusedNamingTheHolder) {
  const std::string dir = testing::temp_path("locked_run");
  const pid_t holder = hold_in_child(dir);
  ASSERT_GT(holder, 0);
  auto second = FolderLock::acquire(dir, "nasforge search");
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().message(),
            dir + " is in use by another process (PID " + std::to_string(holder) +
                ", test holder), which holds its lock; wait for it to finish, or use another "
                "--out");
  // kill -9 leaves no stale lock: the kernel released it with the process.
  kill(holder, SIGKILL);
  waitpid(holder, nullptr, 0);
  auto third = FolderLock::acquire(dir, "nasforge search");
  ASSERT_TRUE(third.ok()) << third.status().message();
  EXPECT_TRUE(third->held());
  std::ifstream f(third->path());
  std::stringstream text;
  text << f.rdbuf();
  EXPECT_EQ(text.str(), std::to_string(getpid()) + " nasforge search\n");
}

TEST(FolderLock, HeldUntilReleasedWithinAProcess) {
  const std::string dir = testing::temp_path("locked_here");
  {
    auto first = FolderLock::acquire(dir, "first");
    ASSERT_TRUE(first.ok());
    auto again = FolderLock::acquire(dir, "second");
    ASSERT_FALSE(again.ok());
    EXPECT_NE(again.status().message().find("(PID " + std::to_string(getpid()) + ", first)"),
              std::string::npos)
        << again.status().message();
    FolderLock moved = std::move(*first);
    EXPECT_TRUE(moved.held());
    EXPECT_FALSE(first->held());
  }
  EXPECT_TRUE(FolderLock::acquire(dir, "after").ok());
}

}  // namespace
}  // namespace nasforge

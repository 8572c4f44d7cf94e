// ArchTable: duplicate rows and columns that are not numeric get errors that name the lines.
#include "nasforge/predictors/table.h"

#include <gtest/gtest.h>

#include <fstream>

#include "../searchspace/test_util.h"

namespace nasforge::predictors {
namespace {

const char* kTwo = R"(nasforge: 1
name: two
input: {channels: 1, height: 8, width: 8}
classes: 2
network:
  - stem: {conv: {out: {choice: [8, 16]}, kernel: 3}}
  - head: {pool: global_avg}
)";

std::string write(const std::string& name, const std::string& text) {
  const std::string path = testing::temp_path(name);
  std::ofstream(path) << text;
  return path;
}

TEST(ArchTable, ARepeatedRowIsReadOnceAndAConflictIsRefused) {
  const SearchSpace space = testing::load_text(kTwo);
  auto same = ArchTable::load(write("same.csv", "arch,acc\nw8,10\nw16,20\nw8,10\n"), space);
  ASSERT_TRUE(same.ok()) << same.status().message();
  EXPECT_EQ(same->rows(), 2u);
  const std::string path = write("conflict.csv", "arch,acc\nw8,10\nw16,20\nw8,11.5\n");
  auto conflict = ArchTable::load(path, space);
  ASSERT_FALSE(conflict.ok());
  EXPECT_EQ(conflict.status().message(),
            path +
                ":4: architecture w8 is listed again with acc 11.5, against 10 at line 2; "
                "keep one row per architecture");
}

TEST(ArchTable, AColumnThatIsNotNumericSaysWhy) {
  const SearchSpace space = testing::load_text(kTwo);
  const std::string path = write("inf.csv", "arch,acc,lat\nw8,inf,1\nw16,0x10,2\n");
  auto t = ArchTable::load(path, space);
  ASSERT_TRUE(t.ok()) << t.status().message();
  auto col = t->column("acc");
  ASSERT_FALSE(col.ok());
  EXPECT_EQ(col.status().message(), path + ": column 'acc' is not numeric: its first value, at " +
                                        path + ":2: 'inf', is not a finite decimal number");
  EXPECT_NE(t->column("nope").status().message().find("no numeric column 'nope'; it has lat"),
            std::string::npos);
}

}  // namespace
}  // namespace nasforge::predictors

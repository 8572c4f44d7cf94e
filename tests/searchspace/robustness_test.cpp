// No YAML, however broken, may crash or hang the checker: every mutant of every zoo file either
// checks into a usable space or gets located diagnostics.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "test_util.h"

namespace nasforge {
namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// One random edit: delete a span, insert YAML punctuation or a random byte, duplicate or drop a
// line, or swap two lines.
std::string mutate_text(std::string t, Rng& rng) {
  static const std::string kPunct = ":{}[],-&*!|>'\"\n #$%@?0123456789";
  if (t.empty()) return t;
  size_t pos = rng.uniform(t.size());
  switch (rng.uniform(6)) {
    case 0:
      t.erase(pos, 1 + rng.uniform(8));
      break;
    case 1:
      t.insert(pos, 1, kPunct[rng.uniform(kPunct.size())]);
      break;
    case 2:
      t.insert(pos, 1, static_cast<char>(rng.uniform(256)));
      break;
    default: {
      std::vector<std::string> lines;
      std::stringstream ss(t);
      for (std::string l; std::getline(ss, l);) lines.push_back(l);
      if (lines.size() < 2) break;
      size_t a = rng.uniform(lines.size()), b = rng.uniform(lines.size());
      if (rng.uniform(3) == 0) {
        lines.insert(lines.begin() + a, lines[b]);
      } else if (rng.uniform(2) == 0) {
        lines.erase(lines.begin() + a);
      } else {
        std::swap(lines[a], lines[b]);
      }
      t.clear();
      for (const auto& l : lines) t += l + "\n";
    }
  }
  return t;
}

class Fuzz : public ::testing::TestWithParam<const char*> {};

TEST_P(Fuzz, MutantsCheckOrGetLocatedErrors) {
  const std::string original = read(testing::source_path(GetParam()));
  ASSERT_FALSE(original.empty());
  Rng rng(99);
  int rejected = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string text = original;
    for (uint64_t edits = 1 + rng.uniform(3); edits > 0; --edits) text = mutate_text(text, rng);
    Diagnostics d;
    auto space = load_space_text(text, "m.yaml", d);
    if (space) {
      ASSERT_TRUE(d.ok());
      // Whatever checked must be usable.
      Architecture a = space->sample(rng);
      ASSERT_TRUE(space->validate(a).ok());
      auto back = space->parse(space->to_string(a));
      ASSERT_TRUE(back.ok()) << back.status().message() << "\n" << text;
      continue;
    }
    ++rejected;
    ASSERT_FALSE(d.ok()) << text;
    for (const auto& e : d.errors()) {
      EXPECT_GE(e.loc.line, 1);
      EXPECT_GE(e.loc.col, 1);
      EXPECT_EQ(e.message.rfind("expected ", 0), 0u) << e.str();
    }
  }
  EXPECT_GT(rejected, 0);  // the mutations do break files
}

INSTANTIATE_TEST_SUITE_P(Zoo, Fuzz, ::testing::ValuesIn(testing::kZoo));

}  // namespace
}  // namespace nasforge

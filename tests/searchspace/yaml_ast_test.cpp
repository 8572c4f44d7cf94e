// The YAML layer: positions, and hostile inputs that must give a clear error, never a crash or
// a hang.
#include "nasforge/searchspace/yaml_ast.h"

#include <gtest/gtest.h>

#include <chrono>

namespace nasforge {
namespace {

std::string errors_of(const std::string& text) {
  Diagnostics d;
  auto root = parse_yaml(text, "f.yaml", d);
  EXPECT_EQ(root.has_value(), d.ok());
  return d.str();
}

TEST(YamlAst, KeepsLineAndColumnOfEveryNode) {
  Diagnostics d;
  auto root = parse_yaml("a: 1\nb:\n  - x\n  - {c: 'q'}\n", "f.yaml", d);
  ASSERT_TRUE(root) << d.str();
  const AstNode* b = root->find("b");
  ASSERT_NE(b, nullptr);
  ASSERT_TRUE(b->is_sequence());
  EXPECT_EQ(b->items[1].loc.line, 4);
  EXPECT_EQ(b->items[1].loc.col, 5);
  const AstNode* c = b->items[1].find("c");
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->quoted);
  EXPECT_EQ(c->loc.col, 9);
  EXPECT_EQ(root->find_key("b")->loc.line, 2);
  EXPECT_EQ(root->find_key("b")->loc.col, 1);
}

TEST(YamlAst, DuplicateKeys) {
  EXPECT_EQ(errors_of("name: a\nx: 1\nname: b\n"),
            "f.yaml:3:1: error: name: expected each key once, got a duplicate (first at line 1)\n");
  EXPECT_EQ(errors_of("m: {a: 1, a: 2}\n"),
            "f.yaml:1:11: error: m.a: expected each key once, got a duplicate (first at line 1)\n");
}

TEST(YamlAst, EmptyFileIsANullDocument) {
  Diagnostics d;
  auto root = parse_yaml("", "f.yaml", d);
  ASSERT_TRUE(root);
  EXPECT_TRUE(root->is_null());
}

TEST(YamlAst, OneDocumentOnly) {
  EXPECT_EQ(errors_of("name: a\n---\nname: b\n"),
            "f.yaml:3:1: error: yaml: expected one YAML document, got 2 (a '---' starts another); "
            "put everything in one\n");
  Diagnostics d;
  EXPECT_TRUE(parse_yaml("---\nname: a\n", "f.yaml", d));  // one document, explicitly started
}

TEST(YamlAst, StrTagIsAString) {
  Diagnostics d;
  auto root = parse_yaml("a: !!str 16\nb: 16\nc: \"16\"\n", "f.yaml", d);
  ASSERT_TRUE(root);
  EXPECT_TRUE(root->find("a")->quoted);
  EXPECT_FALSE(root->find("b")->quoted);
  EXPECT_TRUE(root->find("c")->quoted);
}

TEST(YamlAst, BinaryJunk) {
  EXPECT_EQ(errors_of(std::string("nasforge: 1\n\x00\x01\x02", 15)),
            "f.yaml:2:1: error: file: expected UTF-8 YAML text, got binary data (byte 0x00 at "
            "offset 12)\n");
  EXPECT_EQ(errors_of("a: \xff\xfe\n"),
            "f.yaml:1:4: error: file: expected UTF-8 YAML text, got binary data (byte 0xff at "
            "offset 3)\n");
}

TEST(YamlAst, SyntaxErrorNamesThePosition) {
  EXPECT_EQ(errors_of("a: [1, 2\n"),
            "f.yaml:2:1: error: yaml: expected valid YAML, got a syntax error (end of sequence "
            "flow not found)\n");
  EXPECT_EQ(errors_of("a: *nope\n"),
            "f.yaml:1:4: error: yaml: expected valid YAML, got a syntax error (the referenced "
            "anchor is not defined)\n");
}

TEST(YamlAst, DeepNestingIsRefused) {
  // Within yaml-cpp's own recursion limit, our depth limit speaks.
  std::string moderate = "a: " + std::string(100, '[') + std::string(100, ']') + "\n";
  std::string path = "a";
  for (int i = 0; i < 64; ++i) path += "[0]";
  EXPECT_EQ(errors_of(moderate), "f.yaml:1:68: error: " + path +
                                     ": expected nesting at most 64 levels deep, got deeper\n");
  // Far beyond it, yaml-cpp stops first; either way a clear error, never a stack overflow.
  std::string extreme = "a: " + std::string(200000, '[') + "\n";
  EXPECT_EQ(errors_of(extreme).substr(0, 20), "f.yaml:2:1: error: y");
  EXPECT_NE(errors_of(extreme).find("expected nesting at most 64 levels deep"), std::string::npos);
}

TEST(YamlAst, ExponentialAliasesAreRefusedQuickly) {
  std::string text = "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]\n";
  for (char c = 'b'; c <= 'l'; ++c) {
    std::string prev(1, static_cast<char>(c - 1));
    text += std::string(1, c) + ": &" + c + " [";
    for (int i = 0; i < 9; ++i) text += (i ? ", *" : "*") + prev;
    text += "]\n";
  }
  auto start = std::chrono::steady_clock::now();
  std::string err = errors_of(text);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_NE(err.find("expected at most 200000 YAML nodes after alias expansion, got more (do "
                     "aliases expand exponentially?)"),
            std::string::npos)
      << err;
  EXPECT_LT(secs, 5.0);
}

TEST(YamlAst, TooLargeAndMissingFiles) {
  YamlLimits limits;
  limits.max_bytes = 16;
  Diagnostics d;
  EXPECT_FALSE(parse_yaml("a: 123456789012345678\n", "f.yaml", d, limits));
  EXPECT_EQ(d.str(), "f.yaml:1:1: error: file: expected at most 16 bytes of YAML, got 22\n");
  Diagnostics dir;
  EXPECT_FALSE(load_yaml_file("/tmp", dir));
  EXPECT_EQ(dir.str(), "/tmp:1:1: error: file: expected a readable file, got a directory\n");
  Diagnostics endless;
  EXPECT_FALSE(load_yaml_file("/dev/zero", endless));
  EXPECT_EQ(endless.str(),
            "/dev/zero:1:1: error: file: expected at most 8388608 bytes of YAML, got more\n");
  Diagnostics m;
  EXPECT_FALSE(load_yaml_file("/nonexistent/space.yaml", m));
  EXPECT_EQ(m.str(),
            "/nonexistent/space.yaml:1:1: error: file: expected a readable file, got none at "
            "this path\n");
}

}  // namespace
}  // namespace nasforge

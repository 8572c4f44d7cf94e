#include "nasforge/searchspace/yaml_ast.h"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace nasforge {

const AstNode* AstNode::find(const std::string& key) const {
  for (const auto& [k, v] : entries)
    if (k.scalar == key) return &v;
  return nullptr;
}

const AstNode* AstNode::find_key(const std::string& key) const {
  for (const auto& [k, v] : entries)
    if (k.scalar == key) return &k;
  return nullptr;
}

std::string AstNode::describe() const {
  switch (kind) {
    case Kind::kNull:
      return "nothing";
    case Kind::kSequence:
      return items.empty() ? "an empty sequence" : "a sequence";
    case Kind::kMapping:
      return entries.empty() ? "an empty mapping" : "a mapping";
    case Kind::kScalar:
      break;
  }
  std::string s = scalar.size() > 40 ? scalar.substr(0, 37) + "..." : scalar;
  return "'" + s + "'";
}

namespace {

// Returns the byte offset of the first byte that makes `text` not UTF-8 text, or npos.
size_t find_binary(const std::string& text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  size_t n = text.size(), i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c == 0 || (c < 0x20 && c != '\n' && c != '\r' && c != '\t')) return i;
    int extra = c < 0x80           ? 0
                : (c >> 5) == 0x6  ? 1
                : (c >> 4) == 0xE  ? 2
                : (c >> 3) == 0x1E ? 3
                                   : -1;
    if (extra < 0) return i;
    for (int k = 1; k <= extra; ++k)
      if (i + k >= n || (p[i + k] >> 6) != 0x2) return i;
    i += extra + 1;
  }
  return std::string::npos;
}

// Line and column (1-based) of a byte offset.
SourceLoc loc_of_offset(const std::string& text, size_t off, const std::string& file) {
  SourceLoc loc{file, 1, 1};
  for (size_t i = 0; i < off && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++loc.line;
      loc.col = 1;
    } else {
      ++loc.col;
    }
  }
  return loc;
}

class Converter {
 public:
  Converter(const std::string& file, Diagnostics& diags, const YamlLimits& limits)
      : file_(file), diags_(diags), limits_(limits) {}

  bool convert(const YAML::Node& in, AstNode& out, const std::string& path, int depth) {
    if (failed_) return false;
    out.loc = loc(in.Mark());
    if (++nodes_ > limits_.max_nodes) {
      diags_.error(out.loc, path,
                   "expected at most " + std::to_string(limits_.max_nodes) +
                       " YAML nodes after alias expansion, got more (do aliases expand "
                       "exponentially?)");
      failed_ = true;
      return false;
    }
    if (depth > limits_.max_depth) {
      diags_.error(out.loc, path,
                   "expected nesting at most " + std::to_string(limits_.max_depth) +
                       " levels deep, got deeper");
      failed_ = true;
      return false;
    }
    switch (in.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        out.kind = AstNode::Kind::kNull;
        return true;
      case YAML::NodeType::Scalar:
        out.kind = AstNode::Kind::kScalar;
        out.scalar = in.Scalar();
        // A quoted scalar ("16", tag "!") or one tagged !!str is a string, never a number.
        out.quoted = in.Tag() == "!" || in.Tag() == "tag:yaml.org,2002:str";
        return true;
      case YAML::NodeType::Sequence: {
        out.kind = AstNode::Kind::kSequence;
        size_t i = 0;
        for (const auto& item : in) {
          out.items.emplace_back();
          if (!convert(item, out.items.back(), path + "[" + std::to_string(i++) + "]", depth + 1))
            return false;
        }
        return true;
      }
      case YAML::NodeType::Map: {
        out.kind = AstNode::Kind::kMapping;
        for (const auto& kv : in) {
          AstNode key, value;
          key.loc = loc(kv.first.Mark());
          if (!kv.first.IsScalar()) {
            diags_.error(key.loc, path.empty() ? "document" : path,
                         "expected a plain scalar key, got a complex key");
            continue;
          }
          key.kind = AstNode::Kind::kScalar;
          key.scalar = kv.first.Scalar();
          std::string child = path.empty() ? key.scalar : path + "." + key.scalar;
          if (const AstNode* first = out.find_key(key.scalar)) {
            diags_.error(key.loc, child,
                         "expected each key once, got a duplicate (first at line " +
                             std::to_string(first->loc.line) + ")");
            continue;
          }
          if (!convert(kv.second, value, child, depth + 1)) return false;
          out.entries.emplace_back(std::move(key), std::move(value));
        }
        return true;
      }
    }
    return true;
  }

 private:
  SourceLoc loc(const YAML::Mark& m) const {
    if (m.is_null()) return {file_, 1, 1};
    return {file_, m.line + 1, m.column + 1};
  }

  std::string file_;
  Diagnostics& diags_;
  const YamlLimits& limits_;
  size_t nodes_ = 0;
  bool failed_ = false;
};

}  // namespace

std::optional<AstNode> parse_yaml(const std::string& text, const std::string& file,
                                  Diagnostics& diags, const YamlLimits& limits) {
  if (text.size() > limits.max_bytes) {
    diags.error({file, 1, 1}, "file",
                "expected at most " + std::to_string(limits.max_bytes) + " bytes of YAML, got " +
                    std::to_string(text.size()));
    return std::nullopt;
  }
  if (size_t bad = find_binary(text); bad != std::string::npos) {
    std::ostringstream got;
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02x", static_cast<unsigned char>(text[bad]));
    got << "binary data (byte " << byte << " at offset " << bad << ")";
    diags.error(loc_of_offset(text, bad, file), "file",
                "expected UTF-8 YAML text, got " + got.str());
    return std::nullopt;
  }
  YAML::Node root;
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(text);
    if (docs.size() > 1) {
      const YAML::Mark m = docs[1].Mark();
      SourceLoc at{file, 1, 1};
      if (!m.is_null()) at = {file, m.line + 1, m.column + 1};
      diags.error(at, "yaml",
                  "expected one YAML document, got " + std::to_string(docs.size()) +
                      " (a '---' starts another); put everything in one");
      return std::nullopt;
    }
    if (!docs.empty()) root = docs[0];
  } catch (const YAML::DeepRecursion& e) {
    diags.error({file, e.mark.line + 1, e.mark.column + 1}, "yaml",
                "expected nesting at most " + std::to_string(limits.max_depth) +
                    " levels deep, got deeper");
    return std::nullopt;
  } catch (const YAML::Exception& e) {
    SourceLoc loc{file, 1, 1};
    if (!e.mark.is_null()) loc = {file, e.mark.line + 1, e.mark.column + 1};
    diags.error(loc, "yaml", "expected valid YAML, got a syntax error (" + e.msg + ")");
    return std::nullopt;
  }
  AstNode out;
  Converter conv(file, diags, limits);
  size_t before = diags.size();
  if (!conv.convert(root, out, "", 0) || diags.size() != before) return std::nullopt;
  return out;
}

std::optional<AstNode> load_yaml_file(const std::string& path, Diagnostics& diags,
                                      const YamlLimits& limits) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    diags.error({path, 1, 1}, "file", "expected a readable file, got a directory");
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    diags.error({path, 1, 1}, "file", "expected a readable file, got none at this path");
    return std::nullopt;
  }
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > limits.max_bytes) {  // stop reading: the file may never end (/dev/zero)
      diags.error(
          {path, 1, 1}, "file",
          "expected at most " + std::to_string(limits.max_bytes) + " bytes of YAML, got more");
      return std::nullopt;
    }
  }
  return parse_yaml(text, path, diags, limits);
}

}  // namespace nasforge

// The DSL front end: YAML text -> AST -> checked SearchSpace.
#pragma once

#include <optional>
#include <string>

#include "nasforge/searchspace/diagnostics.h"
#include "nasforge/searchspace/search_space.h"
#include "nasforge/searchspace/yaml_ast.h"

namespace nasforge {

// The DSL version this build reads (`nasforge: 1`).
inline constexpr int kDslVersion = 1;

// Checks a parsed document. Reports every error it can find in one pass into `diags`, and
// returns a space only when there are none.
std::optional<SearchSpace> check_space(const AstNode& root, Diagnostics& diags);

// Reads, parses and checks a space file.
std::optional<SearchSpace> load_space(const std::string& path, Diagnostics& diags);
// Same, from text (tests, frozen spaces); `file` names it in diagnostics.
std::optional<SearchSpace> load_space_text(const std::string& text, const std::string& file,
                                           Diagnostics& diags);

}  // namespace nasforge

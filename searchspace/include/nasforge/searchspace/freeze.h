// A space frozen at one architecture: a space file with every choice fixed (size 1) whose only
// network is `arch`'s. Stages become their active blocks, one layer each; cells list their edges
// with fixed ops ([from, to, op]); encoders give heads and FFN width per layer.
#pragma once

#include <string>

#include "nasforge/searchspace/search_space.h"

namespace nasforge {

// The YAML text. `nasforge check` accepts it, and its size is 1.
std::string freeze_space(const SearchSpace& space, const Architecture& arch);

}  // namespace nasforge

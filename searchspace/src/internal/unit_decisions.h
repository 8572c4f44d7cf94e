// What a block's unit reads, shared by distinct_units (units.cpp) and unit_terms
// (unit_terms.cpp). Private to searchspace/.
#pragma once

#include <vector>

#include "nasforge/searchspace/network.h"

namespace nasforge {

// The decisions a block's unit depends on (-1 for fixed parameters); a choice's are its own and
// those of every alternative.
std::vector<int> block_decisions(const Block& block);
IntParam block_out(const Block& block);

}  // namespace nasforge

// Architecture diagrams for the report, as JSON the page draws: cells as DAGs (none edges left
// out, dead nodes and the edges that reach them greyed), everything else as a strip of blocks
// labelled with kernel, expansion and width, a layer choice showing the alternative chosen.
#pragma once

#include <string>

#include "nasforge/searchspace/search_space.h"

namespace nasforge::report {

// {"strip": [...], "cells": [...]} (docs/report.md describes the fields).
std::string diagram_json(const SearchSpace& space, const Architecture& a);

}  // namespace nasforge::report

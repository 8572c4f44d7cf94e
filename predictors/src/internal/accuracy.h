// Shared by the accuracy predictors: their saved form (the training set).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "nasforge/predictors/predictor.h"
#include "nasforge/searchspace/yaml_ast.h"

namespace nasforge::predictors {

// "\"archs\": [...], \"y\": [...]" (the architectures as strings).
std::string training_set_json(const SearchSpace& space, const std::vector<Architecture>& archs,
                              const std::vector<double>& y);
// Reads the training set back; errors go to d with their position.
bool read_training_set(const AstNode& root, const SearchSpace& space,
                       std::vector<Architecture>& archs, std::vector<double>& y, Diagnostics& d);

}  // namespace nasforge::predictors

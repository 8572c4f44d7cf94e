// A trial record as the text a parallel search's worker hands back to its driver: one
// "key<TAB>value" line per field, numbers in hexadecimal floating point, so that the driver
// stores exactly what the worker computed.
#pragma once

#include <string>

#include "nasforge/evaluation/trial_store.h"

namespace nasforge::evaluation {

std::string encode_trial(const TrialRecord& r);
StatusOr<TrialRecord> decode_trial(const std::string& text);

}  // namespace nasforge::evaluation

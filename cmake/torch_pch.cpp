// Anchor translation unit that owns the shared precompiled <torch/torch.h>.
#include <torch/torch.h>

#include "nasforge/hardware/allocator.h"

#include <malloc.h>

namespace nasforge::hardware {

void apply_allocator_policy(AllocatorPolicy policy) {
  if (policy != AllocatorPolicy::kKeepFreedMemory) return;
  mallopt(M_MMAP_THRESHOLD, 256 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
}

}  // namespace nasforge::hardware

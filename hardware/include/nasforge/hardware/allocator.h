// The one allocator policy, for applications to choose: the library never calls it itself.
//
// LibTorch's CPU tensors come from glibc malloc, which maps and unmaps every block above its
// mmap threshold, so each large activation costs fresh zeroed pages in kernel time, and the
// same unit times 0.08 ms or 1.3 ms depending on the allocation history (glibc's threshold
// adapts). Keeping freed blocks up to 256 MB in the heap, as a deployment's warmed allocator
// does, makes timings steady and inherited-accuracy evaluation about 3x faster
// (docs/benchmarks.md, "Allocator"). It is process-wide and cannot be undone, so the nasforge
// CLI applies it at start-up (`nasforge --allocator glibc` leaves glibc's defaults) and the
// benches that time latency apply it; a program linking the library decides for itself.
#pragma once

namespace nasforge::hardware {

enum class AllocatorPolicy {
  kGlibcDefaults,    // glibc's adaptive mmap threshold and trimming, untouched
  kKeepFreedMemory,  // mmap threshold 256 MB, trim threshold 1 GB
};

// Applies `policy` to this process (kGlibcDefaults does nothing).
void apply_allocator_policy(AllocatorPolicy policy);

}  // namespace nasforge::hardware

#include "nasforge/supernet/checksums.h"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <string>

namespace nasforge::supernet::internal {
namespace {

class Crc {
 public:
  void bytes(const void* p, size_t n) {
    const auto* b = static_cast<const Bytef*>(p);
    for (size_t done = 0; done < n;) {
      const size_t chunk = std::min<size_t>(n - done, 1u << 30);
      crc_ = crc32(crc_, b + done, static_cast<uInt>(chunk));
      done += chunk;
    }
  }
  void text(const std::string& s) { bytes(s.data(), s.size()); }
  void integer(int64_t v) { bytes(&v, sizeof v); }
  void tensor(const at::Tensor& t) {
    if (!t.defined()) {
      integer(-1);
      return;
    }
    const at::Tensor c = t.detach().contiguous().cpu();
    bytes(c.data_ptr(), c.nbytes());
  }
  int64_t value() const { return static_cast<int64_t>(crc_); }

 private:
  uLong crc_ = crc32(0L, Z_NULL, 0);
};

}  // namespace

int64_t module_crc(const torch::nn::Module& m) {
  Crc crc;
  for (const auto& p : m.named_parameters(true)) {
    crc.text(p.key());
    crc.tensor(p.value());
  }
  for (const auto& b : m.named_buffers(true)) {
    crc.text(b.key());
    crc.tensor(b.value());
  }
  return crc.value();
}

int64_t optimizer_crc(const torch::optim::Optimizer& opt) {
  Crc crc;
  const auto& state = opt.state();
  int64_t index = 0;
  for (const auto& group : opt.param_groups())
    for (const auto& p : group.params()) {
      crc.integer(index++);
      auto it = state.find(c10::guts::to_string(p.unsafeGetTensorImpl()));
      if (it == state.end()) {
        crc.integer(0);  // never stepped: no state yet
        continue;
      }
      if (const auto* sgd = dynamic_cast<const torch::optim::SGDParamState*>(it->second.get())) {
        crc.tensor(sgd->momentum_buffer());
      } else if (const auto* adam =
                     dynamic_cast<const torch::optim::AdamParamState*>(it->second.get())) {
        crc.integer(adam->step());
        crc.tensor(adam->exp_avg());
        crc.tensor(adam->exp_avg_sq());
        crc.tensor(adam->max_exp_avg_sq());
      }
    }
  return crc.value();
}

std::string state_digest(int64_t module_crc, int64_t optimizer_crc,
                         const std::array<uint64_t, 4>& rng, int64_t epoch, int64_t step_in_epoch,
                         int64_t global_step) {
  Crc crc;
  for (int64_t v : {module_crc, optimizer_crc, epoch, step_in_epoch, global_step}) crc.integer(v);
  crc.bytes(rng.data(), sizeof rng);
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08llx",
                static_cast<unsigned long long>(static_cast<uint32_t>(crc.value())));
  return hex;
}

}  // namespace nasforge::supernet::internal

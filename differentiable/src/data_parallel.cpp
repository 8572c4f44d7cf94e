// A differentiable search on several ranks (DifferentiableSearch::set_group).
#include <torch/torch.h>

#include "internal/impl.h"
#include "nasforge/distributed/gradients.h"
#include "nasforge/distributed/group.h"
#include "nasforge/searchspace/hash.h"
#include "nasforge/supernet/data_parallel.h"

namespace nasforge::differentiable {

Status DifferentiableSearch::set_group(std::shared_ptr<distributed::Group> group) {
  Impl& s = *impl_;
  if (group && group->size() > 1) {
    if (s.opt.method == Method::kGold)
      return Unimplemented(
          "gold on several ranks: its one-level step trains the logits with the weights, and "
          "their gradients are not averaged yet; run it in one process");
    if (s.opt.method == Method::kDarts && s.opt.knobs.number("order") == 2)
      return Unimplemented(
          "second-order darts on several ranks: its virtual weight step is not averaged yet; "
          "use order=1, or run it in one process");
  }
  s.group = group;
  s.trainer.set_group(std::move(group));
  return Status::Ok();
}

bool DifferentiableSearch::Impl::lead() const { return !group || group->rank() == 0; }

void DifferentiableSearch::Impl::reduce_arch(std::vector<at::Tensor>& g, const data::Batch& b,
                                             double& ce) {
  if (!group || group->size() == 1) return;
  // The logits' gradients travel as the weights' do (distributed::average_gradients): held in
  // .grad for the call, every logit touched, the step checked against the other ranks'.
  auto& theta = dist.theta();
  for (size_t d = 0; d < theta.size(); ++d)
    theta[d].mutable_grad() = g[d].defined() ? g[d].detach().clone() : torch::zeros_like(theta[d]);
  const double share = static_cast<double>(b.labels.size(0)) / static_cast<double>(b.global_size);
  distributed::average_gradients(*group, theta, share,
                                 supernet::step_key(*space, {}, trainer.global_step()));
  for (size_t d = 0; d < theta.size(); ++d) {
    g[d] = theta[d].grad();
    theta[d].mutable_grad() = at::Tensor();
  }
  ce = distributed::weighted_sum(*group, {ce}, share)[0];
}

Status DifferentiableSearch::Impl::agree_on_state() const {
  if (!group || group->size() == 1) return Status::Ok();
  const auto all = group->allgather(static_cast<int64_t>(fnv1a64(digest())));
  if (std::string bad = distributed::disagreeing_ranks(all); !bad.empty())
    return FailedPrecondition("rank(s) " + bad +
                              " start the search from another state than rank 0 (another "
                              "checkpoint, config or seed); with several hosts, --out must be on "
                              "a filesystem every rank sees");
  return Status::Ok();
}

}  // namespace nasforge::differentiable

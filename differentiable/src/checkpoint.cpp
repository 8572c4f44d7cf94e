// The search's own state, kept inside the supernet checkpoint (one atomic file), and the
// configuration a resumed run must match.
#include <torch/torch.h>

#include <sstream>

#include "internal/impl.h"
#include "nasforge/searchspace/hash.h"

namespace nasforge::differentiable {

namespace {

constexpr const char* kStateFormat = "nasforge-differentiable-state-1";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

// The report's numbers, in csv_row's order (argmax aside).
std::vector<double> numbers_of(const EpochReport& r) {
  return {static_cast<double>(r.epoch),
          static_cast<double>(r.steps),
          r.train_loss,
          r.train_accuracy,
          r.valid_loss,
          r.valid_accuracy,
          r.temperature,
          r.entropy,
          r.parameter_free,
          r.hessian,
          r.expected_cost,
          r.max_cost_ratio,
          static_cast<double>(r.violations),
          static_cast<double>(r.alive)};
}

EpochReport report_of(const double* v, std::string argmax) {
  EpochReport r;
  r.epoch = static_cast<int64_t>(v[0]);
  r.steps = static_cast<int64_t>(v[1]);
  r.train_loss = v[2];
  r.train_accuracy = v[3];
  r.valid_loss = v[4];
  r.valid_accuracy = v[5];
  r.temperature = v[6];
  r.entropy = v[7];
  r.parameter_free = v[8];
  r.hessian = v[9];
  r.expected_cost = v[10];
  r.max_cost_ratio = v[11];
  r.violations = static_cast<int64_t>(v[12]);
  r.alive = static_cast<int64_t>(v[13]);
  r.argmax = std::move(argmax);
  return r;
}

}  // namespace

std::string DifferentiableSearch::Impl::config_text() const {
  std::ostringstream o;
  o << "strategy: " << info_of(opt.method).name << "\n";
  o << "knobs: " << opt.knobs.str() << "\n";
  if (opt.cost) {
    o << "cost: " << opt.cost->metric << "\n";
    if (opt.cost->bound) o << "bound: " << *opt.cost->bound << "\n";
  }
  for (const auto& line : lines_of(opt.train.str())) o << "train." << line << "\n";
  return o.str();
}

std::string DifferentiableSearch::Impl::save_state() const {
  torch::serialize::OutputArchive a;
  a.write("format", c10::IValue(std::string(kStateFormat)));
  a.write("config", c10::IValue(config_text()));
  for (size_t i = 0; i < dist.theta().size(); ++i)
    a.write("theta" + std::to_string(i), dist.theta()[i].detach());
  std::vector<uint8_t> alive;
  for (const auto& d : dist.alive()) alive.insert(alive.end(), d.begin(), d.end());
  a.write("alive", torch::tensor(alive, torch::kUInt8));
  if (arch_opt) {
    torch::serialize::OutputArchive o;
    arch_opt->save(o);
    a.write("arch_opt", o);
  }
  const auto r = rng.state();
  a.write("rng", torch::tensor(std::vector<int64_t>(r.begin(), r.end()), torch::kInt64));
  a.write("ints", torch::tensor(std::vector<int64_t>{valid_calls, unroll_calls, train_steps,
                                                     valid_steps, violations, since_prune},
                                torch::kInt64));
  a.write("doubles", torch::tensor(std::vector<double>{train_loss, train_accuracy, valid_loss,
                                                       valid_accuracy, max_ratio, mu},
                                   torch::kFloat64));
  std::vector<std::string> series_text, argmax;
  for (const auto& s : series) series_text.push_back(space->to_string(s));
  a.write("series", c10::IValue(joined(series_text)));
  std::vector<double> hist;
  for (const auto& h : history) {
    const auto v = numbers_of(h);
    hist.insert(hist.end(), v.begin(), v.end());
    argmax.push_back(h.argmax);
  }
  a.write("history", torch::tensor(hist, torch::kFloat64));
  a.write("history_argmax", c10::IValue(joined(argmax)));
  std::ostringstream bytes;
  a.save_to(bytes);
  return bytes.str();
}

Status DifferentiableSearch::Impl::load_counters(torch::serialize::InputArchive& a,
                                                 const std::string& path) {
  at::Tensor r, ints, doubles, hist;
  a.read("rng", r);
  std::array<uint64_t, 4> st;
  for (int i = 0; i < 4; ++i) st[i] = static_cast<uint64_t>(r[i].item<int64_t>());
  rng.set_state(st);
  a.read("ints", ints);
  a.read("doubles", doubles);
  if (r.numel() != 4 || ints.numel() != 6 || doubles.numel() != 6)
    return InvalidArgument(path + ": expected the search's counters, got other shapes");
  valid_calls = ints[0].item<int64_t>();
  unroll_calls = ints[1].item<int64_t>();
  train_steps = ints[2].item<int64_t>();
  valid_steps = ints[3].item<int64_t>();
  violations = ints[4].item<int64_t>();
  since_prune = ints[5].item<int64_t>();
  train_loss = doubles[0].item<double>();
  train_accuracy = doubles[1].item<double>();
  valid_loss = doubles[2].item<double>();
  valid_accuracy = doubles[3].item<double>();
  max_ratio = doubles[4].item<double>();
  mu = doubles[5].item<double>();
  c10::IValue series_text, argmax;
  a.read("series", series_text);
  series.clear();
  for (const auto& line : lines_of(series_text.toStringRef())) {
    auto arch = space->parse(line);
    if (!arch.ok()) return InvalidArgument(path + ": " + arch.status().message());
    series.push_back(*arch);
  }
  a.read("history", hist);
  a.read("history_argmax", argmax);
  const auto names = lines_of(argmax.toStringRef());
  const auto h = hist.to(torch::kFloat64).contiguous();
  if (h.numel() != static_cast<int64_t>(14 * names.size()))
    return InvalidArgument(path + ": expected 14 numbers per epoch of history, got " +
                           std::to_string(h.numel()) + " for " + std::to_string(names.size()));
  history.clear();
  for (size_t i = 0; i < names.size(); ++i)
    history.push_back(report_of(h.data_ptr<double>() + 14 * i, names[i]));
  return Status::Ok();
}

Status DifferentiableSearch::Impl::load_state(const std::string& bytes, const std::string& path) {
  torch::serialize::InputArchive a;
  try {
    std::istringstream in(bytes);
    a.load_from(in);
    c10::IValue format, config;
    if (!a.try_read("format", format) || !format.isString() || format.toStringRef() != kStateFormat)
      return InvalidArgument(path + ": expected a differentiable search's checkpoint (" +
                             kStateFormat + "), got a supernet checkpoint without one");
    a.read("config", config);
    const auto was = lines_of(config.toStringRef()), now = lines_of(config_text());
    for (size_t i = 0; i < std::max(was.size(), now.size()); ++i) {
      const std::string w = i < was.size() ? was[i] : "(nothing)";
      const std::string n = i < now.size() ? now[i] : "(nothing)";
      if (w != n)
        return FailedPrecondition(path + " holds a search with another configuration: '" + w +
                                  "', now '" + n +
                                  "'; use another --out, or the same settings to resume");
    }
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < dist.theta().size(); ++i) {
      at::Tensor t;
      a.read("theta" + std::to_string(i), t);
      dist.theta()[i].copy_(t);
    }
    at::Tensor alive;
    a.read("alive", alive);
    size_t k = 0;
    for (size_t d = 0; d < dist.alive().size(); ++d)
      for (size_t v = 0; v < dist.alive()[d].size(); ++v, ++k)
        if (alive[static_cast<int64_t>(k)].item<int64_t>() == 0) dist.prune(d, v);
    if (arch_opt) {
      torch::serialize::InputArchive o;
      a.read("arch_opt", o);
      arch_opt->load(o);
    }
    NF_RETURN_IF_ERROR(load_counters(a, path));
  } catch (const std::exception& e) {
    return InvalidArgument(path + ": the search state does not load (" +
                           std::string(e.what()).substr(0, 200) + ")");
  }
  // The loaders continue where they were: replay their calls.
  auto replay = [&](std::unique_ptr<data::BatchLoader>& loader, int64_t calls,
                    const data::Dataset& split, const char* tag) {
    loader.reset();
    if (calls == 0) return;
    int64_t n = 0;
    next_batch(loader, n, split, tag);
    data::Batch b;
    for (; n < calls; ++n) loader->next(b);
  };
  replay(valid_loader, valid_calls, data.valid, "arch-valid");
  replay(unroll_loader, unroll_calls, data.train, "arch-unroll");
  return Status::Ok();
}

Status DifferentiableSearch::Impl::save(const std::string& path) const {
  return trainer.save(path, save_state());
}

Status DifferentiableSearch::Impl::load(const std::string& path) {
  NF_RETURN_IF_ERROR(trainer.load(path));
  return load_state(trainer.extra(), path);
}

std::string DifferentiableSearch::Impl::digest() const {
  std::ostringstream o;
  o << trainer.state_digest() << "/";
  for (const auto& t : dist.theta()) {
    auto c = t.detach().contiguous();
    o << fnv1a64(
             std::string(static_cast<const char*>(c.data_ptr()), static_cast<size_t>(c.nbytes())))
      << ",";
  }
  o << valid_calls << "," << unroll_calls << "," << mu;
  return std::to_string(fnv1a64(o.str()));
}

}  // namespace nasforge::differentiable

// `nasforge search --strategy darts|gdas|sharpdarts|gold|hardcore|proxyless`: the DARTS family
// from the command line. The constraints are checked before training (exit 2 when one cannot
// be met); the supernet and the architecture distribution train in OUT/supernet (a
// train-supernet run folder, resumed when it holds a checkpoint); the derived architectures
// then go through the search driver with the `list` strategy, so that they land in
// OUT/trials.sqlite and the Pareto table, --json, explain and export --run work unchanged.
#include <algorithm>
#include <csignal>
#include <filesystem>
#include <functional>
#include <iostream>

#include "distributed_flags.h"
#include "nasforge/differentiable/cost_model.h"
#include "nasforge/differentiable/search.h"
#include "nasforge/searchspace/files.h"
#include "nasforge/searchspace/folder_lock.h"
#include "nasforge/supernet/run.h"
#include "nasforge/supernet/train_log.h"
#include "progress.h"
#include "search_common.h"
#include "train_flags.h"

namespace nasforge::cli {

namespace {

namespace fs = std::filesystem;
using evaluation::ConstraintSpec;
using evaluation::MetricSpec;
using evaluation::ObjectiveSpec;
using evaluation::SearchConfig;

// The source each metric has: given with --metric, or count for params and macs.
std::string source_of(const SearchConfig& c, const std::string& metric) {
  for (const auto& m : c.metrics)
    if (m.metric.name == metric) return m.source;
  return metric == "params" || metric == "macs" ? "count" : "";
}

// The space's constraints and the command line's, together.
std::vector<ConstraintSpec> all_constraints(const SearchConfig& c) {
  std::vector<ConstraintSpec> out = c.constraints;
  for (const Constraint& k : c.space->constraints()) {
    ConstraintSpec s;
    s.metric = *evaluation::MetricName::parse(k.metric.str());
    s.min = k.min;
    s.max = k.max;
    out.push_back(s);
  }
  return out;
}

std::vector<ObjectiveSpec> all_objectives(const SearchConfig& c) {
  if (!c.objectives.empty()) return c.objectives;
  std::vector<ObjectiveSpec> out;
  for (const Objective& o : c.space->objectives())
    out.push_back({*evaluation::MetricName::parse(o.metric.str()), o.direction});
  return out;
}

// The cost the method sees: the first upper bound whose source adds over units, else (for
// the methods that need a cost) the first minimised objective whose source does.
StatusOr<std::optional<differentiable::CostSpec>> choose_cost(const SearchConfig& c,
                                                              differentiable::Method m) {
  auto additive = [](const std::string& source) {
    return source.rfind("count", 0) == 0 || source.rfind("predictor:", 0) == 0;
  };
  for (const auto& k : all_constraints(c)) {
    const std::string src = source_of(c, k.metric.name);
    if (!k.max || !additive(src)) continue;
    auto spec = differentiable::make_cost(*c.space, k.metric.name, src, k.max);
    if (spec.ok()) return std::optional<differentiable::CostSpec>(*spec);
    // A bound the gradient cannot see is still checked on what is derived; HardCoRe needs it.
    if (m == differentiable::Method::kHardCore) return spec.status();
  }
  const bool needs = m == differentiable::Method::kHardCore ||
                     m == differentiable::Method::kProxyless || m == differentiable::Method::kGold;
  if (!needs) return std::optional<differentiable::CostSpec>();
  for (const auto& o : all_objectives(c)) {
    const std::string src = source_of(c, o.metric.name);
    if (o.direction != Direction::kMinimize || !additive(src)) continue;
    auto spec = differentiable::make_cost(*c.space, o.metric.name, src, std::nullopt);
    if (!spec.ok()) return spec.status();
    return std::optional<differentiable::CostSpec>(*spec);
  }
  return std::optional<differentiable::CostSpec>();
}

// The pre-search check of the constraints, without the accuracy sources that need the trained
// supernet. Returns the exit code (2: a constraint cannot be met); `witness` receives an
// architecture meeting every cheaply checkable constraint.
int check_constraints(const Command& cmd, const SearchConfig& c, bool json,
                      std::optional<Architecture>& witness) {
  // Constraints whose metric has no source yet (accuracy from the supernet this run trains)
  // are checked on the derived architectures only.
  std::vector<ConstraintSpec> checkable;
  for (const auto& k : all_constraints(c))
    if (!source_of(c, k.metric.name).empty()) checkable.push_back(k);
  if (checkable.empty()) return 0;
  SearchConfig pre;
  pre.space = c.space;
  pre.seed = c.seed;
  pre.data = c.data;
  for (const auto& k : c.constraints)
    if (!source_of(c, k.metric.name).empty()) pre.constraints.push_back(k);
  pre.objectives = {{checkable[0].metric, Direction::kMinimize}};
  for (const auto& m : c.metrics)
    if (std::any_of(checkable.begin(), checkable.end(),
                    [&](const ConstraintSpec& k) { return k.metric.name == m.metric.name; }))
      pre.metrics.push_back(m);
  auto s = evaluation::Search::create(pre);
  if (!s.ok()) return fail(cmd.name, s.status().message());
  auto feas = (*s)->check_feasibility();
  if (!json) print_bound_checks(feas);
  if (!feas.feasible) {
    std::cerr << "nasforge search: error: " << feas.message << "\n";
    return 2;
  }
  witness = feas.witness;
  return 0;
}

// Writes the run folder's description once (a checkpoint there means it is resumed).
Status prepare_run_folder(const fs::path& dir, const std::string& space_file,
                          const supernet::TrainConfig& config, const std::string& data,
                          int64_t valid_size) {
  if (fs::exists(dir / "checkpoint.pt")) return Status::Ok();
  Status st = copy_atomically(space_file, (dir / "space.yaml").string(), "space copy");
  if (st.ok()) st = write_atomically((dir / "train.yaml").string(), config.str(), "train.yaml");
  if (st.ok())
    st = write_atomically((dir / "run.yaml").string(),
                          "data: " + data + "\nvalid_size: " + std::to_string(valid_size) + "\n",
                          "run.yaml");
  return st;
}

std::string step_status(const differentiable::StepInfo& s, const std::string& cost_metric) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "epoch %lld loss %.3f val %.3f tau %.3g",
                static_cast<long long>(s.epoch + 1), s.train_loss, s.valid_loss, s.temperature);
  std::string out = buf;
  if (!cost_metric.empty()) out += " E[" + cost_metric + "] " + fmt(s.expected_cost);
  return out;
}

// Trains the supernet and the distribution in `run_dir` (locked meanwhile, and described by
// `prepare` first), with a progress bar and a line per epoch. Returns the exit code.
int train_search(const Command& cmd, differentiable::DifferentiableSearch& search,
                 const differentiable::SearchOptions& opts, const fs::path& run_dir,
                 const std::function<Status()>& prepare, const std::string& name, bool json,
                 bool lead) {
  // Rank 0 alone holds the folder and writes it; the other ranks step with it, quietly.
  std::optional<FolderLock> lock;
  if (lead) {
    auto l = FolderLock::acquire(run_dir.string(), "nasforge search --strategy " + name);
    if (!l.ok()) return fail(cmd.name, l.status().message());
    lock = std::move(*l);
    if (Status st = prepare(); !st.ok()) return fail(cmd.name, st.message());
  }
  json = json || !lead;
  const std::string cost_metric = opts.cost ? opts.cost->metric : "";
  std::unique_ptr<ProgressBar> bar;
  const int64_t kill_at = kill_after_step();
  // The curves for `nasforge report`, opened at the first step (global_step - 1 is the step the
  // checkpoint held, so a resumed run drops the rows a killed one wrote past it).
  std::optional<supernet::TrainLog> log;
  Status log_error;
  Status st = search.run(
      run_dir.string(),
      [&](const differentiable::StepInfo& s) {
        if (lead && !log && log_error.ok()) {
          auto opened = supernet::TrainLog::open(run_dir.string(), s.global_step - 1);
          if (opened.ok())
            log = std::move(*opened);
          else
            log_error = opened.status();
        }
        if (log) {
          log->add(s.global_step, s.epoch, supernet::Series::kLoss, s.train_loss);
          log->add(s.global_step, s.epoch, supernet::Series::kAccuracy, s.train_accuracy);
          log->add(s.global_step, s.epoch, supernet::Series::kLearningRate, s.lr);
          log->add(s.global_step, s.epoch, supernet::Series::kValidLoss, s.valid_loss);
          log->add(s.global_step, s.epoch, supernet::Series::kTemperature, s.temperature);
          if (!cost_metric.empty())
            log->add(s.global_step, s.epoch, supernet::Series::kExpectedCost, s.expected_cost);
        }
        if (!bar)
          bar = std::make_unique<ProgressBar>(
              name, opts.max_steps.value_or(s.steps_per_epoch * opts.train.epochs));
        if (!json) bar->update(s.global_step, step_status(s, cost_metric));
        if (s.global_step == kill_at) std::raise(SIGKILL);
      },
      [&](const differentiable::EpochReport& r) {
        if (json) return;
        std::cerr << "\nepoch " << r.epoch << ": entropy " << fmt(r.entropy)
                  << ", parameter-free share " << fmt(r.parameter_free) << ", Hessian eigenvalue "
                  << fmt(r.hessian);
        if (!cost_metric.empty())
          std::cerr << ", E[" << cost_metric << "] " << fmt(r.expected_cost);
        if (opts.cost && opts.cost->bound)
          std::cerr << ", max E/bound " << fmt(r.max_cost_ratio) << ", violations " << r.violations;
        std::cerr << "\n  argmax " << r.argmax << "\n";
      });
  if (!st.ok()) return fail(cmd.name, st.message());
  if (!log_error.ok()) return fail(cmd.name, log_error.message());
  if (bar && !json) bar->finish("done");
  return 0;
}

// Writes the derived architectures to OUT/derived.txt and evaluates them through the driver
// with the list strategy (accuracy from the trained supernet unless a source is given).
int evaluate_derived(const Command& cmd, const SearchConfig& c,
                     const std::vector<Architecture>& derived, const fs::path& run_dir,
                     const std::string& space_file, bool json) {
  std::string lines;
  for (const auto& arch : derived) lines += c.space->to_string(arch) + "\n";
  const std::string list = (fs::path(c.out_dir) / "derived.txt").string();
  if (Status st = write_atomically(list, lines, "derived architectures"); !st.ok())
    return fail(cmd.name, st.message());
  if (!json)
    std::cerr << derived.size() << " derived architecture" << (derived.size() == 1 ? "" : "s")
              << " in " << list << "; diagnostics in " << (run_dir / "diagnostics.csv").string()
              << "\n";
  SearchConfig f = c;
  f.strategy = "list";
  f.options = {{"file", list}};
  f.budget = derived.size();
  bool has_accuracy = false;
  for (const auto& m : f.metrics) has_accuracy |= m.metric.name == "accuracy";
  if (!has_accuracy) {
    auto spec = MetricSpec::parse("accuracy=supernet:" + run_dir.string());
    if (spec.ok()) f.metrics.push_back(*spec);
  }
  return execute_search(cmd, f, space_file, json, {run_dir.string()});
}

}  // namespace

bool is_differentiable(const std::string& strategy) {
  return differentiable::parse_method(strategy).has_value();
}

int run_differentiable_search(const Command& cmd, const Args& given) {
  Args a = given;
  const std::string name = a.get("strategy");
  const auto method = *differentiable::parse_method(name);
  for (const char* need : {"space", "data", "out"})
    if (!a.has(need))
      return fail(cmd.name, "strategy " + name + " trains a supernet: expected --" + need + "\n" +
                                command_help(cmd));
  if (a.has("budget"))
    return fail(cmd.name, "--budget: strategy " + name +
                              " trains for --epochs and evaluates what it derives; it takes no "
                              "budget");
  if (!set_threads(a)) return 1;
  auto group = join_group();  // a world of one, unless a launcher started several ranks
  if (!group.ok()) return fail(cmd.name, group.status().message());
  const bool lead = (*group)->rank() == 0;
  a.options["budget"] = "1";  // replaced by the number of derived architectures
  auto c = search_config(cmd, a);
  if (!c) return 1;
  const bool json = a.has("json");
  auto knobs = differentiable::MethodKnobs::make(method, c->options);
  if (!knobs.ok()) return fail(cmd.name, knobs.status().message());
  auto train = config_from_flags(a, "train-config");
  if (!train) return 1;
  auto max_steps = max_steps_of(a);
  if (!max_steps) return 1;

  std::optional<Architecture> witness;
  if (int rc = check_constraints(cmd, *c, json || !lead, witness)) return rc;
  auto cost = choose_cost(*c, method);
  if (!cost.ok()) return fail(cmd.name, cost.status().message());

  const fs::path run_dir = fs::path(c->out_dir) / "supernet";
  const int64_t valid_size = 10000;
  auto data = supernet::load_data_for(c->data, *c->space, train->seed, valid_size);
  if (!data.ok()) return fail(cmd.name, data.status().message());
  differentiable::SearchOptions opts;
  opts.method = method;
  opts.knobs = *knobs;
  opts.train = *train;
  if (*max_steps > 0) opts.max_steps = *max_steps;
  opts.cost = *cost;
  opts.feasible = witness;
  auto search = differentiable::DifferentiableSearch::create(c->space, *data, opts);
  if (!search.ok()) return fail(cmd.name, search.status().message());
  if ((*group)->size() > 1)
    if (Status st = (*search)->set_group(*group); !st.ok()) return fail(cmd.name, st.message());
  if (!json && lead)
    std::cerr << name << " on " << c->space->name() << " (" << c->space->size().str()
              << " architectures), " << data->train.size() << " train and " << data->valid.size()
              << " validation images"
              << (opts.cost ? ", differentiable cost " + opts.cost->metric : "") << "\n";
  auto prepare = [&]() {
    return prepare_run_folder(run_dir, a.get("space"), *train, c->data, valid_size);
  };
  if (int rc = train_search(cmd, **search, opts, run_dir, prepare, name, json, lead)) return rc;
  if (!lead) return 0;
  return evaluate_derived(cmd, *c, (*search)->derived(), run_dir, a.get("space"), json);
}

}  // namespace nasforge::cli

// The report's model: the front, best-so-far and hypervolume curves against the search's own
// answer and brute force; the architecture diagrams; the training log and its resume; errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "../search/search_test_util.h"
#include "diagram.h"
#include "nasforge/report/report.h"
#include "nasforge/searchspace/folder_lock.h"
#include "nasforge/searchspace/units.h"
#include "nasforge/searchspace/yaml_ast.h"
#include "nasforge/supernet/train_log.h"

namespace nasforge::testing {
namespace {

namespace fs = std::filesystem;
using evaluation::MetricSpec;
using evaluation::ObjectiveSpec;
using evaluation::Search;
using evaluation::SearchConfig;

fs::path fresh_dir(const std::string& name) {
  fs::path d = temp_path("report_" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

// A finished two-objective search of the tiny space in DIR, with a constraint that some trials
// break; space.yaml written as `nasforge search` writes it.
evaluation::SearchResult run_search(const fs::path& dir, const std::string& strategy,
                                    uint64_t seed) {
  static const std::string csv = write_tiny_table(*tiny_space(), "report");
  SearchConfig c;
  c.space = tiny_space();
  c.strategy = strategy;
  c.seed = seed;
  c.metrics = {*MetricSpec::parse("accuracy=table:" + csv + ":score"),
               *MetricSpec::parse("cost=table:" + csv + ":cost")};
  c.objectives = {*ObjectiveSpec::parse("accuracy:max"), *ObjectiveSpec::parse("cost:min")};
  c.constraints = {*evaluation::ConstraintSpec::parse("cost<=2")};
  c.budget = 40;
  c.out_dir = dir.string();
  std::ofstream(dir / "space.yaml") << kTinyCell;
  auto s = Search::create(c);
  EXPECT_TRUE(s.ok()) << s.status().message();
  auto r = (*s)->run();
  EXPECT_TRUE(r.ok()) << r.status().message();
  return *r;
}

std::optional<AstNode> parse_model(const std::string& json) {
  Diagnostics d;
  auto root = parse_yaml(json, "model", d);
  EXPECT_TRUE(root) << d.str();
  return root;
}

std::vector<double> numbers(const AstNode& list) {
  std::vector<double> out;
  for (const auto& x : list.items)
    out.push_back(x.scalar.empty() || x.scalar == "null" ? std::nan("") : std::stod(x.scalar));
  return out;
}

TEST(ReportModel, FrontBestSoFarAndHypervolumeAgreeWithTheSearch) {
  const fs::path dir = fresh_dir("one");
  const auto res = run_search(dir, "random", 3);
  auto model = report::report_model({dir.string()});
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto root = parse_model(*model);
  const AstNode& run = root->find("runs")->items.at(0);
  EXPECT_EQ(run.find("kind")->scalar, "search");
  EXPECT_EQ(run.find("state")->scalar, "finished: 40 of 40 trials");
  // The front: the search's own, in its order.
  std::vector<double> front = numbers(*run.find("front"));
  ASSERT_EQ(front.size(), res.pareto.size());
  for (size_t i = 0; i < front.size(); ++i) EXPECT_EQ(front[i], res.trials[res.pareto[i]].id);
  // Every trial, in order, with its status; the feasible ones meet cost <= 2.
  const auto& trials = run.find("trials")->items;
  ASSERT_EQ(trials.size(), res.trials.size());
  for (size_t i = 0; i < trials.size(); ++i) {
    EXPECT_EQ(trials[i].find("arch")->scalar, res.trials[i].arch);
    EXPECT_EQ(trials[i].find("status")->scalar, res.trials[i].status);
    if (res.trials[i].status == "ok")
      EXPECT_LE(std::stod(trials[i].find("metrics")->find("cost")->scalar), 2);
  }
  // Best so far: brute force over the first k trials' feasible values.
  const auto best = numbers(*run.find("best_so_far")->find("accuracy"));
  ASSERT_EQ(best.size(), res.trials.size());
  for (size_t k = 0; k < best.size(); ++k) {
    double b = std::nan("");
    for (size_t i = 0; i <= k; ++i)
      if (res.trials[i].status == "ok" && !(res.trials[i].metrics.at("accuracy") <= b))
        b = res.trials[i].metrics.at("accuracy");
    if (std::isnan(b))
      EXPECT_TRUE(std::isnan(best[k])) << k;
    else
      EXPECT_EQ(best[k], b) << k;
  }
  // The hypervolume ends where the search's summary does (same default reference), and never
  // falls.
  const auto hv = numbers(*run.find("hypervolume"));
  ASSERT_EQ(hv.size(), res.trials.size());
  EXPECT_NEAR(hv.back(), res.hypervolume, 1e-9 * std::max(1.0, res.hypervolume));
  for (size_t k = 1; k < hv.size(); ++k) EXPECT_GE(hv[k], hv[k - 1]);
  const AstNode& bound = run.find("constraints")->items.at(0);
  EXPECT_EQ(bound.find("metric")->scalar, "cost");
  EXPECT_EQ(bound.find("max")->scalar, "2");
  EXPECT_TRUE(bound.find("min")->scalar.empty()) << bound.find("min")->scalar;  // JSON null
}

TEST(ReportModel, RunsWithTheSameObjectivesShareOneReference) {
  const fs::path a = fresh_dir("a"), b = fresh_dir("b");
  const auto ra = run_search(a, "random", 1);
  const auto rb = run_search(b, "nsga2", 2);
  double worst_acc = 1e9, worst_cost = -1e9;
  for (const auto* r : {&ra, &rb})
    for (const auto& t : r->trials)
      if (t.status == "ok") {
        worst_acc = std::min(worst_acc, t.metrics.at("accuracy"));
        worst_cost = std::max(worst_cost, t.metrics.at("cost"));
      }
  auto model = report::report_model({a.string(), b.string()});
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto root = parse_model(*model);
  const auto& runs = root->find("runs")->items;
  ASSERT_EQ(runs.size(), 2u);
  for (const auto& run : runs)
    EXPECT_EQ(numbers(*run.find("reference")), (std::vector<double>{worst_acc, worst_cost}));
  // Random search is the baseline the others are drawn against.
  EXPECT_EQ(runs[0].find("baseline")->scalar, "true");
  EXPECT_EQ(runs[1].find("baseline")->scalar, "false");
  EXPECT_EQ(runs[1].find("strategy")->scalar, "nsga2");
}

TEST(ReportModel, ARunningSearchIsShownAsFarAsItGot) {
  const fs::path dir = fresh_dir("running");
  run_search(dir, "random", 5);
  auto lock = FolderLock::acquire(dir.string(), "nasforge search (test)");
  ASSERT_TRUE(lock.ok());
  auto model = report::report_model({dir.string()});
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto root = parse_model(*model);
  const AstNode& run = root->find("runs")->items.at(0);
  EXPECT_EQ(run.find("running")->scalar, "true");
  EXPECT_NE(run.find("state")->scalar.find("running ("), std::string::npos);
  EXPECT_NE(run.find("state")->scalar.find("nasforge search (test)"), std::string::npos);
}

TEST(ReportDiagram, CellsOmitNoneAndGreyDeadNodes) {
  const auto space = load("zoo/nb201.yaml");
  // Node 1 is fed by a conv but reaches the output only through none; node 2 has no input.
  auto a = space.parse("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|");
  ASSERT_TRUE(a.ok()) << a.status().message();
  auto root = parse_model(report::diagram_json(space, *a));
  const AstNode& cell = root->find("cells")->items.at(0);
  const auto& edges = cell.find("edges")->items;
  ASSERT_EQ(edges.size(), 2u);  // the two edges that are not none
  EXPECT_EQ(edges[0].find("op")->scalar, "nor_conv_3x3");
  EXPECT_EQ(edges[0].find("live")->scalar, "false");
  EXPECT_EQ(edges[1].find("op")->scalar, "skip_connect");
  EXPECT_EQ(edges[1].find("live")->scalar, "true");
  EXPECT_EQ(numbers(*cell.find("dead")), (std::vector<double>{1, 2}));
  EXPECT_EQ(cell.find("layers")->items.size(), 15u);  // NB201 repeats its cell 15 times
}

TEST(ReportDiagram, MacroStripsLabelEveryBlockAndTheChosenAlternative) {
  for (const char* file : {"zoo/mobilenet.yaml", "zoo/fbnet.yaml"}) {
    const auto space = load(file);
    Rng rng(11);
    const Architecture a = space.sample(rng);
    auto root = parse_model(report::diagram_json(space, a));
    const auto& strip = root->find("strip")->items;
    const auto us = units(space, a, false);
    size_t blocks = 0, mbconv = 0, choices = 0;
    for (const auto& b : strip) {
      blocks += b.find("kind")->scalar != "choice";
      if (b.find("kind")->scalar == "mbconv") {
        ++mbconv;
        EXPECT_TRUE(b.find("k") && b.find("e") && b.find("out")) << file;
      }
      choices += b.find("choice") != nullptr;
    }
    EXPECT_EQ(blocks, us.size()) << file;
    EXPECT_GT(mbconv, 0u) << file;
    // Every active layer choice shows the alternative the architecture names.
    size_t active_choices = 0;
    for (size_t d = 0; d < space.decisions().size(); ++d)
      if (space.decisions()[d].domain.type == DomainType::kChoice &&
          space.is_active(a, static_cast<int>(d)))
        ++active_choices;
    EXPECT_EQ(choices, active_choices) << file;
  }
}

TEST(TrainLog, AResumedRunDropsTheStepsItsCheckpointLacks) {
  const fs::path dir = fresh_dir("log");
  {
    auto log = supernet::TrainLog::open(dir.string(), 0);
    ASSERT_TRUE(log.ok()) << log.status().message();
    for (int s = 1; s <= 10; ++s) log->add(s, 0, supernet::Series::kLoss, 1.0 / s);
    log->add(10, 0, supernet::Series::kValidAccuracy, std::nan(""));
  }
  {
    auto log = supernet::TrainLog::open(dir.string(), 6);  // the checkpoint held step 6
    ASSERT_TRUE(log.ok());
    log->add(7, 0, supernet::Series::kLoss, 0.5);
  }
  auto rows = supernet::read_train_log(dir.string());
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  ASSERT_EQ(rows->size(), 7u);
  EXPECT_EQ(rows->back().step, 7);
  EXPECT_EQ(rows->back().value, 0.5);
  EXPECT_FLOAT_EQ((*rows)[2].value, 1.0 / 3);
  // A torn last line (a writer killed mid-row) is left out; a bad line elsewhere is an error.
  std::ofstream(dir / "train_log.csv", std::ios::app) << "8,0,lo";
  EXPECT_EQ(supernet::read_train_log(dir.string())->size(), 7u);
  std::ofstream(dir / "train_log.csv", std::ios::app) << "ss,1\n9,0,speed,1\n10,0,loss,1\n";
  auto bad = supernet::read_train_log(dir.string());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("train_log.csv:10:"), std::string::npos)
      << bad.status().message();
  EXPECT_NE(bad.status().message().find("'9,0,speed,1'"), std::string::npos);
}

TEST(ReportModel, TrainingFoldersGiveTheirSeriesAndEpochs) {
  const fs::path dir = fresh_dir("train");
  {
    auto log = supernet::TrainLog::open(dir.string(), 0);
    ASSERT_TRUE(log.ok());
    for (int s = 1; s <= 2500; ++s) {
      log->add(s, s / 1000, supernet::Series::kLoss, 2.0 - s * 1e-4);
      log->add(s, s / 1000, supernet::Series::kLearningRate, 0.1);
    }
  }
  std::ofstream(dir / "diagnostics.csv")
      << "epoch,steps,entropy,argmax\n1,10,1.5,\"|a~0|,x\"\n2,20,1.25,\"|b~0|\"\n";
  auto model = report::report_model({dir.string()});
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto root = parse_model(*model);
  const AstNode& run = root->find("runs")->items.at(0);
  EXPECT_EQ(run.find("kind")->scalar, "training");
  const auto& loss = run.find("series")->find("loss")->items;
  EXPECT_LE(loss.size(), 1000u);  // binned
  EXPECT_GE(loss.size(), 800u);
  EXPECT_EQ(loss.back().items.at(0).scalar, "2500");
  const AstNode& epochs = *run.find("epochs");
  ASSERT_EQ(epochs.find("rows")->items.size(), 2u);
  EXPECT_EQ(epochs.find("rows")->items[0].items[3].scalar, "|a~0|,x");
  EXPECT_EQ(epochs.find("rows")->items[1].items[2].scalar, "1.25");
}

TEST(ReportModel, FoldersThatAreNoRunAreRefusedByName) {
  const fs::path empty = fresh_dir("empty");
  auto r = report::report_model({empty.string()});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find(empty.string()), std::string::npos);
  EXPECT_NE(r.status().message().find("trials.sqlite"), std::string::npos);
  auto missing = report::report_model({(empty / "nope").string()});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("got nothing"), std::string::npos);
  std::ofstream(empty / "trials.sqlite") << "not a database";
  std::ofstream(empty / "space.yaml") << kTinyCell;
  auto corrupt = report::report_model({empty.string()});
  ASSERT_FALSE(corrupt.ok());
  EXPECT_NE(corrupt.status().message().find("trials.sqlite"), std::string::npos)
      << corrupt.status().message();
}

TEST(ReportPage, NothingInTheDataCanCloseItsScriptEarly) {
  const fs::path dir = fresh_dir("page");
  run_search(dir, "random", 9);
  report::ReportOptions o;
  o.title = "</script><b>x</b>";
  auto page = report::render_report({dir.string()}, o);
  ASSERT_TRUE(page.ok()) << page.status().message();
  size_t n = 0;
  for (size_t at = page->find("</script>"); at != std::string::npos;
       at = page->find("</script>", at + 1))
    ++n;
  EXPECT_EQ(n, 2u);  // the model's element and the script's, nothing else
  EXPECT_NE(page->find("<title>&lt;/script&gt;&lt;b&gt;x&lt;/b&gt;</title>"), std::string::npos);
  EXPECT_EQ(page->find("http://"), page->find("http://www.w3.org/2000/svg"));  // no fetches
  EXPECT_EQ(page->find("https://"), std::string::npos);
}

}  // namespace
}  // namespace nasforge::testing

// The driver: metric names and sources, hard constraints before and during the search, the
// trial store and resume.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

#include "nasforge/hardware/counts.h"
#include "search_test_util.h"

namespace nasforge::testing {
namespace {

namespace fs = std::filesystem;
using evaluation::ConstraintSpec;
using evaluation::MetricName;
using evaluation::MetricSpec;
using evaluation::ObjectiveSpec;
using evaluation::Search;
using evaluation::SearchConfig;

std::string table_path() {
  static const std::string csv = write_tiny_table(*tiny_space(), "search");
  return csv;
}

SearchConfig config(const std::string& strategy, uint64_t budget) {
  SearchConfig c;
  c.space = tiny_space();
  c.strategy = strategy;
  c.metrics = {*MetricSpec::parse("accuracy=table:" + table_path() + ":score"),
               *MetricSpec::parse("cost=table:" + table_path() + ":cost")};
  c.objectives = {*ObjectiveSpec::parse("accuracy:max")};
  c.budget = budget;
  return c;
}

fs::path fresh_dir(const std::string& name) {
  fs::path d = testing::temp_path("search_" + name);
  fs::remove_all(d);
  return d;
}

TEST(MetricNames, TypedStrictPlainFree) {
  EXPECT_EQ(MetricName::parse("latency_ms@raspi4")->unit(), "ms");
  EXPECT_EQ(MetricName::parse("accuracy")->unit(), "%");
  EXPECT_EQ(MetricName::parse("test_acc")->unit(), "");
  auto typo = MetricName::parse("latncy_ms@cpu");
  ASSERT_FALSE(typo.ok());
  EXPECT_FALSE(MetricName::parse("Test Acc").ok());
  EXPECT_FALSE(MetricSpec::parse("accuracy").ok());
  EXPECT_FALSE(ObjectiveSpec::parse("accuracy:up").ok());
  auto c = ConstraintSpec::parse("latency_ms@raspi4 <= 15");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c->max, 15);
  EXPECT_EQ(c->str(), "latency_ms@raspi4 <= 15");
  EXPECT_EQ(ConstraintSpec::parse("params>=2M")->min.value(), 2e6);
  auto strict = ConstraintSpec::parse("params<2M");
  ASSERT_FALSE(strict.ok());
  EXPECT_NE(strict.status().message().find("use <= or >="), std::string::npos);
  EXPECT_DOUBLE_EQ(c->violation(15), 0);
  EXPECT_DOUBLE_EQ(c->violation(18), 0.2);
}

TEST(Sources, ErrorsNameWhatIsWrong) {
  auto bad = [](const std::string& spec) {
    SearchConfig c = config("random", 5);
    c.metrics.push_back(*MetricSpec::parse(spec));
    auto s = Search::create(c);
    EXPECT_FALSE(s.ok()) << spec;
    return s.ok() ? std::string() : s.status().message();
  };
  EXPECT_NE(bad("x=table:" + table_path() + ":nope").find("score"), std::string::npos);
  EXPECT_NE(bad("y=table:/no/such.csv:a").find("/no/such.csv"), std::string::npos);
  EXPECT_NE(bad("top1=count").find("count gives params or macs"), std::string::npos);
  EXPECT_NE(bad("z=nonsense:1").find("expected a source"), std::string::npos);
  EXPECT_NE(bad("latency_ms@cpu=measure:onednn").find("names device cpu"), std::string::npos);
  EXPECT_NE(bad("w=train:2").find("--data"), std::string::npos);
  EXPECT_NE(bad("v=supernet:/no/run").find("expected a run folder"), std::string::npos);
  // An objective without a source says how to give one.
  SearchConfig c = config("random", 5);
  c.objectives.push_back(*ObjectiveSpec::parse("latency_ms@pixel3:min"));
  auto s = Search::create(c);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("add --metric latency_ms@pixel3=SOURCE"), std::string::npos);
}

TEST(Constraints, ImpossibleBoundIsReportedWithTheMinimum) {
  SearchConfig c = config("random", 10);
  c.constraints = {*ConstraintSpec::parse("accuracy>=10")};  // the best score is 9
  auto s = Search::create(c);
  ASSERT_TRUE(s.ok()) << s.status().message();
  auto rep = (*s)->check_feasibility();
  EXPECT_FALSE(rep.feasible);
  EXPECT_NE(rep.message.find("largest accuracy in tiny_cell is 9"), std::string::npos)
      << rep.message;
  auto run = (*s)->run();
  ASSERT_FALSE(run.ok());
  EXPECT_EQ(run.status().code(), StatusCode::kFailedPrecondition);
  // Exact minimum of an enumerated count source.
  c.constraints = {*ConstraintSpec::parse("params<=10")};
  auto p = Search::create(c);
  ASSERT_TRUE(p.ok()) << p.status().message();
  rep = (*p)->check_feasibility();
  EXPECT_FALSE(rep.feasible);
  EXPECT_NE(rep.message.find("smallest params"), std::string::npos);
  EXPECT_NE(rep.message.find("exact, over all 125 architectures"), std::string::npos)
      << rep.message;
}

TEST(Constraints, LargeSpaceBoundByDescentIsALowerBound) {
  SearchConfig c;
  c.space = std::make_shared<const SearchSpace>(load("zoo/mobilenet.yaml"));
  c.metrics = {};
  c.objectives = {*ObjectiveSpec::parse("params:min")};
  c.constraints = {*ConstraintSpec::parse("params<=1000")};
  auto s = Search::create(c);
  ASSERT_TRUE(s.ok()) << s.status().message();
  auto rep = (*s)->check_feasibility();
  ASSERT_FALSE(rep.feasible);
  EXPECT_NE(rep.message.find("coordinate descent"), std::string::npos) << rep.message;
  const double min = *rep.checks[0].best;
  Rng rng(5);
  for (int i = 0; i < 300; ++i) {
    auto a = c.space->sample(rng);
    EXPECT_GE(static_cast<double>(hardware::count(*c.space, a).params), min);
  }
}

TEST(Constraints, NoReturnedArchitectureBreaksOne) {
  for (const char* strategy : {"random", "rea", "nsga2", "pnas", "bowl", "reinforce", "linas"}) {
    SearchConfig c = config(strategy, 25);
    c.objectives = {*ObjectiveSpec::parse("accuracy:max")};
    c.constraints = {*ConstraintSpec::parse("cost<=1")};  // at most one conv edge
    c.seed = 2;
    if (std::string(strategy) == "nsga2" || std::string(strategy) == "linas" ||
        std::string(strategy) == "random")
      c.objectives.push_back(*ObjectiveSpec::parse("cost:min"));
    auto s = Search::create(c);
    ASSERT_TRUE(s.ok()) << s.status().message();
    auto r = (*s)->run();
    ASSERT_TRUE(r.ok()) << r.status().message();
    // The cost source is cheap, so strategies propose within it: nothing evaluated breaks it.
    for (const auto& t : r->trials) {
      EXPECT_LE(t.metrics.at("cost"), 1) << strategy << " " << t.arch;
      EXPECT_EQ(t.status, "ok");
    }
    ASSERT_TRUE(r->best.has_value());
    EXPECT_EQ(r->trials[*r->best].metrics.at("accuracy"), 5) << strategy;  // conv3x3 + pool
    for (size_t i : r->pareto) EXPECT_LE(r->trials[i].metrics.at("cost"), 1);
  }
}

TEST(Store, ResumeReplaysWithoutEvaluatingAgain) {
  const fs::path dir = fresh_dir("resume");
  for (const char* strategy : {"rea", "bowl", "reinforce"}) {
    fs::remove_all(dir);
    SearchConfig c = config(strategy, 20);
    c.seed = 3;
    c.out_dir = dir.string();
    auto first = (*Search::create(c))->run();
    ASSERT_TRUE(first.ok()) << first.status().message();
    EXPECT_EQ(first->reused, 0u);
    c.budget = 40;  // a longer run in the same folder continues the first
    auto resumed = (*Search::create(c))->run();
    ASSERT_TRUE(resumed.ok()) << resumed.status().message();
    EXPECT_EQ(resumed->reused, 20u) << strategy;
    c.out_dir.clear();
    auto straight = (*Search::create(c))->run();
    ASSERT_EQ(straight->trials.size(), resumed->trials.size());
    for (size_t i = 0; i < straight->trials.size(); ++i)
      EXPECT_EQ(straight->trials[i].arch, resumed->trials[i].arch) << strategy << " trial " << i;
    auto store = evaluation::TrialStore::open((dir / "trials.sqlite").string(), {});
    ASSERT_TRUE(store.ok());
    EXPECT_EQ((*store)->all()->size(), 40u);
  }
}

TEST(Store, RefusesAnotherConfigurationAndAForeignFile) {
  const fs::path dir = fresh_dir("config");
  SearchConfig c = config("rea", 5);
  c.out_dir = dir.string();
  ASSERT_TRUE((*Search::create(c))->run().ok());
  c.seed = 9;
  auto r = (*Search::create(c))->run();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("seed was '0', now '9'"), std::string::npos)
      << r.status().message();
  const fs::path junk = fresh_dir("junk");
  fs::create_directories(junk);
  std::ofstream(junk / "trials.sqlite") << "this is not a database, just text that is long enough";
  c.out_dir = junk.string();
  c.seed = 0;
  auto j = (*Search::create(c))->run();
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("trials.sqlite"), std::string::npos) << j.status().message();
}

// A stored trial without one of its metrics, or with a non-finite one (an edited or damaged
// store), is refused on resume naming the trial; it was "error: map::at" before.
TEST(Store, ResumeRefusesAStoredTrialMissingAMetric) {
  const fs::path dir = fresh_dir("damaged_store");
  SearchConfig c = config("rea", 5);
  c.out_dir = dir.string();
  ASSERT_TRUE((*Search::create(c))->run().ok());
  const std::string path = (dir / "trials.sqlite").string();
  for (const char* metrics : {"{}", "{\"accuracy\": null}"}) {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const std::string sql =
        std::string("UPDATE trials SET metrics = '") + metrics + "' WHERE id = 2";
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
    auto r = (*Search::create(c))->run();
    ASSERT_FALSE(r.ok()) << metrics;
    EXPECT_NE(r.status().message().find(path + ": trial 2 ("), std::string::npos)
        << r.status().message();
    EXPECT_NE(r.status().message().find("expected a finite value for metric accuracy, got "),
              std::string::npos)
        << r.status().message();
  }
}

TEST(Store, RepeatsAreFreeAndEvaluatedOnce) {
  SearchConfig c = config("rea", 40);  // of the 60 distinct architectures
  c.seed = 1;
  auto r = (*Search::create(c))->run();
  ASSERT_TRUE(r.ok());
  std::set<std::string> hashes;
  for (const auto& t : r->trials) EXPECT_TRUE(hashes.insert(t.hash).second) << t.arch;
  EXPECT_EQ(r->trials.size(), 40u);
  EXPECT_GT(r->repeats, 0u);  // REA's mutants revisit; they were not counted
}

TEST(Results, ParetoFrontAndHypervolumeOfTwoObjectives) {
  SearchConfig c = config("nsga2", 40);
  c.objectives = {*ObjectiveSpec::parse("accuracy:max"), *ObjectiveSpec::parse("cost:min")};
  c.reference = std::vector<double>{0, 4};
  auto r = (*Search::create(c))->run();
  ASSERT_TRUE(r.ok());
  // Check the front against brute force over the trials.
  for (size_t i = 0; i < r->trials.size(); ++i) {
    const auto& a = r->trials[i].metrics;
    bool dominated = false;
    for (const auto& t : r->trials) {
      const auto& b = t.metrics;
      dominated |= b.at("accuracy") >= a.at("accuracy") && b.at("cost") <= a.at("cost") &&
                   (b.at("accuracy") > a.at("accuracy") || b.at("cost") < a.at("cost"));
    }
    const bool on_front = std::find(r->pareto.begin(), r->pareto.end(), i) != r->pareto.end();
    EXPECT_EQ(on_front, !dominated) << r->trials[i].arch;
  }
  // The true front of this table: cost k conv edges reach accuracy 3k + (3 - k) pools, at best
  // 3 (k=0, three pools), 5, 7, 9 -> against (0, 4): 4*3 + 3*(5-3) + 2*(7-5) + 1*(9-7) = 24.
  EXPECT_LE(r->hypervolume, 24.0 + 1e-9);
  EXPECT_GT(r->hypervolume, 20.0);
  auto json = evaluation::result_json(c, *r);
  EXPECT_NE(json.find("\"pareto\": ["), std::string::npos);
  EXPECT_NE(json.find("\"hypervolume\": "), std::string::npos);
  EXPECT_NE(json.find("\"trials\": 40"), std::string::npos);
}

}  // namespace
}  // namespace nasforge::testing

namespace nasforge::testing {
namespace {

// A C++ function as a metric source (the library's callback: sources).
TEST(CallbackSource, YourOwnFunctionIsAMetricAndItsErrorsFailOnlyTheirTrial) {
  auto space = tiny_space();
  auto factory = std::make_shared<evaluation::SourceFactory>(evaluation::SourceContext{space});
  int calls = 0;
  factory->add_callback("score", [&](const Architecture& a) -> StatusOr<double> {
    ++calls;
    const double v = tiny_score(*space, a);
    if (v == 0) throw std::runtime_error("no op that scores");
    return v;
  });
  evaluation::SearchConfig c;
  c.space = space;
  c.strategy = "rea";
  c.metrics = {*evaluation::MetricSpec::parse("mine=callback:score")};
  c.objectives = {*evaluation::ObjectiveSpec::parse("mine:max")};
  c.budget = 60;
  auto s = evaluation::Search::create(c, factory);
  ASSERT_TRUE(s.ok()) << s.status().message();
  auto r = (*s)->run();
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(static_cast<uint64_t>(calls), r->evaluated);  // canonical twins reuse a value
  ASSERT_TRUE(r->best.has_value());
  EXPECT_GE(r->trials[*r->best].metrics.at("mine"), 8);  // 9 is the optimum, random's mean ~3
  size_t failed = 0;
  for (const auto& t : r->trials)
    if (t.status == "failed") {
      ++failed;
      EXPECT_NE(t.error.find("callback:score threw: no op that scores"), std::string::npos);
    }
  EXPECT_LT(failed, 60u);
  // A name nobody registered is refused before the search, saying where callbacks come from.
  c.metrics = {*evaluation::MetricSpec::parse("mine=callback:other")};
  auto missing = evaluation::Search::create(c, factory);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no C++ function is registered as other"),
            std::string::npos)
      << missing.status().message();
}

// A finished search's folder read back: its objectives and the sources of its metrics and of
// its --report columns, exactly, even where a source's path holds spaces.
TEST(StoredSearch, SourcesWithSpacesInTheirPathsReadBackWhole) {
  auto space = tiny_space();
  const std::filesystem::path dir = temp_path("stored search");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string csv = (dir / "a table.csv").string();
  std::filesystem::copy_file(write_tiny_table(*space, "stored_search"), csv);
  evaluation::SearchConfig c;
  c.space = space;
  c.strategy = "random";
  c.metrics = {*evaluation::MetricSpec::parse("score=table:" + csv + ":score")};
  c.reports = {*evaluation::MetricSpec::parse("cost=table:" + csv + ":cost")};
  c.objectives = {*evaluation::ObjectiveSpec::parse("score:max")};
  c.budget = 5;
  c.out_dir = (dir / "run").string();
  std::filesystem::create_directories(c.out_dir);
  std::ofstream(dir / "run" / "space.yaml") << kTinyCell;
  auto s = evaluation::Search::create(c);
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_TRUE((*s)->run().ok());
  auto stored = evaluation::load_search(c.out_dir);
  ASSERT_TRUE(stored.ok()) << stored.status().message();
  ASSERT_EQ(stored->objectives.size(), 1u);
  EXPECT_EQ(stored->objectives[0].metric.name, "score");
  EXPECT_EQ(stored->sources,
            (std::map<std::string, std::string>{{"score", "table:" + csv + ":score"}}));
  EXPECT_EQ(stored->report_sources,
            (std::map<std::string, std::string>{{"cost", "table:" + csv + ":cost"}}));
  EXPECT_EQ(stored->trials.size(), 5u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace nasforge::testing

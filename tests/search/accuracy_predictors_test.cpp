// The accuracy predictors on real NAS-Bench-201 accuracies (data/nasbench201), and the WL
// features that explain them.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../searchspace/test_util.h"
#include "nasforge/predictors/accuracy.h"
#include "nasforge/predictors/quality.h"
#include "nasforge/predictors/table.h"

namespace nasforge::testing {
namespace {

struct Nb201 {
  SearchSpace space = load("zoo/nb201.yaml");
  predictors::ArchTable table;
  size_t valid = 0;
  Nb201() {
    auto t =
        predictors::ArchTable::load(source_path("data/nasbench201/nb201_cifar10.csv.gz"), space);
    EXPECT_TRUE(t.ok()) << t.status().message();
    if (!t.ok()) throw std::runtime_error("no NAS-Bench-201 table");
    table = std::move(*t);
    valid = *table.column("valid_acc");
  }
};

const Nb201& nb201() {
  static const Nb201 n;
  return n;
}

TEST(WlLabels, SubtreesByHand) {
  LabelledDag g;
  g.labels = {"input", "conv", "pool", "output"};
  g.edges = {{0, 1}, {0, 2}, {1, 3}, {2, 3}};
  auto l = predictors::wl_labels(g, 2);
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[1][1], "conv(input)");
  EXPECT_EQ(l[1][3], "output(conv,pool)");
  EXPECT_EQ(l[2][3], "output(conv,pool)(conv(input),pool(input))");
  EXPECT_EQ(l[1][0], "input()");
}

// Fitted on 150 architectures, each predictor ranks 1000 others well.
TEST(AccuracyPredictors, RankHeldOutArchitectures) {
  const auto& n = nb201();
  auto rows = n.table.sample_rows(1150, 11);
  std::vector<Architecture> train, test;
  std::vector<double> y, truth;
  for (size_t i = 0; i < rows.size(); ++i) {
    (i < 150 ? train : test).push_back(n.table.archs[rows[i]]);
    (i < 150 ? y : truth).push_back(n.table.values[n.valid][rows[i]]);
  }
  for (const char* name : {"mlp", "gp", "wl-gp"}) {
    const auto model = predictors::parse_accuracy_model(name);
    ASSERT_TRUE(model.has_value()) << name;
    auto p = predictors::make_accuracy_predictor(*model, n.space, 1);
    ASSERT_TRUE(p->fit(train, y).ok());
    std::vector<double> pred;
    double spread = 0;
    for (const auto& q : p->predict_batch(test)) pred.push_back(q.mean), spread += q.std;
    const double tau = predictors::kendall(pred, truth);
    std::printf("%-6s Kendall tau %.3f on 1000 held-out NAS-Bench-201 architectures\n", name, tau);
    // Measured: mlp 0.42, gp 0.34, wl-gp 0.62 (random ranking: 0). The WL kernel's lead is
    // NAS-BOWL's point; the bounds leave room for other seeds.
    EXPECT_GT(tau, std::string(name) == "wl-gp" ? 0.5 : 0.25) << name;
    EXPECT_GT(spread, 0) << name << " gives no uncertainty";
    // Saved and loaded (a deterministic refit), it predicts the same.
    const std::string path = temp_path(std::string(name) + "_acc.json");
    ASSERT_TRUE(p->save(path).ok());
    auto back = predictors::load_accuracy_predictor(path, n.space);
    ASSERT_TRUE(back.ok()) << back.status().message();
    for (size_t i = 0; i < 20; ++i)
      EXPECT_NEAR((*back)->predict(test[i]).mean, p->predict(test[i]).mean, 1e-6) << name;
  }
}

// The accuracy loader refuses a latency predictor's file and a file for another space, naming
// the file.
TEST(AccuracyPredictors, LoaderRefusesOtherFiles) {
  const auto& n = nb201();
  const std::string lut = temp_path("not_accuracy.json");
  {
    std::ofstream f(lut);
    f << "{\"predictor\": \"lut\", \"space_fingerprint\": \"" << n.space.fingerprint() << "\"}\n";
  }
  auto refused = predictors::load_accuracy_predictor(lut, n.space);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("expected an accuracy predictor (mlp, gp or wl-gp), "
                                            "got 'lut'"),
            std::string::npos)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find(lut), std::string::npos);
  const std::string other = temp_path("other_space.json");
  {
    std::ofstream f(other);
    f << "{\"predictor\": \"mlp\", \"space_fingerprint\": \"0123\"}\n";
  }
  auto wrong = predictors::load_accuracy_predictor(other, n.space);
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("fitted for another space"), std::string::npos)
      << wrong.status().message();
}

// A target that rewards conv3x3 fed by the input: the explanation must say so.
TEST(WlGp, MotifsExplainASyntheticTarget) {
  const auto& n = nb201();
  auto rows = n.table.sample_rows(200, 5);
  std::vector<Architecture> x;
  std::vector<double> y;
  for (size_t r : rows) {
    const Architecture& a = n.table.archs[r];
    double v = 0;
    for (const auto& e : n.space.live_edges(a, 0))
      v += e.op == "nor_conv_3x3" && e.from == 0 ? 1 : 0;
    x.push_back(a);
    y.push_back(v);
  }
  predictors::WlGaussianProcess gp(n.space);
  ASSERT_TRUE(gp.fit(x, y).ok());
  auto motifs = gp.motifs();
  ASSERT_FALSE(motifs.empty());
  const predictors::Motif* top = nullptr;
  for (const auto& m : motifs)
    if (m.effect > 0) {
      top = &m;
      break;
    }
  ASSERT_NE(top, nullptr);
  EXPECT_NE(top->label.find("nor_conv_3x3"), std::string::npos) << top->label;
  EXPECT_GE(gp.h(), 0);
  EXPECT_LE(gp.h(), 3);
}

}  // namespace
}  // namespace nasforge::testing

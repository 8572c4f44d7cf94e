// The MLP ensemble and the RBF Gaussian process on one-hot encodings, and the accuracy
// predictors' factories and saved form.
#include <algorithm>
#include <cmath>
#include <sstream>

#include "internal/accuracy.h"
#include "nasforge/predictors/accuracy.h"
#include "nasforge/predictors/models.h"
#include "nasforge/searchspace/ast_reader.h"
#include "nasforge/searchspace/rng.h"

namespace nasforge::predictors {
namespace {

// One member: in -> hidden -> hidden -> 1, ReLU, trained with Adam on mean squared error of
// standardised targets.
struct Mlp {
  size_t in = 0, hid = 0;
  std::vector<float> w1, b1, w2, b2, w3;  // w1: hid x in, w2: hid x hid, w3: hid
  float b3 = 0;

  void init(size_t d, size_t h, Rng& rng) {
    in = d, hid = h;
    auto fill = [&](std::vector<float>& w, size_t n, size_t fan_in) {
      w.resize(n);
      const double bound = std::sqrt(6.0 / static_cast<double>(fan_in));
      for (auto& x : w) x = static_cast<float>((2 * rng.uniform01() - 1) * bound);
    };
    fill(w1, h * d, d);
    fill(w2, h * h, h);
    fill(w3, h, h);
    b1.assign(h, 0);
    b2.assign(h, 0);
    b3 = 0;
  }

  // Forward pass keeping activations (h1, h2 after ReLU).
  float forward(const float* x, float* h1, float* h2) const {
    for (size_t j = 0; j < hid; ++j) {
      float s = b1[j];
      const float* w = &w1[j * in];
      for (size_t k = 0; k < in; ++k) s += w[k] * x[k];
      h1[j] = s > 0 ? s : 0;
    }
    for (size_t j = 0; j < hid; ++j) {
      float s = b2[j];
      const float* w = &w2[j * hid];
      for (size_t k = 0; k < hid; ++k) s += w[k] * h1[k];
      h2[j] = s > 0 ? s : 0;
    }
    float out = b3;
    for (size_t k = 0; k < hid; ++k) out += w3[k] * h2[k];
    return out;
  }

  void train(const std::vector<std::vector<float>>& x, const std::vector<float>& y, Rng& rng,
             int steps, size_t batch, float lr) {
    std::vector<float*> params = {w1.data(), b1.data(), w2.data(), b2.data(), w3.data(), &b3};
    std::vector<size_t> sizes = {w1.size(), b1.size(), w2.size(), b2.size(), w3.size(), 1};
    std::vector<std::vector<float>> g(6), m(6), v(6);
    for (size_t p = 0; p < 6; ++p) g[p].assign(sizes[p], 0), m[p] = v[p] = g[p];
    std::vector<float> h1(hid), h2(hid), d2(hid), d1(hid);
    const size_t n = x.size();
    const float b1c = 0.9f, b2c = 0.999f;
    float b1t = 1, b2t = 1;
    for (int step = 0; step < steps; ++step) {
      for (auto& gp : g) std::fill(gp.begin(), gp.end(), 0.0f);
      const size_t bs = std::min(batch, n);
      for (size_t s = 0; s < bs; ++s) {
        const size_t i = bs == n ? s : rng.uniform(n);
        const float* xi = x[i].data();
        const float err = (forward(xi, h1.data(), h2.data()) - y[i]) * 2 / static_cast<float>(bs);
        g[5][0] += err;
        for (size_t k = 0; k < hid; ++k) {
          g[4][k] += err * h2[k];
          d2[k] = h2[k] > 0 ? err * w3[k] : 0;
        }
        std::fill(d1.begin(), d1.end(), 0.0f);
        for (size_t j = 0; j < hid; ++j) {
          if (d2[j] == 0) continue;
          g[3][j] += d2[j];
          float* gw = &g[2][j * hid];
          const float* w = &w2[j * hid];
          for (size_t k = 0; k < hid; ++k) {
            gw[k] += d2[j] * h1[k];
            d1[k] += d2[j] * w[k];
          }
        }
        for (size_t j = 0; j < hid; ++j) {
          if (h1[j] <= 0 || d1[j] == 0) continue;
          g[1][j] += d1[j];
          float* gw = &g[0][j * in];
          for (size_t k = 0; k < in; ++k) gw[k] += d1[j] * xi[k];
        }
      }
      b1t *= b1c, b2t *= b2c;
      const float lr_t = lr * (0.5f + 0.5f * std::cos(static_cast<float>(M_PI) * step / steps));
      for (size_t p = 0; p < 6; ++p)
        for (size_t k = 0; k < sizes[p]; ++k) {
          m[p][k] = b1c * m[p][k] + (1 - b1c) * g[p][k];
          v[p][k] = b2c * v[p][k] + (1 - b2c) * g[p][k] * g[p][k];
          const float mh = m[p][k] / (1 - b1t), vh = v[p][k] / (1 - b2t);
          params[p][k] -= lr_t * (mh / (std::sqrt(vh) + 1e-8f) + 1e-4f * params[p][k]);
        }
    }
  }
};

class MlpEnsemble : public Predictor {
 public:
  MlpEnsemble(const SearchSpace& space, uint64_t seed) : space_(space), seed_(seed) {}
  std::string name() const override { return "mlp"; }

  Status fit(const std::vector<Architecture>& archs, const std::vector<double>& y) override {
    if (archs.size() != y.size() || archs.empty())
      return InvalidArgument("mlp: expected as many values as architectures, and at least one");
    archs_ = archs;
    y_ = y;
    const size_t n = archs.size();
    mean_ = 0;
    for (double v : y) mean_ += v / static_cast<double>(n);
    double var = 0;
    for (double v : y) var += (v - mean_) * (v - mean_) / static_cast<double>(n);
    std_ = var > 1e-24 ? std::sqrt(var) : 1;
    std::vector<std::vector<float>> x;
    std::vector<float> z;
    for (size_t i = 0; i < n; ++i) {
      x.push_back(space_.encode_onehot(archs[i]));
      z.push_back(static_cast<float>((y[i] - mean_) / std_));
    }
    Rng rng(seed_);
    members_.assign(kMembers, Mlp());
    for (auto& m : members_) {
      Rng r = rng.split();
      m.init(x[0].size(), kHidden, r);
      m.train(x, z, r, kSteps, kBatch, kLr);
    }
    return Status::Ok();
  }

  Prediction predict(const Architecture& a) const override {
    if (members_.empty()) return {mean_, std_};
    auto x = space_.encode_onehot(a);
    std::vector<float> h1(kHidden), h2(kHidden);
    double s = 0, s2 = 0;
    for (const auto& m : members_) {
      const double p = m.forward(x.data(), h1.data(), h2.data());
      s += p, s2 += p * p;
    }
    const double k = static_cast<double>(members_.size());
    const double mu = s / k, var = std::max(s2 / k - mu * mu, 0.0);
    return {mean_ + std_ * mu, std_ * std::sqrt(var)};
  }

  std::string to_json() const override {
    std::ostringstream o;
    o << "{\"predictor\": \"mlp\", \"space_fingerprint\": \"" << space_.fingerprint()
      << "\", \"seed\": " << seed_ << ", " << training_set_json(space_, archs_, y_) << "}\n";
    return o.str();
  }

 private:
  static constexpr size_t kMembers = 5, kHidden = 32, kBatch = 32;
  static constexpr int kSteps = 300;
  static constexpr float kLr = 0.01f;
  const SearchSpace& space_;
  uint64_t seed_;
  std::vector<Mlp> members_;
  std::vector<Architecture> archs_;
  std::vector<double> y_;
  double mean_ = 0, std_ = 1;
};

class OneHotGp : public Predictor {
 public:
  explicit OneHotGp(const SearchSpace& space) : space_(space) {}
  std::string name() const override { return "gp"; }
  Status fit(const std::vector<Architecture>& archs, const std::vector<double>& y) override {
    if (archs.size() != y.size() || archs.empty())
      return InvalidArgument("gp: expected as many values as architectures, and at least one");
    archs_ = archs;
    y_ = y;
    Matrix x;
    for (const auto& a : archs) {
      auto e = space_.encode_onehot(a);
      x.emplace_back(e.begin(), e.end());
    }
    gp_ = GaussianProcess::fit(x, y);
    return Status::Ok();
  }
  Prediction predict(const Architecture& a) const override {
    auto e = space_.encode_onehot(a);
    auto [m, s] = gp_.predict(std::vector<double>(e.begin(), e.end()));
    return {m, s};
  }
  std::string to_json() const override {
    std::ostringstream o;
    o << "{\"predictor\": \"gp\", \"space_fingerprint\": \"" << space_.fingerprint() << "\", "
      << training_set_json(space_, archs_, y_) << "}\n";
    return o.str();
  }

 private:
  const SearchSpace& space_;
  GaussianProcess gp_;
  std::vector<Architecture> archs_;
  std::vector<double> y_;
};

}  // namespace

std::string training_set_json(const SearchSpace& space, const std::vector<Architecture>& archs,
                              const std::vector<double>& y) {
  std::string s = "\"archs\": [";
  for (size_t i = 0; i < archs.size(); ++i)
    s += (i ? ", \"" : "\"") + space.to_string(archs[i]) + "\"";
  return s + "], \"y\": " + json_numbers(y);
}

bool read_training_set(const AstNode& root, const SearchSpace& space,
                       std::vector<Architecture>& archs, std::vector<double>& y, Diagnostics& d) {
  AstReader r(root, "", d);
  y = r.numbers("y");
  const AstNode* list = r.get("archs");
  if (list && !list->is_sequence()) d.error(list->loc, "archs", "expected a list of architectures");
  if (!d.ok() || !list) return false;
  for (size_t i = 0; i < list->items.size(); ++i) {
    auto a = space.parse(list->items[i].scalar);
    if (!a.ok()) {
      d.error(list->items[i].loc, "archs[" + std::to_string(i) + "]", a.status().message());
      return false;
    }
    archs.push_back(*a);
  }
  if (archs.size() != y.size() || archs.empty()) {
    d.error(root.loc, "y", "expected one value per architecture, and at least one");
    return false;
  }
  return true;
}

std::unique_ptr<Predictor> make_accuracy_predictor(AccuracyModel m, const SearchSpace& space,
                                                   uint64_t seed) {
  switch (m) {
    case AccuracyModel::kMlp:
      return std::make_unique<MlpEnsemble>(space, seed);
    case AccuracyModel::kGp:
      return std::make_unique<OneHotGp>(space);
    case AccuracyModel::kWlGp:
      break;
  }
  return std::make_unique<WlGaussianProcess>(space);
}

StatusOr<std::unique_ptr<Predictor>> load_accuracy_predictor(const AstNode& root, AccuracyModel m,
                                                             const SearchSpace& space,
                                                             Diagnostics& d) {
  std::vector<Architecture> archs;
  std::vector<double> y;
  if (!read_training_set(root, space, archs, y, d)) return InvalidArgument(d.str());
  std::unique_ptr<Predictor> p;
  AstReader r(root, "", d);
  if (m == AccuracyModel::kMlp) {
    p.reset(new MlpEnsemble(space, static_cast<uint64_t>(r.number("seed"))));
  } else if (m == AccuracyModel::kGp) {
    p.reset(new OneHotGp(space));
  } else {
    WlGaussianProcess::Options o;
    o.max_h = static_cast<int>(r.number("max_h"));
    const std::string norm = r.str("norm");
    o.norm = norm == "normalised" ? WlGaussianProcess::Options::Norm::kNormalised
             : norm == "raw"      ? WlGaussianProcess::Options::Norm::kRaw
                                  : WlGaussianProcess::Options::Norm::kChoose;
    if (o.max_h < 0 || o.max_h > 8) d.error(root.loc, "max_h", "expected an integer in [0, 8]");
    p.reset(new WlGaussianProcess(space, o));
  }
  if (!d.ok()) return InvalidArgument(d.str());
  NF_RETURN_IF_ERROR(p->fit(archs, y));
  return p;
}

}  // namespace nasforge::predictors

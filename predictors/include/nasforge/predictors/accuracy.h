// Accuracy predictors: an MLP ensemble and an RBF Gaussian process on the one-hot encoding, and
// a Gaussian process on the Weisfeiler-Lehman graph kernel (NAS-BOWL), whose subtree features
// also explain what it learnt. All three are Predictors (predictor.h), made by AccuracyModel
// ("mlp", "gp", "wl-gp"). They save their training set and settings; loading refits, which is
// deterministic. They need only the search space (no hardware, no LibTorch).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "nasforge/predictors/predictor.h"

namespace nasforge::predictors {

enum class AccuracyModel {
  kMlp,   // an ensemble of small MLPs on the one-hot encoding (mean and spread of the members)
  kGp,    // a Gaussian process with an RBF kernel on the one-hot encoding
  kWlGp,  // a Gaussian process on the Weisfeiler-Lehman subtree kernel (NAS-BOWL)
};
const char* accuracy_model_name(AccuracyModel m);  // "mlp", "gp", "wl-gp"
std::optional<AccuracyModel> parse_accuracy_model(const std::string& name);

// A new, unfitted accuracy predictor; `seed` draws the MLP ensemble's initialisation and batches.
std::unique_ptr<Predictor> make_accuracy_predictor(AccuracyModel m, const SearchSpace& space,
                                                   uint64_t seed);
// One saved by Predictor::save (refitted on its saved training set); refused, naming the file,
// for another space or for a latency predictor.
StatusOr<std::unique_ptr<Predictor>> load_accuracy_predictor(const std::string& path,
                                                             const SearchSpace& space);
// The same, from a file already read (read_saved_predictor); errors go to `d`.
StatusOr<std::unique_ptr<Predictor>> load_accuracy_predictor(const AstNode& root, AccuracyModel m,
                                                             const SearchSpace& space,
                                                             Diagnostics& d);

// Weisfeiler-Lehman subtree motifs of a labelled DAG, iteration 0..h. A vertex's label at
// iteration i+1 is its label at i followed by the sorted labels of its predecessors at i, in
// parentheses, so a motif reads as the subtree it stands for: "nor_conv_3x3(input)".
std::vector<std::vector<std::string>> wl_labels(const LabelledDag& dag, int h);

struct Motif {
  std::string label;  // the subtree, in the notation above
  int iteration = 0;
  double effect = 0;  // mean gradient of the predicted value w.r.t. the motif's count
  int support = 0;    // training architectures that contain it
};

class WlGaussianProcess : public Predictor {
 public:
  struct Options {
    int max_h = 3;  // h is chosen in [0, max_h] by marginal likelihood
    // The kernel normalisation is chosen by marginal likelihood too, unless fixed here.
    enum class Norm { kChoose, kNormalised, kRaw } norm = Norm::kChoose;
    // >= 0: use this h (and the noise below) without the marginal-likelihood search, for cheap
    // refits between searches.
    int fixed_h = -1;
    double fixed_noise = 0.01;
  };
  WlGaussianProcess(const SearchSpace& space, Options o) : space_(space), opt_(o) {}
  explicit WlGaussianProcess(const SearchSpace& space) : WlGaussianProcess(space, Options()) {}

  std::string name() const override { return "wl-gp"; }
  Status fit(const std::vector<Architecture>& archs, const std::vector<double>& y) override;
  Prediction predict(const Architecture& a) const override;
  std::string to_json() const override;

  int h() const { return h_; }
  bool normalised() const { return normalised_; }
  double noise() const { return noise_; }
  double log_marginal_likelihood() const { return lml_; }
  Options& options() { return opt_; }
  // Motifs seen in at least `min_support` training architectures, by decreasing |effect|.
  std::vector<Motif> motifs(int min_support = 2) const;

 private:
  using Sparse = std::vector<std::pair<uint32_t, double>>;  // sorted by id
  std::vector<Sparse> features(const Architecture& a) const;
  double dot(const std::vector<Sparse>& a, const std::vector<Sparse>& b, int h) const;

  const SearchSpace& space_;
  Options opt_;
  mutable std::unordered_map<std::string, uint32_t> vocab_;  // grows only in fit()
  std::vector<std::string> vocab_labels_;
  std::vector<int> vocab_iter_;
  std::vector<Architecture> archs_;
  std::vector<double> y_;
  std::vector<std::vector<Sparse>> train_;
  std::vector<double> self_;  // each training point's k(x, x) at h_
  std::vector<double> alpha_, chol_;
  double ymean_ = 0, ystd_ = 1, noise_ = 0.01, scale_ = 1, lml_ = 0;
  int h_ = 0;
  bool normalised_ = true;
};

}  // namespace nasforge::predictors

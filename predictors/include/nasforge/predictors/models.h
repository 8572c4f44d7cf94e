// The small regression models the predictors are built from: ridge regression with its
// regularisation chosen by exact leave-one-out error, and a Gaussian process with an RBF kernel
// whose hyperparameters maximise the marginal likelihood. Dense, double precision, for the
// tens to thousands of points predictors are fitted on.
#pragma once

#include <string>
#include <vector>

#include "nasforge/searchspace/ast_reader.h"

namespace nasforge::predictors {

using Matrix = std::vector<std::vector<double>>;  // rows

// Cholesky factor of a symmetric positive definite matrix (lower, row-major n x n); false when
// it is not positive definite.
bool cholesky(std::vector<double>& a, size_t n);
// Solves L L^T x = b in place.
void cholesky_solve(const std::vector<double>& l, size_t n, std::vector<double>& b);

struct Ridge {
  std::vector<double> mean, scale;  // feature standardisation
  std::vector<double> w;
  double bias = 0, lambda = 0;
  double loo_rmse = 0;      // leave-one-out RMSE at the chosen lambda
  std::vector<double> loo;  // each training point's leave-one-out prediction (not saved)

  // Fits y ~ w.x + bias, trying each lambda and keeping the lowest leave-one-out error.
  static Ridge fit(const Matrix& x, const std::vector<double>& y,
                   const std::vector<double>& lambdas = {1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100});
  double predict(const std::vector<double>& x) const;
  std::string to_json() const;
  static Ridge from_json(const AstNode& node, const std::string& at, Diagnostics& d);
};

struct GaussianProcess {
  Matrix x;                   // training inputs
  std::vector<double> alpha;  // K^-1 (y - mean)
  std::vector<double> chol;   // Cholesky factor of K
  double mean = 0, signal = 1, lengthscale = 1, noise = 0.1;

  // Fits with the hyperparameters (lengthscale, noise) of the grid that maximise the log
  // marginal likelihood; signal variance is the data's variance.
  static GaussianProcess fit(const Matrix& x, const std::vector<double>& y);
  // Posterior mean and standard deviation (noise included).
  std::pair<double, double> predict(const std::vector<double>& q) const;
  std::string to_json() const;
  static GaussianProcess from_json(const AstNode& node, const std::string& at, Diagnostics& d);
};

std::string json_numbers(const std::vector<double>& v);

}  // namespace nasforge::predictors

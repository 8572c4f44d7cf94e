// Throughput of the search-space operations that every strategy calls in its inner loop:
// sampling, mutation, neighbourhoods, string round trips and canonical hashing. Prints one line
// per (space, operation) with operations per second, plus the full NAS-Bench-201 pass.
//
// usage: searchspace_bench [REPO_ROOT]
#include <chrono>
#include <cstdio>
#include <string>
#include <unordered_set>

#include "nasforge/searchspace/dsl.h"

using namespace nasforge;
using Clock = std::chrono::steady_clock;

namespace {

template <typename F>
double per_second(int n, F&& f) {
  auto start = Clock::now();
  for (int i = 0; i < n; ++i) f(i);
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  return n / s;
}

volatile uint64_t sink;  // keeps results alive

}  // namespace

int main(int argc, char** argv) {
  std::string root = argc > 1 ? argv[1] : ".";
  std::printf("%-14s %-22s %14s\n", "space", "operation", "ops/s");
  for (const char* name : {"nb201", "darts", "mobilenet", "transformer"}) {
    Diagnostics d;
    auto space = load_space(root + "/zoo/" + name + ".yaml", d);
    if (!space) {
      std::fputs(d.str().c_str(), stderr);
      return 1;
    }
    Rng rng(1);
    const int n = 20000;
    std::vector<Architecture> archs;
    for (int i = 0; i < n; ++i) archs.push_back(space->sample(rng));
    std::vector<std::string> strings;
    for (const auto& a : archs) strings.push_back(space->to_string(a));
    auto row = [&](const char* op, double rate) {
      std::printf("%-14s %-22s %14.0f\n", name, op, rate);
    };
    row("sample", per_second(n, [&](int) { sink = space->sample(rng)[0]; }));
    row("mutate", per_second(n, [&](int i) { sink = space->mutate(archs[i], rng)[0]; }));
    row("crossover", per_second(n, [&](int i) {
          sink = space->crossover(archs[i], archs[(i + 1) % n], rng)[0];
        }));
    row("neighbours", per_second(2000, [&](int i) { sink = space->neighbours(archs[i]).size(); }));
    row("to_string", per_second(n, [&](int i) { sink = space->to_string(archs[i]).size(); }));
    row("parse", per_second(n, [&](int i) { sink = space->parse(strings[i]).ok(); }));
    row("canonical_hash", per_second(n, [&](int i) { sink = space->canonical_hash(archs[i]); }));
    row("encode_onehot",
        per_second(n, [&](int i) { sink = space->encode_onehot(archs[i]).size(); }));
  }
  Diagnostics d;
  auto nb = load_space(root + "/zoo/nb201.yaml", d);
  auto start = Clock::now();
  auto all = nb->enumerate();
  std::unordered_set<uint64_t> distinct;
  for (const auto& a : *all) distinct.insert(nb->canonical_hash(a));
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  std::printf("nb201: enumerate + hash all %zu architectures: %.1f ms, %zu distinct\n", all->size(),
              ms, distinct.size());
  return 0;
}

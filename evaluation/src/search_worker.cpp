// A parallel search's worker (serve_trials in search.h): evaluates what the driver hands out.
#include <signal.h>

#include <cstdlib>

#include "internal/trial_eval.h"
#include "internal/trial_wire.h"
#include "nasforge/distributed/task_board.h"

namespace nasforge::evaluation {

namespace {

struct Endpoint {
  int id = 0;
  std::string host;
  int port = 0;
};

StatusOr<Endpoint> parse_endpoint(const std::string& text) {
  const size_t at = text.find('@'), colon = text.rfind(':');
  auto bad = [&] {
    return InvalidArgument(std::string(kSearchWorkerEnv) + ": expected ID@HOST:PORT, got '" + text +
                           "'");
  };
  if (at == std::string::npos || colon == std::string::npos || colon < at) return bad();
  Endpoint e;
  char* end = nullptr;
  const std::string id = text.substr(0, at), port = text.substr(colon + 1);
  e.id = static_cast<int>(std::strtol(id.c_str(), &end, 10));
  if (id.empty() || *end || e.id < 0) return bad();
  e.port = static_cast<int>(std::strtol(port.c_str(), &end, 10));
  if (port.empty() || *end || e.port <= 0 || e.port > 65535) return bad();
  e.host = text.substr(at + 1, colon - at - 1);
  if (e.host.empty()) return bad();
  return e;
}

// For tests: NASFORGE_TEST_KILL_TRIAL=T kills the worker (SIGKILL, as kill -9 would) that is
// handed trial ticket T, before it evaluates it; T:A only on attempts up to A.
void test_kill_hook(const distributed::Task& t) {
  const char* v = std::getenv("NASFORGE_TEST_KILL_TRIAL");
  if (!v || !*v) return;
  unsigned long long ticket = 0;
  int attempts = 0;
  const int n = std::sscanf(v, "%llu:%d", &ticket, &attempts);
  if (n >= 1 && ticket == t.ticket && (n == 1 || t.attempt <= attempts)) raise(SIGKILL);
}

}  // namespace

Status serve_trials(SearchConfig given, const std::string& endpoint) {
  auto e = parse_endpoint(endpoint);
  if (!e.ok()) return e.status();
  const std::string who = "search worker " + std::to_string(e->id);
  auto prepared = prepare_config(std::move(given));
  if (!prepared.ok()) return prepared.status().WithContext(who);
  const SearchConfig c = std::move(*prepared);
  SourceContext ctx;
  ctx.space = c.space;
  ctx.seed = c.seed;
  ctx.data = c.data;
  auto ev = TrialEvaluator::create(c, std::make_shared<SourceFactory>(ctx));
  if (!ev.ok()) return ev.status().WithContext(who);
  distributed::BoardOptions o;
  o.host = e->host;
  o.port = e->port;
  o.timeout = c.workers.join;
  auto client = distributed::TaskClient::join(o, e->id, worker_agreement(c));
  if (!client.ok()) return client.status();
  for (;;) {
    auto task = (*client)->next();
    if (!task.ok()) return task.status();
    if (!*task) return Status::Ok();  // dismissed
    const distributed::Task& t = **task;
    test_kill_hook(t);
    auto a = c.space->parse(t.payload);
    if (!a.ok()) return a.status().WithContext(who + ": trial " + std::to_string(t.ticket));
    TrialRecord r = (*ev)->evaluate(*a, c.space->canonical_hash_hex(*a));
    NF_RETURN_IF_ERROR((*client)->reply(t, encode_trial(r)));
  }
}

}  // namespace nasforge::evaluation

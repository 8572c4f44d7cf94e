// The task board (task_board.h) on c10d's TCPStore.
#include "nasforge/distributed/task_board.h"

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace nasforge::distributed {

namespace {

using Clock = std::chrono::steady_clock;
using Bytes = std::vector<uint8_t>;

Bytes bytes(const std::string& s) { return Bytes(s.begin(), s.end()); }
std::string text(const Bytes& b) { return std::string(b.begin(), b.end()); }

// Every key under one prefix, apart from whatever else shares the store (torchrun's agent).
constexpr const char* kPrefix = "nasforge.search/";
constexpr const char* kAgreement = "nasforge.search/agreement";

std::string key(const char* what, int w) {
  return kPrefix + std::string(what) + "/" + std::to_string(w);
}
std::string key(const char* what, int w, uint64_t n) {
  return key(what, w) + "/" + std::to_string(n);
}

// A task on the wire: "T TICKET ATTEMPT\nPAYLOAD"; a dismissal: "S\n".
std::string encode(const Task& t) {
  return "T " + std::to_string(t.ticket) + " " + std::to_string(t.attempt) + "\n" + t.payload;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// "driver 'seed: 0', worker 'seed: 1'": the first line where two agreements differ.
std::string first_difference(const std::string& driver, const std::string& worker) {
  size_t a = 0, b = 0;
  for (;;) {
    const size_t ea = driver.find('\n', a), eb = worker.find('\n', b);
    const std::string la = a < driver.size() ? driver.substr(a, ea - a) : "";
    const std::string lb = b < worker.size() ? worker.substr(b, eb - b) : "";
    if (la != lb) return "driver '" + la + "', worker '" + lb + "'";
    if (ea == std::string::npos || eb == std::string::npos) return "the lengths differ";
    a = ea + 1;
    b = eb + 1;
  }
}

// TCPStore's set does not wait for the server: it returns once the request is written. A
// key another connection must see as soon as this call returns (a worker's hello, which the
// driver may check the moment join() returns) is followed by a round trip on the same
// connection, which the server answers only after it has applied the set.
void set_and_confirm(c10d::TCPStore& store, const std::string& k, const std::string& v) {
  store.set(k, bytes(v));
  store.check({k});
}

c10::intrusive_ptr<c10d::TCPStore> connect_store(const BoardOptions& o, bool server) {
  c10d::TCPStoreOptions so;
  so.port = static_cast<std::uint16_t>(o.port);
  so.isServer = server && !o.existing_store;
  so.waitWorkers = false;
  so.timeout = o.timeout;
  return c10::make_intrusive<c10d::TCPStore>(o.host, so);
}

}  // namespace

struct TaskBoard::Impl {
  c10::intrusive_ptr<c10d::TCPStore> store;
  std::map<int, uint64_t> next;  // each worker's current (or next) task number
  std::map<int, bool> busy;      // its current task is out, its reply not read yet
  struct Beat {
    int64_t value = -1;
    Clock::time_point changed;
  };
  std::map<int, Beat> beats;
};

TaskBoard::TaskBoard(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TaskBoard::~TaskBoard() = default;

StatusOr<std::unique_ptr<TaskBoard>> TaskBoard::serve(const BoardOptions& o,
                                                      const std::string& agreement) {
  auto impl = std::make_unique<Impl>();
  try {
    impl->store = connect_store(o, true);
    impl->store->set(kAgreement, bytes(agreement));
  } catch (const std::exception& e) {
    return FailedPrecondition("cannot serve the task board at " + o.host + ":" +
                              std::to_string(o.port) + " (" + first_line(e.what()) + ")");
  }
  return std::unique_ptr<TaskBoard>(new TaskBoard(std::move(impl)));
}

int TaskBoard::port() const { return impl_->store->getPort(); }

TaskBoard::Join TaskBoard::joined(int w, std::string* why) {
  const std::string k = key("hello", w);
  if (!impl_->store->check({k})) return Join::kNotYet;
  const std::string v = text(impl_->store->get(k));
  if (v == "ok") return Join::kJoined;
  if (why) *why = v;
  return Join::kRefused;
}

void TaskBoard::assign(int w, const Task& task) {
  impl_->store->set(key("task", w, impl_->next[w]), bytes(encode(task)));
  impl_->busy[w] = true;
}

std::optional<std::string> TaskBoard::reply(int w) {
  const uint64_t n = impl_->next[w];
  const std::string k = key("reply", w, n);
  if (!impl_->store->check({k})) return std::nullopt;
  std::string v = text(impl_->store->get(k));
  impl_->store->deleteKey(k);
  impl_->store->deleteKey(key("task", w, n));
  impl_->next[w] = n + 1;
  impl_->busy[w] = false;
  return v;
}

std::chrono::milliseconds TaskBoard::silence(int w) {
  const int64_t v = impl_->store->add(key("beat", w), 0);
  auto& b = impl_->beats[w];
  const auto now = Clock::now();
  if (v != b.value) {
    b.changed = now;
    b.value = v;
  }
  if (v == 0) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - b.changed);
}

void TaskBoard::dismiss(int w) {
  // A busy worker reads its dismissal after it has handed in its current task.
  impl_->store->set(key("task", w, impl_->next[w] + (impl_->busy[w] ? 1 : 0)), bytes("S\n"));
}

bool TaskBoard::left(int w) { return impl_->store->check({key("bye", w)}); }

struct TaskClient::Impl {
  BoardOptions options;
  int w = 0;
  c10::intrusive_ptr<c10d::TCPStore> store;
  uint64_t next = 0;
  // The heartbeat: its own connection, so that it never waits behind the main thread's.
  std::thread beat;
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;

  void run_heartbeat(c10::intrusive_ptr<c10d::TCPStore> own) {
    std::unique_lock<std::mutex> lock(mu);
    while (!stop) {
      try {
        own->add(key("beat", w), 1);
      } catch (const std::exception&) {
        return;  // the driver is gone; the main thread finds out on its next call
      }
      cv.wait_for(lock, options.beat, [&] { return stop; });
    }
  }
  ~Impl() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
    }
    cv.notify_all();
    if (beat.joinable()) beat.join();
  }
};

TaskClient::TaskClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TaskClient::~TaskClient() = default;

StatusOr<std::unique_ptr<TaskClient>> TaskClient::join(const BoardOptions& o, int w,
                                                       const std::string& agreement) {
  auto impl = std::make_unique<Impl>();
  impl->options = o;
  impl->w = w;
  const std::string where = o.host + ":" + std::to_string(o.port);
  try {
    impl->store = connect_store(o, false);
    const std::string theirs = text(impl->store->get(kAgreement));
    if (theirs != agreement) {
      const std::string why = "worker " + std::to_string(w) +
                              " was started with another configuration than the driver's: " +
                              first_difference(theirs, agreement);
      set_and_confirm(*impl->store, key("hello", w), "refused: " + why);
      return FailedPrecondition(why);
    }
    auto own = connect_store(o, false);
    Impl* raw = impl.get();
    impl->beat = std::thread([raw, own] { raw->run_heartbeat(own); });
    set_and_confirm(*impl->store, key("hello", w), "ok");
  } catch (const std::exception& e) {
    return FailedPrecondition("worker " + std::to_string(w) +
                              ": cannot reach the driver's task board at " + where + " within " +
                              std::to_string(o.timeout.count() / 1000) + " s (" +
                              first_line(e.what()) + ")");
  }
  return std::unique_ptr<TaskClient>(new TaskClient(std::move(impl)));
}

StatusOr<std::optional<Task>> TaskClient::next() {
  Impl& im = *impl_;
  const std::string k = key("task", im.w, im.next);
  std::string v;
  try {
    while (!im.store->check({k})) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    v = text(im.store->get(k));
  } catch (const std::exception& e) {
    return FailedPrecondition("worker " + std::to_string(im.w) +
                              ": the driver's task board stopped " + "answering (" +
                              first_line(e.what()) + ")");
  }
  if (v.rfind("S\n", 0) == 0) {
    try {
      set_and_confirm(*im.store, key("bye", im.w), "1");
    } catch (const std::exception&) {
    }
    return std::optional<Task>();
  }
  Task t;
  const size_t nl = v.find('\n');
  unsigned long long ticket = 0;
  int attempt = 0;
  if (nl == std::string::npos ||
      std::sscanf(v.substr(0, nl).c_str(), "T %llu %d", &ticket, &attempt) != 2)
    return Status(StatusCode::kInternal, "worker " + std::to_string(im.w) +
                                             ": a task it cannot read: '" + first_line(v) + "'");
  t.ticket = ticket;
  t.attempt = attempt;
  t.payload = v.substr(nl + 1);
  return std::optional<Task>(std::move(t));
}

Status TaskClient::reply(const Task&, const std::string& payload) {
  Impl& im = *impl_;
  try {
    im.store->set(key("reply", im.w, im.next), bytes(payload));
  } catch (const std::exception& e) {
    return FailedPrecondition("worker " + std::to_string(im.w) + ": cannot hand in its reply (" +
                              first_line(e.what()) + ")");
  }
  ++im.next;
  return Status::Ok();
}

}  // namespace nasforge::distributed

// `list`: the architectures of a file, in order. What re-scores a published set, and how the
// differentiable searches' derived architectures reach the trial store, the Pareto table and
// export like any other search's.
#include "internal/common.h"
#include "nasforge/searchspace/files.h"

namespace nasforge::strategies {
namespace {

class ListStrategy : public Strategy {
 public:
  ListStrategy(std::vector<Architecture> archs) : archs_(std::move(archs)) {}
  std::string name() const override { return "list"; }
  std::vector<Architecture> ask(size_t n) override {
    std::vector<Architecture> out;
    // Past the end, the last again: a repeat, which the driver answers from the store and which
    // ends the search when nothing new is left.
    for (size_t i = 0; i < n && !archs_.empty(); ++i)
      out.push_back(archs_[std::min(next_++, archs_.size() - 1)]);
    return out;
  }
  void tell(const std::vector<Trial>&) override {}

 private:
  std::vector<Architecture> archs_;
  size_t next_ = 0;
};

}  // namespace

StatusOr<std::unique_ptr<Strategy>> make_list(const Problem& p) {
  auto it = p.options.find("file");
  if (it == p.options.end() || it->second.empty())
    return InvalidArgument("strategy list needs --option file=FILE (one architecture per line)");
  auto text = read_text_file(it->second);
  if (!text.ok()) return text.status();
  std::vector<Architecture> archs;
  size_t line_no = 0;
  size_t start = 0;
  const std::string& t = *text;
  while (start <= t.size()) {
    size_t end = t.find('\n', start);
    if (end == std::string::npos) end = t.size();
    std::string line = t.substr(start, end - start);
    start = end + 1;
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    auto a = p.space->parse(line);
    if (!a.ok())
      return InvalidArgument(it->second + ":" + std::to_string(line_no) + ": " +
                             a.status().message());
    archs.push_back(*a);
  }
  if (archs.empty())
    return InvalidArgument(it->second + ": expected at least one architecture, got none");
  return std::unique_ptr<Strategy>(std::make_unique<ListStrategy>(std::move(archs)));
}

}  // namespace nasforge::strategies

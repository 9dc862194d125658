// Writes a log of view events for the aggregator benchmark: N syslog lines (RFC 5424, as the
// beacon writes them) over one day, video ids Zipf-distributed over a catalog (a few hot videos,
// a long tail), viewers Zipf-distributed too (some watch much more than others), with 2 % bot
// agents and 0.1 % malformed lines. With --search-percent P, P % of the events are search events
// instead (the lines a search page writes), their queries Zipf-distributed over --queries N
// distinct queries of one to three words.
//   reel_views_generate OUT [--events N] [--videos N] [--viewers N] [--start UNIX] [--seed S]
//                       [--search-percent P] [--queries N]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "flags.h"
#include "views/event.h"
#include "views/hash.h"

namespace {

// Inverse-CDF sampler of ranks 0..n-1 with P(rank k) proportional to 1 / (k + 1)^s.
class Zipf {
 public:
  Zipf(size_t n, double s) : cdf_(n) {
    double sum = 0;
    for (size_t k = 0; k < n; ++k) cdf_[k] = sum += 1.0 / std::pow(static_cast<double>(k + 1), s);
    for (double& c : cdf_) c /= sum;
  }
  template <class Rng>
  size_t operator()(Rng& rng) {
    const double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return static_cast<size_t>(std::lower_bound(cdf_.begin(), cdf_.end(), u) - cdf_.begin());
  }

 private:
  std::vector<double> cdf_;
};

}  // namespace

int main(int argc, char** argv) {
  using namespace reel::views;
  using bench::flag;
  if (argc < 2) {
    std::fprintf(
        stderr,
        "usage: reel_views_generate OUT [--events N] [--videos N] [--viewers N] [--start UNIX] [--seed S] "
        "[--search-percent P] [--queries N]\n");
    return 2;
  }
  const auto events = static_cast<size_t>(flag(argc, argv, "--events", 10'000'000));
  const auto videos = static_cast<size_t>(flag(argc, argv, "--videos", 1'000'000));
  const auto viewers = static_cast<size_t>(flag(argc, argv, "--viewers", 200'000));
  const int64_t start = flag(argc, argv, "--start", 1795737600);  // 2026-11-27 00:00 UTC
  std::mt19937_64 rng(static_cast<uint64_t>(flag(argc, argv, "--seed", 1)));
  const int search_permille = static_cast<int>(flag(argc, argv, "--search-percent", 0)) * 10;
  const auto distinct_queries = static_cast<size_t>(flag(argc, argv, "--queries", 50'000));

  Zipf video_rank(videos, 1.0);
  Zipf viewer_rank(viewers, 0.8);
  // Ranks map to ids through a permutation, so hot videos are spread over the id space.
  Zipf query_rank(distinct_queries, 1.0);
  static constexpr std::string_view words[] = {"funny", "cats",    "music",  "live",   "cooking",  "news",
                                               "game",  "trailer", "how to", "review", "tutorial", "dogs",
                                               "best",  "of",      "2026",   "remix",  "piano",    "drone"};
  std::vector<std::string> queries(distinct_queries);
  for (size_t q = 0; q < distinct_queries; ++q) {
    // One to three words, numbered past the first 18 ** 1 so every rank is a distinct query.
    std::string& text = queries[q];
    for (size_t n = q, w = 0; w == 0 || (n > 0 && w < 3); n /= std::size(words), ++w)
      text += (w ? " " : "") + std::string(words[n % std::size(words)]);
    if (q >= std::size(words) * std::size(words) * std::size(words)) text += " " + std::to_string(q);
  }
  std::vector<int64_t> video_id(videos);
  std::iota(video_id.begin(), video_id.end(), 1);
  std::shuffle(video_id.begin(), video_id.end(), rng);

  std::FILE* out = std::fopen(argv[1], "w");
  if (out == nullptr) {
    std::perror(argv[1]);
    return 1;
  }
  static constexpr Referrer referrers[] = {Referrer::direct, Referrer::internal, Referrer::internal,
                                           Referrer::search, Referrer::social,   Referrer::external};
  static constexpr Agent agents[] = {Agent::desktop, Agent::mobile, Agent::mobile, Agent::tablet,
                                     Agent::other};
  std::uniform_int_distribution<int> percent(0, 999);
  std::string line, viewer(16, '0');
  static constexpr char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < events; ++i) {
    line.clear();
    const int roll = percent(rng);
    if (roll == 0) {
      line = "<134>1 2026-11-27T00:00:00Z web-1 reel - view - t=garbage v=1";
    } else if (roll >= 1000 - search_permille) {
      const uint64_t h = reel::views::mix64(viewer_rank(rng) + 1);
      for (int d = 0; d < 16; ++d) viewer[d] = hex[(h >> (4 * d)) & 15];
      SearchEvent e;
      e.time = start + static_cast<int64_t>(i * 86400 / events);
      e.viewer = viewer;
      e.query = queries[query_rank(rng)];
      e.results = static_cast<int64_t>(rng() % 1000) + 1;
      e.agent = agents[rng() % std::size(agents)];
      append_syslog_line(line, e, "web-" + std::to_string(1 + rng() % 8), "reel");
    } else {
      const uint64_t h = reel::views::mix64(viewer_rank(rng) + 1);
      for (int d = 0; d < 16; ++d) viewer[d] = hex[(h >> (4 * d)) & 15];
      ViewEvent e;
      e.time = start + static_cast<int64_t>(i * 86400 / events);
      e.video_id = video_id[video_rank(rng)];
      e.viewer = viewer;
      e.referrer = referrers[rng() % std::size(referrers)];
      e.agent = roll < 21 ? Agent::bot : agents[rng() % std::size(agents)];
      append_syslog_line(line, e, "web-" + std::to_string(1 + rng() % 8), "reel");
    }
    line.push_back('\n');
    std::fwrite(line.data(), 1, line.size(), out);
  }
  if (std::fclose(out) != 0) {
    std::perror(argv[1]);
    return 1;
  }
  std::fprintf(stderr, "%zu events over %zu videos and %zu viewers written to %s\n", events, videos, viewers,
               argv[1]);
  return 0;
}

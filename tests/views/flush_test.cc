// The flush commands without Redis: what one chunk's script call carries, the reply parser, and
// the upkeep commands.
#include "views/flush.h"

#include <gtest/gtest.h>

#include <cmath>

#include "common/days.h"
#include "views/windows.h"

namespace reel::views {
namespace {

using Args = std::vector<std::string>;

TEST(ChunkEncoder, OneEvalshaCarriesTheKeysTemplatesAndIncrements) {
  const double lambda = std::log(2.0) / 86400;
  ChunkEncoder encoder(lambda, FlushOptions{});
  FlushChunk chunk;
  chunk.token = "abc:7";
  chunk.trend_ref = 1795867200;
  chunk.videos = {{1, 20261128, 3, 2.5}, {2, 20261127, 1, 0.5}, {3, 20261128, 2, 2}};
  // The day lists' time to live is counted from `now`, the aggregator's clock, not Redis's: the
  // seconds until the day's start + 35 days.
  const int64_t now = 1795867200;  // 2026-11-28 12:00 UTC
  const Args args = encoder.command(chunk, now).args();
  const Args head(args.begin(), args.begin() + 14);
  EXPECT_EQ(head, (Args{"EVALSHA", ChunkEncoder::script().sha1(), "11", "views:batch:abc:7", "z:views:all",
                        "z:trending", "trending:epoch", "search:popular", "views:windows", "z:views:week",
                        "z:views:month", "z:views:day:20261128", "z:views:day:20261127", "views:hold"}));
  Args rest(args.begin() + 14, args.end());
  EXPECT_EQ(std::stod(rest[1]), lambda);  // lambda, in full precision
  rest.erase(rest.begin() + 1);
  const std::string ttl_28 = std::to_string(35 * 86400 - 12 * 3600);
  const std::string ttl_27 = std::to_string(34 * 86400 - 12 * 3600);
  EXPECT_EQ(rest, (Args{"86400",
                        "1795867200",
                        "card:\x1f",
                        "v:\x1f",
                        "z:cat:\x1f:views:all",
                        "z:cat:\x1f:trending",
                        "z:tag:\x1f:views:all",
                        "z:ch:\x1f:views:all",
                        "z:cov:\x1f",
                        "z:cat:\x1f:views:week",
                        "z:cat:\x1f:views:month",
                        "100",
                        "120",
                        "2",
                        "20261128",
                        "z:cat:\x1f:views:day:20261128",
                        ttl_28,
                        "20261127",
                        "z:cat:\x1f:views:day:20261127",
                        ttl_27,
                        "3",
                        "1",
                        "1",
                        "3",
                        "2.5",
                        "2",
                        "2",
                        "1",
                        "0.5",
                        "3",
                        "1",
                        "2",
                        "2",
                        "0",
                        "0"}));

  FlushChunk pairs;
  pairs.token = "abc:8";
  pairs.pairs = {{1, 2, 5}};
  const Args p = encoder.command(pairs, now, true).args();
  EXPECT_EQ(p[0], "EVAL");
  EXPECT_EQ(p[1], ChunkEncoder::script().source());
  EXPECT_EQ(p[2], "9");  // no day lists
  EXPECT_EQ(p[11], "views:hold");
  EXPECT_EQ(Args(p.end() - 7, p.end()), (Args{"0", "0", "1", "1", "2", "5", "0"}));

  FlushChunk searches;
  searches.token = "abc:9";
  searches.searches = {{"funny cats", 3, 2.5}, {"a \"b\"", 1, 0.5}};
  const Args s = encoder.command(searches, now).args();
  EXPECT_EQ(s[2], "9");
  EXPECT_EQ(s[7], "search:popular");
  // No days, no videos, no pairs; then each query as it is (an argument, never a key) and its weight.
  EXPECT_EQ(Args(s.end() - 8, s.end()), (Args{"0", "0", "0", "2", "funny cats", "2.5", "a \"b\"", "0.5"}));
}

TEST(ChunkReply, ParsesFreshReplayedAndHeldResults) {
  using redis::Reply;
  auto fresh = parse_chunk_reply(Reply::make_array({Reply::make_integer(1), Reply::make_string("0 ")}));
  ASSERT_TRUE(fresh);
  EXPECT_FALSE(fresh->replayed);
  EXPECT_EQ(fresh->errors, 0);
  EXPECT_TRUE(fresh->unknown_videos.empty());

  auto replayed =
      parse_chunk_reply(Reply::make_array({Reply::make_integer(0), Reply::make_string("2 17 42")}));
  ASSERT_TRUE(replayed);
  EXPECT_TRUE(replayed->replayed);
  EXPECT_EQ(replayed->errors, 2);
  EXPECT_EQ(replayed->unknown_videos, (std::vector<int64_t>{17, 42}));

  auto held = parse_chunk_reply(Reply::make_array({Reply::make_integer(2), Reply::make_string("5eed")}));
  ASSERT_TRUE(held);
  EXPECT_EQ(held->held_by, "5eed");
  EXPECT_FALSE(held->replayed);

  EXPECT_FALSE(parse_chunk_reply(Reply::make_error("OOM command not allowed")));
  EXPECT_FALSE(parse_chunk_reply(Reply::make_string("OK")));
  EXPECT_FALSE(parse_chunk_reply(Reply::make_array({Reply::make_integer(1), Reply::make_string("0 x")})));
}

TEST(Maintenance, TrimsAndRebasesPerScope) {
  const int64_t now = day_start(20261128) + 3600;
  MaintenanceOptions options;
  options.trending_keep = 1000;
  auto commands = maintenance_commands(now, 0.5, {"music"}, options);
  ASSERT_EQ(commands.size(), 4u);
  EXPECT_EQ(commands[0].args(), (Args{"ZREMRANGEBYRANK", "z:trending", "0", "-1001"}));
  EXPECT_EQ(commands[1].args(), (Args{"ZREMRANGEBYRANK", "z:cat:music:trending", "0", "-1001"}));
  EXPECT_EQ(commands[2].args(), (Args{"ZREMRANGEBYRANK", "search:popular", "0", "-10001"}));
  const Args& rebase = commands[3].args();
  EXPECT_EQ(rebase[0], "EVALSHA");
  EXPECT_EQ(Args(rebase.begin() + 2, rebase.end()),
            (Args{"4", "trending:epoch", "z:trending", "z:cat:music:trending", "search:popular",
                  std::to_string(now), "0.5", "604800"}));
}

TEST(Windows, ParsesASettledAndARetiringWindowAndNothingElse) {
  EXPECT_EQ(parse_window("20261128"), (WindowState{20261128, std::nullopt}));
  EXPECT_EQ(parse_window("20261128 3000"), (WindowState{20261128, 3000}));
  for (std::string_view bad : {"", " ", "x", "-20261128", "+1", "20261128 ", "20261128 x", "20261128  1",
                               "20261128 -1", "20261128 1 2", "99999999999", "2026112 8x"}) {
    EXPECT_EQ(parse_window(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace reel::views

#include "common/periodic_thread.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>

#include "common/text.h"

namespace reel {
namespace {

using namespace std::chrono_literals;

TEST(PeriodicThread, StopWakesItAndRunsTheLastTickWhenAsked) {
  std::atomic<int> ticks{0};
  {
    PeriodicThread thread(
        1h, [&] { return ++ticks, true; }, PeriodicThread::Options{.tick_on_stop = true});
    thread.stop();
    EXPECT_EQ(ticks, 1);
    thread.stop();  // again: nothing more
  }
  EXPECT_EQ(ticks, 1);
  PeriodicThread quiet(1h, [&] { return ++ticks, true; });
  quiet.stop();
  EXPECT_EQ(ticks, 1) << "no tick on stop unless asked";
}

TEST(PeriodicThread, ATickReturningFalseEndsIt) {
  std::atomic<int> ticks{0};
  PeriodicThread thread(1ms, [&] { return ++ticks < 3; });
  while (ticks < 3) std::this_thread::yield();  // waits on the condition, not a time
  thread.stop();
  EXPECT_EQ(ticks, 3);
}

TEST(PeriodicThread, WakeRunsATickBeforeTheIntervalEnds) {
  std::atomic<int> ticks{0};
  PeriodicThread thread(1h, [&] { return ++ticks, true; });
  thread.wake();
  while (ticks < 1) std::this_thread::yield();  // an hour-long interval: only wake() gets here
  thread.wake();
  while (ticks < 2) std::this_thread::yield();
  thread.stop();
  EXPECT_EQ(ticks, 2);
}

TEST(PeriodicThread, TicksAtIdlePriorityWhenAsked) {
  std::atomic<int> idle_policy{-1}, normal_policy{-1};
  PeriodicThread background(
      1h, [&] { return idle_policy = sched_getscheduler(0), true; },
      PeriodicThread::Options{.idle_priority = true});
  PeriodicThread normal(1h, [&] { return normal_policy = sched_getscheduler(0), true; });
  background.wake();
  normal.wake();
  while (idle_policy < 0 || normal_policy < 0) std::this_thread::yield();
  EXPECT_EQ(idle_policy, SCHED_IDLE);
  EXPECT_EQ(normal_policy, SCHED_OTHER);
}

TEST(Text, TrimAndUtf8Prefix) {
  EXPECT_EQ(trim(" \t a b \r\n"), "a b");
  EXPECT_EQ(trim(" \t "), "");
  EXPECT_EQ(utf8_prefix("abc", 5), "abc");
  EXPECT_EQ(utf8_prefix("a\xC3\xA9z", 2), "a") << "never splits a character";
  EXPECT_EQ(utf8_prefix("a\xC3\xA9z", 3), "a\xC3\xA9");
}

}  // namespace
}  // namespace reel

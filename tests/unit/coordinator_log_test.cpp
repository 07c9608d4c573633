// The rate limit of the coordinator's log lines (log.h).
#include <gtest/gtest.h>

#include "log.h"

namespace ckpt::coord {
namespace {

using namespace std::chrono_literals;

TEST(CoordinatorLogBudget, AllowsABurstThenTheRateAndCountsWhatItDrops) {
  LineBudget budget(3, 10);
  const auto t0 = LineBudget::Clock::time_point{} + 100s;
  EXPECT_TRUE(budget.take(t0));
  EXPECT_TRUE(budget.take(t0));
  EXPECT_TRUE(budget.take(t0));
  EXPECT_FALSE(budget.take(t0));
  EXPECT_FALSE(budget.take(t0 + 50ms));
  EXPECT_EQ(budget.take_dropped(), 2u);
  EXPECT_EQ(budget.take_dropped(), 0u);
  // 10 a second: one more line 100 ms later, not two.
  EXPECT_TRUE(budget.take(t0 + 150ms));
  EXPECT_FALSE(budget.take(t0 + 160ms));
  // A quiet minute refills the burst, and no more.
  const auto t1 = t0 + 60s;
  EXPECT_TRUE(budget.take(t1));
  EXPECT_TRUE(budget.take(t1));
  EXPECT_TRUE(budget.take(t1));
  EXPECT_FALSE(budget.take(t1));
}

}  // namespace
}  // namespace ckpt::coord

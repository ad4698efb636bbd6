#include "triggers/cron.h"

#include <gtest/gtest.h>

namespace cairn::triggers {
namespace {

// ms since the epoch of a UTC time given as "YYYY-MM-DDTHH:MM:SSZ" (tests only).
int64_t At(const char* iso) {
  int y, mo, d, h, mi, s;
  EXPECT_EQ(std::sscanf(iso, "%d-%d-%dT%d:%d:%dZ", &y, &mo, &d, &h, &mi, &s), 6) << iso;
  // Days from civil (Hinnant), as cron.cc does, checked against FormatUtc below.
  y -= mo <= 2;
  const int era = y / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = int64_t{era} * 146097 + doe - 719468;
  return ((days * 24 + h) * 60 + mi) * 60'000 + s * 1000LL;
}

std::string Next(const char* expr, const char* after) {
  auto cron = CronSchedule::Parse(expr);
  EXPECT_TRUE(cron.ok()) << expr << ": " << cron.status().ToString();
  if (!cron.ok()) return "";
  const int64_t next = cron->NextAfter(At(after));
  return next < 0 ? "never" : FormatUtc(next);
}

std::string Error(const char* expr) {
  auto cron = CronSchedule::Parse(expr);
  EXPECT_FALSE(cron.ok()) << expr;
  return cron.ok() ? "" : cron.status().message();
}

TEST(CronTest, FormatUtcAndTheTestClockAgree) {
  EXPECT_EQ(FormatUtc(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatUtc(At("2024-02-29T13:45:07Z")), "2024-02-29T13:45:07Z");
  EXPECT_EQ(FormatUtc(At("2026-11-27T03:00:00Z")), "2026-11-27T03:00:00Z");
}

TEST(CronTest, NextAfterIsStrictlyLaterAndOnTheMinute) {
  EXPECT_EQ(Next("0 3 * * *", "2026-11-27T02:59:59Z"), "2026-11-27T03:00:00Z");
  EXPECT_EQ(Next("0 3 * * *", "2026-11-27T03:00:00Z"), "2026-11-28T03:00:00Z");
  EXPECT_EQ(Next("* * * * *", "2026-11-27T03:00:30Z"), "2026-11-27T03:01:00Z");
  EXPECT_EQ(Next("59 23 31 12 *", "2026-12-31T23:59:00Z"), "2027-12-31T23:59:00Z");
}

TEST(CronTest, ListsRangesAndSteps) {
  EXPECT_EQ(Next("*/15 * * * *", "2026-01-01T10:16:00Z"), "2026-01-01T10:30:00Z");
  EXPECT_EQ(Next("*/15 * * * *", "2026-01-01T10:45:00Z"), "2026-01-01T11:00:00Z");
  EXPECT_EQ(Next("5,35 9-17/4 * * *", "2026-01-01T09:36:00Z"), "2026-01-01T13:05:00Z");
  EXPECT_EQ(Next("5,35 9-17/4 * * *", "2026-01-01T17:35:00Z"), "2026-01-02T09:05:00Z");
  EXPECT_EQ(Next("10/20 * * * *", "2026-01-01T00:31:00Z"), "2026-01-01T00:50:00Z");
  EXPECT_EQ(Next("0 0 1-7/3 * *", "2026-01-02T00:00:00Z"), "2026-01-04T00:00:00Z");
}

TEST(CronTest, MonthAndWeekdayNames) {
  // 2026-01-01 is a Thursday.
  EXPECT_EQ(Next("0 9 * * mon-fri", "2026-01-02T09:00:00Z"), "2026-01-05T09:00:00Z");
  EXPECT_EQ(Next("0 9 * * SAT,sun", "2026-01-01T00:00:00Z"), "2026-01-03T09:00:00Z");
  EXPECT_EQ(Next("0 0 1 jun,Dec *", "2026-01-01T00:00:00Z"), "2026-06-01T00:00:00Z");
  EXPECT_EQ(Next("0 0 * * 7", "2026-01-01T00:00:00Z"), "2026-01-04T00:00:00Z");  // 7 = Sunday
  EXPECT_EQ(Next("0 0 * * 0", "2026-01-01T00:00:00Z"), "2026-01-04T00:00:00Z");
}

TEST(CronTest, February29OnlyInLeapYears) {
  EXPECT_EQ(Next("0 12 29 2 *", "2025-03-01T00:00:00Z"), "2028-02-29T12:00:00Z");
  EXPECT_EQ(Next("0 12 29 2 *", "2096-03-01T00:00:00Z"), "2104-02-29T12:00:00Z");  // 2100 is not
}

TEST(CronTest, BothDayFieldsRestrictedMeansEither) {
  // Vixie: the 13th, or any Friday. 2026-02-01 is a Sunday: Friday the 6th comes first.
  EXPECT_EQ(Next("0 0 13 * fri", "2026-02-01T00:00:00Z"), "2026-02-06T00:00:00Z");
  EXPECT_EQ(Next("0 0 13 * fri", "2026-02-10T00:00:00Z"), "2026-02-13T00:00:00Z");
  // One of them starting with '*' means both must hold: Friday the 13th.
  EXPECT_EQ(Next("0 0 13 * */1", "2026-02-01T00:00:00Z"), "2026-02-13T00:00:00Z");
  EXPECT_EQ(Next("0 0 */1 * fri", "2026-02-01T00:00:00Z"), "2026-02-06T00:00:00Z");
  EXPECT_EQ(Next("0 0 13 * *", "2026-02-14T00:00:00Z"), "2026-03-13T00:00:00Z");
}

TEST(CronTest, Shorthands) {
  EXPECT_EQ(Next("@hourly", "2026-01-01T10:16:00Z"), "2026-01-01T11:00:00Z");
  EXPECT_EQ(Next("@daily", "2026-01-01T10:16:00Z"), "2026-01-02T00:00:00Z");
  EXPECT_EQ(Next("@weekly", "2026-01-01T10:16:00Z"), "2026-01-04T00:00:00Z");
  EXPECT_EQ(Next("@monthly", "2026-01-01T10:16:00Z"), "2026-02-01T00:00:00Z");
  EXPECT_EQ(Next("@yearly", "2026-01-01T10:16:00Z"), "2027-01-01T00:00:00Z");
}

TEST(CronTest, MatchesTheMinute) {
  auto cron = CronSchedule::Parse("30 2 * * *");
  ASSERT_TRUE(cron.ok());
  EXPECT_TRUE(cron->Matches(At("2026-05-05T02:30:59Z")));
  EXPECT_FALSE(cron->Matches(At("2026-05-05T02:31:00Z")));
}

TEST(CronTest, ErrorsNameTheField) {
  EXPECT_EQ(Error("61 * * * *"), "minute field '61' out of range 0-59");
  EXPECT_EQ(Error("0 24 * * *"), "hour field '24' out of range 0-23");
  EXPECT_EQ(Error("0 0 0 * *"), "day-of-month field '0' out of range 1-31");
  EXPECT_EQ(Error("0 0 * 13 *"), "month field '13' out of range 1-12");
  EXPECT_EQ(Error("0 0 * * 8"), "day-of-week field '8' out of range 0-7");
  EXPECT_EQ(Error("0 0 * foo *"), "month field 'foo' has an unknown name 'foo'");
  EXPECT_EQ(Error("*/0 * * * *"), "minute field '*/0' has a bad step '0' (expected a positive "
                                  "number)");
  EXPECT_EQ(Error("0 10-2 * * *"), "hour field '10-2' is a range that ends before it starts");
  EXPECT_EQ(Error("0 3 * *"), "'0 3 * *' has 4 fields; expected 5 (minute hour day-of-month "
                              "month day-of-week)");
  EXPECT_EQ(Error("0 0 30 2 *"), "day-of-month field '30' never occurs in month field '2'");
  EXPECT_EQ(Error("@often"), "unknown shorthand '@often' (known: @yearly, @monthly, @weekly, "
                             "@daily, @hourly)");
  EXPECT_EQ(Error("0 0 L * *"), "day-of-month field 'L' is not a number ('L')");
  EXPECT_EQ(Error("1,,2 * * * *"), "minute field '1,,2' has an empty list item");
  EXPECT_EQ(Error(""), "empty (expected 5 fields: minute hour day-of-month month day-of-week)");
}

}  // namespace
}  // namespace cairn::triggers

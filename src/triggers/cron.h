// Cron schedules: the 5-field expressions of Vixie cron, evaluated in UTC.
#pragma once

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace cairn::triggers {

// "minute hour day-of-month month day-of-week": each field is `*`, a number, a range `a-b`, a
// list `a,b-c`, with an optional step (`*/15`, `1-30/5`, `5/10` = from 5 to the end by 10).
// Months take jan…dec and weekdays sun…sat (0 and 7 are Sunday), case-insensitive. As in Vixie
// cron, when both day fields are restricted (neither starts with `*`) a day matches when either
// does; otherwise both must. Also @yearly (@annually), @monthly, @weekly, @daily (@midnight),
// @hourly. Immutable; thread-safe.
class CronSchedule {
 public:
  // kInvalidArgument naming the field: "minute field '61' out of range 0-59".
  static Result<CronSchedule> Parse(std::string_view expression);

  // The first matching minute strictly after `time_ms` (ms since the epoch, UTC), in ms; -1 when
  // none comes within the next 30 years. (Parse rejects day/month pairs that never exist, such
  // as "0 0 30 2 *"; "0 0 29 2 *" matches in leap years only.)
  int64_t NextAfter(int64_t time_ms) const;
  // Whether the minute holding `time_ms` matches.
  bool Matches(int64_t time_ms) const;

  const std::string& expression() const { return expression_; }

 private:
  bool DayMatches(int64_t days_since_epoch) const;

  std::string expression_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;    // 1-31
  std::bitset<13> months_;  // 1-12
  std::bitset<7> weekdays_; // 0 = Sunday
  bool days_restricted_ = false;
  bool weekdays_restricted_ = false;
};

// "2026-11-27T03:00:00Z" for ms since the epoch (UTC, to the second).
std::string FormatUtc(int64_t time_ms);

}  // namespace cairn::triggers

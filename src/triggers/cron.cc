#include "triggers/cron.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <vector>

namespace cairn::triggers {

namespace {

constexpr int64_t kMinute = 60'000;

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t year;
  unsigned month;
  unsigned day;
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

struct FieldSpec {
  const char* name;
  int min;
  int max;
  const char* const* names;  // index 0 = value `min`, or null
};

constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

const FieldSpec kFields[] = {{"minute", 0, 59, nullptr},
                             {"hour", 0, 23, nullptr},
                             {"day-of-month", 1, 31, nullptr},
                             {"month", 1, 12, kMonthNames},
                             {"day-of-week", 0, 7, kDayNames}};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Status FieldError(const FieldSpec& f, std::string_view text, const std::string& why) {
  return InvalidArgument(std::string(f.name) + " field '" + std::string(text) + "' " + why);
}

// One value: a number or (for months and weekdays) a name.
Result<int> ParseValue(const FieldSpec& f, std::string_view field, std::string_view text) {
  if (text.empty()) return FieldError(f, field, "is not a valid value");
  if (f.names != nullptr && std::isalpha(static_cast<unsigned char>(text[0]))) {
    const std::string lower = Lower(text);
    const int count = f.max == 12 ? 12 : 7;
    for (int i = 0; i < count; ++i) {
      if (lower == f.names[i]) return f.min + i;
    }
    return FieldError(f, field, std::string("has an unknown name '") + std::string(text) + "'");
  }
  int v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size()) {
    return FieldError(f, field, "is not a number" +
                                    std::string(f.names ? " or a name" : "") + " ('" +
                                    std::string(text) + "')");
  }
  if (v < f.min || v > f.max) {
    return InvalidArgument(std::string(f.name) + " field '" + std::string(text) +
                           "' out of range " + std::to_string(f.min) + "-" +
                           std::to_string(f.max));
  }
  return v;
}

// Sets the bits of the values `field` selects (bit index = value).
Status ParseField(const FieldSpec& f, std::string_view field, std::vector<bool>& bits) {
  bits.assign(f.max + 1, false);
  if (field.empty()) return FieldError(f, field, "is empty");
  size_t start = 0;
  while (start <= field.size()) {
    const size_t comma = field.find(',', start);
    const std::string_view item =
        field.substr(start, comma == std::string_view::npos ? std::string_view::npos
                                                            : comma - start);
    if (item.empty()) return FieldError(f, field, "has an empty list item");
    std::string_view range = item;
    int step = 1;
    if (const size_t slash = item.find('/'); slash != std::string_view::npos) {
      range = item.substr(0, slash);
      const std::string_view step_text = item.substr(slash + 1);
      auto [p, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
      if (ec != std::errc() || p != step_text.data() + step_text.size() || step < 1 ||
          step_text.empty()) {
        return FieldError(f, field, "has a bad step '" + std::string(step_text) +
                                        "' (expected a positive number)");
      }
      if (step > f.max) {
        return FieldError(f, field, "has a step " + std::to_string(step) + " larger than " +
                                        std::to_string(f.max));
      }
    }
    int lo = f.min;
    int hi = f.max;
    if (range == "*") {
      if (f.max == 7) hi = 6;  // 7 is Sunday again
    } else if (const size_t dash = range.find('-'); dash != std::string_view::npos) {
      CAIRN_TRY(lo, ParseValue(f, range.substr(0, dash), range.substr(0, dash)));
      CAIRN_TRY(hi, ParseValue(f, range.substr(dash + 1), range.substr(dash + 1)));
      if (hi < lo) {
        return FieldError(f, range, "is a range that ends before it starts");
      }
    } else {
      CAIRN_TRY(lo, ParseValue(f, range, range));
      // "5/10": from 5 to the end by 10; a plain "5": just 5.
      hi = item.find('/') != std::string_view::npos ? (f.max == 7 ? 6 : f.max) : lo;
    }
    for (int v = lo; v <= hi; v += step) bits[v] = true;
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return Status::Ok();
}

int DaysInMonth(int64_t year, unsigned month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2) {
    const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    return leap ? 29 : 28;
  }
  return kDays[month - 1];
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(std::string_view expression) {
  std::string text(expression);
  // Trim.
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  size_t first = 0;
  while (first < text.size() && std::isspace(static_cast<unsigned char>(text[first]))) ++first;
  text = text.substr(first);
  if (text.empty()) return InvalidArgument("empty (expected 5 fields: minute hour "
                                           "day-of-month month day-of-week)");
  std::string expanded = text;
  if (text[0] == '@') {
    const std::string lower = Lower(text);
    if (lower == "@yearly" || lower == "@annually") {
      expanded = "0 0 1 1 *";
    } else if (lower == "@monthly") {
      expanded = "0 0 1 * *";
    } else if (lower == "@weekly") {
      expanded = "0 0 * * 0";
    } else if (lower == "@daily" || lower == "@midnight") {
      expanded = "0 0 * * *";
    } else if (lower == "@hourly") {
      expanded = "0 * * * *";
    } else {
      return InvalidArgument("unknown shorthand '" + text +
                             "' (known: @yearly, @monthly, @weekly, @daily, @hourly)");
    }
  }
  std::vector<std::string_view> fields;
  std::string_view rest = expanded;
  while (!rest.empty()) {
    size_t i = 0;
    while (i < rest.size() && std::isspace(static_cast<unsigned char>(rest[i]))) ++i;
    rest.remove_prefix(i);
    if (rest.empty()) break;
    size_t j = 0;
    while (j < rest.size() && !std::isspace(static_cast<unsigned char>(rest[j]))) ++j;
    fields.push_back(rest.substr(0, j));
    rest.remove_prefix(j);
  }
  if (fields.size() != 5) {
    return InvalidArgument("'" + text + "' has " + std::to_string(fields.size()) +
                           " fields; expected 5 (minute hour day-of-month month day-of-week)");
  }
  CronSchedule out;
  out.expression_ = text;
  std::vector<bool> bits;
  CAIRN_RETURN_IF_ERROR(ParseField(kFields[0], fields[0], bits));
  for (int i = 0; i < 60; ++i) out.minutes_[i] = bits[i];
  CAIRN_RETURN_IF_ERROR(ParseField(kFields[1], fields[1], bits));
  for (int i = 0; i < 24; ++i) out.hours_[i] = bits[i];
  CAIRN_RETURN_IF_ERROR(ParseField(kFields[2], fields[2], bits));
  for (int i = 1; i <= 31; ++i) out.days_[i] = bits[i];
  CAIRN_RETURN_IF_ERROR(ParseField(kFields[3], fields[3], bits));
  for (int i = 1; i <= 12; ++i) out.months_[i] = bits[i];
  CAIRN_RETURN_IF_ERROR(ParseField(kFields[4], fields[4], bits));
  for (int i = 0; i < 7; ++i) out.weekdays_[i] = bits[i];
  if (bits[7]) out.weekdays_[0] = true;
  out.days_restricted_ = fields[2][0] != '*';
  out.weekdays_restricted_ = fields[4][0] != '*';
  // A day-of-month that no selected month has (with any weekday allowed, only the day fields
  // decide) would never fire.
  if (out.days_restricted_ && !out.weekdays_restricted_) {
    bool possible = false;
    for (unsigned m = 1; m <= 12 && !possible; ++m) {
      if (!out.months_[m]) continue;
      for (int d = 1; d <= DaysInMonth(2000, m); ++d) possible = possible || out.days_[d];
    }
    if (!possible) {
      return InvalidArgument("day-of-month field '" + std::string(fields[2]) +
                             "' never occurs in month field '" + std::string(fields[3]) + "'");
    }
  }
  return out;
}

bool CronSchedule::DayMatches(int64_t days) const {
  const Civil c = CivilFromDays(days);
  if (!months_[c.month]) return false;
  const int weekday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  const bool dom = days_[c.day];
  const bool dow = weekdays_[weekday];
  if (days_restricted_ && weekdays_restricted_) return dom || dow;
  return dom && dow;
}

bool CronSchedule::Matches(int64_t time_ms) const {
  const int64_t minute = FloorDiv(time_ms, kMinute);
  const int64_t days = FloorDiv(minute, 1440);
  const int in_day = static_cast<int>(minute - days * 1440);
  return DayMatches(days) && hours_[in_day / 60] && minutes_[in_day % 60];
}

int64_t CronSchedule::NextAfter(int64_t time_ms) const {
  const int64_t start = FloorDiv(time_ms, kMinute) + 1;  // in minutes
  int64_t days = FloorDiv(start, 1440);
  int first_minute = static_cast<int>(start - days * 1440);
  for (int i = 0; i < 366 * 30; ++i, ++days, first_minute = 0) {
    if (!DayMatches(days)) continue;
    for (int m = first_minute; m < 1440; ++m) {
      if (hours_[m / 60] && minutes_[m % 60]) return (days * 1440 + m) * kMinute;
    }
  }
  return -1;
}

std::string FormatUtc(int64_t time_ms) {
  const int64_t secs = FloorDiv(time_ms, 1000);
  const int64_t days = FloorDiv(secs, 86400);
  const int64_t in_day = secs - days * 86400;
  const Civil c = CivilFromDays(days);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02d:%02d:%02dZ",
                static_cast<long long>(c.year), c.month, c.day, static_cast<int>(in_day / 3600),
                static_cast<int>(in_day / 60 % 60), static_cast<int>(in_day % 60));
  return buf;
}

}  // namespace cairn::triggers

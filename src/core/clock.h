// Clock: the one source of wall time, injected so tests are exact.
#pragma once

#include <atomic>
#include <cstdint>

namespace cairn {

class Clock {
 public:
  virtual ~Clock() = default;
  // Milliseconds since the Unix epoch.
  virtual int64_t NowMillis() const = 0;
  // Microseconds on a monotonic clock (for durations only).
  virtual int64_t MonotonicMicros() const = 0;
};

class SystemClock : public Clock {
 public:
  int64_t NowMillis() const override;
  int64_t MonotonicMicros() const override;
  static const SystemClock& Instance();
};

// A clock tests move by hand.
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t now_millis = 1700000000000) : now_(now_millis) {}
  int64_t NowMillis() const override { return now_.load(); }
  int64_t MonotonicMicros() const override { return now_.load() * 1000; }
  void Advance(int64_t millis) { now_ += millis; }
  void Set(int64_t millis) { now_ = millis; }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace cairn

// MirrorQueue: a small bounded queue of shadow-scoring tasks run by a few worker threads. The live
// path only ever tries to post: a full queue drops the task (counted), never blocks the caller.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cairn::endpoints {

// Thread-safe.
class MirrorQueue {
 public:
  MirrorQueue(size_t capacity, int threads);
  // Runs the tasks still queued, then joins the workers.
  ~MirrorQueue();

  // Queues `task`; false (counted as dropped) when `capacity` tasks already wait.
  bool TryPost(std::function<void()> task);
  // Returns once no task is queued or running (tests; shutdown).
  void WaitIdle();
  uint64_t dropped() const;

 private:
  void Work();

  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<std::function<void()>> tasks_;
  size_t running_ = 0;
  uint64_t dropped_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
};

}  // namespace cairn::endpoints

#include "endpoints/mirror_queue.h"

#include <algorithm>

namespace cairn::endpoints {

MirrorQueue::MirrorQueue(size_t capacity, int threads) : capacity_(std::max<size_t>(capacity, 1)) {
  for (int i = 0; i < std::max(threads, 1); ++i) workers_.emplace_back([this] { Work(); });
}

MirrorQueue::~MirrorQueue() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
}

bool MirrorQueue::TryPost(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || tasks_.size() >= capacity_) {
      dropped_++;
      return false;
    }
    tasks_.push_back(std::move(task));
  }
  wake_.notify_one();
  return true;
}

void MirrorQueue::WaitIdle() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [&] { return tasks_.empty() && running_ == 0; });
}

uint64_t MirrorQueue::dropped() const {
  std::lock_guard lock(mu_);
  return dropped_;
}

void MirrorQueue::Work() {
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
    if (tasks_.empty()) return;  // stopping, and nothing left to run
    std::function<void()> task = std::move(tasks_.front());
    tasks_.pop_front();
    running_++;
    lock.unlock();
    task();
    task = nullptr;  // what it captured is released outside the lock
    lock.lock();
    running_--;
    if (tasks_.empty() && running_ == 0) idle_.notify_all();
  }
}

}  // namespace cairn::endpoints

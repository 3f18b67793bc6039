#include "task_queue.hpp"

#include <algorithm>

namespace sfemu {

elastic_task_queue::elastic_task_queue(std::size_t min_threads, std::size_t max_threads)
    : max_threads_(std::max<std::size_t>({max_threads, min_threads, 1})) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (std::size_t i = 0; i < std::max<std::size_t>(min_threads, 1); ++i) {
    ++idle_;
    threads_.emplace_back([this] { work(); });
  }
}

elastic_task_queue::~elastic_task_queue() { shutdown(); }

void elastic_task_queue::enqueue(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (shutdown_)
      return; // the server is stopping: the connection closes with the listener
    tasks_.push_back(std::move(fn));
    // Every idle thread may already be claimed by a task queued before this one.
    if (idle_ < tasks_.size() && threads_.size() < max_threads_) {
      ++idle_; // idle from now: a thread not yet waiting must not make the next task start another
      threads_.emplace_back([this] { work(); });
    }
  }
  wake_.notify_one();
}

void elastic_task_queue::shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    shutdown_ = true;
    threads.swap(threads_);
  }
  wake_.notify_all();
  for (auto& t : threads)
    if (t.joinable())
      t.join();
}

std::size_t elastic_task_queue::threads() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return threads_.size();
}

std::size_t elastic_task_queue::queued() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return tasks_.size();
}

void elastic_task_queue::work() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return shutdown_ || !tasks_.empty(); });
    if (tasks_.empty()) {
      --idle_;
      return; // shut down with nothing left to run
    }
    auto task = std::move(tasks_.front());
    tasks_.pop_front();
    --idle_;
    lock.unlock();
    task();
    task = nullptr; // what the task holds goes before the thread counts as idle again
    lock.lock();
    ++idle_;
  }
}

} // namespace sfemu

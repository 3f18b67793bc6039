// The HTTP server's thread pool: grows instead of queueing.
//
// cpp-httplib serves a keep-alive connection on one thread until the client closes it
// or leaves it idle for 5 s, and its stock ThreadPool queues every further connection
// until a thread frees. Clients that keep their connections busy (a node's workers
// polling through injected latency) then hold every thread for minutes, and a new
// connection, such as a test harness's control call, waits behind them. Salesforce does
// not make a client wait for a server thread, so neither does sfemu: when no thread is
// idle, the pool starts one, up to a hard cap. The org's own limits (concurrent requests,
// API budget) are enforced by the routes, not by a lack of threads.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>

namespace sfemu {

class elastic_task_queue : public httplib::TaskQueue {
public:
  /// Starts `min_threads` threads; grows to at most `max_threads` (>= min_threads).
  elastic_task_queue(std::size_t min_threads, std::size_t max_threads);
  ~elastic_task_queue() override;

  elastic_task_queue(const elastic_task_queue&) = delete;
  elastic_task_queue& operator=(const elastic_task_queue&) = delete;

  void enqueue(std::function<void()> fn) override;

  /// Runs what is queued, then joins every thread.
  void shutdown() override;

  /// Threads started so far (they stay until shutdown).
  std::size_t threads() const;

  /// Tasks waiting for a thread (only when every thread is busy and the cap is reached).
  std::size_t queued() const;

private:
  void work();

  const std::size_t max_threads_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> tasks_;
  std::vector<std::thread> threads_;
  std::size_t idle_ = 0; ///< threads not running a task (started ones included)
  bool shutdown_ = false;
};

} // namespace sfemu

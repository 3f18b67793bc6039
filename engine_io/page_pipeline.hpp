#pragma once
// Reading ahead while writing: a load (or backfill) page is fetched from
// Salesforce and decoded into COPY lines on a thread of its own while the
// job's worker writes the previous page to PostgreSQL. Without it the worker
// waits for the API, then the API waits for PostgreSQL, page after page.
//
// Only the reading runs ahead. Every page is still written and committed by
// the caller, in order, with its checkpoint in the same transaction, so what
// a kill or a cancel loses is at most the pages read ahead and not yet
// written: they are read again when the load resumes from its checkpoint.
// The reading thread uses no PostgreSQL connection (the worker's bound on
// connections holds) and the worker does not touch the Salesforce client
// while a pipeline runs (one user of it at a time, as before).

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace syncforce::engine_io {

/// What a reader made of one call.
enum class read_step {
  page, ///< the page it filled is one to write (it may be the last)
  end,  ///< nothing more: the page it was given is not used
};

/// Pages of type `Page` read by `read` on a thread of its own, at most
/// `depth` ahead of the caller, handed out in the order read. `read` fills a
/// page (recycled: clear it first) and says whether it made one; a reader
/// that fails puts its failure in the page (it is handed out, then the
/// reading stops: a failed page is the last) or throws (rethrown by next()).
template <class Page>
class page_pipeline {
public:
  using make_fn = std::function<std::unique_ptr<Page>()>;
  using read_fn = std::function<read_step(Page&)>;
  /// Whether a page ends the reading (a failure).
  using last_fn = std::function<bool(const Page&)>;

  page_pipeline(std::size_t depth, make_fn make, read_fn read, last_fn is_last)
    : depth_(depth == 0 ? 1 : depth), make_(std::move(make)), read_(std::move(read)), is_last_(std::move(is_last)) {
    thread_ = std::thread([this] { run(); });
  }

  /// Hands a page over from inside a reader, which clears the page it gets
  /// back (a recycled one holds an earlier page) and goes on filling it.
  using hand_over_fn = std::function<void(std::unique_ptr<Page>&)>;
  /// A reader that may fill several pages in one call: a long download parsed
  /// as it arrives hands each full page over (`hand_over`, which waits for
  /// room as the reading does) and returns with the last one filled, so the
  /// caller writes the first rows of a download while the rest still arrive.
  using chunked_read_fn = std::function<read_step(std::unique_ptr<Page>&, const hand_over_fn& hand_over)>;

  page_pipeline(std::size_t depth, make_fn make, chunked_read_fn read, last_fn is_last)
    : depth_(depth == 0 ? 1 : depth), make_(std::move(make)), chunked_read_(std::move(read)),
      is_last_(std::move(is_last)) {
    thread_ = std::thread([this] { run(); });
  }

  /// Stops the reading (a page being read is finished first) and waits for the thread.
  ~page_pipeline() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    if (thread_.joinable())
      thread_.join();
  }

  page_pipeline(const page_pipeline&) = delete;
  page_pipeline& operator=(const page_pipeline&) = delete;

  /// The next page in order; nullptr once the reading has ended. Rethrows
  /// what the reader threw, after the pages it read before.
  std::unique_ptr<Page> next() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return !ready_.empty() || finished_; });
    if (ready_.empty()) {
      if (error_) {
        auto e = error_;
        error_ = nullptr;
        std::rethrow_exception(e);
      }
      return nullptr;
    }
    auto p = std::move(ready_.front());
    ready_.pop_front();
    changed_.notify_all();
    return p;
  }

  /// Gives a written page back to be filled again (saves its buffers' allocations).
  void recycle(std::unique_ptr<Page> p) {
    if (!p)
      return;
    std::lock_guard<std::mutex> lock(mutex_);
    spare_.push_back(std::move(p));
  }

private:
  void run() {
    try {
      while (true) {
        std::unique_ptr<Page> p;
        {
          std::unique_lock<std::mutex> lock(mutex_);
          // ready_ holds pages read and not taken; the caller holds one more while writing it.
          changed_.wait(lock, [this] { return stop_ || ready_.size() < depth_; });
          if (stop_)
            break;
          if (!spare_.empty()) {
            p = std::move(spare_.back());
            spare_.pop_back();
          }
        }
        if (!p)
          p = make_();
        const auto step = chunked_read_ ? chunked_read_(p, [this](std::unique_ptr<Page>& full) { hand_over(full); })
                                        : read_(*p);
        if (step == read_step::end)
          break;
        const bool last = is_last_(*p);
        {
          std::lock_guard<std::mutex> lock(mutex_);
          ready_.push_back(std::move(p));
        }
        changed_.notify_all();
        if (last)
          break;
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      finished_ = true;
    }
    changed_.notify_all();
  }

  /// chunked_read_fn's hand_over: queues `full` (waiting for room) and puts
  /// another page in its place, recycled or new: the reader clears it. Once
  /// the pipeline stops, `full` stays where it is instead (the reader clears
  /// and refills it: it finishes its download and nothing more is written).
  void hand_over(std::unique_ptr<Page>& full) {
    std::unique_ptr<Page> fresh;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [this] { return stop_ || ready_.size() < depth_; });
      if (stop_)
        return;
      ready_.push_back(std::move(full));
      if (!spare_.empty()) {
        fresh = std::move(spare_.back());
        spare_.pop_back();
      }
    }
    changed_.notify_all();
    full = fresh ? std::move(fresh) : make_();
  }

  const std::size_t depth_;
  make_fn make_;
  read_fn read_;
  chunked_read_fn chunked_read_;
  last_fn is_last_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::unique_ptr<Page>> ready_;
  std::vector<std::unique_ptr<Page>> spare_;
  std::exception_ptr error_;
  bool stop_ = false;
  bool finished_ = false;
  std::thread thread_; ///< last: starts once everything above is constructed
};

} // namespace syncforce::engine_io

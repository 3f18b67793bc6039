#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

namespace syncforce {

/// A bound on work running at once (admin calls: each holds a thread and a
/// PostgreSQL connection while it runs). try_take() hands out a slot while fewer
/// than `limit` are held; the slot is given back when the last copy of its
/// pointer goes away, even after the call_slots itself is gone.
class call_slots {
  struct state {
    std::size_t limit = 0;
    std::atomic<std::size_t> used{0};
  };

public:
  explicit call_slots(std::size_t limit) : state_(std::make_shared<state>()) { state_->limit = limit; }

  class slot {
  public:
    ~slot() { state_->used.fetch_sub(1); }
    slot(const slot&) = delete;
    slot& operator=(const slot&) = delete;

  private:
    friend class call_slots;
    explicit slot(std::shared_ptr<state> s) : state_(std::move(s)) {}
    std::shared_ptr<state> state_;
  };

  /// A slot, or nullptr when `limit` are in use.
  std::shared_ptr<slot> try_take() {
    auto used = state_->used.load();
    do {
      if (used >= state_->limit)
        return nullptr;
    } while (!state_->used.compare_exchange_weak(used, used + 1));
    return std::shared_ptr<slot>(new slot(state_));
  }

  std::size_t in_use() const { return state_->used.load(); }
  std::size_t limit() const { return state_->limit; }

private:
  std::shared_ptr<state> state_;
};

} // namespace syncforce

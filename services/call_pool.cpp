#include "services/call_pool.hpp"

#include "actors/atoms.hpp"

#include <algorithm>
#include <memory>

namespace syncforce::services {

namespace {

/// Travels with the job: holds the call's place in the pool, and answers the
/// call as dropped if the job is destroyed without having run (a pool that
/// stops drops its queue; the job's closure, and so this, goes with it).
struct call_guard {
  std::shared_ptr<call_slots::slot> place;
  std::function<void()> dropped;
  bool ran = false;

  ~call_guard() {
    place.reset();
    if (!ran && dropped)
      dropped();
  }
};

} // namespace

call_pool::call_pool(caf::actor_system& sys, std::size_t workers, std::size_t max_queued)
  : workers_(std::max<std::size_t>(1, workers)), slots_(workers_ + max_queued) {
  actors::worker_pool_config cfg;
  cfg.size = static_cast<int>(workers_);
  cfg.detached = true; // blocking work: each worker its own thread
  pool_ = sys.spawn(actors::worker_pool, cfg);
}

call_pool::~call_pool() { caf::anon_send_exit(pool_, caf::exit_reason::user_shutdown); }

bool call_pool::submit(call c) {
  auto place = slots_.try_take();
  if (!place)
    return false;
  auto guard = std::make_shared<call_guard>();
  guard->place = std::move(place);
  guard->dropped = std::move(c.dropped);
  actors::job j;
  j.name = c.name;
  j.run = [guard, run = std::move(c.run), finish = std::move(c.finish)](actors::worker_context&) {
    run(); // throws: the guard stays un-run and the call is answered as dropped
    guard->ran = true;
    guard->place.reset(); // the next call may start before this one is answered
    if (finish)
      finish();
    return actors::job_outcome{};
  };
  // The answer goes to the call itself (finish / dropped), not to a sender.
  caf::anon_send(pool_, actors::run_job_atom::value, std::move(j));
  return true;
}

} // namespace syncforce::services

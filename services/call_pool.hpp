#pragma once

// The bounded pool the admin calls run on. Each call's blocking work (its own
// PostgreSQL connection and transaction, a Salesforce login) runs on one of a
// fixed number of worker threads: the actors' typed worker_pool
// (actors/worker_pool.hpp) with detached workers. Calls beyond the workers
// wait in line, in arrival order, up to `max_queued`; beyond that the call is
// refused at once (the caller answers RESOURCE_EXHAUSTED). So a burst of
// admin calls costs at most `workers` threads and connections, never one per
// call.

#include "actors/worker_pool.hpp"
#include "sync/call_slots.hpp"

#include <caf/all.hpp>

#include <cstddef>
#include <functional>
#include <string>

namespace syncforce::services {

class call_pool {
public:
  /// One call's work.
  struct call {
    std::string name; ///< for the worker's error messages
    /// The blocking part, on a worker thread. Must not throw (the caller
    /// turns failures into its answer); an exception is caught and ends the
    /// call as if it had been dropped.
    std::function<void()> run;
    /// Runs on the same thread after `run`, once the call's place in the pool
    /// is given back (so an answer the client acts upon finds the place free).
    std::function<void()> finish;
    /// The call will never run: the pool stopped first, or `run` threw.
    std::function<void()> dropped;
  };

  /// `workers` threads (at least 1); `max_queued` calls may wait for one of them.
  call_pool(caf::actor_system& sys, std::size_t workers, std::size_t max_queued);
  /// Stops the workers once their running call ends; calls still waiting are dropped.
  ~call_pool();
  call_pool(const call_pool&) = delete;
  call_pool& operator=(const call_pool&) = delete;

  /// Hands `c` to the pool: false, and nothing of `c` runs, when `workers`
  /// calls run and `max_queued` wait already.
  bool submit(call c);

  /// Calls running or waiting now.
  std::size_t admitted() const { return slots_.in_use(); }
  /// The most calls running or waiting at once (workers + max_queued).
  std::size_t capacity() const { return slots_.limit(); }
  std::size_t workers() const { return workers_; }
  /// The pool actor (its status_atom answers workers / busy / queued).
  const actors::worker_pool_actor& pool() const { return pool_; }

private:
  std::size_t workers_;
  call_slots slots_;
  actors::worker_pool_actor pool_;
};

} // namespace syncforce::services

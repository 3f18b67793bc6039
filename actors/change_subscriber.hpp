#pragma once

// Accelerated sync: one mapping's subscription to its object's change events
// over the Pub/Sub API. The actor orchestrates (start from the stored replay
// id, apply each batch as a job on the worker pool, ask the mapping for a
// catch-up poll, resubscribe with backoff); a change_stream hands it batches
// (production: a thread of its own blocks on the gRPC stream,
// engine_io/pubsub_change_stream.hpp; the simulation: sfemu's log in process).

#include "actors/backoff.hpp"
#include "actors/change_stream.hpp"
#include "actors/sync_io.hpp"

#include <caf/all.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace syncforce::actors {

/// The node's Pub/Sub API settings (flags --pubsub-endpoint, --pubsub-ca-file).
struct change_event_settings {
  std::string target;  ///< host:port
  bool tls = true;
  std::string ca_pem;  ///< trusted roots; empty: the system's
  /// The client name every node of the engine sends (`syncforce` matches
  /// `syncforce/<node>`): events of these writes are echoes.
  std::string own_client = "syncforce";
  /// Events per FetchRequest.
  int batch = 100;
  backoff_policy retry{std::chrono::milliseconds(1000), std::chrono::milliseconds(60000), 2.0, 0.0};
  /// Makes the event streams: syncforced's is the Pub/Sub API at `target`
  /// (engine_io::make_pubsub_change_stream), the simulation's sfemu's log in process.
  change_stream_factory streams;
};

struct change_subscriber_state {
  std::shared_ptr<const change_event_settings> cfg;
  mapping_job job;
  std::shared_ptr<const lease_fence> fence;
  std::shared_ptr<sync_io> io;
  caf::actor pool;
  catch_up_target mapping;
  std::string topic;
  /// The last replay id applied (none: subscribe from the newest event).
  std::optional<std::uint64_t> replay;
  /// The current stream; destroyed (and so stopped) with the state when the actor exits.
  std::unique_ptr<change_stream> runner;
  /// Bumped with every new stream: what an older stream sent is dropped.
  std::uint64_t generation = 0;
  int failures = 0;
  /// A batch is being applied: a new stream waits for it (it resumes after its replay id).
  bool applying = false;
  bool resubscribe_after_apply = false;
  /// The step to repeat on retry_atom.
  std::function<void()> retry_step;

  static inline const char* name = "change_subscriber";
};

/// Subscribes to `/data/<Object>ChangeEvent` for `job`'s mapping and applies
/// what arrives (sync_io::apply_change_events), under `fence`. Tells `mapping`
/// (catch_up_atom) when a keyset poll must read what events could not carry:
/// a gap or overflow, an update of a row the table lacks, a replay id that
/// expired (the subscription then restarts from the newest event). A lost
/// lease ends it with engine_errc::lease_lost. Spawned linked to the mapping.
change_subscriber_impl::behavior_type change_subscriber(change_subscriber_impl::stateful_pointer<change_subscriber_state> self,
                                                        std::shared_ptr<const change_event_settings> cfg,
                                                        mapping_job job, std::shared_ptr<const lease_fence> fence,
                                                        std::shared_ptr<sync_io> io, caf::actor pool,
                                                        catch_up_target mapping);

/// `/data/AccountChangeEvent`, `/data/Widget__ChangeEvent` (custom objects drop the `c` of `__c`).
std::string change_event_topic(const std::string& object_name);

} // namespace syncforce::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<syncforce::actors::change_batch>)

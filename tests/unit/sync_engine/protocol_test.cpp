// The actors' typed protocols (docs/architecture.md, "Actor protocols"): what
// each handle accepts and answers is checked by the compiler at every send; this
// file pins the contracts the rest of the node relies on, so an interface that
// drifts (a reply turned back into a bare tuple, a private timer made public, a
// narrow handle that no longer fits its actor) fails the build here, with a
// message that says which contract broke. The runtime tests check that the
// named replies print their fields (their inspect functions), as logs show them.

#include "actors/broker_protocol.hpp"
#include "actors/change_subscriber.hpp"
#include "actors/cluster_member.hpp"
#include "actors/connection_actor.hpp"
#include "actors/mapping_actor.hpp"
#include "actors/node_supervisor.hpp"
#include "actors/remote_broker.hpp"
#include "actors/sync_engine.hpp"
#include "actors/worker_pool.hpp"
#include "actors/writer_actor.hpp"
#include "services/call_pool.hpp"
#include "services/call_relay.hpp"

#include <gtest/gtest.h>

#include <type_traits>
#include <utility>

namespace {

using namespace syncforce::actors;

/// Whether `Handle` accepts the message `Xs...`.
template <class Handle, class... Xs>
constexpr bool accepts = caf::response_type<typename Handle::signatures, Xs...>::valid;

/// What `Handle` answers to `Xs...` (as a caf::detail::type_list).
template <class Handle, class... Xs>
using reply_of = typename caf::response_type<typename Handle::signatures, Xs...>::type;

template <class... Ts>
using replies = caf::detail::type_list<Ts...>;

/// Whether a `Wide` handle may be held as a `Narrow` one: it accepts all of it
/// (what typed_actor's converting constructor asserts; std::is_convertible
/// cannot tell, the constructor is not constrained).
template <class Wide, class Narrow>
constexpr bool fits = caf::detail::tl_subset_of<typename Narrow::signatures, typename Wide::signatures>::value;

// ---- replies of more than two values are named structs ----------------------------

static_assert(std::is_same_v<reply_of<worker_pool_actor, run_job_atom, job>, replies<job_outcome>>);
static_assert(std::is_same_v<reply_of<worker_pool_actor, status_atom>, replies<pool_status>>);
static_assert(std::is_same_v<reply_of<cursor_broker_actor, status_atom>, replies<broker_status>>);
static_assert(std::is_same_v<reply_of<integration_user_actor, grant_atom, std::string, std::string, std::int64_t,
                                      std::int64_t>,
                             replies<grant_reply>>);
static_assert(std::is_same_v<reply_of<integration_user_actor, budget_atom>, replies<budget_reply>>);
static_assert(std::is_same_v<reply_of<node_supervisor_actor, status_atom>, replies<node_status>>);
static_assert(std::is_same_v<reply_of<cursor_broker_actor, acquire_atom, std::string>, replies<bool, std::string>>);

// ---- private timers stay private ---------------------------------------------------

static_assert(!accepts<writer_actor_hdl, retry_atom> && accepts<writer_actor_impl, retry_atom>,
              "the writer's retry timer is its own");
static_assert(!accepts<writer_actor_hdl, tick_atom> && accepts<writer_actor_impl, tick_atom>);
static_assert(!accepts<mapping_actor_hdl, poll_atom, std::uint64_t> && accepts<mapping_actor_impl, poll_atom, std::uint64_t>,
              "only the mapping decides when it polls (its own timer, by generation)");
static_assert(accepts<mapping_actor_hdl, catch_up_atom>, "its change subscriber asks for a catch-up poll");
static_assert(!accepts<connection_actor_hdl, restart_atom, std::string> &&
              accepts<connection_actor_impl, restart_atom, std::string>);
static_assert(!accepts<integration_user_actor, expire_atom> && accepts<integration_user_impl, expire_atom>);
static_assert(!accepts<node_supervisor_actor, liveness_atom> && accepts<node_supervisor_impl, liveness_atom>);
static_assert(!accepts<node_supervisor_actor, db_up_atom, int>,
              "only its database monitor tells the supervisor about the database");

// ---- a mapping asks for cursors the same way of a broker and of a proxy ------------------

static_assert(fits<integration_user_impl, cursor_broker_actor>);
static_assert(fits<remote_broker_impl, cursor_broker_actor>);
static_assert(!accepts<cursor_broker_actor, grant_atom, std::string, std::string, std::int64_t, std::int64_t>,
              "a mapping never asks for a grant with a time-to-live");

// ---- narrow handles fit the actors they stand for ------------------------------------

static_assert(fits<writer_actor_impl, wake_target>);
static_assert(fits<sync_engine_actor, wake_target>);
static_assert(fits<sync_engine_actor, units_target>);
static_assert(fits<sync_engine_actor, running_reporter>);
static_assert(fits<sync_engine_actor, supervised_engine>);
static_assert(fits<connection_actor_impl, mapping_parent>);
static_assert(fits<node_supervisor_impl, db_listener>);
static_assert(!fits<writer_actor_hdl, mapping_actor_hdl>, "handles of different actors never mix");
// The change subscriber: its stream sends it batches and the stream's end; its
// resubscribe and job-retry timers are its own.
static_assert(accepts<change_subscriber_hdl, cdc_events_atom, std::shared_ptr<change_batch>, std::uint64_t>);
static_assert(accepts<change_subscriber_hdl, cdc_ended_atom, std::int32_t, std::string, std::uint64_t>);
static_assert(!accepts<change_subscriber_hdl, start_atom> && accepts<change_subscriber_impl, start_atom>,
              "the subscriber's resubscribe timer is its own");
static_assert(!accepts<change_subscriber_hdl, retry_atom> && accepts<change_subscriber_impl, retry_atom>);
static_assert(fits<change_subscriber_impl, change_subscriber_hdl>);
static_assert(fits<mapping_actor_impl, catch_up_target>, "a mapping is its subscriber's catch-up target");

// ---- the services' short-lived work runs on bounded, typed actors ------------------
// Admin calls run on a worker_pool (a fixed number of detached workers and a
// line); Cluster and Node calls that ask an actor go through one relay per
// service, which accepts calls to carry and nothing else.
namespace svc = syncforce::services;
static_assert(std::is_same_v<std::decay_t<decltype(std::declval<const svc::call_pool&>().pool())>, worker_pool_actor>,
              "admin calls run on the typed worker pool");
static_assert(accepts<svc::call_relay_actor, svc::relay_atom, svc::relay_call>);
static_assert(std::is_same_v<reply_of<svc::call_relay_actor, svc::relay_atom, svc::relay_call>, replies<void>>,
              "a relay answers nothing: the carried call finishes its own reactor");
static_assert(!accepts<svc::call_relay_actor, status_atom> && !accepts<svc::call_relay_actor, svc::relay_atom>,
              "the relay's protocol is one message");
static_assert(!fits<svc::call_relay_actor, worker_pool_actor>);

TEST(actor_protocols, named_replies_print_their_fields) {
  pool_status p;
  p.workers = 4;
  p.busy = 1;
  p.queued = 7;
  EXPECT_EQ(caf::deep_to_string(p), "pool_status(4, 1, 7)");

  grant_reply g;
  g.granted = true;
  g.grant_id = "inc-3";
  g.expires_in_ms = 30000;
  EXPECT_EQ(caf::deep_to_string(g), "grant_reply(true, \"\", \"inc-3\", 30000, false)");

  budget_reply b;
  b.used = 95;
  b.max = 100;
  b.reason = "API budget exhausted";
  EXPECT_EQ(caf::deep_to_string(b), "budget_reply(false, 95, 100, \"API budget exhausted\")");

  broker_status s;
  s.held = 2;
  s.waiting = 3;
  EXPECT_EQ(caf::deep_to_string(s), "broker_status(2, 0, 0, 3)");

  node_status n;
  n.reason = "database unavailable";
  n.schema_version = 14;
  EXPECT_EQ(caf::deep_to_string(n), "node_status(false, \"database unavailable\", 14)");
}

} // namespace

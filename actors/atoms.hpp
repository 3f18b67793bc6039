#pragma once

#include <caf/all.hpp>

// ---- message atoms of the node's actors --------------------------------------

namespace syncforce::actors {

/// Ask an actor to begin its work.
using start_atom = caf::atom_constant<caf::atom("start")>;
/// Periodic self-message of a monitor.
using check_atom = caf::atom_constant<caf::atom("check")>;
/// The database became reachable and migrated (carries the schema version).
using db_up_atom = caf::atom_constant<caf::atom("db_up")>;
/// The database became unreachable (carries the reason).
using db_down_atom = caf::atom_constant<caf::atom("db_down")>;
/// Ask for a status snapshot.
using status_atom = caf::atom_constant<caf::atom("status")>;
/// Stop taking work, stop children, reply when they are all gone.
using drain_atom = caf::atom_constant<caf::atom("drain")>;
/// Restart a child (carries its name).
using restart_atom = caf::atom_constant<caf::atom("restart")>;
/// Ask whether a supervisor gave up on a child (replies the failure, or empty).
using health_atom = caf::atom_constant<caf::atom("health")>;
/// A node that gave up: its liveness grace is over.
using liveness_atom = caf::atom_constant<caf::atom("liveness")>;

/// Something may be waiting in the trigger log: run a write cycle.
using wake_atom = caf::atom_constant<caf::atom("wake")>;
/// The writer's fallback poll of the trigger log.
using tick_atom = caf::atom_constant<caf::atom("tick")>;

} // namespace syncforce::actors

// ---- sync engine ---------------------------------------------------------------

namespace syncforce::actors {

/// Run a blocking job on a worker (carries a job).
using run_job_atom = caf::atom_constant<caf::atom("run_job")>;
/// Ask an integration user for a query cursor (carries the mapping id).
using acquire_atom = caf::atom_constant<caf::atom("acquire")>;
/// Give a query cursor back (carries the mapping id).
using release_atom = caf::atom_constant<caf::atom("release")>;
/// A Sforce-Limit-Info snapshot (used, max).
using usage_atom = caf::atom_constant<caf::atom("api_usage")>;
/// Time for a mapping to poll Salesforce.
using poll_atom = caf::atom_constant<caf::atom("poll")>;
/// Time for a mapping's look-back sweep (late commits).
using sweep_atom = caf::atom_constant<caf::atom("sweep")>;
/// Time for a mapping's formula drift repair.
using repair_atom = caf::atom_constant<caf::atom("frepair")>;
/// Retry a mapping's current step.
using retry_atom = caf::atom_constant<caf::atom("retry")>;
/// A mapping finished a cycle successfully (carries the mapping id).
using synced_atom = caf::atom_constant<caf::atom("synced")>;
/// Stop once the running step is done (with `true`: cancel a running load first).
using stop_atom = caf::atom_constant<caf::atom("stop")>;
/// A connection's new settings (mappings added, removed, edited; commands; pause).
using reconfigure_atom = caf::atom_constant<caf::atom("reconfig")>;
/// The units of work this node holds leases for (cluster member -> engine -> connections).
using units_atom = caf::atom_constant<caf::atom("units")>;
/// The units that run on this node now (connections -> engine -> cluster member).
using running_atom = caf::atom_constant<caf::atom("running")>;

// ---- limit broker (one per Salesforce user in the cluster) ------------------------

/// A cursor with a time-to-live for a holder that renews it (remote holders).
using grant_atom = caf::atom_constant<caf::atom("grant")>;
/// Keep grants alive; unknown ones are taken over.
using renew_atom = caf::atom_constant<caf::atom("renew")>;
/// A broker's timer: grants expired, waits ran out, recovery over.
using expire_atom = caf::atom_constant<caf::atom("expire")>;
/// Ask whether the daily API budget allows work.
using budget_atom = caf::atom_constant<caf::atom("budget")>;
/// Ask a broker for its pool (broker_state).
using broker_state_atom = caf::atom_constant<caf::atom("brk_state")>;
/// A broker proxy's answer from the owner (carries a call number and the answer).
using answer_atom = caf::atom_constant<caf::atom("answer")>;
/// A broker proxy's time to renew its grants.
using renew_tick_atom = caf::atom_constant<caf::atom("renew_tick")>;
/// A broker proxy's time to send the coalesced API usage.
using flush_atom = caf::atom_constant<caf::atom("flush")>;
/// Change events (accelerated sync): a batch received, the stream ended, a catch-up poll wanted.
using cdc_events_atom = caf::atom_constant<caf::atom("cdc_events")>;
using cdc_ended_atom = caf::atom_constant<caf::atom("cdc_ended")>;
using catch_up_atom = caf::atom_constant<caf::atom("catch_up")>;

} // namespace syncforce::actors

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

} // namespace syncforce::actors

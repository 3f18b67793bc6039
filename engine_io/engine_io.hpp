#pragma once

// engine_io/: the engine's blocking work on PostgreSQL (libpqxx) and
// Salesforce (libcurl), behind the interfaces the actors schedule
// (actors/sync_io.hpp, write_io.hpp, worker_pool.hpp, cluster_store.hpp,
// database_probe.hpp, notify_listener.hpp). The composition root
// (services/main/syncforced.cpp) builds these and hands them to the actors;
// actors/ never links this module (CMakeLists.txt checks it).

#include "actors/cluster_store.hpp"
#include "actors/database_probe.hpp"
#include "actors/sync_engine.hpp"
#include "actors/sync_io.hpp"
#include "actors/write_io.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace syncforce::engine_io {

/// The read side: loads, polls, sweeps, repairs, backfills and commands.
std::shared_ptr<actors::sync_io> make_sync_io();

/// The write side: claims `_trigger_log` entries and writes them to Salesforce.
std::shared_ptr<actors::write_io> make_write_io();

/// The control schema, on a PostgreSQL session of its own (so a busy worker
/// pool never delays a heartbeat), named for `node_name`; statements give up
/// after `statement_timeout`.
std::unique_ptr<actors::cluster_store> make_cluster_store(std::string database_url, const std::string& node_name,
                                                          std::chrono::milliseconds statement_timeout);

/// The database monitor's check. `url` is a libpq connection URL or key/value string.
std::unique_ptr<actors::database_probe> make_database_probe(std::string url);

/// The engine's configuration load, on a worker: imports `file` when given
/// (idempotent), then reads every connection and its mappings, in one transaction.
actors::job_outcome load_engine_config(actors::worker_context& ctx, const std::optional<engine_config>& file,
                                       std::vector<actors::loaded_connection>& out);

/// Everything the sync engine of node `node_name` needs to work on
/// `database_url`; its sessions carry the node's name (store::node_session_name),
/// the cluster session's statements give up after `heartbeat_interval`.
actors::engine_backend make_engine_backend(std::string database_url, std::string node_name,
                                           std::chrono::milliseconds heartbeat_interval);

} // namespace syncforce::engine_io

#pragma once
// The key and indexes of a first load's shadow table, built in two sessions at
// once before the swap (issue 16). One after the other inside the swap's
// transaction they were a quarter of a 100,000-row load, with one core idle;
// PostgreSQL lets index builds of one table run side by side (CREATE INDEX
// takes a SHARE lock, which other builds share, and writers wait for).
//
// Each build commits on its own, with the lease checked in its transaction
// (commit_fenced), so a kill keeps those already built and the resumed swap
// finds them (IF NOT EXISTS). A build that fails, e.g. a unique index over a
// value loaded twice, is left to the swap, which sets the later rows aside
// (store::build_shadow_keys) and records them as read errors in the same
// transaction as the swap: nothing about the rows is decided here.

#include "actors/worker_pool.hpp"

#include <pqxx/pqxx>

#include <cstddef>
#include <string>
#include <vector>

namespace syncforce::engine_io {

/// What the builds did.
struct shadow_build_result {
  std::size_t built = 0;     ///< statements committed
  std::size_t left = 0;      ///< statements that failed, left to the swap
  /// The first of those failures, for a debugger: not for the log (a unique
  /// build's error quotes the duplicated value).
  std::string first_failure;
};

/// Runs `statements` (store::shadow_index_builds) over `own` (the worker's
/// connection, no transaction open) and at most `extra_sessions` more
/// sessions opened on `database_url` (named `session_name`) for the duration, each statement in a
/// transaction of its own (store::build_shadow_index). Rethrows
/// fenced_out (the lease was lost: nothing more is built); any other failure
/// of a build is counted in `left`.
shadow_build_result build_shadow_indexes(pqxx::connection& own, const std::string& database_url,
                                         const std::string& session_name,
                                         const std::vector<std::string>& statements,
                                         const actors::worker_context& ctx, std::size_t extra_sessions = 1);

} // namespace syncforce::engine_io

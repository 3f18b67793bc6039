#pragma once

#include <exception>
#include <string>

namespace syncforce::store {

/// What a database failure means for whoever hit it: one classification for
/// every boundary (workers, the admin API), so a deadlock is not a crash in
/// one place and "try again" in another.
enum class db_failure {
  /// The session is gone or the server is not taking sessions (connection
  /// lost, admin or crash shutdown, starting up): try again once it answers.
  unavailable,
  /// The statement lost a race and was rolled back (serialization failure,
  /// deadlock, lock not available, statement or lock timeout): try again.
  conflict,
  /// Anything else: a bug or a bad value, not cured by trying again.
  permanent,
};

/// Classifies `e` (a libpqxx exception, or anything else: permanent).
db_failure classify_db_error(const std::exception& e);

/// True for unavailable and conflict.
inline bool is_transient(db_failure f) { return f != db_failure::permanent; }

} // namespace syncforce::store

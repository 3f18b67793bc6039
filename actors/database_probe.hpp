#pragma once

#include <memory>
#include <string>

namespace syncforce::actors {

/// What one database check found.
struct probe_result {
  bool ok = false;
  /// The control schema version after migrating (when ok).
  int schema_version = 0;
  /// Why the database is not usable (when not ok); never contains a secret.
  std::string error;
};

/// A blocking check of the node's database: connect when needed, migrate the
/// control schema after (re)connecting, then ping. Production wraps libpqxx;
/// simulation tests use an in-memory fake.
class database_probe {
public:
  virtual ~database_probe() = default;
  virtual probe_result check() = 0;
};

} // namespace syncforce::actors

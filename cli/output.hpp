#pragma once

// How `syncforce` prints what the admin API answers: JSON shapes (stable keys,
// documented in docs/cli.md) and numbers for people.

#include "syncforce/v1/admin.pb.h"

#include <nlohmann/json.hpp>

#include <string>

namespace syncforce::cli {

/// 1234567 -> "1,234,567".
std::string with_commas(long long n);

/// A mapping as `--json` prints it (Heroku Connect's mapping object shape:
/// counts{db, pending, errors}, plus config, revision and load progress).
nlohmann::json mapping_json(const syncforce::v1::MappingState& m);

/// A connection as `--json` prints it (with its mappings; never a secret).
nlohmann::json connection_json(const syncforce::v1::ConnectionState& c);

} // namespace syncforce::cli

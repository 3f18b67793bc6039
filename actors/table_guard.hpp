#pragma once

#include <mutex>
#include <string>

namespace syncforce::actors {

/// Serialises, within the node that runs a connection, one poll page (read from
/// Salesforce until applied) with one write-back batch (sent until its results
/// are recorded) for the same table. Without it a page read just before a
/// write-back could be applied just after it, putting back for a poll interval
/// the values the write had just replaced (the echo rule, docs/write-back.md).
std::unique_lock<std::mutex> lock_table(const std::string& schema, const std::string& table);

} // namespace syncforce::actors

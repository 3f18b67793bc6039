#pragma once

#include <nlohmann/json.hpp>

#include <vector>

namespace syncforce {

// ---- in-doubt creates ------------------------------------------------------------
//
// A create sent to Salesforce whose answer was never recorded (the node died,
// the call timed out, the lease was lost) may or may not have made a record.
// Sending it again could make a second one: a plain create has no key that
// Salesforce deduplicates on. Before resending, the writer asks Salesforce for
// the records its user created since the call and matches them to the creates
// in doubt by the values sent; a match is recorded as the create's result.

/// Whether `stored` (a record as Salesforce returns it from a query) carries
/// every value `sent` (the record body of the create). Numbers compare as
/// numbers, datetimes to the second (Salesforce keeps no more); a field sent
/// null is not held against the match (Salesforce may have filled in its
/// default: an auto Name, false, a picklist's default), nor is a field the
/// query did not return.
bool carries_values(const nlohmann::json& sent, const nlohmann::json& stored);

/// For each create in `sent` (in the order they were sent), the index of the
/// record in `candidates` (ordered oldest first) it made, or -1 when none
/// matches. Each candidate is matched at most once.
std::vector<int> match_in_doubt(const std::vector<nlohmann::json>& sent, const std::vector<nlohmann::json>& candidates);

} // namespace syncforce

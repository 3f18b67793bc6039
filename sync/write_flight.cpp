#include "sync/write_flight.hpp"

namespace syncforce {

namespace {

/// The records a batch touches: by row id, and by sfid for items without one.
struct batch_keys {
  std::set<std::int64_t> ids;
  std::set<std::string> sfids;
};

void add_keys(const write_batch& b, batch_keys& into) {
  for (const auto& item : b.items) {
    if (item.record_id)
      into.ids.insert(*item.record_id);
    if (item.sfid)
      into.sfids.insert(*item.sfid);
  }
}

bool shares_a_record(const write_batch& b, const batch_keys& keys) {
  for (const auto& item : b.items) {
    if (item.record_id && keys.ids.count(*item.record_id))
      return true;
    if (item.sfid && keys.sfids.count(*item.sfid))
      return true;
  }
  return false;
}

} // namespace

bool may_fly_with(const write_plan& plan, const std::vector<std::size_t>& in_flight, std::size_t candidate,
                  write_mode mode, const flight_table& table, std::size_t limit) {
  if (in_flight.empty())
    return true;
  if (in_flight.size() >= limit || candidate >= plan.batches.size())
    return false;
  const auto& c = plan.batches[candidate];
  if (c.transport != write_transport::collection || table.has_relationships)
    return false;
  batch_keys keys;
  for (auto i : in_flight) {
    if (i >= candidate || i >= plan.batches.size())
      return false;
    const auto& b = plan.batches[i];
    if (b.transport != write_transport::collection || b.table != c.table)
      return false;
    if (mode == write_mode::ordered && b.action == write_action::insert)
      return false;
    add_keys(b, keys);
  }
  return !shares_a_record(c, keys);
}

bool has_relationship_columns(const std::vector<std::string>& column_names) {
  for (const auto& n : column_names)
    if (n.find("__r__") != std::string::npos)
      return true;
  return false;
}

} // namespace syncforce

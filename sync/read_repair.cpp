#include "sync/read_repair.hpp"

#include "sync/poll_plan.hpp"
#include "sync/type_mapping.hpp"

#include <algorithm>
#include <ctime>
#include <set>
#include <stdexcept>
#include <unordered_map>

namespace syncforce {

namespace {

/// A canonical stamp (`YYYY-MM-DDTHH:MM:SS...Z`) as a time point, to the second.
std::optional<std::chrono::system_clock::time_point> time_of(const std::string& stamp) {
  auto c = canonical_timestamp(stamp);
  if (!c)
    return std::nullopt;
  std::tm tm{};
  if (strptime(c->c_str(), "%Y-%m-%dT%H:%M:%S", &tm) == nullptr)
    return std::nullopt;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

} // namespace

std::optional<sweep_window> sweep_window_at(std::chrono::system_clock::time_point now, std::chrono::seconds look_back,
                                            const std::string& mark,
                                            const std::optional<std::string>& last_sweep_started) {
  auto to = canonical_timestamp(mark);
  if (!to)
    return std::nullopt;
  auto start = now;
  if (last_sweep_started)
    if (auto last = time_of(*last_sweep_started))
      start = std::min(start, *last);
  auto from = settling_cutoff(start, look_back);
  if (*to < from)
    return std::nullopt;
  return sweep_window{std::move(from), std::move(*to)};
}

std::string sweep_soql(std::string_view object, std::string_view stamp_field, const sweep_window& window,
                       const std::optional<std::string>& after_stamp, const std::optional<std::string>& after_id,
                       long limit) {
  const std::string f{stamp_field};
  std::string q = "SELECT Id, " + f + ", IsDeleted FROM " + std::string{object} + " WHERE " + f +
                  " >= " + window.from + " AND " + f + " <= " + window.to;
  if (after_stamp) {
    if (after_id && !is_salesforce_id(*after_id))
      throw std::invalid_argument("not a Salesforce id: '" + *after_id + "'");
    q += " AND (" + keyset_filter(stamp_field, *after_stamp, after_id) + ")";
  }
  q += " ORDER BY " + f + " ASC, Id ASC";
  if (limit > 0)
    q += " LIMIT " + std::to_string(limit);
  return q;
}

sweep_diff diff_sweep(const std::vector<remote_stamp>& remote, const std::vector<local_stamp>& local) {
  std::unordered_map<std::string, const local_stamp*> by_id;
  by_id.reserve(local.size());
  for (const auto& l : local)
    by_id.emplace(l.sfid, &l);
  sweep_diff d;
  std::set<std::string> seen;
  for (const auto& r : remote) {
    if (!seen.insert(r.id).second)
      continue;
    auto it = by_id.find(r.id);
    if (r.deleted) {
      if (it != by_id.end()) {
        ++d.deleted;
        d.fetch.push_back(r.id);
      }
      continue;
    }
    if (it == by_id.end()) {
      ++d.missing;
      d.fetch.push_back(r.id);
    } else if (it->second->stamp != r.stamp) {
      ++d.stale;
      d.fetch.push_back(r.id);
    }
  }
  return d;
}

std::string fetch_by_ids_soql(const std::vector<std::string>& fields, std::string_view object,
                              const std::vector<std::string>& ids) {
  if (ids.empty())
    throw std::invalid_argument("no ids to fetch");
  std::string list;
  for (const auto& id : ids) {
    if (!is_salesforce_id(id))
      throw std::invalid_argument("not a Salesforce id: '" + id + "'");
    list += (list.empty() ? "'" : ", '") + id + "'";
  }
  std::string q = "SELECT ";
  for (std::size_t i = 0; i < fields.size(); ++i)
    q += (i == 0 ? "" : ", ") + fields[i];
  return q + " FROM " + std::string{object} + " WHERE Id IN (" + list + ")";
}

std::vector<std::string> repair_fields(const std::vector<std::string>& mapped,
                                       const std::vector<std::string>& calculated) {
  std::vector<std::string> out;
  for (const auto& f : mapped) {
    if (iequals(f, "Id") || iequals(f, "SystemModstamp") || iequals(f, "LastModifiedDate") || iequals(f, "IsDeleted"))
      continue;
    bool calc = std::any_of(calculated.begin(), calculated.end(), [&](const std::string& c) { return iequals(c, f); });
    bool dup = std::any_of(out.begin(), out.end(), [&](const std::string& o) { return iequals(o, f); });
    if (calc && !dup)
      out.push_back(f);
  }
  return out;
}

} // namespace syncforce

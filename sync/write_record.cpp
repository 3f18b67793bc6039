#include "sync/write_record.hpp"

#include <unordered_map>

namespace syncforce {

std::vector<row_outcome> fold_row_outcomes(const std::vector<row_outcome>& in_order) {
  std::vector<row_outcome> out;
  out.reserve(in_order.size());
  std::unordered_map<std::string, std::size_t> at; // key -> index in out
  for (const auto& o : in_order) {
    auto [it, fresh] = at.emplace(o.key, out.size());
    if (fresh) {
      out.push_back(o);
      continue;
    }
    auto& folded = out[it->second];
    // As if recorded one after the other: COALESCE(new sfid, row's sfid), the
    // new _hc_lastop and _hc_err.
    if (o.sfid)
      folded.sfid = o.sfid;
    folded.ok = o.ok;
    folded.err = o.err;
  }
  return out;
}

} // namespace syncforce

#include "sync/cluster_assignment.hpp"

#include <algorithm>
#include <set>

namespace syncforce {

unit_assignment assign_units(const std::vector<unit_load>& units, std::vector<std::string> live_nodes) {
  unit_assignment out;
  std::sort(live_nodes.begin(), live_nodes.end());
  live_nodes.erase(std::unique(live_nodes.begin(), live_nodes.end()), live_nodes.end());
  if (live_nodes.empty())
    return out;
  std::set<std::string> live(live_nodes.begin(), live_nodes.end());

  // Units in a fixed order: by id (node views list them in any order).
  std::vector<const unit_load*> sorted;
  sorted.reserve(units.size());
  long total = 0;
  for (const auto& u : units) {
    sorted.push_back(&u);
    total += std::max(0, u.weight);
  }
  std::sort(sorted.begin(), sorted.end(), [](const unit_load* a, const unit_load* b) { return a->id < b->id; });

  // What each live owner holds today.
  std::map<std::string, long> held;
  for (const auto& n : live_nodes)
    held[n] = 0;
  for (const auto* u : sorted)
    if (u->owner && live.count(*u->owner))
      held[*u->owner] += std::max(0, u->weight);

  // Shares: the remainder goes to the nodes holding the most already.
  const long n = static_cast<long>(live_nodes.size());
  std::vector<std::string> by_held = live_nodes;
  std::stable_sort(by_held.begin(), by_held.end(),
                   [&](const std::string& a, const std::string& b) { return held[a] > held[b]; });
  std::map<std::string, long> share;
  for (long i = 0; i < n; ++i)
    share[by_held[static_cast<std::size_t>(i)]] = total / n + (i < total % n ? 1 : 0);

  // Keep what fits in each owner's share; the rest is placed below.
  std::map<std::string, long> load;
  for (const auto& node : live_nodes)
    load[node] = 0;
  std::vector<const unit_load*> unplaced;
  for (const auto* u : sorted) {
    auto w = std::max(0, u->weight);
    if (u->owner && live.count(*u->owner) && load[*u->owner] + w <= share[*u->owner]) {
      out[u->id] = *u->owner;
      load[*u->owner] += w;
      continue;
    }
    unplaced.push_back(u);
  }
  // Heaviest first, each to the node with the most room left (ties: by name).
  std::stable_sort(unplaced.begin(), unplaced.end(),
                   [](const unit_load* a, const unit_load* b) { return a->weight > b->weight; });
  for (const auto* u : unplaced) {
    const std::string* best = nullptr;
    long best_room = 0;
    for (const auto& node : live_nodes) {
      long room = share[node] - load[node];
      if (best == nullptr || room > best_room) {
        best = &node;
        best_room = room;
      }
    }
    out[u->id] = *best;
    load[*best] += std::max(0, u->weight);
  }
  return out;
}

std::vector<std::string> moved_units(const std::vector<unit_load>& units, const std::vector<std::string>& live_nodes,
                                     const unit_assignment& next) {
  std::set<std::string> live(live_nodes.begin(), live_nodes.end());
  std::vector<std::string> moved;
  for (const auto& u : units) {
    if (!u.owner || !live.count(*u.owner))
      continue;
    auto i = next.find(u.id);
    if (i != next.end() && i->second != *u.owner)
      moved.push_back(u.id);
  }
  std::sort(moved.begin(), moved.end());
  return moved;
}

} // namespace syncforce

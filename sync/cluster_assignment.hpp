#pragma once

// Which node runs which unit of work (docs/cluster.md): pure, so every node
// computes the same answer from the same view of the control schema, and the
// properties (balanced, sticky, minimal moves) are tested over random
// memberships without a database.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace syncforce {

/// A unit of work as the assignment sees it.
struct unit_load {
  std::string id;  ///< kind:key, e.g. mapping:<uuid>
  int weight = 1;  ///< cost relative to one mapping's read side
  /// The node holding its lease now, if any (whether live or not).
  std::optional<std::string> owner;
};

/// unit id -> node.
using unit_assignment = std::map<std::string, std::string>;

/// Spreads `units` over `live_nodes` by weight.
/// - Every unit gets a live node (none when `live_nodes` is empty).
/// - Each node's share is the total weight over the node count, the remainder
///   going to the nodes that already hold the most (so as little moves as
///   possible); with unit weights the loads differ by at most one.
/// - Sticky: a unit stays with its live owner unless that owner is above its
///   share; only the excess and the units of dead or absent owners move.
/// Deterministic: the same input gives the same output on every node.
unit_assignment assign_units(const std::vector<unit_load>& units, std::vector<std::string> live_nodes);

/// Units whose live owner changes under `next` (the moves a rebalance makes).
std::vector<std::string> moved_units(const std::vector<unit_load>& units, const std::vector<std::string>& live_nodes,
                                     const unit_assignment& next);

} // namespace syncforce

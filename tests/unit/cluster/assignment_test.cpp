// The pure assignment of units to nodes (sync/cluster_assignment): balanced
// within one unit, sticky (only what balance needs moves), deterministic,
// checked over random memberships from fixed seeds.

#include "sync/cluster_assignment.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

using namespace syncforce;

namespace {

std::vector<std::string> names(int n, const std::string& prefix = "node-") {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i)
    out.push_back(prefix + std::to_string(i));
  return out;
}

std::map<std::string, long> loads(const unit_assignment& a) {
  std::map<std::string, long> l;
  for (const auto& [u, n] : a)
    ++l[n];
  return l;
}

/// The fewest moves any balanced assignment needs: each live owner's excess
/// over the largest share it could get.
long minimal_moves(const std::vector<unit_load>& units, const std::vector<std::string>& live) {
  std::set<std::string> alive(live.begin(), live.end());
  std::map<std::string, long> held;
  for (const auto& u : units)
    if (u.owner && alive.count(*u.owner))
      ++held[*u.owner];
  long n = static_cast<long>(live.size());
  long total = static_cast<long>(units.size());
  long base = total / n;
  long extra = total % n;
  // Shares of base+1 go to the nodes holding the most: the excess is what is above them.
  std::vector<long> h;
  for (const auto& node : live)
    h.push_back(held[node]);
  std::sort(h.rbegin(), h.rend());
  long moves = 0;
  for (std::size_t i = 0; i < h.size(); ++i)
    moves += std::max(0L, h[i] - (base + (static_cast<long>(i) < extra ? 1 : 0)));
  return moves;
}

} // namespace

TEST(cluster_assignment, one_node_runs_everything) {
  std::vector<unit_load> units;
  for (int i = 0; i < 5; ++i)
    units.push_back({"mapping:" + std::to_string(i), 1, std::nullopt});
  auto a = assign_units(units, {"solo"});
  ASSERT_EQ(a.size(), 5u);
  for (const auto& [u, n] : a)
    EXPECT_EQ(n, "solo");
}

TEST(cluster_assignment, no_live_node_assigns_nothing) {
  EXPECT_TRUE(assign_units({{"mapping:a", 1, std::string{"gone"}}}, {}).empty());
}

TEST(cluster_assignment, a_joining_node_takes_only_its_share) {
  std::vector<unit_load> units;
  for (int i = 0; i < 12; ++i)
    units.push_back({"mapping:" + std::to_string(i), 1, std::string{i % 2 ? "a" : "b"}});
  auto a = assign_units(units, {"a", "b", "c"});
  auto l = loads(a);
  EXPECT_EQ(l["a"], 4);
  EXPECT_EQ(l["b"], 4);
  EXPECT_EQ(l["c"], 4);
  EXPECT_EQ(moved_units(units, {"a", "b", "c"}, a).size(), 4u) << "only what c takes moves";
}

TEST(cluster_assignment, a_dead_owners_units_spread_over_the_rest) {
  std::vector<unit_load> units;
  for (int i = 0; i < 9; ++i)
    units.push_back({"mapping:" + std::to_string(i), 1, std::string{i < 3 ? "a" : (i < 6 ? "b" : "c")}});
  auto a = assign_units(units, {"a", "b"});
  auto l = loads(a);
  EXPECT_EQ(l["a"] + l["b"], 9);
  EXPECT_LE(std::abs(l["a"] - l["b"]), 1);
  for (int i = 0; i < 6; ++i) // the live owners keep theirs
    EXPECT_EQ(a["mapping:" + std::to_string(i)], i < 3 ? "a" : "b");
}

TEST(cluster_assignment, random_memberships_are_balanced_sticky_minimal_and_deterministic) {
  for (unsigned seed = 1; seed <= 500; ++seed) {
    std::mt19937 rng(seed);
    int node_count = 1 + static_cast<int>(rng() % 7);
    int unit_count = static_cast<int>(rng() % 120);
    auto all = names(node_count + 3);
    std::vector<std::string> live;
    for (int i = 0; i < node_count; ++i)
      live.push_back(all[static_cast<std::size_t>(i)]);
    std::vector<unit_load> units;
    for (int i = 0; i < unit_count; ++i) {
      unit_load u{"mapping:" + std::to_string(rng() % 100000) + "-" + std::to_string(i), 1, std::nullopt};
      auto pick = rng() % (all.size() + 1);
      if (pick < all.size())
        u.owner = all[pick]; // live, or one of the dead
      units.push_back(u);
    }
    auto a = assign_units(units, live);
    SCOPED_TRACE("seed " + std::to_string(seed));
    ASSERT_EQ(a.size(), units.size());
    std::set<std::string> alive(live.begin(), live.end());
    for (const auto& [u, n] : a)
      ASSERT_TRUE(alive.count(n)) << u << " went to " << n;
    auto l = loads(a);
    long lo = unit_count, hi = 0;
    for (const auto& n : live) {
      lo = std::min(lo, l[n]);
      hi = std::max(hi, l[n]);
    }
    EXPECT_LE(hi - lo, 1) << "balanced within one unit";
    EXPECT_EQ(static_cast<long>(moved_units(units, live, a).size()), minimal_moves(units, live))
      << "only what balance needs moves";
    // Every node computes the same answer, whatever order it lists units and nodes in.
    auto shuffled = units;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    auto live2 = live;
    std::shuffle(live2.begin(), live2.end(), rng);
    EXPECT_EQ(assign_units(shuffled, live2), a);
    // A second pass over its own result moves nothing.
    for (auto& u : units)
      u.owner = a[u.id];
    EXPECT_TRUE(moved_units(units, live, assign_units(units, live)).empty());
  }
}

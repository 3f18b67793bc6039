#include "tests/sim/sim_cluster_store.hpp"

#include <set>
#include <stdexcept>

namespace syncforce::sim {

namespace {

class sim_cluster_store : public actors::cluster_store {
public:
  sim_cluster_store(world& w, unit_source units, std::string node, long* moves)
    : w_(w), units_(std::move(units)), node_(std::move(node)), moves_(moves) {}

  // store::join_cluster: the node's row (a new incarnation, live for ttl); its
  // old leases given up. A member whose node joined again since is refused.
  std::int64_t join(const store::node_info& node, std::chrono::milliseconds ttl, std::int64_t previous) override {
    call("join");
    if (previous != 0 && w_.nodes.count(node.name) && !current(node.name, previous)) {
      w_.note("cluster: " + node.name + " incarnation " + std::to_string(previous) +
              " cannot rejoin: a newer start of the node joined");
      return 0;
    }
    auto& row = w_.nodes[node.name];
    ++row.incarnation;
    row.expires_ms = w_.now_ms() + ttl.count();
    for (auto& [unit, lease] : w_.leases)
      if (lease.node == node.name)
        lease.node.clear();
    w_.note("cluster: " + node.name + " joins, incarnation " + std::to_string(row.incarnation));
    return row.incarnation;
  }

  // store::heartbeat: only a live row is extended; an expired node must rejoin.
  bool heartbeat(const std::string& node, std::int64_t incarnation, std::chrono::milliseconds ttl) override {
    call("heartbeat");
    auto n = w_.nodes.find(node);
    if (n == w_.nodes.end() || n->second.expires_ms <= w_.now_ms() || !current(node, incarnation)) {
      w_.note("cluster: " + node + "'s heartbeat (incarnation " + std::to_string(incarnation) +
              ") finds its row expired or rejoined");
      return false;
    }
    n->second.expires_ms = w_.now_ms() + ttl.count();
    answer("heartbeat");
    return true;
  }

  // store::leave_cluster: only the current incarnation leaves.
  void leave(const std::string& node, std::int64_t incarnation) override {
    call("leave");
    if (!current(node, incarnation)) {
      w_.note("cluster: " + node + " incarnation " + std::to_string(incarnation) + " leaves too late: nothing changes");
      return;
    }
    for (auto& [unit, lease] : w_.leases)
      if (lease.node == node)
        lease.node.clear();
    w_.nodes.erase(node);
    w_.note("cluster: " + node + " leaves");
  }

  // store::read_cluster
  store::cluster_view read() override {
    call("read");
    store::cluster_view v;
    for (const auto& [name, row] : w_.nodes) {
      store::node_row n;
      n.info.name = name;
      n.info.address = name + ":0";
      n.live = live(name);
      n.incarnation = row.incarnation;
      v.nodes.push_back(std::move(n));
    }
    v.units = units_();
    for (const auto& [unit, lease] : w_.leases) {
      store::lease_row l;
      auto colon = unit.find(':');
      l.kind = unit.substr(0, colon);
      l.key = unit.substr(colon + 1);
      if (!lease.node.empty())
        l.owner = lease.node;
      l.epoch = lease.epoch;
      l.moves = lease.moves;
      v.leases.push_back(std::move(l));
    }
    return v;
  }

  // store::acquire_lease: only a live node takes a lease, only from nobody live, under the next epoch.
  std::optional<std::int64_t> acquire(const std::string& kind, const std::string& key,
                                      const std::string& node, std::int64_t incarnation) override {
    call("acquire");
    if (!live(node) || !current(node, incarnation))
      return std::nullopt;
    auto unit = kind + ":" + key;
    auto& lease = w_.leases[unit];
    if (!lease.node.empty() && live(lease.node))
      return std::nullopt;
    if (lease.node != node && lease.epoch > 0) {
      ++lease.moves;
      if (moves_ != nullptr)
        ++*moves_;
    }
    w_.note("cluster: " + node + " takes " + unit + " (epoch " + std::to_string(lease.epoch + 1) + ", from '" +
            lease.node + "')");
    lease.node = node;
    ++lease.epoch;
    auto epoch = lease.epoch;
    answer("acquire");
    return epoch;
  }

  // store::release_lease
  bool release(const std::string& kind, const std::string& key, const std::string& node,
               std::int64_t epoch) override {
    call("release");
    auto l = w_.leases.find(kind + ":" + key);
    if (l == w_.leases.end() || l->second.node != node || l->second.epoch != epoch)
      return false;
    l->second.node.clear();
    w_.note("cluster: " + node + " releases " + l->first);
    return true;
  }

  // store::prune_leases: leases of units that no longer exist, held by nobody live.
  long prune() override {
    call("prune");
    std::set<std::string> exist;
    for (const auto& u : units_())
      exist.insert(u.kind + ":" + u.key);
    long n = 0;
    for (auto it = w_.leases.begin(); it != w_.leases.end();) {
      if ((it->second.node.empty() || !live(it->second.node)) && !exist.count(it->first)) {
        it = w_.leases.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    return n;
  }

private:
  /// Whether `incarnation` is the node's current one (the stale_member bug: any is).
  bool current(const std::string& node, std::int64_t incarnation) const {
    if (w_.bug == injected_bug::stale_member)
      return true;
    auto n = w_.nodes.find(node);
    return n != w_.nodes.end() && n->second.incarnation == incarnation;
  }

  /// `expires_at > clock_timestamp()`; with the early_takeover bug, half the
  /// time to live too early for every node but the caller.
  bool live(const std::string& node) const {
    auto n = w_.nodes.find(node);
    if (n == w_.nodes.end())
      return false;
    auto expires = n->second.expires_ms;
    if (w_.bug == injected_bug::early_takeover && node != node_)
      expires -= 5000;
    return expires > w_.now_ms();
  }

  /// Before a call does anything: a frozen node's calls do not get through,
  /// a lost session throws, a slow call lets others run first.
  void call(const char* what) {
    auto f = w_.frozen_until.find(node_);
    if (f != w_.frozen_until.end() && w_.now_ms() < f->second)
      throw std::runtime_error(std::string{"sim: "} + node_ + " is frozen: its " + what + " does not get through");
    if (w_.chance(w_.faults.store_error))
      throw std::runtime_error(std::string{"sim: the cluster store session was lost before "} + what);
    w_.yield(std::string{"in a cluster store call ("} + what + ") of " + node_, w_.faults.store_slow);
  }

  /// After a call did its work: its answer may be slow too.
  void answer(const char* what) {
    w_.yield(std::string{"before the answer of a cluster store call ("} + what + ") of " + node_, w_.faults.store_slow);
  }

  world& w_;
  unit_source units_;
  std::string node_;
  long* moves_;
};

} // namespace

std::unique_ptr<actors::cluster_store> make_sim_cluster_store(world& w, unit_source units, std::string node,
                                                              long* lease_moves) {
  return std::make_unique<sim_cluster_store>(w, std::move(units), std::move(node), lease_moves);
}

} // namespace syncforce::sim

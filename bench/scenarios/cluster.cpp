// Scenario 7: a cluster (docs/cluster.md). Three nodes on one database and one
// sfemu with 300 idle mappings (60 in quick mode): the share each node runs,
// the time the cluster takes to rebalance after a node joins, the failover time
// after kill -9 of a node (until every unit runs on a live node again), and the
// resident memory of each node. Baseline in the same run: one node running
// every mapping alone (its RSS; the per-node RSS ratio to it).
#include "bench/scenarios/harness.hpp"

#include <csignal>
#include <fstream>
#include <thread>

namespace syncforce::bench {

namespace {

/// Units no live node holds (mappings + the integration user; no writer: read-only mappings).
long unassigned(const std::string& db, int units) {
  return units - pg_count(db, "SELECT count(*) FROM syncforce.leases l JOIN syncforce.nodes n ON n.name = l.owner_node "
                              "WHERE n.expires_at > clock_timestamp()");
}

/// Balanced: every unit on a live node and the shares within one unit of each other.
bool balanced(const std::string& db, int units, int nodes) {
  if (unassigned(db, units) != 0)
    return false;
  auto owners = pg_count(db, "SELECT count(DISTINCT owner_node) FROM syncforce.leases");
  auto spread = pg_count(db, "SELECT coalesce(max(n) - min(n), 0) FROM (SELECT count(*) AS n FROM syncforce.leases "
                             "GROUP BY owner_node) s");
  return owners == nodes && spread <= 1;
}

json shares(const std::string& db) {
  json out = json::object();
  auto text = pg_scalar(db, "SELECT string_agg(owner_node || '=' || n, ',' ORDER BY owner_node) FROM "
                            "(SELECT owner_node, count(*) AS n FROM syncforce.leases GROUP BY 1) s")
                .value_or("");
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find(',', start);
    auto item = text.substr(start, end == std::string::npos ? std::string::npos : end - start);
    auto eq = item.find('=');
    if (eq != std::string::npos)
      out[item.substr(0, eq)] = std::stol(item.substr(eq + 1));
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  return out;
}

} // namespace

json scenario_cluster(context& ctx) {
  const int mappings = ctx.quick ? 60 : 300;
  const int units = mappings + 1;
  auto sfemu = start_sfemu(ctx, "sfemu_cluster");
  sfemu_api emu(ctx.sfemu_url);
  emu.reset();
  emu.define(idle_schema(mappings));
  scratch_db db(ctx.admin_url, ctx.next_db_name("cluster"));
  auto config = node_config(ctx.sfemu_url, idle_mappings(mappings));
  auto secret = ctx.work_dir + "/cluster.secret";
  std::ofstream(secret) << "bench-cluster-secret";
  std::map<std::string, std::string> env{{"SYNCFORCE_CLUSTER_SECRET_FILE", secret}};

  note("scenario 7: one node runs " + std::to_string(mappings) + " mappings");
  auto start = clock_type::now();
  std::vector<std::unique_ptr<node_run>> nodes;
  nodes.push_back(std::make_unique<node_run>(ctx, "cluster_a", db.url(), config, std::vector<std::string>{},
                                             std::nullopt, "node-a", env));
  bool synced = wait_until(
    [&] {
      return pg_count(db.url(), "SELECT count(*) FROM syncforce.mappings WHERE state = 'DATA_SYNCED'") == mappings;
    },
    std::chrono::minutes(15), 200ms);
  if (!synced)
    return json{{"not_run", "not every mapping reached DATA_SYNCED on one node (see " + ctx.log_path("cluster_a") + ")"}};
  double single_startup = seconds_since(start);
  std::this_thread::sleep_for(1s); // the last loads' work done before measuring
  long single_rss = nodes[0]->proc().status_kb("VmRSS");

  note("scenario 7: two more nodes join");
  auto join = clock_type::now();
  for (const char* n : {"node-b", "node-c"})
    nodes.push_back(std::make_unique<node_run>(ctx, std::string("cluster_") + n, db.url(), config,
                                               std::vector<std::string>{}, std::nullopt, n, env));
  bool spread = wait_until([&] { return balanced(db.url(), units, 3); }, std::chrono::minutes(5), 100ms);
  double rebalance_secs = seconds_since(join);
  json share = shares(db.url());
  std::this_thread::sleep_for(1s);
  json rss = json::object();
  for (std::size_t i = 0; i < nodes.size(); ++i)
    rss[std::string("node-") + static_cast<char>('a' + i)] = nodes[i]->proc().status_kb("VmRSS");

  note("scenario 7: kill -9 of node-b");
  auto killed = clock_type::now();
  nodes[1]->proc().signal(SIGKILL);
  bool recovered = wait_until([&] { return balanced(db.url(), units, 2); }, std::chrono::minutes(2), 100ms);
  double failover_secs = seconds_since(killed);
  json after = shares(db.url());
  for (auto& n : nodes)
    if (n->proc().running())
      n->stop();
  emu.reset();
  double per_node = 0;
  for (const auto& [name, kb] : rss.items())
    per_node += kb.get<double>();
  per_node /= static_cast<double>(rss.size());
  return json{{"mappings", mappings},
              {"units", units},
              {"single_node_startup_to_all_synced_secs", single_startup},
              {"single_node_rss_kb", single_rss},
              {"join_to_balanced_secs", spread ? json(rebalance_secs) : json("not balanced in 5 min")},
              {"shares_after_join", share},
              {"rss_kb_per_node", rss},
              {"rss_ratio_per_node_to_single", ratio(per_node, static_cast<double>(single_rss))},
              {"kill9_to_rebalanced_secs", recovered ? json(failover_secs) : json("not rebalanced in 2 min")},
              {"shares_after_kill9", after},
              {"lease_ttl_ms", 10000},
              {"heartbeat_interval_ms", 2000}};
}

} // namespace syncforce::bench

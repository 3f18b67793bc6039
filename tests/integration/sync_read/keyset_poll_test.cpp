// Keyset polls (docs/sync-read.md): with 20,500 records sharing one
// SystemModstamp, an idle poll costs one API call (the count) and reads zero
// rows; a changed record arrives alone; a mark stored without its Id (before
// keyset polls) re-reads the tie once, through Bulk, and then is keyset again.
// Real syncforced, real sfemu, real PostgreSQL.

#include "sync/poll_plan.hpp"
#include "tests/integration/sync_read/sync_read_fixture.hpp"

#include <regex>

using namespace syncforce;
using namespace syncforce::testing;

namespace {

struct poll_line {
  long read = -1;
  long api_calls = -1;
  std::string changed;
};

/// Every `Polling Salesforce found N updated records` line of the log so far.
std::vector<poll_line> poll_lines(const std::string& output) {
  std::vector<poll_line> out;
  static const std::regex line_re("event=\"Polling Salesforce found (\\d+) updated records\"[^\\n]*");
  static const std::regex read_re(" read=(\\d+)");
  static const std::regex calls_re(" api_calls=(\\d+)");
  for (auto it = std::sregex_iterator(output.begin(), output.end(), line_re); it != std::sregex_iterator(); ++it) {
    poll_line p;
    p.changed = (*it)[1].str();
    auto text = (*it)[0].str();
    std::smatch m;
    if (std::regex_search(text, m, read_re))
      p.read = std::stol(m[1].str());
    if (std::regex_search(text, m, calls_re))
      p.api_calls = std::stol(m[1].str());
    out.push_back(p);
  }
  return out;
}

constexpr int tied = 20500;
constexpr const char* tie_stamp = "2024-04-01T00:00:00.000Z";

} // namespace

struct keyset_poll : sync_read {
  void load_tie() {
    // One request per 5,000 records keeps the control API's bodies small.
    for (int chunk = 0; chunk < tied; chunk += 5000) {
      json records = json::array();
      for (int i = chunk; i < std::min(tied, chunk + 5000); ++i)
        records.push_back({{"Name", "K" + std::to_string(i)}, {"Ext_Id__c", "K-" + std::to_string(i)},
                           {"SystemModstamp", tie_stamp}});
      ASSERT_EQ(load_records(*sf, *emu, "Every__c", records).size(), records.size());
    }
  }

  long rows() { return count_of(db->url(), "SELECT count(*) FROM salesforce.every__c"); }

  /// The largest sfid in SOQL's order (18-character ids compare ignoring case).
  std::string max_id() {
    pqxx::connection c(db->url());
    pqxx::nontransaction tx(c);
    std::string best;
    for (const auto& r : tx.exec("SELECT sfid FROM salesforce.every__c")) {
      auto id = r[0].as<std::string>();
      if (best.empty() || compare_ids(id, best) > 0)
        best = id;
    }
    return best;
  }

  /// Waits until `n` more poll lines than `seen` were logged.
  bool wait_polls(std::size_t seen, std::size_t n) {
    return wait_until([&] { return poll_lines(node->output()).size() >= seen + n; }, 30s, 50ms);
  }
};

TEST_F(keyset_poll, an_idle_poll_costs_one_call_and_reads_nothing_whatever_the_tie) {
  load_tie();
  write_config(every_mapping());
  start_node(10000, {"--log-level", "debug"});
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED", 60s)) << node->output().substr(0, 4000);
  ASSERT_EQ(rows(), tied);
  EXPECT_NE(node->output().find("Loading table every__c via BULK"), std::string::npos);
  // The load's mark carries the largest Id at the tie's stamp.
  auto mark_id = mapping_field("Every__c", "high_water_id");
  ASSERT_TRUE(mark_id);
  EXPECT_EQ(*mark_id, max_id());

  // Several idle polls: each one API call (the count with the keyset predicate), no row read.
  auto seen = poll_lines(node->output()).size();
  control("POST", "counters/reset");
  ASSERT_TRUE(wait_polls(seen, 4)) << node->output().substr(node->output().size() - 3000);
  auto counters = control("GET", "counters");
  auto polls = poll_lines(node->output());
  for (std::size_t i = seen; i < polls.size(); ++i) {
    EXPECT_EQ(polls[i].read, 0) << "poll " << i;
    EXPECT_EQ(polls[i].api_calls, 1) << "poll " << i;
  }
  ASSERT_TRUE(counters.is_object()) << counters;
  const auto& routes = counters["by_route"];
  EXPECT_GE(routes.value("queryAll", 0), 3) << counters;
  EXPECT_EQ(routes.value("query", 0), 0) << "no query beyond the count: " << counters;
  for (const auto& [route, n] : routes.items())
    EXPECT_EQ(route, "queryAll") << "only counts were sent: " << counters;
  EXPECT_EQ(node->output().find("via BULK ("), std::string::npos) << "no Bulk poll";

  // One record changes: exactly it arrives, then polls are idle again.
  auto one = scalar(db->url(), "SELECT sfid FROM salesforce.every__c WHERE name = 'K777'");
  ASSERT_TRUE(one);
  auto upd = sf->update("Every__c", {json{{"Id", *one}, {"Text__c", "changed"}}});
  ASSERT_TRUE(upd) << upd.error().describe();
  ASSERT_TRUE(wait_until(
    [&] { return scalar(db->url(), "SELECT text__c FROM salesforce.every__c WHERE sfid = '" + *one + "'") ==
                 "changed"; },
    20s));
  ASSERT_TRUE(wait_until(
    [&] {
      auto lines = poll_lines(node->output());
      return std::any_of(lines.begin(), lines.end(), [](const poll_line& p) { return p.changed == "1"; });
    },
    10s));
  auto lines = poll_lines(node->output());
  auto changed = std::find_if(lines.begin(), lines.end(), [](const poll_line& p) { return p.changed == "1"; });
  EXPECT_EQ(changed->read, 1) << "only the changed record is read";
  EXPECT_EQ(changed->api_calls, 2) << "the count and one query page";
  // While the changed record's stamp settles (two seconds in tests, a minute in
  // production) it is read again with `>=`; then polls are idle again.
  seen = static_cast<std::size_t>(changed - lines.begin()) + 1;
  ASSERT_TRUE(wait_until(
    [&] {
      auto now = poll_lines(node->output());
      for (std::size_t i = seen; i < now.size(); ++i)
        if (now[i].read == 0) {
          seen = i + 1;
          return true;
        }
      return false;
    },
    20s));
  ASSERT_TRUE(wait_polls(seen, 2));
  lines = poll_lines(node->output());
  for (std::size_t i = seen; i < lines.size(); ++i)
    EXPECT_EQ(lines[i].read, 0) << "poll " << i << " after the mark settled";
  EXPECT_EQ(rows(), tied);
  stop_node();
}

TEST_F(keyset_poll, a_mark_without_id_reads_the_tie_once_through_bulk_then_polls_by_keyset) {
  load_tie();
  write_config(every_mapping());
  start_node(10000, {"--log-level", "debug", "--bulk-page-size", "5000"});
  ASSERT_TRUE(wait_state("Every__c", "DATA_SYNCED", 60s)) << node->output().substr(0, 4000);
  stop_node();

  // A database from before keyset polls: the mark has no Id.
  {
    pqxx::connection c(db->url());
    pqxx::work tx(c);
    tx.exec0("UPDATE syncforce.mappings SET high_water_id = NULL");
    tx.commit();
  }
  start_node(10000, {"--log-level", "debug", "--bulk-page-size", "5000"});
  // The first poll counts the whole tie (>= the mark) and reads it through Bulk, once.
  ASSERT_TRUE(node->wait_for_output("via BULK (" + std::to_string(tied) + " changes)", 60s))
    << node->output().substr(0, 4000);
  ASSERT_TRUE(wait_until([&] { return poll_lines(node->output()).size() >= 3; }, 60s));
  auto lines = poll_lines(node->output());
  EXPECT_EQ(lines[0].read, tied);
  EXPECT_EQ(lines[0].changed, "0") << "nothing changed, only re-read";
  for (std::size_t i = 1; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].read, 0) << "poll " << i;
    EXPECT_EQ(lines[i].api_calls, 1) << "poll " << i;
  }
  // The Bulk job moved the mark to the largest (stamp, Id) it read.
  EXPECT_EQ(mapping_field("Every__c", "high_water_id"), max_id());
  EXPECT_EQ(rows(), tied);
  stop_node();
}

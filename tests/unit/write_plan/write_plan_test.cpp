#include "sync/write_plan.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

using namespace syncforce;

namespace {

// ---------------------------------------------------------------------------
// helpers
// ---------------------------------------------------------------------------

using kv = std::pair<std::string, std::optional<std::string>>;

hstore hs(std::initializer_list<kv> pairs) {
  hstore h;
  for (const auto& [k, v] : pairs)
    h.set(k, v);
  return h;
}

write_entry ins(std::int64_t id, std::string table, std::optional<std::int64_t> rid, hstore values) {
  write_entry e;
  e.id = id;
  e.action = write_action::insert;
  e.table_name = std::move(table);
  e.record_id = rid;
  e.values = std::move(values);
  return e;
}

write_entry upd(std::int64_t id, std::string table, std::optional<std::int64_t> rid, std::optional<std::string> sfid,
                hstore values, std::optional<hstore> old = std::nullopt) {
  write_entry e;
  e.id = id;
  e.action = write_action::update;
  e.table_name = std::move(table);
  e.record_id = rid;
  e.sfid = std::move(sfid);
  e.values = std::move(values);
  e.old = std::move(old);
  return e;
}

write_entry del(std::int64_t id, std::string table, std::optional<std::int64_t> rid, std::optional<std::string> sfid) {
  write_entry e;
  e.id = id;
  e.action = write_action::remove;
  e.table_name = std::move(table);
  e.record_id = rid;
  e.sfid = sfid;
  hstore old;
  if (rid)
    old.set("id", std::to_string(*rid));
  old.set("sfid", sfid);
  e.old = old;
  return e;
}

std::string sfid_of(std::int64_t n) {
  return "003" + std::to_string(1000000 + n);
}

/// contact: read_write with upsert column ext__c; account: read_write without
/// one; lead: read_only.
table_write_configs tables() {
  table_write_configs t;
  t["contact"] = table_write_config{true, std::string("ext__c")};
  t["account"] = table_write_config{true, std::nullopt};
  t["lead"] = table_write_config{false, std::string("ext__c")};
  return t;
}

write_plan_settings ordered() {
  write_plan_settings s;
  s.mode = write_mode::ordered;
  s.api_version = 57.0;
  return s;
}

write_plan_settings merged() {
  write_plan_settings s;
  s.mode = write_mode::merged;
  s.api_version = 57.0;
  return s;
}

std::vector<std::int64_t> owners(const write_batch& b) {
  std::vector<std::int64_t> out;
  for (const auto& i : b.items)
    out.push_back(i.entry_id);
  return out;
}

std::vector<std::size_t> sizes(const write_plan& p) {
  std::vector<std::size_t> out;
  for (const auto& b : p.batches)
    out.push_back(b.items.size());
  return out;
}

const skipped_entry* find_skipped(const write_plan& p, std::int64_t id) {
  for (const auto& s : p.skipped)
    if (s.entry_id == id)
      return &s;
  return nullptr;
}

/// `n` contact inserts with external ids, entry ids from `first_id`.
std::vector<write_entry> contact_inserts(std::int64_t n, std::int64_t first_id = 1) {
  std::vector<write_entry> out;
  for (std::int64_t i = 0; i < n; ++i)
    out.push_back(ins(
        first_id + i, "contact", first_id + i,
        hs({{"id", std::to_string(first_id + i)}, {"ext__c", "X" + std::to_string(first_id + i)}, {"lastname", "L"}})));
  return out;
}

/// `n` contact updates of synced records, the external id in `old`.
std::vector<write_entry> contact_updates(std::int64_t n) {
  std::vector<write_entry> out;
  for (std::int64_t i = 1; i <= n; ++i)
    out.push_back(upd(i, "contact", i, sfid_of(i), hs({{"lastname", "N" + std::to_string(i)}}),
                      hs({{"id", std::to_string(i)}, {"ext__c", "X" + std::to_string(i)}, {"lastname", "L"}})));
  return out;
}

std::vector<write_entry> contact_deletes(std::int64_t n) {
  std::vector<write_entry> out;
  for (std::int64_t i = 1; i <= n; ++i)
    out.push_back(del(i, "contact", i, sfid_of(i)));
  return out;
}

} // namespace

// ---------------------------------------------------------------------------
// names
// ---------------------------------------------------------------------------

TEST(write_plan_names, actions_parse_in_any_case) {
  EXPECT_EQ(parse_write_action("INSERT"), write_action::insert);
  EXPECT_EQ(parse_write_action("update"), write_action::update);
  EXPECT_EQ(parse_write_action("Delete"), write_action::remove);
  EXPECT_EQ(parse_write_action("TRUNCATE"), std::nullopt);
  EXPECT_EQ(to_string(write_action::remove), "DELETE");
  EXPECT_EQ(to_string(write_operation::upsert), "upsert");
  EXPECT_EQ(to_string(write_transport::bulk), "bulk");
  EXPECT_EQ(outcome_of(skip_reason::merged), "MERGED");
  EXPECT_EQ(outcome_of(skip_reason::no_changes), "IGNORED");
  EXPECT_EQ(outcome_of(skip_reason::not_writable), "IGNORED");
}

TEST(write_plan_names, default_system_columns) {
  std::set<std::string> want{"id",          "sfid",      "_hc_lastop",      "_hc_err", "systemmodstamp",
                             "createddate", "isdeleted", "lastmodifieddate"};
  EXPECT_EQ(default_system_columns(), want);
  EXPECT_EQ(write_plan_settings{}.system_columns, want);
}

// ---------------------------------------------------------------------------
// common rules (both modes)
// ---------------------------------------------------------------------------

class write_plan_both : public ::testing::TestWithParam<write_mode> {
protected:
  write_plan_settings settings() const {
    auto s = GetParam() == write_mode::ordered ? ordered() : merged();
    return s;
  }
};

TEST_P(write_plan_both, empty_input_gives_empty_plan) {
  auto p = plan_writes({}, tables(), settings());
  EXPECT_TRUE(p.batches.empty());
  EXPECT_TRUE(p.skipped.empty());
}

TEST_P(write_plan_both, system_columns_are_never_sent) {
  auto p = plan_writes({ins(1, "account", 7,
                            hs({{"id", "7"},
                                {"sfid", std::nullopt},
                                {"_hc_lastop", "PENDING"},
                                {"_hc_err", std::nullopt},
                                {"systemmodstamp", "2024-01-01"},
                                {"createddate", "2024-01-01"},
                                {"isdeleted", "f"},
                                {"lastmodifieddate", "2024-01-01"},
                                {"name", "Acme"}}))},
                       tables(), settings());
  ASSERT_EQ(p.batches.size(), 1u);
  ASSERT_EQ(p.batches[0].items.size(), 1u);
  EXPECT_EQ(p.batches[0].items[0].values, hs({{"name", "Acme"}}));
  EXPECT_EQ(p.batches[0].items[0].record_id, 7);
}

TEST_P(write_plan_both, system_column_set_is_a_parameter) {
  auto s = settings();
  s.system_columns = {"id", "secret__c"};
  auto p = plan_writes({ins(1, "account", 7, hs({{"id", "7"}, {"secret__c", "x"}, {"isdeleted", "f"}}))}, tables(), s);
  ASSERT_EQ(p.batches.size(), 1u);
  EXPECT_EQ(p.batches[0].items[0].values, hs({{"isdeleted", "f"}}));
}

TEST_P(write_plan_both, update_of_system_columns_only_is_ignored) {
  auto p = plan_writes({upd(1, "account", 7, "001A", hs({{"systemmodstamp", "x"}, {"_hc_lastop", "SYNCED"}})),
                        upd(2, "account", 8, "001B", hs({}))},
                       tables(), settings());
  EXPECT_TRUE(p.batches.empty());
  ASSERT_EQ(p.skipped.size(), 2u);
  EXPECT_EQ(p.skipped[0].entry_id, 1);
  EXPECT_EQ(p.skipped[0].reason, skip_reason::no_changes);
  EXPECT_EQ(p.skipped[1].entry_id, 2);
  EXPECT_EQ(p.skipped[1].reason, skip_reason::no_changes);
}

TEST_P(write_plan_both, entries_of_read_only_or_unknown_tables_are_ignored) {
  auto p = plan_writes({ins(1, "lead", 1, hs({{"name", "x"}})), ins(2, "nosuch", 1, hs({{"name", "x"}}))}, tables(),
                       settings());
  EXPECT_TRUE(p.batches.empty());
  ASSERT_EQ(p.skipped.size(), 2u);
  EXPECT_EQ(p.skipped[0].reason, skip_reason::not_writable);
  EXPECT_EQ(p.skipped[1].reason, skip_reason::not_writable);
}

TEST_P(write_plan_both, null_values_are_kept_as_null) {
  auto p =
      plan_writes({upd(1, "account", 7, "001A", hs({{"name", std::nullopt}, {"phone", "1"}}))}, tables(), settings());
  ASSERT_EQ(p.batches.size(), 1u);
  const auto& item = p.batches[0].items[0];
  ASSERT_NE(item.values.find("name"), nullptr);
  EXPECT_EQ(item.values.find("name")->value, std::nullopt);
  EXPECT_EQ(item.values.get("phone"), "1");
  EXPECT_EQ(item.changed_columns, (std::vector<std::string>{"name", "phone"}));
  EXPECT_EQ(item.sfid, "001A");
  EXPECT_EQ(p.batches[0].operation, write_operation::update);
}

TEST_P(write_plan_both, insert_with_external_id_is_an_upsert_else_a_create) {
  auto p = plan_writes({ins(1, "contact", 1, hs({{"ext__c", "X1"}, {"lastname", "a"}})),
                        ins(2, "contact", 2, hs({{"ext__c", std::nullopt}, {"lastname", "b"}})),
                        ins(3, "account", 3, hs({{"ext__c", "X3"}, {"name", "c"}}))},
                       tables(), settings());
  ASSERT_EQ(p.batches.size(), 3u);
  EXPECT_EQ(p.batches[0].operation, write_operation::upsert);
  EXPECT_EQ(p.batches[0].upsert_column, "ext__c");
  EXPECT_EQ(p.batches[0].items[0].external_id, "X1");
  EXPECT_EQ(p.batches[0].items[0].values.get("ext__c"), "X1");
  EXPECT_EQ(p.batches[1].operation, write_operation::create);
  EXPECT_EQ(p.batches[1].upsert_column, std::nullopt);
  EXPECT_EQ(p.batches[1].items[0].entry_id, 2);
  EXPECT_EQ(p.batches[2].operation, write_operation::create);
  EXPECT_EQ(p.batches[2].table, "account");
}

TEST_P(write_plan_both, update_without_sfid_stays_an_update_to_resolve) {
  auto p = plan_writes({upd(1, "account", 9, std::nullopt, hs({{"name", "n"}}))}, tables(), settings());
  ASSERT_EQ(p.batches.size(), 1u);
  EXPECT_EQ(p.batches[0].operation, write_operation::update);
  EXPECT_EQ(p.batches[0].items[0].sfid, std::nullopt);
  EXPECT_EQ(p.batches[0].items[0].record_id, 9);
}

TEST_P(write_plan_both, update_with_neither_record_id_nor_sfid_is_ignored) {
  auto p = plan_writes({upd(1, "account", std::nullopt, std::nullopt, hs({{"name", "n"}}))}, tables(), settings());
  EXPECT_TRUE(p.batches.empty());
  ASSERT_EQ(p.skipped.size(), 1u);
  EXPECT_EQ(p.skipped[0].reason, skip_reason::no_record);
}

TEST_P(write_plan_both, delete_of_a_record_never_synced_is_ignored) {
  auto p = plan_writes({del(1, "account", 9, std::nullopt)}, tables(), settings());
  EXPECT_TRUE(p.batches.empty());
  ASSERT_EQ(p.skipped.size(), 1u);
  EXPECT_EQ(p.skipped[0].reason, skip_reason::no_sfid);
}

TEST_P(write_plan_both, delete_goes_by_sfid) {
  auto p = plan_writes({del(1, "account", 9, "001X")}, tables(), settings());
  ASSERT_EQ(p.batches.size(), 1u);
  EXPECT_EQ(p.batches[0].operation, write_operation::remove);
  EXPECT_EQ(p.batches[0].items[0].sfid, "001X");
  EXPECT_TRUE(p.batches[0].items[0].values.empty());
}

TEST_P(write_plan_both, delete_takes_the_sfid_from_old_when_the_column_is_empty) {
  auto e = del(1, "account", 9, std::nullopt);
  e.old->set("sfid", std::string("001Y"));
  auto p = plan_writes({e}, tables(), settings());
  ASSERT_EQ(p.batches.size(), 1u);
  EXPECT_EQ(p.batches[0].items[0].sfid, "001Y");
}

INSTANTIATE_TEST_SUITE_P(modes, write_plan_both, ::testing::Values(write_mode::ordered, write_mode::merged),
                         [](const auto& info) {
                           return std::string(info.param == write_mode::ordered ? "ordered" : "merged");
                         });

// ---------------------------------------------------------------------------
// ordered mode: runs
// ---------------------------------------------------------------------------

TEST(write_plan_ordered, run_splits_at_collection_size) {
  std::vector<write_entry> es;
  for (std::int64_t i = 1; i <= 450; ++i)
    es.push_back(ins(i, "account", i, hs({{"name", "n"}})));
  auto p = plan_writes(es, tables(), ordered());
  EXPECT_EQ(sizes(p), (std::vector<std::size_t>{200, 200, 50}));
  std::int64_t next = 1;
  for (const auto& b : p.batches) {
    EXPECT_EQ(b.transport, write_transport::collection);
    EXPECT_EQ(b.operation, write_operation::create);
    for (const auto& i : b.items)
      EXPECT_EQ(i.entry_id, next++);
  }
}

TEST(write_plan_ordered, collection_size_is_a_setting) {
  auto s = ordered();
  s.collection_size = 3;
  std::vector<write_entry> es;
  for (std::int64_t i = 1; i <= 7; ++i)
    es.push_back(ins(i, "account", i, hs({{"name", "n"}})));
  EXPECT_EQ(sizes(plan_writes(es, tables(), s)), (std::vector<std::size_t>{3, 3, 1}));
}

TEST(write_plan_ordered, run_breaks_at_table_change) {
  auto p = plan_writes({ins(1, "account", 1, hs({{"name", "a"}})), ins(2, "account", 2, hs({{"name", "b"}})),
                        ins(3, "contact", 1, hs({{"lastname", "c"}})), ins(4, "account", 3, hs({{"name", "d"}}))},
                       tables(), ordered());
  ASSERT_EQ(p.batches.size(), 3u);
  EXPECT_EQ(owners(p.batches[0]), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(p.batches[1].table, "contact");
  EXPECT_EQ(owners(p.batches[1]), (std::vector<std::int64_t>{3}));
  EXPECT_EQ(owners(p.batches[2]), (std::vector<std::int64_t>{4}));
}

TEST(write_plan_ordered, run_breaks_at_action_change) {
  auto p = plan_writes({ins(1, "account", 1, hs({{"name", "a"}})), upd(2, "account", 5, "001E", hs({{"name", "b"}})),
                        upd(3, "account", 6, "001F", hs({{"name", "c"}})), del(4, "account", 7, "001G"),
                        ins(5, "account", 2, hs({{"name", "d"}}))},
                       tables(), ordered());
  ASSERT_EQ(p.batches.size(), 4u);
  EXPECT_EQ(p.batches[0].operation, write_operation::create);
  EXPECT_EQ(p.batches[0].action, write_action::insert);
  EXPECT_EQ(p.batches[1].operation, write_operation::update);
  EXPECT_EQ(p.batches[1].action, write_action::update);
  EXPECT_EQ(p.batches[2].action, write_action::remove);
  EXPECT_EQ(owners(p.batches[1]), (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(p.batches[2].operation, write_operation::remove);
  EXPECT_EQ(p.batches[3].operation, write_operation::create);
  EXPECT_EQ(owners(p.batches[3]), (std::vector<std::int64_t>{5}));
}

TEST(write_plan_ordered, skipped_entries_do_not_break_a_run) {
  auto p = plan_writes({ins(1, "account", 1, hs({{"name", "a"}})), upd(2, "contact", 5, "003E", hs({{"id", "5"}})),
                        ins(3, "lead", 1, hs({{"name", "x"}})), ins(4, "account", 2, hs({{"name", "b"}}))},
                       tables(), ordered());
  ASSERT_EQ(p.batches.size(), 1u);
  EXPECT_EQ(owners(p.batches[0]), (std::vector<std::int64_t>{1, 4}));
  EXPECT_EQ(p.skipped.size(), 2u);
}

TEST(write_plan_ordered, every_change_is_kept_no_merging) {
  auto p =
      plan_writes({ins(1, "account", 1, hs({{"name", "a"}})), upd(2, "account", 1, std::nullopt, hs({{"name", "b"}})),
                   upd(3, "account", 1, std::nullopt, hs({{"name", "c"}}))},
                  tables(), ordered());
  ASSERT_EQ(p.batches.size(), 3u); // the two updates of one record cannot share a batch
  EXPECT_EQ(owners(p.batches[1]), (std::vector<std::int64_t>{2}));
  EXPECT_EQ(owners(p.batches[2]), (std::vector<std::int64_t>{3}));
  for (const auto& b : p.batches)
    EXPECT_TRUE(b.items[0].merged_ids.empty());
  EXPECT_TRUE(p.skipped.empty());
}

TEST(write_plan_ordered, same_record_twice_splits_the_batch) {
  auto p = plan_writes(
      {upd(1, "account", 1, "001A", hs({{"name", "a"}})), upd(2, "account", 2, "001B", hs({{"name", "b"}})),
       upd(3, "account", 1, "001A", hs({{"name", "c"}})), upd(4, "account", 3, "001C", hs({{"name", "d"}}))},
      tables(), ordered());
  ASSERT_EQ(p.batches.size(), 2u);
  EXPECT_EQ(owners(p.batches[0]), (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(owners(p.batches[1]), (std::vector<std::int64_t>{3, 4}));
}

TEST(write_plan_ordered, same_sfid_under_another_key_splits_the_batch) {
  // An entry of hc_capture_update_from_row (no record_id) and a normal one.
  auto p = plan_writes(
      {upd(1, "account", std::nullopt, "001A", hs({{"name", "a"}})), upd(2, "account", 1, "001A", hs({{"name", "b"}}))},
      tables(), ordered());
  EXPECT_EQ(sizes(p), (std::vector<std::size_t>{1, 1}));
}

TEST(write_plan_ordered, same_external_id_splits_an_upsert_batch) {
  auto p = plan_writes({ins(1, "contact", 1, hs({{"ext__c", "X"}})), ins(2, "contact", 2, hs({{"ext__c", "X"}}))},
                       tables(), ordered());
  EXPECT_EQ(sizes(p), (std::vector<std::size_t>{1, 1}));
}

TEST(write_plan_ordered, delete_after_insert_in_the_same_plan_resolves_later) {
  auto p =
      plan_writes({ins(1, "account", 4, hs({{"name", "a"}})), del(2, "account", 4, std::nullopt)}, tables(), ordered());
  ASSERT_EQ(p.batches.size(), 2u);
  EXPECT_EQ(p.batches[1].operation, write_operation::remove);
  EXPECT_EQ(p.batches[1].items[0].sfid, std::nullopt);
  EXPECT_EQ(p.batches[1].items[0].record_id, 4);
  EXPECT_TRUE(p.skipped.empty());
}

// ---------------------------------------------------------------------------
// ordered mode: bulk eligibility
// ---------------------------------------------------------------------------

TEST(write_plan_ordered, long_insert_run_with_upsert_column_goes_bulk) {
  auto p = plan_writes(contact_inserts(2000), tables(), ordered());
  ASSERT_EQ(p.batches.size(), 1u);
  EXPECT_EQ(p.batches[0].transport, write_transport::bulk);
  EXPECT_EQ(p.batches[0].operation, write_operation::upsert);
  EXPECT_EQ(p.batches[0].upsert_column, "ext__c");
  EXPECT_EQ(p.batches[0].items.size(), 2000u);
  EXPECT_EQ(p.batches[0].items.front().entry_id, 1);
  EXPECT_EQ(p.batches[0].items.back().entry_id, 2000);
}

TEST(write_plan_ordered, run_below_threshold_uses_collections) {
  auto p = plan_writes(contact_inserts(1999), tables(), ordered());
  ASSERT_EQ(p.batches.size(), 10u);
  for (const auto& b : p.batches)
    EXPECT_EQ(b.transport, write_transport::collection);
}

TEST(write_plan_ordered, bulk_needs_api_version_39) {
  auto s = ordered();
  s.api_version = 38.0;
  auto p = plan_writes(contact_inserts(2000), tables(), s);
  EXPECT_EQ(p.batches.size(), 10u);
  EXPECT_EQ(p.batches[0].transport, write_transport::collection);
  s.api_version = 39.0;
  p = plan_writes(contact_inserts(2000), tables(), s);
  ASSERT_EQ(p.batches.size(), 1u);
  EXPECT_EQ(p.batches[0].transport, write_transport::bulk);
}

TEST(write_plan_ordered, bulk_needs_bulk_writes_enabled) {
  auto s = ordered();
  s.disable_bulk_writes = true;
  auto p = plan_writes(contact_inserts(2000), tables(), s);
  EXPECT_EQ(p.batches.size(), 10u);
  EXPECT_EQ(p.batches[0].transport, write_transport::collection);
}

TEST(write_plan_ordered, bulk_needs_an_upsert_column) {
  std::vector<write_entry> es;
  for (std::int64_t i = 1; i <= 2000; ++i)
    es.push_back(ins(i, "account", i, hs({{"name", "n"}})));
  auto p = plan_writes(es, tables(), ordered());
  EXPECT_EQ(p.batches.size(), 10u);
  for (const auto& b : p.batches) {
    EXPECT_EQ(b.transport, write_transport::collection);
    EXPECT_EQ(b.operation, write_operation::create);
  }
}

TEST(write_plan_ordered, bulk_threshold_is_a_setting) {
  auto s = ordered();
  s.bulk_threshold = 5;
  EXPECT_EQ(plan_writes(contact_inserts(5), tables(), s).batches.at(0).transport, write_transport::bulk);
  EXPECT_EQ(plan_writes(contact_inserts(4), tables(), s).batches.at(0).transport, write_transport::collection);
}

TEST(write_plan_ordered, merged_mode_never_goes_bulk) {
  auto p = plan_writes(contact_inserts(2500), tables(), merged());
  EXPECT_EQ(p.batches.size(), 13u);
  for (const auto& b : p.batches)
    EXPECT_EQ(b.transport, write_transport::collection);
}

TEST(write_plan_ordered, bulk_update_is_sent_as_upsert_with_the_external_id) {
  auto p = plan_writes(contact_updates(2000), tables(), ordered());
  ASSERT_EQ(p.batches.size(), 1u);
  const auto& b = p.batches[0];
  EXPECT_EQ(b.transport, write_transport::bulk);
  EXPECT_EQ(b.operation, write_operation::upsert);
  EXPECT_EQ(b.action, write_action::update);
  EXPECT_EQ(b.upsert_column, "ext__c");
  EXPECT_EQ(b.items[41].external_id, "X42");
  EXPECT_EQ(b.items[41].values, hs({{"lastname", "N42"}, {"ext__c", "X42"}}));
  EXPECT_EQ(b.items[41].changed_columns, (std::vector<std::string>{"lastname"}));
  EXPECT_EQ(b.items[41].sfid, sfid_of(42));
}

TEST(write_plan_ordered, bulk_update_needs_every_external_id) {
  auto es = contact_updates(2000);
  es[700].old->set("ext__c", std::nullopt);
  auto p = plan_writes(es, tables(), ordered());
  EXPECT_EQ(p.batches.size(), 10u);
  for (const auto& b : p.batches) {
    EXPECT_EQ(b.transport, write_transport::collection);
    EXPECT_EQ(b.operation, write_operation::update);
    EXPECT_EQ(b.items[0].values.find("ext__c"), nullptr);
  }
}

TEST(write_plan_ordered, bulk_update_refuses_a_changed_external_id) {
  auto es = contact_updates(2000);
  es[5].values.set("ext__c", std::string("NEW"));
  auto p = plan_writes(es, tables(), ordered());
  EXPECT_EQ(p.batches.size(), 10u);
  EXPECT_EQ(p.batches[0].transport, write_transport::collection);
}

TEST(write_plan_ordered, bulk_update_accepts_an_unchanged_external_id_in_values) {
  auto es = contact_updates(2000);
  es[5].values.set("ext__c", std::string("X6")); // same as old
  es[6].old.reset();                             // hc_capture_update_from_row: the row's value
  es[6].values.set("ext__c", std::string("X7"));
  auto p = plan_writes(es, tables(), ordered());
  ASSERT_EQ(p.batches.size(), 1u);
  EXPECT_EQ(p.batches[0].transport, write_transport::bulk);
  EXPECT_EQ(p.batches[0].items[6].external_id, "X7");
}

TEST(write_plan_ordered, bulk_delete_by_sfid) {
  auto p = plan_writes(contact_deletes(2000), tables(), ordered());
  ASSERT_EQ(p.batches.size(), 1u);
  EXPECT_EQ(p.batches[0].transport, write_transport::bulk);
  EXPECT_EQ(p.batches[0].operation, write_operation::remove);
  EXPECT_EQ(p.batches[0].upsert_column, std::nullopt);
  EXPECT_EQ(p.batches[0].items[9].sfid, sfid_of(10));
}

TEST(write_plan_ordered, bulk_delete_needs_an_upsert_column_too) {
  std::vector<write_entry> es;
  for (std::int64_t i = 1; i <= 2000; ++i)
    es.push_back(del(i, "account", i, sfid_of(i)));
  auto p = plan_writes(es, tables(), ordered());
  EXPECT_EQ(p.batches.size(), 10u);
  EXPECT_EQ(p.batches[0].transport, write_transport::collection);
}

TEST(write_plan_ordered, bulk_delete_needs_every_sfid) {
  std::vector<write_entry> es = contact_inserts(1, 1);
  for (std::int64_t i = 2; i <= 2001; ++i)
    es.push_back(del(i, "contact", i - 1, i == 2 ? std::nullopt : std::optional<std::string>(sfid_of(i))));
  auto p = plan_writes(es, tables(), ordered());
  ASSERT_EQ(p.batches.size(), 11u); // the insert, then 2000 deletes by collection
  EXPECT_EQ(p.batches[1].operation, write_operation::remove);
  EXPECT_EQ(p.batches[1].transport, write_transport::collection);
  EXPECT_EQ(p.batches[1].items[0].sfid, std::nullopt);
}

TEST(write_plan_ordered, bulk_job_size_is_capped) {
  auto s = ordered();
  s.bulk_batch_size = 2500;
  auto p = plan_writes(contact_inserts(7000), tables(), s);
  EXPECT_EQ(sizes(p), (std::vector<std::size_t>{2500, 2500, 2000}));
  for (const auto& b : p.batches)
    EXPECT_EQ(b.transport, write_transport::bulk);
}

TEST(write_plan_ordered, bulk_remainder_below_threshold_uses_collections) {
  auto s = ordered();
  s.bulk_batch_size = 2500;
  auto p = plan_writes(contact_inserts(5300), tables(), s);
  EXPECT_EQ(sizes(p), (std::vector<std::size_t>{2500, 2500, 200, 100}));
  EXPECT_EQ(p.batches[2].transport, write_transport::collection);
  EXPECT_EQ(p.batches[2].operation, write_operation::upsert);
  EXPECT_EQ(p.batches[3].items.back().entry_id, 5300);
}

TEST(write_plan_ordered, duplicate_record_splits_a_bulk_job) {
  auto es = contact_deletes(4000);
  es[2000].sfid = sfid_of(1); // the same record as the first entry
  es[2000].record_id = 1;
  auto p = plan_writes(es, tables(), ordered());
  EXPECT_EQ(sizes(p), (std::vector<std::size_t>{2000, 2000}));
  EXPECT_EQ(p.batches[0].transport, write_transport::bulk);
  EXPECT_EQ(p.batches[1].transport, write_transport::bulk);
  EXPECT_EQ(p.batches[1].items[0].entry_id, 2001);
}

TEST(write_plan_ordered, duplicate_split_pieces_below_threshold_use_collections) {
  auto es = contact_updates(2100);
  es[1000].record_id = 1;
  es[1000].sfid = sfid_of(1);
  auto p = plan_writes(es, tables(), ordered());
  // pieces of 1000 and 1100 records: both below the threshold
  EXPECT_EQ(p.batches.size(), 5u + 6u);
  for (const auto& b : p.batches) {
    EXPECT_EQ(b.transport, write_transport::collection);
    EXPECT_EQ(b.operation, write_operation::update);
  }
}

TEST(write_plan_ordered, insert_run_mixing_upsert_and_create_splits) {
  auto p = plan_writes({ins(1, "contact", 1, hs({{"ext__c", "A"}})), ins(2, "contact", 2, hs({{"lastname", "b"}})),
                        ins(3, "contact", 3, hs({{"ext__c", "C"}}))},
                       tables(), ordered());
  ASSERT_EQ(p.batches.size(), 3u);
  EXPECT_EQ(p.batches[0].operation, write_operation::upsert);
  EXPECT_EQ(p.batches[1].operation, write_operation::create);
  EXPECT_EQ(p.batches[2].operation, write_operation::upsert);
}

// ---------------------------------------------------------------------------
// merged mode: folds
// ---------------------------------------------------------------------------

TEST(write_plan_merged, insert_and_updates_become_one_insert) {
  auto p = plan_writes({ins(1, "account", 5, hs({{"id", "5"}, {"name", "a"}, {"phone", "1"}})),
                        upd(2, "account", 5, std::nullopt, hs({{"name", "b"}}), hs({{"name", "a"}})),
                        upd(3, "account", 5, std::nullopt, hs({{"phone", std::nullopt}, {"fax", "9"}}))},
                       tables(), merged());
  ASSERT_EQ(p.batches.size(), 1u);
  EXPECT_EQ(p.batches[0].operation, write_operation::create);
  ASSERT_EQ(p.batches[0].items.size(), 1u);
  const auto& item = p.batches[0].items[0];
  EXPECT_EQ(item.entry_id, 1);
  EXPECT_EQ(item.merged_ids, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(item.values, hs({{"name", "b"}, {"phone", std::nullopt}, {"fax", "9"}}));
  EXPECT_EQ(item.record_id, 5);
  EXPECT_TRUE(p.skipped.empty());
}

TEST(write_plan_merged, updates_become_one_update_with_the_union) {
  auto p =
      plan_writes({upd(1, "account", 5, "001A", hs({{"name", "a"}, {"phone", "1"}})),
                   upd(2, "account", 5, "001A", hs({{"fax", "2"}})), upd(3, "account", 5, "001A", hs({{"name", "c"}}))},
                  tables(), merged());
  ASSERT_EQ(p.batches.size(), 1u);
  const auto& item = p.batches[0].items.at(0);
  EXPECT_EQ(p.batches[0].operation, write_operation::update);
  EXPECT_EQ(item.entry_id, 1);
  EXPECT_EQ(item.merged_ids, (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(item.sfid, "001A");
  EXPECT_EQ(item.values, hs({{"name", "c"}, {"phone", "1"}, {"fax", "2"}}));
  EXPECT_EQ(item.changed_columns, (std::vector<std::string>{"name", "phone", "fax"}));
}

TEST(write_plan_merged, updates_then_delete_become_a_delete) {
  auto p = plan_writes({upd(1, "account", 5, "001A", hs({{"name", "a"}})),
                        upd(2, "account", 5, "001A", hs({{"name", "b"}})), del(3, "account", 5, "001A")},
                       tables(), merged());
  ASSERT_EQ(p.batches.size(), 1u);
  EXPECT_EQ(p.batches[0].operation, write_operation::remove);
  const auto& item = p.batches[0].items.at(0);
  EXPECT_EQ(item.entry_id, 3);
  EXPECT_EQ(item.merged_ids, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(item.sfid, "001A");
  EXPECT_TRUE(item.values.empty());
}

TEST(write_plan_merged, insert_updates_delete_vanish_all_merged) {
  auto p =
      plan_writes({ins(1, "account", 5, hs({{"name", "a"}})), upd(2, "account", 5, std::nullopt, hs({{"name", "b"}})),
                   del(3, "account", 5, std::nullopt), ins(4, "account", 6, hs({{"name", "z"}}))},
                  tables(), merged());
  ASSERT_EQ(p.batches.size(), 1u);
  EXPECT_EQ(owners(p.batches[0]), (std::vector<std::int64_t>{4}));
  ASSERT_EQ(p.skipped.size(), 3u);
  for (std::int64_t id = 1; id <= 3; ++id) {
    const auto* s = find_skipped(p, id);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->reason, skip_reason::merged);
    EXPECT_EQ(outcome_of(s->reason), "MERGED");
  }
}

TEST(write_plan_merged, insert_then_delete_of_a_record_already_created_becomes_a_delete) {
  // The create went out and was settled in doubt (the row got its sfid, the INSERT
  // entry is claimed again); the DELETE carries that sfid: the record exists in
  // Salesforce and must be deleted, not folded away with its insert.
  auto p = plan_writes({ins(1, "account", 5, hs({{"name", "a"}})), del(2, "account", 5, "001A"),
                        ins(3, "account", 6, hs({{"name", "z"}}))},
                       tables(), merged());
  ASSERT_EQ(p.batches.size(), 2u);
  EXPECT_EQ(p.batches[0].operation, write_operation::remove);
  ASSERT_EQ(p.batches[0].items.size(), 1u);
  EXPECT_EQ(p.batches[0].items[0].entry_id, 2);
  EXPECT_EQ(p.batches[0].items[0].sfid, "001A");
  EXPECT_EQ(p.batches[0].items[0].merged_ids, (std::vector<std::int64_t>{1}));
  EXPECT_EQ(owners(p.batches[1]), (std::vector<std::int64_t>{3}));
  EXPECT_TRUE(p.skipped.empty());
}

TEST(write_plan_merged, delete_then_insert_keeps_both_in_order) {
  // The create batch of the table opens first (entry 1), yet the re-insert of
  // record 5 must run after its delete: it lands in a later batch.
  auto p = plan_writes({ins(1, "contact", 9, hs({{"ext__c", "X9"}})), del(2, "contact", 5, "003A"),
                        ins(3, "contact", 5, hs({{"ext__c", "X5"}}))},
                       tables(), merged());
  ASSERT_EQ(p.batches.size(), 3u);
  EXPECT_EQ(owners(p.batches[0]), (std::vector<std::int64_t>{1}));
  EXPECT_EQ(p.batches[1].operation, write_operation::remove);
  EXPECT_EQ(owners(p.batches[1]), (std::vector<std::int64_t>{2}));
  EXPECT_EQ(p.batches[2].operation, write_operation::upsert);
  EXPECT_EQ(owners(p.batches[2]), (std::vector<std::int64_t>{3}));
}

TEST(write_plan_merged, delete_insert_update_keeps_delete_then_folded_insert) {
  auto p = plan_writes({del(1, "account", 5, "001A"), ins(2, "account", 5, hs({{"name", "a"}})),
                        upd(3, "account", 5, std::nullopt, hs({{"name", "b"}}))},
                       tables(), merged());
  ASSERT_EQ(p.batches.size(), 2u);
  EXPECT_EQ(p.batches[0].operation, write_operation::remove);
  EXPECT_EQ(p.batches[0].action, write_action::remove);
  EXPECT_EQ(p.batches[1].operation, write_operation::create);
  EXPECT_EQ(p.batches[1].action, write_action::insert);
  EXPECT_EQ(p.batches[1].items[0].entry_id, 2);
  EXPECT_EQ(p.batches[1].items[0].merged_ids, (std::vector<std::int64_t>{3}));
  EXPECT_EQ(p.batches[1].items[0].values, hs({{"name", "b"}}));
}

TEST(write_plan_merged, delete_then_insert_then_delete_keeps_only_the_delete) {
  auto p = plan_writes(
      {del(1, "account", 5, "001A"), ins(2, "account", 5, hs({{"name", "a"}})), del(3, "account", 5, std::nullopt)},
      tables(), merged());
  ASSERT_EQ(p.batches.size(), 1u);
  EXPECT_EQ(owners(p.batches[0]), (std::vector<std::int64_t>{1}));
  EXPECT_EQ(p.skipped.size(), 2u);
  EXPECT_EQ(find_skipped(p, 2)->reason, skip_reason::merged);
  EXPECT_EQ(find_skipped(p, 3)->reason, skip_reason::merged);
}

TEST(write_plan_merged, changes_after_a_delete_are_absorbed) {
  auto p = plan_writes(
      {del(1, "account", 5, "001A"), upd(2, "account", 5, "001A", hs({{"name", "x"}})), del(3, "account", 5, "001A")},
      tables(), merged());
  ASSERT_EQ(p.batches.size(), 1u);
  EXPECT_EQ(p.batches[0].items[0].entry_id, 1);
  EXPECT_EQ(p.batches[0].items[0].merged_ids, (std::vector<std::int64_t>{2, 3}));
}

TEST(write_plan_merged, delete_of_unsynced_record_after_updates_is_ignored) {
  auto p = plan_writes({upd(1, "account", 5, std::nullopt, hs({{"name", "a"}})), del(2, "account", 5, std::nullopt)},
                       tables(), merged());
  EXPECT_TRUE(p.batches.empty());
  ASSERT_EQ(p.skipped.size(), 2u);
  EXPECT_EQ(find_skipped(p, 2)->reason, skip_reason::no_sfid);
  EXPECT_EQ(find_skipped(p, 1)->reason, skip_reason::merged);
  EXPECT_EQ(find_skipped(p, 1)->merged_into, 2);
}

TEST(write_plan_merged, update_then_delete_uses_the_sfid_of_any_entry) {
  auto p = plan_writes({upd(1, "account", 5, "001A", hs({{"name", "a"}})), del(2, "account", 5, std::nullopt)},
                       tables(), merged());
  ASSERT_EQ(p.batches.size(), 1u);
  EXPECT_EQ(p.batches[0].items[0].sfid, "001A");
}

TEST(write_plan_merged, recapture_by_sfid_folds_with_the_row) {
  // hc_capture_update_from_row logs no record_id; its sfid links it to row 5.
  auto p = plan_writes({upd(1, "account", 5, "001A", hs({{"name", "a"}})),
                        upd(2, "account", std::nullopt, "001A", hs({{"phone", "7"}}))},
                       tables(), merged());
  ASSERT_EQ(p.batches.size(), 1u);
  ASSERT_EQ(p.batches[0].items.size(), 1u);
  EXPECT_EQ(p.batches[0].items[0].merged_ids, (std::vector<std::int64_t>{2}));
  EXPECT_EQ(p.batches[0].items[0].values, hs({{"name", "a"}, {"phone", "7"}}));
}

TEST(write_plan_merged, recapture_without_link_is_keyed_by_sfid) {
  auto p = plan_writes({upd(1, "account", std::nullopt, "001A", hs({{"name", "a"}})),
                        upd(2, "account", std::nullopt, "001A", hs({{"phone", "7"}})),
                        upd(3, "account", std::nullopt, "001B", hs({{"phone", "8"}}))},
                       tables(), merged());
  ASSERT_EQ(p.batches.size(), 1u);
  ASSERT_EQ(p.batches[0].items.size(), 2u);
  EXPECT_EQ(p.batches[0].items[0].merged_ids, (std::vector<std::int64_t>{2}));
  EXPECT_EQ(p.batches[0].items[0].record_id, std::nullopt);
  EXPECT_EQ(p.batches[0].items[1].sfid, "001B");
}

TEST(write_plan_merged, insert_gets_the_external_id_of_its_last_update) {
  auto p = plan_writes({ins(1, "contact", 5, hs({{"ext__c", std::nullopt}})),
                        upd(2, "contact", 5, std::nullopt, hs({{"ext__c", "X5"}}))},
                       tables(), merged());
  ASSERT_EQ(p.batches.size(), 1u);
  EXPECT_EQ(p.batches[0].operation, write_operation::upsert);
  EXPECT_EQ(p.batches[0].items[0].external_id, "X5");
}

// ---------------------------------------------------------------------------
// merged mode: positions and batches
// ---------------------------------------------------------------------------

TEST(write_plan_merged, batches_follow_their_first_position) {
  auto p = plan_writes({ins(1, "account", 1, hs({{"name", "parent"}})),
                        ins(2, "contact", 1, hs({{"ext__c", "C1"}, {"account__r__ext__c", "P1"}})),
                        upd(3, "account", 7, "001Z", hs({{"name", "z"}})), ins(4, "account", 2, hs({{"name", "p2"}})),
                        ins(5, "contact", 2, hs({{"ext__c", "C2"}}))},
                       tables(), merged());
  ASSERT_EQ(p.batches.size(), 3u);
  EXPECT_EQ(p.batches[0].table, "account");
  EXPECT_EQ(p.batches[0].operation, write_operation::create);
  EXPECT_EQ(owners(p.batches[0]), (std::vector<std::int64_t>{1, 4}));
  EXPECT_EQ(p.batches[1].table, "contact");
  EXPECT_EQ(owners(p.batches[1]), (std::vector<std::int64_t>{2, 5}));
  EXPECT_EQ(p.batches[1].items[0].values.get("account__r__ext__c"), "P1");
  EXPECT_EQ(p.batches[2].operation, write_operation::update);
}

TEST(write_plan_merged, folded_change_keeps_its_first_position) {
  // Record 1's update comes last in the log but its first entry (an insert
  // at position 2) places it: the insert goes before record 2's insert.
  auto p =
      plan_writes({upd(1, "account", 9, "001Z", hs({{"name", "z"}})), ins(2, "account", 1, hs({{"name", "a"}})),
                   ins(3, "account", 2, hs({{"name", "b"}})), upd(4, "account", 1, std::nullopt, hs({{"name", "c"}}))},
                  tables(), merged());
  ASSERT_EQ(p.batches.size(), 2u);
  EXPECT_EQ(p.batches[0].operation, write_operation::update);
  EXPECT_EQ(owners(p.batches[1]), (std::vector<std::int64_t>{2, 3}));
  EXPECT_EQ(p.batches[1].items[0].values, hs({{"name", "c"}}));
}

TEST(write_plan_merged, interleaved_tables_fill_batches_to_200) {
  std::vector<write_entry> es;
  for (std::int64_t i = 1; i <= 600; ++i)
    es.push_back(ins(i, i % 2 == 1 ? "account" : "contact", i, hs({{"name", "n"}})));
  auto p = plan_writes(es, tables(), merged());
  ASSERT_EQ(sizes(p), (std::vector<std::size_t>{200, 200, 100, 100}));
  EXPECT_EQ(p.batches[0].table, "account");
  EXPECT_EQ(p.batches[1].table, "contact");
  EXPECT_EQ(p.batches[2].items[0].entry_id, 401);
  EXPECT_EQ(p.batches[3].items[0].entry_id, 402);
}

TEST(write_plan_merged, repeated_updates_fill_batches_with_distinct_records) {
  std::vector<write_entry> es;
  std::int64_t id = 0;
  for (int round = 0; round < 10; ++round)
    for (std::int64_t r = 1; r <= 300; ++r)
      es.push_back(upd(++id, "account", r, sfid_of(r), hs({{"name", "v" + std::to_string(round)}})));
  auto p = plan_writes(es, tables(), merged());
  ASSERT_EQ(sizes(p), (std::vector<std::size_t>{200, 100}));
  EXPECT_EQ(p.batches[0].items[0].merged_ids.size(), 9u);
  EXPECT_EQ(p.batches[0].items[0].values.get("name"), "v9");
  EXPECT_EQ(p.batches[0].items[0].entry_id, 1);
}

TEST(write_plan_merged, same_sfid_under_two_keys_never_shares_a_batch) {
  // Two records claim one sfid (a row re-keyed): collections reject duplicate ids.
  auto p = plan_writes(
      {upd(1, "account", 1, "001A", hs({{"name", "a"}})), upd(2, "account", 2, "001A", hs({{"name", "b"}}))}, tables(),
      merged());
  EXPECT_EQ(sizes(p), (std::vector<std::size_t>{1, 1}));
}

// ---------------------------------------------------------------------------
// property: applying a plan gives the same Salesforce state as applying every
// entry one by one
// ---------------------------------------------------------------------------

namespace {

using fields = std::map<std::string, std::string>;

/// An in-memory Salesforce plus the rows' sfid columns the writer maintains.
struct fake_org {
  std::map<std::string, std::pair<std::string, fields>> records; ///< sfid -> (table, fields)
  std::map<std::pair<std::string, std::int64_t>, std::string> row_sfid;
  int next_id = 0;

  static void apply(fields& f, const hstore& values) {
    for (const auto& v : values.entries()) {
      if (v.value)
        f[v.key] = *v.value;
      else
        f.erase(v.key);
    }
  }

  std::optional<std::string> by_external_id(const std::string& table, const std::string& column,
                                            const std::string& value) const {
    for (const auto& [sfid, rec] : records) {
      auto i = rec.second.find(column);
      if (rec.first == table && i != rec.second.end() && i->second == value)
        return sfid;
    }
    return std::nullopt;
  }

  std::string create(const std::string& table, const hstore& values) {
    auto sfid = "SF" + std::to_string(++next_id);
    fields f;
    apply(f, values);
    records[sfid] = {table, f};
    return sfid;
  }

  std::string upsert(const std::string& table, const std::string& column, const std::string& ext,
                     const hstore& values) {
    if (auto sfid = by_external_id(table, column, ext)) {
      apply(records[*sfid].second, values);
      return *sfid;
    }
    return create(table, values);
  }

  std::optional<std::string> resolve(const std::string& table, const std::optional<std::string>& sfid,
                                     const std::optional<std::int64_t>& rid) const {
    if (sfid)
      return sfid;
    if (!rid)
      return std::nullopt;
    auto i = row_sfid.find({table, *rid});
    if (i == row_sfid.end())
      return std::nullopt;
    return i->second;
  }

  void written(const std::string& table, const std::optional<std::int64_t>& rid, const std::string& sfid) {
    if (rid)
      row_sfid[{table, *rid}] = sfid;
  }

  void update(const std::string& sfid, const hstore& values) {
    auto i = records.find(sfid);
    if (i != records.end())
      apply(i->second.second, values);
  }

  /// The final state without the generated sfids.
  std::vector<std::pair<std::string, fields>> state() const {
    std::vector<std::pair<std::string, fields>> out;
    for (const auto& [sfid, rec] : records)
      out.push_back(rec);
    std::sort(out.begin(), out.end());
    return out;
  }
};

/// Executes a plan the way the writer does (items of a batch in any order).
void execute(fake_org& org, const write_plan& plan, std::mt19937& rng) {
  for (const auto& b : plan.batches) {
    auto items = b.items;
    std::shuffle(items.begin(), items.end(), rng);
    for (const auto& i : items) {
      switch (b.operation) {
        case write_operation::create:
          org.written(b.table, i.record_id, org.create(b.table, i.values));
          break;
        case write_operation::upsert:
          ASSERT_TRUE(b.upsert_column && i.external_id);
          ASSERT_EQ(i.values.get(*b.upsert_column), i.external_id);
          org.written(b.table, i.record_id, org.upsert(b.table, *b.upsert_column, *i.external_id, i.values));
          break;
        case write_operation::update:
          if (auto sfid = org.resolve(b.table, i.sfid, i.record_id))
            org.update(*sfid, i.values);
          break;
        case write_operation::remove:
          if (auto sfid = org.resolve(b.table, i.sfid, i.record_id))
            org.records.erase(*sfid);
          break;
      }
    }
  }
}

/// Applies every entry alone, in log order (the reference semantics).
void execute_one_by_one(fake_org& org, const std::vector<write_entry>& entries, const table_write_configs& tables) {
  auto system = default_system_columns();
  for (const auto& e : entries) {
    auto t = tables.find(e.table_name);
    if (t == tables.end() || !t->second.writable)
      continue;
    hstore values;
    for (const auto& v : e.values.entries())
      if (system.count(v.key) == 0)
        values.set(v.key, v.value);
    switch (e.action) {
      case write_action::insert: {
        auto ext = t->second.upsert_column ? values.get(*t->second.upsert_column) : std::nullopt;
        auto sfid =
            ext ? org.upsert(e.table_name, *t->second.upsert_column, *ext, values) : org.create(e.table_name, values);
        org.written(e.table_name, e.record_id, sfid);
        break;
      }
      case write_action::update:
        if (values.empty())
          break;
        if (auto sfid = org.resolve(e.table_name, e.sfid, e.record_id))
          org.update(*sfid, values);
        break;
      case write_action::remove:
        if (auto sfid = org.resolve(e.table_name, e.sfid, e.record_id))
          org.records.erase(*sfid);
        break;
    }
  }
}

/// A random trigger log over a few records, as the capture triggers write it.
struct log_generator {
  struct row {
    hstore data;
    std::optional<std::string> sfid;
  };
  std::mt19937& rng;
  std::map<std::pair<std::string, std::int64_t>, row> alive;
  std::map<std::pair<std::string, std::int64_t>, std::string> dead_ext; ///< deleted rows' external ids
  std::vector<write_entry> log;
  std::int64_t next_rid = 100;
  int ext_serial = 0;

  explicit log_generator(std::mt19937& r) : rng(r) {}

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }
  bool chance(int percent) { return pick(100) < percent; }

  std::optional<std::string> random_value() {
    if (chance(15))
      return std::nullopt;
    return "v" + std::to_string(pick(5));
  }

  /// Records that already exist in Salesforce before the log starts.
  void seed(fake_org& org_a, fake_org& org_b, const std::string& table, int n) {
    for (int i = 0; i < n; ++i) {
      auto rid = next_rid++;
      row r;
      r.data.set("id", std::to_string(rid));
      r.data.set("name", "seed" + std::to_string(rid));
      if (table == "contact")
        r.data.set("ext__c", "X" + std::to_string(rid));
      hstore sent = r.data;
      sent.erase("id");
      auto sfid = org_a.create(table, sent);
      ASSERT_EQ(org_b.create(table, sent), sfid);
      org_a.written(table, rid, sfid);
      org_b.written(table, rid, sfid);
      r.sfid = sfid;
      r.data.set("sfid", sfid);
      alive[{table, rid}] = r;
    }
  }

  std::pair<std::string, std::int64_t> any_alive(const std::string& table) {
    std::vector<std::pair<std::string, std::int64_t>> keys;
    for (const auto& [k, r] : alive)
      if (k.first == table)
        keys.push_back(k);
    if (keys.empty())
      return {"", 0};
    return keys[static_cast<std::size_t>(pick(static_cast<int>(keys.size())))];
  }

  void insert(const std::string& table) {
    std::int64_t rid = next_rid++;
    std::optional<std::string> ext;
    if (!dead_ext.empty() && chance(30)) { // re-insert a deleted row with an explicit id
      auto i = dead_ext.begin();
      std::advance(i, pick(static_cast<int>(dead_ext.size())));
      if (i->first.first == table) {
        rid = i->first.second;
        ext = i->second;
        dead_ext.erase(i);
      }
    }
    row r;
    r.data.set("id", std::to_string(rid));
    r.data.set("sfid", std::nullopt);
    r.data.set("systemmodstamp", std::nullopt);
    r.data.set("name", random_value());
    r.data.set("phone", random_value());
    if (table == "contact")
      r.data.set("ext__c",
                 ext ? ext : (chance(90) ? std::optional<std::string>("X" + std::to_string(rid)) : std::nullopt));
    alive[{table, rid}] = r;
    log.push_back(ins(static_cast<std::int64_t>(log.size()) + 1, table, rid, r.data));
  }

  void update(const std::string& table) {
    auto key = any_alive(table);
    if (key.first.empty())
      return insert(table);
    auto& r = alive[key];
    hstore old = r.data;
    hstore changed;
    for (const char* column : {"name", "phone", "title"})
      if (chance(50))
        changed.set(column, random_value());
    if (chance(10))
      changed.set("systemmodstamp", "2024-01-0" + std::to_string(pick(9) + 1));
    if (table == "contact" && chance(8))
      changed.set("ext__c", "X" + std::to_string(key.second) + "-" + std::to_string(++ext_serial));
    // The trigger logs only what differs from the old row.
    hstore values;
    for (const auto& c : changed.entries()) {
      auto* before = old.find(c.key);
      if (before == nullptr || before->value != c.value)
        values.set(c.key, c.value);
    }
    for (const auto& c : values.entries())
      r.data.set(c.key, c.value);
    if (values.empty())
      return; // state IGNORE: never claimed
    if (r.sfid && chance(10)) {
      // hc_capture_update_from_row: no record_id, no old, the row's columns
      hstore whole = r.data;
      log.push_back(upd(static_cast<std::int64_t>(log.size()) + 1, table, std::nullopt, r.sfid, whole));
      return;
    }
    log.push_back(upd(static_cast<std::int64_t>(log.size()) + 1, table, key.second, r.sfid, values, old));
  }

  void remove(const std::string& table) {
    auto key = any_alive(table);
    if (key.first.empty())
      return insert(table);
    auto r = alive[key];
    alive.erase(key);
    if (auto ext = r.data.get("ext__c"))
      dead_ext[key] = *ext;
    auto e = del(static_cast<std::int64_t>(log.size()) + 1, table, key.second, r.sfid);
    e.old = r.data;
    log.push_back(e);
  }

  void step(const std::string& table, write_action action) {
    switch (action) {
      case write_action::insert:
        return insert(table);
      case write_action::update:
        return update(table);
      case write_action::remove:
        return remove(table);
    }
  }
};

/// Every entry appears exactly once as an owner, a merged id or a skipped entry.
void expect_accounted(const write_plan& plan, const std::vector<write_entry>& log) {
  std::map<std::int64_t, int> seen;
  std::map<std::int64_t, write_action> actions;
  for (const auto& e : log)
    actions[e.id] = e.action;
  for (const auto& b : plan.batches)
    for (const auto& i : b.items) {
      EXPECT_EQ(actions[i.entry_id], b.action) << "entry " << i.entry_id;
      ++seen[i.entry_id];
      for (auto m : i.merged_ids)
        ++seen[m];
    }
  for (const auto& s : plan.skipped)
    ++seen[s.entry_id];
  ASSERT_EQ(seen.size(), log.size());
  for (const auto& e : log)
    EXPECT_EQ(seen[e.id], 1) << "entry " << e.id;
}

/// The position of an item: its first entry in the log.
std::int64_t position(const write_item& i) {
  auto first = i.entry_id;
  for (auto m : i.merged_ids)
    first = std::min(first, m);
  return first;
}

/// Structural invariants of any plan.
void expect_well_formed(const write_plan& plan, const write_plan_settings& s) {
  auto system = s.system_columns;
  // Ordered: log order exactly. Merged: batches by their first item's
  // position, items by position within a batch.
  std::int64_t last = 0;
  std::int64_t last_first = 0;
  for (const auto& b : plan.batches) {
    if (s.mode == write_mode::ordered) {
      for (const auto& i : b.items) {
        EXPECT_GT(i.entry_id, last);
        last = i.entry_id;
      }
      continue;
    }
    EXPECT_GT(position(b.items.front()), last_first);
    last_first = position(b.items.front());
    std::int64_t within = 0;
    for (const auto& i : b.items) {
      EXPECT_GT(position(i), within);
      within = position(i);
    }
  }
  for (const auto& b : plan.batches) {
    ASSERT_FALSE(b.items.empty());
    if (b.transport == write_transport::collection)
      EXPECT_LE(b.items.size(), s.collection_size);
    else
      EXPECT_LE(b.items.size(), s.bulk_batch_size);
    if (s.mode == write_mode::merged) {
      EXPECT_EQ(b.transport, write_transport::collection);
    }
    std::set<std::int64_t> rids;
    std::set<std::string> sfids;
    for (const auto& i : b.items) {
      if (i.record_id) {
        EXPECT_TRUE(rids.insert(*i.record_id).second) << "record twice in a batch";
      }
      if (i.sfid) {
        EXPECT_TRUE(sfids.insert(*i.sfid).second) << "sfid twice in a batch";
      }
      for (const auto& v : i.values.entries())
        EXPECT_EQ(system.count(v.key), 0u) << v.key;
    }
  }
}

void run_property(write_plan_settings settings, unsigned seed, int rounds) {
  std::mt19937 rng(seed);
  auto t = tables();
  const std::vector<std::string> names{"contact", "account", "lead"};
  std::size_t bulk_batches = 0;
  std::size_t writes = 0;
  std::map<skip_reason, std::size_t> reasons;
  for (int round = 0; round < rounds; ++round) {
    fake_org reference;
    fake_org planned;
    log_generator gen(rng);
    gen.seed(reference, planned, "contact", 3);
    gen.seed(reference, planned, "account", 3);
    std::string table = "contact";
    auto action = write_action::update;
    int length = gen.pick(60) + 1;
    for (int i = 0; i < length; ++i) {
      if (!gen.chance(70)) { // runs of one table and action are common
        table = names[static_cast<std::size_t>(gen.chance(10) ? 2 : gen.pick(2))];
        action = static_cast<write_action>(gen.pick(3));
      }
      gen.step(table, action);
    }
    auto plan = plan_writes(gen.log, t, settings);
    SCOPED_TRACE("seed " + std::to_string(seed) + " round " + std::to_string(round));
    expect_accounted(plan, gen.log);
    expect_well_formed(plan, settings);
    execute_one_by_one(reference, gen.log, t);
    execute(planned, plan, rng);
    ASSERT_EQ(planned.state(), reference.state());
    for (const auto& b : plan.batches) {
      bulk_batches += b.transport == write_transport::bulk ? 1 : 0;
      writes += b.items.size();
    }
    for (const auto& sk : plan.skipped)
      ++reasons[sk.reason];
  }
  EXPECT_GT(reasons[skip_reason::no_changes], 0u);
  EXPECT_GT(reasons[skip_reason::not_writable], 0u);
  if (settings.mode == write_mode::merged) {
    EXPECT_GT(reasons[skip_reason::merged], 0u);
  }
  // The generator must actually exercise the paths under test.
  EXPECT_GT(writes, 0u);
  if (settings.mode == write_mode::ordered && settings.bulk_threshold <= 4) {
    EXPECT_GT(bulk_batches, 0u);
  }
}

} // namespace

TEST(write_plan_property, merged_plan_matches_one_by_one) {
  auto s = merged();
  s.collection_size = 3;
  run_property(s, 20261123u, 400);
}

TEST(write_plan_property, merged_plan_matches_one_by_one_default_sizes) {
  run_property(merged(), 7u, 200);
}

TEST(write_plan_property, ordered_plan_matches_one_by_one) {
  auto s = ordered();
  s.collection_size = 3;
  s.bulk_threshold = 4;
  s.bulk_batch_size = 6;
  run_property(s, 424242u, 400);
}

TEST(write_plan_property, ordered_plan_matches_one_by_one_default_sizes) {
  run_property(ordered(), 99u, 200);
}

TEST(write_plan_property, merged_sends_fewer_items_than_ordered_for_repeated_updates) {
  std::vector<write_entry> es;
  std::int64_t id = 0;
  for (int round = 0; round < 5; ++round)
    for (std::int64_t r = 1; r <= 50; ++r)
      es.push_back(upd(++id, "account", r, sfid_of(r), hs({{"name", "v" + std::to_string(round)}})));
  auto m = plan_writes(es, tables(), merged());
  auto o = plan_writes(es, tables(), ordered());
  EXPECT_EQ(m.batches.size(), 1u);
  EXPECT_EQ(o.batches.size(), 5u);
}

TEST(promote_updates, an_update_of_a_row_whose_insert_failed_becomes_an_insert_of_the_row) {
  std::vector<write_entry> entries{
    upd(10, "contact", 1, std::nullopt, hs({{"last__c", "Fixed"}}), hs({{"id", "1"}, {"last__c", std::nullopt}})),
    upd(11, "contact", 1, std::nullopt, hs({{"email__c", "a@b"}})), // a later one follows the insert
    upd(12, "contact", 2, std::nullopt, hs({{"last__c", "x"}})),     // its insert is still waiting: untouched
    upd(13, "contact", 3, sfid_of(3), hs({{"last__c", "y"}})),        // has an sfid: untouched
  };
  row_values rows;
  rows[{"contact", 1}] = hs({{"id", "1"}, {"ext__c", "E-1"}, {"last__c", "Fixed"}, {"code__c", "C"}});
  rows[{"contact", 3}] = hs({{"id", "3"}, {"ext__c", "E-3"}});
  EXPECT_EQ(promote_updates_without_insert(entries, rows), 1u);
  EXPECT_EQ(entries[0].action, write_action::insert);
  EXPECT_EQ(entries[0].values, (rows[{"contact", 1}]));
  EXPECT_FALSE(entries[0].old);
  EXPECT_EQ(entries[1].action, write_action::update);
  EXPECT_EQ(entries[2].action, write_action::update);
  EXPECT_EQ(entries[3].action, write_action::update);

  // Merged: the promoted insert and the later update fold into one upsert with the final values.
  write_plan_settings merged;
  auto plan = plan_writes(entries, tables(), merged);
  auto contact_upserts = 0;
  for (const auto& b : plan.batches)
    for (const auto& item : b.items)
      if (b.table == "contact" && b.operation == write_operation::upsert && item.record_id == 1) {
        ++contact_upserts;
        EXPECT_EQ(item.external_id, "E-1");
        EXPECT_EQ(item.values.get("email__c"), "a@b");
        EXPECT_EQ(item.values.get("code__c"), "C");
        EXPECT_EQ(item.merged_ids, (std::vector<std::int64_t>{11}));
      }
  EXPECT_EQ(contact_upserts, 1);
}

// change_mapping_table: an edited mapping brings an existing table (with rows)
// to its new fields in one transaction, as Heroku Connect does.

#include "hc_fixture.hpp"

#include <algorithm>

using namespace syncforce;
using namespace syncforce::hc_test;

namespace {

class mapping_change : public hc_fixture {
protected:
  void SetUp() override {
    hc_fixture::SetUp();
    if (IsSkipped())
      return;
    spec_ = contact_spec();
    apply(spec_);
    // Rows as a load leaves them (engine writes, SYNCED) and one a user changed.
    engine_exec("INSERT INTO salesforce.contact (sfid, name, email, external_id__c, numberofemployees__c) VALUES "
                "('003000000000001AAA', 'Ada', 'ada@example.com', 'x1', 10), "
                "('003000000000002AAA', 'Grace', 'grace@example.com', 'x2', 20)");
    user_exec("UPDATE salesforce.contact SET name = 'Grace H' WHERE sfid = '003000000000002AAA'");
  }

  store::mapping_change_result change(const hc_table_spec& spec) {
    pqxx::work tx{*engine_};
    auto r = store::change_mapping_table(tx, spec);
    if (r.ok())
      tx.commit();
    return r;
  }

  std::string type_of(const std::string& column) {
    auto r = query("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = "
                   "'salesforce.contact'::regclass AND attname = " + user_->quote(column) + " AND NOT attisdropped");
    return r.empty() ? std::string{"(none)"} : r[0][0].as<std::string>();
  }

  std::string indexes() {
    return query("SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE schemaname = "
                 "'salesforce' AND tablename = 'contact'")[0][0].as<std::string>();
  }

  pg_column& column(hc_table_spec& spec, const std::string& name) {
    auto it = std::find_if(spec.columns.begin(), spec.columns.end(),
                           [&](const pg_column& c) { return c.name == name; });
    EXPECT_NE(it, spec.columns.end()) << name;
    return *it;
  }

  static void remove_field(hc_table_spec& spec, const std::string& name) {
    spec.columns.erase(std::remove_if(spec.columns.begin(), spec.columns.end(),
                                      [&](const pg_column& c) { return c.name == name; }),
                       spec.columns.end());
    spec.indexes.erase(std::remove_if(spec.indexes.begin(), spec.indexes.end(),
                                      [&](const hc_index_spec& i) { return i.column == name; }),
                       spec.indexes.end());
  }

  hc_table_spec spec_;
};

} // namespace

TEST(mapping_change_plan, in_place_type_changes) {
  EXPECT_TRUE(store::in_place_type_change("character varying(80)", "character varying(255)"));
  EXPECT_TRUE(store::in_place_type_change("character varying(255)", "character varying(80)"));
  EXPECT_TRUE(store::in_place_type_change("character varying(80)", "text"));
  EXPECT_TRUE(store::in_place_type_change("text", "character varying(4099)"));
  EXPECT_TRUE(store::in_place_type_change("numeric(10,2)", "numeric(12,2)"));
  EXPECT_TRUE(store::in_place_type_change("numeric(10,2)", "numeric"));
  EXPECT_FALSE(store::in_place_type_change("numeric(10,2)", "numeric(10,4)")); // fewer integer digits
  EXPECT_FALSE(store::in_place_type_change("numeric(10,2)", "numeric(8,2)"));
  EXPECT_FALSE(store::in_place_type_change("text", "double precision"));
  EXPECT_FALSE(store::in_place_type_change("date", "timestamp without time zone"));
  EXPECT_FALSE(store::in_place_type_change("double precision", "character varying(20)"));
}

TEST(mapping_change_plan, system_columns_are_never_dropped) {
  hc_table_spec spec;
  spec.table = "contact";
  spec.columns = {pg_column{"sfid", "character varying(18)", pg_value_kind::text, "Id", 18},
                  pg_column{"name", "character varying(255)", pg_value_kind::text, "Name", 255},
                  pg_column{"title", "text", pg_value_kind::text, "Title", std::nullopt},
                  pg_column{"amount__c", "double precision", pg_value_kind::double_precision, "Amount__c",
                            std::nullopt}};
  std::vector<std::pair<std::string, std::string>> existing = {
    {"sfid", "character varying(18)"},     {"name", "character varying(80)"}, {"amount__c", "text"},
    {"systemmodstamp", "timestamp without time zone"}, {"isdeleted", "boolean"},
    {"createddate", "timestamp without time zone"},    {"email", "character varying(80)"},
    {"id", "integer"}, {"_hc_lastop", "character varying(32)"}, {"_hc_err", "text"}};
  auto plan = store::plan_column_changes(existing, spec);
  ASSERT_EQ(plan.size(), 4u);
  EXPECT_EQ(plan[0].kind, store::column_change_kind::added);
  EXPECT_EQ(plan[0].column, "title");
  EXPECT_EQ(plan[1].kind, store::column_change_kind::altered);
  EXPECT_EQ(plan[1].column, "name");
  EXPECT_EQ(plan[1].from_type, "character varying(80)");
  EXPECT_EQ(plan[1].to_type, "character varying(255)");
  EXPECT_EQ(plan[2].kind, store::column_change_kind::retyped);
  EXPECT_EQ(plan[2].column, "amount__c");
  EXPECT_EQ(plan[3].kind, store::column_change_kind::dropped);
  EXPECT_EQ(plan[3].column, "email");
}

TEST_F(mapping_change, unchanged_spec_changes_nothing) {
  auto r = change(spec_);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_FALSE(r.created);
  EXPECT_TRUE(r.changes.empty());
  EXPECT_TRUE(r.backfill.empty());
  EXPECT_TRUE(r.dropped_indexes.empty());
}

TEST_F(mapping_change, added_column_is_backfilled_and_captured) {
  spec_.columns.push_back(pg_column{"title", "character varying(128)", pg_value_kind::text, "Title", 128});
  spec_.indexes.push_back(hc_index_spec{"title", false});
  auto r = change(spec_);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.changes.size(), 1u);
  EXPECT_EQ(r.changes[0].kind, store::column_change_kind::added);
  EXPECT_EQ(r.backfill, std::vector<std::string>{"title"});
  EXPECT_EQ(type_of("title"), "character varying(128)");
  EXPECT_EQ(count("SELECT count(*) FROM salesforce.contact WHERE title IS NULL AND name IS NOT NULL"), 2);
  EXPECT_NE(indexes().find("hc_idx_contact_title"), std::string::npos);
  // The logger captures the new column.
  user_exec("UPDATE salesforce.contact SET title = 'Dr' WHERE sfid = '003000000000001AAA'");
  auto last = query("SELECT \"values\", old FROM salesforce._trigger_log ORDER BY id DESC LIMIT 1");
  EXPECT_EQ(parse(last[0][0]).get("title"), "Dr");
  EXPECT_TRUE(parse(last[0][1]).contains("title"));
}

TEST_F(mapping_change, length_change_alters_in_place_and_keeps_values) {
  column(spec_, "name").type = "character varying(255)";
  column(spec_, "email").type = "character varying(10)"; // shorter: truncated as Salesforce does
  column(spec_, "external_id__c").type = "text";
  auto before_ids = query("SELECT string_agg(id::text || sfid, ',' ORDER BY id) FROM salesforce.contact")[0][0]
                      .as<std::string>();
  auto r = change(spec_);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.changes.size(), 3u);
  for (const auto& c : r.changes)
    EXPECT_EQ(c.kind, store::column_change_kind::altered) << c.column;
  EXPECT_EQ(r.changes[0].column, "name");
  EXPECT_EQ(r.changes[0].from_type, "character varying(121)");
  EXPECT_EQ(r.changes[0].to_type, "character varying(255)");
  EXPECT_TRUE(r.backfill.empty());
  EXPECT_EQ(type_of("name"), "character varying(255)");
  EXPECT_EQ(type_of("email"), "character varying(10)");
  EXPECT_EQ(type_of("external_id__c"), "text");
  EXPECT_EQ(query("SELECT string_agg(name || '/' || email || '/' || external_id__c, ',' ORDER BY sfid) FROM "
                  "salesforce.contact")[0][0].as<std::string>(),
            "Ada/ada@exampl/x1,Grace H/grace@exam/x2");
  EXPECT_EQ(query("SELECT string_agg(id::text || sfid, ',' ORDER BY id) FROM salesforce.contact")[0][0]
              .as<std::string>(),
            before_ids);
  // The unique index on the altered column is still there.
  EXPECT_NE(indexes().find("hcu_idx_contact_external_id__c"), std::string::npos);
  // The engine's DDL is not captured; the user's pending change is still pending.
  EXPECT_EQ(count("SELECT count(*) FROM salesforce.contact WHERE _hc_lastop = 'PENDING'"), 1);
}

TEST_F(mapping_change, type_change_drops_readds_and_keeps_its_index) {
  column(spec_, "numberofemployees__c").type = "character varying(20)";
  column(spec_, "numberofemployees__c").kind = pg_value_kind::text;
  spec_.indexes.push_back(hc_index_spec{"numberofemployees__c", false});
  // The old mapping had an index on it too.
  engine_exec("CREATE INDEX hc_idx_contact_numberofemployees__c ON salesforce.contact (numberofemployees__c)");
  auto r = change(spec_);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.changes.size(), 1u);
  EXPECT_EQ(r.changes[0].kind, store::column_change_kind::retyped);
  EXPECT_EQ(r.changes[0].from_type, "double precision");
  EXPECT_EQ(r.backfill, std::vector<std::string>{"numberofemployees__c"});
  EXPECT_EQ(type_of("numberofemployees__c"), "character varying(20)");
  EXPECT_EQ(count("SELECT count(*) FROM salesforce.contact WHERE numberofemployees__c IS NULL"), 2);
  EXPECT_EQ(count("SELECT count(*) FROM pg_indexes WHERE indexname = 'hc_idx_contact_numberofemployees__c' AND "
                  "indexdef LIKE '%(numberofemployees__c)'"),
            1);
  // The other columns kept their values.
  EXPECT_EQ(count("SELECT count(*) FROM salesforce.contact WHERE name IN ('Ada', 'Grace H')"), 2);
}

TEST_F(mapping_change, removed_field_is_dropped_with_its_index_system_columns_stay) {
  remove_field(spec_, "external_id__c");
  spec_.upsert_column.reset();
  remove_field(spec_, "systemmodstamp"); // a system field: its column stays
  auto r = change(spec_);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.changes.size(), 1u);
  EXPECT_EQ(r.changes[0].kind, store::column_change_kind::dropped);
  EXPECT_EQ(r.changes[0].column, "external_id__c");
  EXPECT_TRUE(r.backfill.empty());
  EXPECT_EQ(type_of("external_id__c"), "(none)");
  EXPECT_EQ(type_of("systemmodstamp"), "timestamp without time zone");
  EXPECT_EQ(indexes().find("external_id__c"), std::string::npos);
  // systemmodstamp is no longer in the spec: its index is not ours to keep
  EXPECT_EQ(r.dropped_indexes, std::vector<std::string>{"hc_idx_contact_systemmodstamp"});
  EXPECT_EQ(count("SELECT count(*) FROM salesforce.contact"), 2);
  // The logger still works with the narrower row.
  user_exec("UPDATE salesforce.contact SET name = 'Ada L' WHERE sfid = '003000000000001AAA'");
  auto values = parse(query("SELECT \"values\" FROM salesforce._trigger_log ORDER BY id DESC LIMIT 1")[0][0]);
  EXPECT_EQ(values.get("name"), "Ada L");
  EXPECT_FALSE(values.contains("external_id__c"));
}

TEST_F(mapping_change, dependent_view_fails_naming_it_and_changes_nothing) {
  user_exec("CREATE VIEW salesforce.contact_ids AS SELECT sfid, external_id__c FROM salesforce.contact");
  spec_.columns.push_back(pg_column{"title", "text", pg_value_kind::text, "Title", std::nullopt});
  column(spec_, "name").type = "character varying(255)";
  remove_field(spec_, "external_id__c");
  spec_.upsert_column.reset();
  auto r = change(spec_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.find("salesforce.contact_ids"), std::string::npos) << r.error;
  EXPECT_NE(r.error.find("external_id__c"), std::string::npos) << r.error;
  // Rolled back: no column added, altered or dropped.
  EXPECT_EQ(type_of("title"), "(none)");
  EXPECT_EQ(type_of("name"), "character varying(121)");
  EXPECT_EQ(type_of("external_id__c"), "character varying(40)");
  EXPECT_EQ(count("SELECT count(*) FROM salesforce.contact_ids"), 2);
  // A view on an altered (not dropped) column blocks too: PostgreSQL cannot alter it under a view.
  user_exec("DROP VIEW salesforce.contact_ids");
  user_exec("CREATE VIEW salesforce.contact_names AS SELECT name FROM salesforce.contact");
  auto spec = contact_spec();
  column(spec, "name").type = "character varying(255)";
  r = change(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error.find("salesforce.contact_names"), std::string::npos) << r.error;
  EXPECT_EQ(type_of("name"), "character varying(121)");
  // A view on columns that do not change does not get in the way.
  spec = contact_spec();
  spec.columns.push_back(pg_column{"title", "text", pg_value_kind::text, "Title", std::nullopt});
  r = change(spec);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(type_of("title"), "text");
}

TEST_F(mapping_change, reload_shadow_of_the_old_shape_is_dropped) {
  {
    pqxx::work tx{*engine_};
    store::create_reload_table(tx, spec_);
    tx.commit();
  }
  // Same shape: the shadow of an interrupted load stays (its load resumes).
  auto r = change(spec_);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_FALSE(r.dropped_reload_table);
  EXPECT_EQ(count("SELECT count(*) FROM pg_class WHERE relname = 'contact__reload'"), 1);
  spec_.columns.push_back(pg_column{"title", "text", pg_value_kind::text, "Title", std::nullopt});
  r = change(spec_);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(r.dropped_reload_table);
  EXPECT_EQ(count("SELECT count(*) FROM pg_class WHERE relname = 'contact__reload'"), 0);
}

TEST_F(mapping_change, missing_table_is_created) {
  engine_exec("DROP TABLE salesforce.contact");
  auto r = change(spec_);
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_TRUE(r.created);
  EXPECT_TRUE(r.backfill.empty());
  EXPECT_EQ(type_of("name"), "character varying(121)");
}

#include "emulator/org.hpp"

#include <gtest/gtest.h>

using namespace sfemu;
using nlohmann::json;

namespace {

class org_test : public ::testing::Test {
protected:
  org_test() : model_(clock_) {
    clock_.freeze();
    clock_.set(1700000000000);
    admin_ = model_.find_user("admin@sfemu.local")->id;
    auto err = model_.define(json::parse(R"({"objects":[
      {"name":"Widget__c","fields":[
        {"name":"Ext__c","type":"string","length":10,"external_id":true,"unique":true},
        {"name":"Tag__c","type":"string","external_id":true},
        {"name":"Account__c","type":"reference","reference_to":"Account"},
        {"name":"Price__c","type":"currency","required":true},
        {"name":"Status__c","type":"picklist","picklist":["New","Done"],"restricted":true},
        {"name":"Label__c","type":"string","formula":"Account__r.Name & ' / ' & Name"},
        {"name":"Secret__c","type":"encryptedstring"}
      ]}]})"));
    EXPECT_FALSE(err) << *err;
  }

  write_result create(const std::string& object, json fields) {
    write_op op;
    op.op = write_op::kind::create;
    op.object = object;
    op.fields = std::move(fields);
    return model_.write(op, admin_);
  }

  json query(const std::string& soql, bool all = false) {
    auto run = model_.run_query(soql, all);
    EXPECT_TRUE(run) << (run ? "" : run.error().message);
    if (!run)
      return json::array();
    return json::parse(model_.render_records(*run, 0, run->slots.size(), "60.0"));
  }

  sfemu::clock clock_;
  org model_;
  std::string admin_;
};

} // namespace

TEST_F(org_test, create_sets_system_fields_and_default_owner) {
  auto r = create("Account", {{"Name", "Acme"}});
  ASSERT_TRUE(r.success());
  EXPECT_EQ(r.id.substr(0, 3), "001");
  auto rows = query("SELECT Id, CreatedDate, SystemModstamp, CreatedById, OwnerId, IsDeleted FROM Account");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["CreatedDate"], "2023-11-14T22:13:20.000+0000");
  EXPECT_EQ(rows[0]["SystemModstamp"], rows[0]["CreatedDate"]);
  EXPECT_EQ(rows[0]["CreatedById"], admin_);
  EXPECT_EQ(rows[0]["OwnerId"], admin_);
  EXPECT_EQ(rows[0]["IsDeleted"], false);
}

TEST_F(org_test, validation_errors_have_salesforce_codes) {
  auto missing = create("Contact", {{"FirstName", "Jo"}});
  ASSERT_FALSE(missing.success());
  EXPECT_EQ(missing.errors[0].code, "REQUIRED_FIELD_MISSING");
  EXPECT_EQ(missing.errors[0].message, "Required fields are missing: [LastName]");
  EXPECT_EQ(missing.errors[0].fields, std::vector<std::string>{"LastName"});

  auto too_long = create("Widget__c", {{"Price__c", 1}, {"Ext__c", "12345678901"}});
  ASSERT_FALSE(too_long.success());
  EXPECT_EQ(too_long.errors[0].code, "STRING_TOO_LONG");

  auto picklist = create("Widget__c", {{"Price__c", 1}, {"Status__c", "Nope"}});
  ASSERT_FALSE(picklist.success());
  EXPECT_EQ(picklist.errors[0].code, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");

  auto malformed = create("Contact", {{"LastName", "x"}, {"AccountId", "abc"}});
  EXPECT_EQ(malformed.errors.at(0).code, "MALFORMED_ID");
  auto dangling = create("Contact", {{"LastName", "x"}, {"AccountId", "001000000000001AAA"}});
  EXPECT_EQ(dangling.errors.at(0).code, "INVALID_CROSS_REFERENCE_KEY");
  auto wrong_object = create("Contact", {{"LastName", "x"}, {"AccountId", "003000000000001AAA"}});
  EXPECT_EQ(wrong_object.errors.at(0).code, "FIELD_INTEGRITY_EXCEPTION");

  auto unknown = create("Account", {{"Name", "x"}, {"Nope__c", 1}});
  EXPECT_EQ(unknown.errors.at(0).code, "INVALID_FIELD");
  auto read_only = create("Account", {{"Name", "x"}, {"CreatedDate", "2020-01-01T00:00:00Z"}});
  EXPECT_EQ(read_only.errors.at(0).code, "INVALID_FIELD_FOR_INSERT_UPDATE");
  auto bad_type = create("Account", {{"Name", "x"}, {"NumberOfEmployees", "lots"}});
  EXPECT_EQ(bad_type.errors.at(0).code, "JSON_PARSER_ERROR");
  auto bad_email = create("Contact", {{"LastName", "x"}, {"Email", "nobody"}});
  EXPECT_EQ(bad_email.errors.at(0).code, "INVALID_EMAIL_ADDRESS");
  EXPECT_EQ(model_.record_count("Contact"), 0u);
}

TEST_F(org_test, unique_external_ids_and_upsert) {
  ASSERT_TRUE(create("Widget__c", {{"Price__c", 1}, {"Ext__c", "W-1"}}).success());
  auto dup = create("Widget__c", {{"Price__c", 2}, {"Ext__c", "w-1"}}); // case-insensitive
  ASSERT_FALSE(dup.success());
  EXPECT_EQ(dup.errors[0].code, "DUPLICATE_VALUE");
  EXPECT_NE(dup.errors[0].message.find("duplicates value on record with id: "), std::string::npos);

  write_op up;
  up.op = write_op::kind::upsert;
  up.object = "Widget__c";
  up.ext_field = "Ext__c";
  up.ext_value = "W-1";
  up.fields = {{"Price__c", 5}};
  auto updated = model_.write(up, admin_);
  EXPECT_EQ(updated.what, write_result::outcome::updated);
  up.ext_value = "W-2";
  auto created = model_.write(up, admin_);
  EXPECT_EQ(created.what, write_result::outcome::created);
  auto rows = query("SELECT Ext__c, Price__c FROM Widget__c ORDER BY Ext__c");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[1]["Ext__c"], "W-2");
  EXPECT_EQ(rows[1]["Price__c"], 5.0);

  // non-unique external id: several matches
  ASSERT_TRUE(create("Widget__c", {{"Price__c", 1}, {"Tag__c", "t"}}).success());
  ASSERT_TRUE(create("Widget__c", {{"Price__c", 1}, {"Tag__c", "t"}}).success());
  up.ext_field = "Tag__c";
  up.ext_value = "t";
  auto multiple = model_.write(up, admin_);
  EXPECT_EQ(multiple.what, write_result::outcome::multiple);
  EXPECT_EQ(multiple.matches.size(), 2u);
  up.ext_value = "none";
  up.update_only = true;
  EXPECT_EQ(model_.write(up, admin_).what, write_result::outcome::not_found);
}

TEST_F(org_test, all_or_none_rolls_back_everything) {
  auto existing = create("Account", {{"Name", "Keep"}});
  std::vector<write_op> ops(3);
  ops[0].op = write_op::kind::create;
  ops[0].object = "Account";
  ops[0].fields = {{"Name", "New"}};
  ops[1].op = write_op::kind::update;
  ops[1].id = existing.id;
  ops[1].fields = {{"Name", "Changed"}};
  ops[2].op = write_op::kind::create;
  ops[2].object = "Account";
  ops[2].fields = {{"Phone", "1"}}; // Name missing
  auto results = model_.write_batch(ops, true, admin_);
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0].errors.at(0).code, "ALL_OR_NONE_OPERATION_ROLLED_BACK");
  EXPECT_EQ(results[1].errors.at(0).code, "ALL_OR_NONE_OPERATION_ROLLED_BACK");
  EXPECT_EQ(results[2].errors.at(0).code, "REQUIRED_FIELD_MISSING");
  auto rows = query("SELECT Name FROM Account");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["Name"], "Keep");

  auto partial = model_.write_batch(ops, false, admin_);
  EXPECT_TRUE(partial[0].success());
  EXPECT_TRUE(partial[1].success());
  EXPECT_FALSE(partial[2].success());
  EXPECT_EQ(model_.record_count("Account"), 2u);
}

TEST_F(org_test, recycle_bin_and_hard_delete) {
  auto a = create("Account", {{"Name", "A"}});
  auto b = create("Account", {{"Name", "B"}});
  clock_.advance(1000);
  write_op del;
  del.op = write_op::kind::remove;
  del.id = a.id;
  ASSERT_TRUE(model_.write(del, admin_).success());
  EXPECT_EQ(model_.write(del, admin_).errors.at(0).code, "ENTITY_IS_DELETED");
  EXPECT_EQ(query("SELECT Id FROM Account").size(), 1u);
  auto all = query("SELECT Id, IsDeleted, SystemModstamp FROM Account", true);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0]["IsDeleted"], true);
  EXPECT_EQ(all[0]["SystemModstamp"], "2023-11-14T22:13:21.000+0000");
  auto deleted = model_.deleted_ids("Account", 0, clock_.now_ms());
  ASSERT_EQ(deleted.size(), 1u);
  EXPECT_EQ(deleted[0].first, a.id);

  write_op hard;
  hard.op = write_op::kind::hard_remove;
  hard.id = b.id;
  ASSERT_TRUE(model_.write(hard, admin_).success());
  EXPECT_EQ(query("SELECT Id FROM Account", true).size(), 1u);
  auto read = model_.read("Account", b.id, {}, "60.0");
  EXPECT_EQ(read.status, 404);
}

TEST_F(org_test, modstamp_ties_and_formula_parent_change) {
  auto acct = create("Account", {{"Name", "Acme"}});
  auto w1 = create("Widget__c", {{"Price__c", 1}, {"Name", "W1"}, {"Account__c", acct.id}});
  auto w2 = create("Widget__c", {{"Price__c", 1}, {"Name", "W2"}, {"Account__c", acct.id}});
  auto rows = query("SELECT Name, Label__c, SystemModstamp FROM Widget__c ORDER BY Name");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["SystemModstamp"], rows[1]["SystemModstamp"]); // frozen clock: a tie
  EXPECT_EQ(rows[0]["Label__c"], "Acme / W1");
  std::string stamp = rows[0]["SystemModstamp"];

  clock_.advance(5000);
  write_op rename;
  rename.op = write_op::kind::update;
  rename.id = acct.id;
  rename.fields = {{"Name", "Globex"}};
  ASSERT_TRUE(model_.write(rename, admin_).success());
  rows = query("SELECT Name, Label__c, SystemModstamp FROM Widget__c ORDER BY Name");
  EXPECT_EQ(rows[0]["Label__c"], "Globex / W1");
  EXPECT_EQ(rows[0]["SystemModstamp"], stamp); // a parent change does not bump the child
  auto filtered = query("SELECT Name FROM Widget__c WHERE Account__r.Name = 'Globex' AND Name = 'W2'");
  ASSERT_EQ(filtered.size(), 1u);
  EXPECT_EQ(filtered[0]["Name"], "W2");
}

TEST_F(org_test, encrypted_fields_are_masked_and_parents_set_by_external_id) {
  ASSERT_TRUE(model_.define(json::parse(R"({"name":"Account","fields":[{"name":"Ext__c","type":"string","external_id":true}]})")) ==
              std::nullopt);
  auto acct = create("Account", {{"Name", "Acme"}, {"Ext__c", "A-1"}});
  ASSERT_TRUE(acct.success());
  auto w = create("Widget__c", {{"Price__c", 1}, {"Secret__c", "hunter2"}, {"Account__r", {{"Ext__c", "A-1"}}}});
  ASSERT_TRUE(w.success()) << w.errors.at(0).message;
  auto rows = query("SELECT Secret__c, Account__c FROM Widget__c");
  EXPECT_EQ(rows[0]["Secret__c"], "*******");
  EXPECT_EQ(rows[0]["Account__c"], acct.id);
  auto missing = create("Widget__c", {{"Price__c", 1}, {"Account__r.Ext__c", "nope"}});
  ASSERT_FALSE(missing.success());
  EXPECT_EQ(missing.errors[0].code, "INVALID_FIELD");
}

TEST_F(org_test, bulk_load_accepts_system_fields) {
  std::vector<json> rows;
  for (int i = 0; i < 1000; ++i)
    rows.push_back({{"Name", "A" + std::to_string(i)}, {"SystemModstamp", "2020-01-01T00:00:00Z"},
                    {"NumberOfEmployees", std::to_string(i)}});
  auto res = model_.bulk_load("Account", rows, admin_);
  ASSERT_FALSE(res.error) << *res.error;
  EXPECT_EQ(res.ids.size(), 1000u);
  auto run = model_.run_query("SELECT COUNT() FROM Account WHERE SystemModstamp = 2020-01-01T00:00:00Z", false);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->total, 1000u);
  auto bad = model_.bulk_load("Account", {json{{"NumberOfEmployees", "x"}}}, admin_);
  EXPECT_TRUE(bad.error);
}

TEST_F(org_test, a_field_redefined_with_another_type_keeps_its_values_converted) {
  ASSERT_FALSE(model_.define(json::parse(
    R"({"objects":[{"name":"Gauge__c","fields":[{"name":"Count__c","type":"int"},{"name":"Code__c","type":"string"}]}]})")));
  ASSERT_TRUE(create("Gauge__c", {{"Name", "a"}, {"Count__c", 3}, {"Code__c", "42"}}).success());
  ASSERT_TRUE(create("Gauge__c", {{"Name", "b"}, {"Code__c", "not a number"}}).success());
  ASSERT_FALSE(model_.define(json::parse(R"({"objects":[{"name":"Gauge__c","fields":[
    {"name":"Count__c","type":"string","length":20},{"name":"Code__c","type":"int"}]}]})")));
  auto rows = query("SELECT Name, Count__c, Code__c FROM Gauge__c ORDER BY Name");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0]["Count__c"], "3") << rows.dump();
  EXPECT_EQ(rows[0]["Code__c"], 42) << rows.dump();
  EXPECT_TRUE(rows[1]["Count__c"].is_null()) << rows.dump();
  EXPECT_TRUE(rows[1]["Code__c"].is_null()) << "a value the new type cannot hold becomes null: " << rows.dump();
}

TEST_F(org_test, roll_up_summaries_follow_their_children_without_touching_the_parent_stamp) {
  ASSERT_FALSE(model_.define(json::parse(R"({"objects":[
    {"name":"Order__c","fields":[
      {"name":"Total__c","type":"currency","scale":2,
       "rollup":{"function":"SUM","child":"Line__c","field":"Order__c","summarized":"Amount__c"}},
      {"name":"Lines__c","type":"int","rollup":{"function":"COUNT","child":"Line__c","field":"Order__c"}},
      {"name":"Largest__c","type":"double","rollup":{"function":"MAX","child":"Line__c","field":"Order__c","summarized":"Amount__c"}}]},
    {"name":"Line__c","fields":[
      {"name":"Order__c","type":"reference","reference_to":"Order__c"},
      {"name":"Amount__c","type":"currency","scale":2}]}]})")));
  auto order = create("Order__c", {{"Name", "O1"}});
  auto rows = query("SELECT Total__c, Lines__c, Largest__c, SystemModstamp FROM Order__c");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["Total__c"], 0);          // SUM of no children
  EXPECT_EQ(rows[0]["Lines__c"], 0);
  EXPECT_TRUE(rows[0]["Largest__c"].is_null()); // MAX of no children
  std::string stamp = rows[0]["SystemModstamp"];
  clock_.advance(5000);
  auto l1 = create("Line__c", {{"Order__c", order.id}, {"Amount__c", 2.5}});
  create("Line__c", {{"Order__c", order.id}, {"Amount__c", 7}});
  create("Line__c", {{"Amount__c", 100}}); // another parent's (none): not counted
  rows = query("SELECT Total__c, Lines__c, Largest__c, SystemModstamp FROM Order__c");
  EXPECT_EQ(rows[0]["Total__c"], 9.5);
  EXPECT_EQ(rows[0]["Lines__c"], 2);
  EXPECT_EQ(rows[0]["Largest__c"], 7);
  EXPECT_EQ(rows[0]["SystemModstamp"], stamp);
  write_op del;
  del.op = write_op::kind::remove;
  del.id = l1.id;
  ASSERT_TRUE(model_.write(del, admin_).success());
  rows = query("SELECT Total__c, Lines__c FROM Order__c");
  EXPECT_EQ(rows[0]["Total__c"], 7); // a deleted child no longer counts
  EXPECT_EQ(rows[0]["Lines__c"], 1);
  // not writable
  write_op set;
  set.op = write_op::kind::update;
  set.id = order.id;
  set.fields = {{"Total__c", 1}};
  EXPECT_FALSE(model_.write(set, admin_).success());
}

TEST_F(org_test, schema_errors_change_nothing) {
  EXPECT_TRUE(model_.define(json::parse(R"({"objects":[{"name":"Bad__c","fields":[{"name":"X__c","type":"nope"}]}]})")));
  EXPECT_FALSE(model_.has_object("Bad__c"));
  EXPECT_TRUE(model_.define(json::parse(R"({"objects":[{"name":"Bad__c","fields":[{"name":"F__c","formula":"IF("}]}]})")));
  EXPECT_TRUE(model_.define(json::parse(R"([1,2])")));
  EXPECT_TRUE(model_.define(json::parse(
    R"({"objects":[{"name":"Bad__c","fields":[{"name":"R__c","type":"double","rollup":{"function":"AVG","child":"A","field":"B"}}]}]})")));
  EXPECT_TRUE(model_.define(json::parse(
    R"({"objects":[{"name":"Bad__c","fields":[{"name":"R__c","type":"double","rollup":{"function":"SUM","child":"A","field":"B"}}]}]})")));
  EXPECT_TRUE(model_.define(json::parse(
    R"({"objects":[{"name":"Bad__c","fields":[{"name":"R__c","type":"string","rollup":{"function":"COUNT","child":"A","field":"B"}}]}]})")));
  EXPECT_FALSE(model_.has_object("Bad__c"));
}

TEST_F(org_test, csv_load_converts_cells_and_reports_bad_rows) {
  std::size_t count = 0;
  auto res = model_.load_csv("Widget__c",
                             "Name,Price__c,Status__c,Ext__c,Id\n"
                             "A,1.5,New,E1,\n"
                             "\"B, quoted\",2,#N/A,E2,a0100000000000A\n"
                             "C,,Done,,\n",
                             admin_, true, count);
  ASSERT_FALSE(res.error) << *res.error;
  ASSERT_EQ(count, 3u);
  EXPECT_EQ(res.ids[1], "a0100000000000AAAQ");
  auto rows = query("SELECT Id, Name, Price__c, Status__c, Ext__c, CreatedById FROM Widget__c ORDER BY Name");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["Price__c"], 1.5);
  EXPECT_EQ(rows[1]["Name"], "B, quoted");
  EXPECT_TRUE(rows[1]["Status__c"].is_null());
  EXPECT_TRUE(rows[2]["Price__c"].is_null());
  EXPECT_EQ(rows[2]["CreatedById"], admin_);
  // the unique index knows the loaded values
  auto dup = create("Widget__c", {{"Price__c", 1}, {"Ext__c", "E2"}});
  EXPECT_EQ(dup.errors.at(0).code, "DUPLICATE_VALUE");

  auto bad = model_.load_csv("Widget__c", "Name,Price__c\nX,1\nY,lots\n", admin_, false, count);
  ASSERT_TRUE(bad.error);
  EXPECT_NE(bad.error->find("row 3"), std::string::npos) << *bad.error;
  EXPECT_TRUE(model_.load_csv("Widget__c", "Nope__c\n1\n", admin_, false, count).error);
  EXPECT_TRUE(model_.load_csv("Widget__c", "Name\n\"open\n", admin_, false, count).error);
  EXPECT_TRUE(model_.load_csv("Nope__c", "Name\nx\n", admin_, false, count).error);
}

TEST_F(org_test, datetimes_are_kept_to_the_second_as_salesforce_keeps_them) {
  ASSERT_FALSE(model_.define(json::parse(R"({"name":"Widget__c","fields":[{"name":"When__c","type":"datetime"}]})")));
  clock_.set(1700000000123); // 2023-11-14T22:13:20.123Z
  auto a = create("Widget__c", {{"Price__c", 1}, {"When__c", "2024-01-01T10:00:00.789Z"}});
  ASSERT_TRUE(a.success());
  clock_.advance(800); // .923: the same second
  auto b = create("Widget__c", {{"Price__c", 1}, {"When__c", "2024-01-01T10:00:00.999+00:00"}});
  ASSERT_TRUE(b.success());
  clock_.advance(100); // 21.023: the next second
  auto c = create("Widget__c", {{"Price__c", 1}});
  ASSERT_TRUE(c.success());
  auto rows = query("SELECT Id, CreatedDate, SystemModstamp, When__c FROM Widget__c ORDER BY SystemModstamp, Id");
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0]["SystemModstamp"], "2023-11-14T22:13:20.000+0000");
  EXPECT_EQ(rows[0]["CreatedDate"], "2023-11-14T22:13:20.000+0000");
  EXPECT_EQ(rows[1]["SystemModstamp"], rows[0]["SystemModstamp"]); // 800 ms apart, one second: a tie
  EXPECT_EQ(rows[2]["SystemModstamp"], "2023-11-14T22:13:21.000+0000");
  EXPECT_EQ(rows[0]["When__c"], "2024-01-01T10:00:00.000+0000");
  EXPECT_EQ(rows[1]["When__c"], "2024-01-01T10:00:00.000+0000");
  // A filter at millisecond precision sees the stored (whole-second) values.
  auto run = model_.run_query("SELECT COUNT() FROM Widget__c WHERE SystemModstamp = 2023-11-14T22:13:20Z", false);
  ASSERT_TRUE(run);
  EXPECT_EQ(run->total, 2u);
  // Updates, deletes, fast loads (JSON and CSV) and values before 1970 are truncated too.
  clock_.advance(555);
  write_op upd;
  upd.op = write_op::kind::update;
  upd.id = a.id;
  upd.fields = {{"When__c", "1969-12-31T23:59:59.500Z"}};
  ASSERT_TRUE(model_.write(upd, admin_).success());
  auto loaded = model_.bulk_load("Widget__c", {json{{"Price__c", 1}, {"SystemModstamp", "2020-01-01T00:00:00.999Z"}}},
                                 admin_);
  ASSERT_FALSE(loaded.error) << *loaded.error;
  std::size_t count = 0;
  auto csv = model_.load_csv("Widget__c", "Price__c,When__c\n1,2020-01-01T00:00:00.250Z\n", admin_, true, count);
  ASSERT_FALSE(csv.error) << *csv.error;
  auto one = [&](const std::string& id) {
    auto r = query("SELECT SystemModstamp, LastModifiedDate, When__c FROM Widget__c WHERE Id = '" + id + "'");
    return r.empty() ? json() : r[0];
  };
  EXPECT_EQ(one(a.id)["SystemModstamp"], "2023-11-14T22:13:21.000+0000");
  EXPECT_EQ(one(a.id)["LastModifiedDate"], "2023-11-14T22:13:21.000+0000");
  EXPECT_EQ(one(a.id)["When__c"], "1969-12-31T23:59:59.000+0000");
  EXPECT_EQ(one(loaded.ids.at(0))["SystemModstamp"], "2020-01-01T00:00:00.000+0000");
  EXPECT_EQ(one(csv.ids.at(0))["When__c"], "2020-01-01T00:00:00.000+0000");
}

TEST_F(org_test, millisecond_datetimes_keep_what_a_test_asks_for) {
  model_.set_millisecond_datetimes(true);
  ASSERT_FALSE(model_.define(json::parse(R"({"name":"Widget__c","fields":[{"name":"When__c","type":"datetime"}]})")));
  clock_.set(1700000000123);
  auto a = create("Widget__c", {{"Price__c", 1}, {"When__c", "2024-01-01T10:00:00.789Z"}});
  ASSERT_TRUE(a.success());
  auto rows = query("SELECT SystemModstamp, When__c FROM Widget__c");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["SystemModstamp"], "2023-11-14T22:13:20.123+0000");
  EXPECT_EQ(rows[0]["When__c"], "2024-01-01T10:00:00.789+0000");
  model_.set_millisecond_datetimes(false);
  clock_.advance(1000);
  write_op upd;
  upd.op = write_op::kind::update;
  upd.id = a.id;
  upd.fields = {{"Price__c", 2}};
  ASSERT_TRUE(model_.write(upd, admin_).success());
  EXPECT_EQ(query("SELECT SystemModstamp FROM Widget__c")[0]["SystemModstamp"], "2023-11-14T22:13:21.000+0000");
}

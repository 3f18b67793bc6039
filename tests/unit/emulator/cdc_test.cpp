// Change Data Capture in sfemu's org model: which writes become which events.
#include "emulator/cdc/event_log.hpp"
#include "emulator/org.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

using namespace sfemu;
using nlohmann::json;

namespace {

class cdc_test : public ::testing::Test {
protected:
  cdc_test() : model_(clock_) {
    clock_.freeze();
    clock_.set(1700000000000);
    admin_ = model_.find_user("admin@sfemu.local")->id;
    auto err = model_.define(json::parse(R"({"objects":[
      {"name":"Widget__c","fields":[
        {"name":"Ext__c","type":"string","length":10,"external_id":true,"unique":true},
        {"name":"Price__c","type":"currency"},
        {"name":"Note__c","type":"string"},
        {"name":"Label__c","type":"string","formula":"Name & '!'"}
      ]}]})"));
    EXPECT_FALSE(err) << *err;
  }

  write_op op(write_op::kind k, std::string object, std::string id, json fields = json::object()) {
    write_op o;
    o.op = k;
    o.object = std::move(object);
    o.id = std::move(id);
    o.fields = std::move(fields);
    return o;
  }
  std::string create(json fields) {
    auto r = model_.write(op(write_op::kind::create, "Widget__c", "", std::move(fields)), admin_);
    EXPECT_TRUE(r.success());
    return r.id;
  }
  std::vector<cdc::change_event> events(std::uint64_t after = 0) {
    auto r = model_.change_log().read_after(after, 100000);
    EXPECT_EQ(r.what, cdc::read_result::status::ok);
    return r.events;
  }
  static bool has(const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  }
  static const cdc::body_field* field(const cdc::change_event& ev, const std::string& name) {
    for (auto& f : ev.fields)
      if (f.name == name)
        return &f;
    return nullptr;
  }

  sfemu::clock clock_;
  org model_;
  std::string admin_;
};

TEST_F(cdc_test, create_update_delete_undelete_carry_the_header_and_the_right_fields) {
  std::string id;
  {
    cdc::origin_scope origin(cdc::make_origin("rest", "60.0", "syncforce-node1"));
    id = create({{"Name", "W1"}, {"Ext__c", "E1"}, {"Price__c", 5}});
    clock_.advance(2000);
    auto r = model_.write(op(write_op::kind::update, "Widget__c", id, {{"Price__c", 7}, {"Note__c", nullptr},
                                                                       {"Ext__c", "E1"}}),
                          admin_);
    ASSERT_TRUE(r.success());
  }
  model_.write(op(write_op::kind::update, "Widget__c", id, {{"Note__c", "n"}}), admin_);
  model_.write(op(write_op::kind::update, "Widget__c", id, {{"Note__c", nullptr}}), admin_);
  ASSERT_TRUE(model_.write(op(write_op::kind::remove, "", id), admin_).success());
  auto undone = model_.undelete({id}, admin_);
  ASSERT_EQ(undone.size(), 1u);
  ASSERT_TRUE(undone[0].success());

  auto ev = events();
  ASSERT_EQ(ev.size(), 6u);
  const auto& c = ev[0];
  EXPECT_EQ(c.type, cdc::change_type::create);
  EXPECT_EQ(c.entity_name, "Widget__c");
  EXPECT_EQ(c.record_ids, std::vector<std::string>{id});
  EXPECT_EQ(c.change_origin, "com/salesforce/api/rest/60.0;client=syncforce-node1");
  EXPECT_EQ(c.commit_user, admin_);
  EXPECT_EQ(c.commit_timestamp, 1700000000000);
  EXPECT_EQ(c.sequence_number, 1);
  EXPECT_FALSE(c.transaction_key.empty());
  EXPECT_TRUE(c.changed_fields.empty()); // empty on create, as in Salesforce
  ASSERT_NE(field(c, "Name"), nullptr);
  EXPECT_EQ(field(c, "Name")->v.as_string(), "W1");
  EXPECT_EQ(field(c, "Price__c")->v.as_real(), 5.0);
  EXPECT_NE(field(c, "CreatedDate"), nullptr);
  EXPECT_EQ(field(c, "Note__c"), nullptr);        // null on create: not in the body
  EXPECT_EQ(field(c, "Label__c"), nullptr);       // formula: never
  EXPECT_EQ(field(c, "SystemModstamp"), nullptr); // not in change events
  EXPECT_EQ(field(c, "Id"), nullptr);             // in recordIds

  const auto& u = ev[1];
  EXPECT_EQ(u.type, cdc::change_type::update);
  EXPECT_EQ(u.commit_timestamp, 1700000002000);
  EXPECT_GT(u.commit_number, c.commit_number);
  EXPECT_NE(u.transaction_key, c.transaction_key);
  EXPECT_TRUE(has(u.changed_fields, "Price__c"));
  EXPECT_TRUE(has(u.changed_fields, "LastModifiedDate"));
  EXPECT_FALSE(has(u.changed_fields, "Ext__c"));  // given with its current value: no change
  EXPECT_FALSE(has(u.changed_fields, "Note__c")); // was null already
  EXPECT_TRUE(u.nulled_fields.empty());
  EXPECT_EQ(field(u, "Price__c")->v.as_real(), 7.0);
  EXPECT_EQ(field(u, "Name"), nullptr); // unchanged fields are not sent

  EXPECT_EQ(ev[2].change_origin, ""); // no origin set: not an API call
  EXPECT_TRUE(has(ev[2].changed_fields, "Note__c"));
  EXPECT_TRUE(has(ev[3].changed_fields, "Note__c"));
  EXPECT_EQ(ev[3].nulled_fields, std::vector<std::string>{"Note__c"});
  EXPECT_EQ(field(ev[3], "Note__c"), nullptr);

  EXPECT_EQ(ev[4].type, cdc::change_type::remove);
  EXPECT_EQ(ev[4].record_ids, std::vector<std::string>{id});
  EXPECT_TRUE(ev[4].fields.empty());
  EXPECT_EQ(ev[5].type, cdc::change_type::undelete);
  EXPECT_EQ(field(ev[5], "Name")->v.as_string(), "W1");
  for (std::size_t i = 1; i < ev.size(); ++i)
    EXPECT_EQ(ev[i].replay_id, ev[i - 1].replay_id + 1);
}

TEST_F(cdc_test, a_batch_is_one_transaction_and_a_rolled_back_one_publishes_nothing) {
  std::vector<write_op> ops = {op(write_op::kind::create, "Widget__c", "", {{"Name", "A"}, {"Ext__c", "X"}}),
                               op(write_op::kind::create, "Widget__c", "", {{"Name", "B"}, {"Ext__c", "X"}})};
  auto rolled = model_.write_batch(ops, true, admin_);
  ASSERT_FALSE(rolled[1].success());
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(model_.change_log().latest(), 0u);

  ops[1].fields["Ext__c"] = "Y";
  auto ok = model_.write_batch(ops, true, admin_);
  ASSERT_TRUE(ok[0].success() && ok[1].success());
  auto ev = events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[0].transaction_key, ev[1].transaction_key);
  EXPECT_EQ(ev[0].commit_number, ev[1].commit_number);
  EXPECT_EQ(ev[0].sequence_number, 1);
  EXPECT_EQ(ev[1].sequence_number, 2);

  // without allOrNone the successes are committed, the failure publishes nothing
  ops[0].fields["Ext__c"] = "Z";
  auto partial = model_.write_batch(ops, false, admin_);
  ASSERT_TRUE(partial[0].success());
  ASSERT_FALSE(partial[1].success());
  EXPECT_EQ(events(ev.back().replay_id).size(), 1u);
}

TEST_F(cdc_test, only_selected_objects_publish) {
  model_.change_log().select({"account"});
  create({{"Name", "W"}});
  EXPECT_TRUE(events().empty());
  auto r = model_.write(op(write_op::kind::create, "Account", "", {{"Name", "Acme"}}), admin_);
  ASSERT_TRUE(r.success());
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].entity_name, "Account");
  model_.change_log().set_enabled(false);
  create({{"Name", "W2"}});
  model_.write(op(write_op::kind::create, "Account", "", {{"Name", "B"}}), admin_);
  EXPECT_EQ(events().size(), 1u);
}

TEST_F(cdc_test, events_expire_after_72_hours_and_a_replay_from_before_is_too_old) {
  create({{"Name", "old"}});
  auto first = model_.change_log().latest();
  clock_.advance(71LL * 3600 * 1000);
  create({{"Name", "newer"}});
  EXPECT_EQ(events().size(), 2u);
  clock_.advance(2LL * 3600 * 1000); // 73 h after the first event, 2 h after the second
  auto r = model_.change_log().read_after(0, 100);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].replay_id, first + 1);
  // after the first event: still complete (the next one is kept)
  EXPECT_EQ(model_.change_log().read_after(first, 100).what, cdc::read_result::status::ok);
  clock_.advance(72LL * 3600 * 1000);
  create({{"Name", "latest"}});
  EXPECT_EQ(model_.change_log().read_after(first, 100).what, cdc::read_result::status::too_old);
  // after the second (expired) event nothing is missing: the one after it is kept
  EXPECT_EQ(model_.change_log().read_after(first + 1, 100).events.size(), 1u);
  EXPECT_TRUE(model_.change_log().read_after(first + 2, 100).events.empty());
  EXPECT_EQ(model_.change_log().read_after(first + 3, 100).what, cdc::read_result::status::unknown);
}

TEST_F(cdc_test, a_transaction_past_the_overflow_limit_ends_in_one_overflow_event_per_object) {
  model_.change_log().set_overflow_after(2);
  std::vector<write_op> ops;
  for (int i = 0; i < 4; ++i)
    ops.push_back(op(write_op::kind::create, "Widget__c", "", {{"Name", "W" + std::to_string(i)}}));
  ops.push_back(op(write_op::kind::create, "Account", "", {{"Name", "A"}}));
  auto results = model_.write_batch(ops, false, admin_);
  for (auto& r : results)
    ASSERT_TRUE(r.success());
  auto ev = events();
  ASSERT_EQ(ev.size(), 4u);
  EXPECT_EQ(ev[0].type, cdc::change_type::create);
  EXPECT_EQ(ev[1].type, cdc::change_type::create);
  EXPECT_EQ(ev[2].type, cdc::change_type::gap_overflow);
  EXPECT_EQ(ev[2].entity_name, "Widget__c");
  EXPECT_TRUE(ev[2].record_ids.empty());
  EXPECT_EQ(ev[3].type, cdc::change_type::gap_overflow);
  EXPECT_EQ(ev[3].entity_name, "Account");
  EXPECT_EQ(ev[3].transaction_key, ev[0].transaction_key);
}

TEST_F(cdc_test, gap_events_name_their_records_and_control_loads_publish_nothing) {
  auto loaded = model_.bulk_load("Widget__c", {json{{"Name", "quiet"}}}, admin_);
  ASSERT_FALSE(loaded.error);
  EXPECT_TRUE(events().empty());
  EXPECT_EQ(model_.change_log().publish_gap("Widget__c", cdc::change_type::update, loaded.ids, admin_), 1u);
  auto ev = events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(ev[0].type, cdc::change_type::gap_update);
  EXPECT_EQ(ev[0].record_ids, loaded.ids);
  EXPECT_TRUE(ev[0].fields.empty());
}

TEST_F(cdc_test, hard_delete_publishes_delete_and_reset_keeps_replay_ids_growing) {
  auto id = create({{"Name", "gone"}});
  ASSERT_TRUE(model_.write(op(write_op::kind::hard_remove, "", id), admin_).success());
  auto ev = events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(ev[1].type, cdc::change_type::remove);
  EXPECT_EQ(ev[1].record_ids, std::vector<std::string>{id});
  auto last = model_.change_log().latest();
  model_.reset();
  EXPECT_EQ(model_.change_log().size(), 0u);
  ASSERT_TRUE(model_.write(op(write_op::kind::create, "Account", "", {{"Name", "after reset"}}), admin_).success());
  EXPECT_EQ(model_.change_log().latest(), last + 1);
}

TEST_F(cdc_test, undelete_refuses_live_records_and_unique_values_taken_since) {
  auto id = create({{"Name", "A"}, {"Ext__c", "K"}});
  auto live = model_.undelete({id}, admin_);
  EXPECT_FALSE(live[0].success());
  ASSERT_TRUE(model_.write(op(write_op::kind::remove, "", id), admin_).success());
  create({{"Name", "B"}, {"Ext__c", "K"}});
  auto dup = model_.undelete({id}, admin_);
  ASSERT_FALSE(dup[0].success());
  EXPECT_EQ(dup[0].errors[0].code, "DUPLICATE_VALUE");
  auto bad = model_.undelete({"nonsense"}, admin_);
  EXPECT_EQ(bad[0].errors[0].code, "MALFORMED_ID");
  EXPECT_EQ(events().back().type, cdc::change_type::create); // no UNDELETE published
}

TEST_F(cdc_test, waiting_wakes_on_a_new_event) {
  auto& log = model_.change_log();
  EXPECT_FALSE(log.wait_beyond(0, 10));
  std::thread writer([&] { create({{"Name", "soon"}}); });
  EXPECT_TRUE(log.wait_beyond(0, 10000));
  writer.join();
}

TEST(cdc_names, change_event_names_follow_salesforce) {
  EXPECT_EQ(cdc::event_name_of("Account"), "AccountChangeEvent");
  EXPECT_EQ(cdc::event_name_of("Widget__c"), "Widget__ChangeEvent");
  EXPECT_EQ(cdc::object_of_event("AccountChangeEvent"), "Account");
  EXPECT_EQ(cdc::object_of_event("Widget__ChangeEvent"), "Widget__c");
  EXPECT_EQ(cdc::object_of_event("ChangeEvent"), "");
  EXPECT_EQ(cdc::object_of_event("Account"), "");
  EXPECT_EQ(cdc::client_of_call_options("client=node-1, defaultNamespace=x"), "node-1");
  EXPECT_EQ(cdc::client_of_call_options("defaultNamespace=x"), "");
  EXPECT_EQ(cdc::make_origin("bulkapi", "60.0", ""), "com/salesforce/api/bulkapi/60.0");
}

} // namespace

// The engine's decoder against what sfemu's Pub/Sub API sends: the schema GetSchema
// returns (emulator/pubsub/avro_codec) and Avro payloads of real change events.
#include "salesforce/pubsub/change_event_decoder.hpp"

#include "emulator/org.hpp"
#include "emulator/pubsub/avro_codec.hpp"

#include <gtest/gtest.h>

#include <algorithm>

using namespace syncforce::pubsub;
using nlohmann::json;

namespace {

class decoder_test : public ::testing::Test {
protected:
  decoder_test() : model_(clock_) {
    clock_.freeze();
    clock_.set(1700000000000);
    admin_ = model_.find_user("admin@sfemu.local")->id;
    auto err = model_.define(json::parse(R"({"objects":[{"name":"Widget__c","fields":[
      {"name":"Price__c","type":"currency"},{"name":"Count__c","type":"int"},{"name":"Ok__c","type":"boolean"},
      {"name":"Due__c","type":"date"},{"name":"At__c","type":"datetime"},{"name":"Note__c","type":"string"}]}]})"));
    EXPECT_FALSE(err) << *err;
  }

  /// The events sfemu's log holds, encoded as its Pub/Sub API sends them, and the schema.
  std::vector<std::string> encoded(std::string& schema_id, std::string& schema_json) {
    auto def = model_.object_definition("Widget__c");
    schema_id = codec_.schema_for(*def);
    schema_json = *codec_.schema_json(schema_id);
    std::vector<std::string> out;
    for (auto& ev : model_.change_log().read_after(0, 100).events) {
      std::string payload, error;
      EXPECT_TRUE(codec_.encode(ev, schema_id, payload, error)) << error;
      out.push_back(payload);
    }
    return out;
  }

  sfemu::clock clock_;
  sfemu::org model_;
  sfemu::pubsub::codec codec_;
  std::string admin_;
};

TEST_F(decoder_test, create_update_and_delete_decode_to_header_fields_and_names) {
  sfemu::write_op create;
  create.op = sfemu::write_op::kind::create;
  create.object = "Widget__c";
  create.fields = {{"Name", "W"}, {"Price__c", 9.5}, {"Count__c", 3}, {"Ok__c", true}, {"Due__c", "2024-01-31"},
                   {"At__c", "2024-01-31T10:00:00Z"}, {"Note__c", "n"}};
  std::string id;
  {
    sfemu::cdc::origin_scope origin(sfemu::cdc::make_origin("rest", "60.0", "syncforce/node-a"));
    auto r = model_.write(create, admin_);
    ASSERT_TRUE(r.success());
    id = r.id;
  }
  sfemu::write_op update;
  update.op = sfemu::write_op::kind::update;
  update.id = id;
  update.fields = {{"Count__c", 4}, {"Note__c", nullptr}};
  ASSERT_TRUE(model_.write(update, admin_).success());
  sfemu::write_op remove;
  remove.op = sfemu::write_op::kind::remove;
  remove.id = id;
  ASSERT_TRUE(model_.write(remove, admin_).success());

  std::string schema_id, schema_json;
  auto payloads = encoded(schema_id, schema_json);
  ASSERT_EQ(payloads.size(), 3u);
  change_event_decoder decoder;
  ASSERT_FALSE(decoder.add_schema(schema_id, schema_json));

  change_event c;
  ASSERT_FALSE(decoder.decode(schema_id, payloads[0], c));
  EXPECT_EQ(c.entity_name, "Widget__c");
  EXPECT_EQ(c.change_type, "CREATE");
  EXPECT_EQ(c.record_ids, std::vector<std::string>{id});
  EXPECT_EQ(c.change_origin, "com/salesforce/api/rest/60.0;client=syncforce/node-a");
  EXPECT_EQ(c.commit_timestamp, 1700000000000);
  EXPECT_EQ(c.commit_user, admin_);
  EXPECT_EQ(c.sequence_number, 1);
  EXPECT_EQ(c.fields["Name"], "W");
  EXPECT_EQ(c.fields["Price__c"], 9.5);
  EXPECT_EQ(c.fields["Count__c"], 3);
  EXPECT_EQ(c.fields["Ok__c"], true);
  EXPECT_EQ(c.fields["Due__c"], 19753); // days since the epoch
  EXPECT_EQ(c.fields["At__c"], 1706695200000LL);
  EXPECT_FALSE(c.fields.contains("SystemModstamp"));
  EXPECT_TRUE(c.changed_fields.empty());

  change_event u;
  ASSERT_FALSE(decoder.decode(schema_id, payloads[1], u));
  EXPECT_EQ(u.change_type, "UPDATE");
  EXPECT_EQ(u.fields["Count__c"], 4);
  EXPECT_FALSE(u.fields.contains("Name")); // unchanged: null, left out
  EXPECT_EQ(u.nulled_fields, std::vector<std::string>{"Note__c"});
  std::vector<std::string> changed = u.changed_fields;
  std::sort(changed.begin(), changed.end());
  EXPECT_EQ(changed, (std::vector<std::string>{"Count__c", "LastModifiedDate", "Note__c"}));

  change_event d;
  ASSERT_FALSE(decoder.decode(schema_id, payloads[2], d));
  EXPECT_EQ(d.change_type, "DELETE");
  EXPECT_EQ(d.record_ids, std::vector<std::string>{id});
  EXPECT_TRUE(d.fields.empty());
  EXPECT_FALSE(d.is_gap());
}

TEST_F(decoder_test, bad_schemas_payloads_and_bitmaps_are_errors) {
  change_event_decoder decoder;
  EXPECT_TRUE(decoder.add_schema("x", "not json"));
  EXPECT_TRUE(decoder.add_schema("x", R"({"type":"record","name":"A","fields":[{"name":"Id","type":"string"}]})"));
  EXPECT_FALSE(decoder.has_schema("x"));
  change_event ev;
  ev.entity_name = "untouched";
  EXPECT_TRUE(decoder.decode("nope", "", ev));
  std::string schema_id, schema_json;
  sfemu::write_op create;
  create.op = sfemu::write_op::kind::create;
  create.object = "Widget__c";
  create.fields = {{"Name", "W"}};
  ASSERT_TRUE(model_.write(create, admin_).success());
  auto payloads = encoded(schema_id, schema_json);
  ASSERT_FALSE(decoder.add_schema(schema_id, schema_json));
  auto err = decoder.decode(schema_id, payloads[0].substr(0, 5), ev); // truncated
  ASSERT_TRUE(err);
  EXPECT_EQ(ev.entity_name, "untouched");

  std::vector<std::string> names;
  std::vector<std::string> fields = {"ChangeEventHeader", "Name", "BillingAddress", "Phone"};
  std::map<std::size_t, std::vector<std::string>> subs = {{2, {"Street", "City"}}};
  ASSERT_FALSE(bitmap_names({"0xE", "2-0x2"}, fields, subs, names));
  EXPECT_EQ(names, (std::vector<std::string>{"Name", "Phone", "BillingAddress.City"}));
  EXPECT_TRUE(bitmap_names({"0x10"}, fields, subs, names));    // bit 4: no such field
  EXPECT_TRUE(bitmap_names({"zz"}, fields, subs, names));      // not a bitmap
  EXPECT_TRUE(bitmap_names({"1-0x1"}, fields, subs, names));   // Name is not compound
  EXPECT_EQ(decode_replay_id(encode_replay_id(0x0102030405060708ULL)), 0x0102030405060708ULL);
  EXPECT_FALSE(decode_replay_id("short"));
}

} // namespace

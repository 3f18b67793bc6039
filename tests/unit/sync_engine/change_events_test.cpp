// Change events applied to a mapped table: the pure decisions (sync/change_events.hpp),
// as tables of cases, and the Pub/Sub endpoint's confinement (sync/secret_policy.hpp).

#include "sync/change_events.hpp"
#include "sync/mapping_config.hpp"
#include "sync/secret_policy.hpp"

#include <gtest/gtest.h>

using namespace syncforce;
using nlohmann::json;

namespace {

const std::string rest_origin = "com/salesforce/api/rest/60.0";

} // namespace

TEST(change_events, event_to_action) {
  struct row {
    const char* entity;
    const char* type;
    std::string origin;
    event_action expected;
  };
  const std::vector<row> table{
    {"Account", "CREATE", rest_origin + ";client=someone-else", event_action::upsert_all},
    {"Account", "UNDELETE", "", event_action::upsert_all},
    {"Account", "UPDATE", rest_origin, event_action::update_changed},
    {"Account", "DELETE", rest_origin + ";client=dataloader", event_action::remove},
    // Our own creates and deletes, from any node of the engine: the write-back recorded them.
    {"Account", "CREATE", "com/salesforce/api/bulkapi/60.0;client=syncforce/node-2", event_action::skip_echo},
    {"Account", "DELETE", rest_origin + ";client=syncforce", event_action::skip_echo},
    {"Account", "UNDELETE", rest_origin + ";client=syncforce/node-1", event_action::skip_echo},
    // Our own updates are applied again (quietly, through the upsert's rules): another
    // user's older change, applied after the write-back was recorded, must not stay.
    {"Account", "UPDATE", rest_origin + ";client=syncforce/node-1", event_action::apply_echo},
    {"Account", "UPDATE", rest_origin + ";client=syncforce", event_action::apply_echo},
    // Not ours: a client whose name only starts like ours.
    {"Account", "UPDATE", rest_origin + ";client=syncforcex", event_action::update_changed},
    {"Account", "UPDATE", rest_origin + ";client=syncforce-other/1", event_action::update_changed},
    // Gaps and overflows say something changed that no event describes, whoever did it.
    {"Account", "GAP_UPDATE", "", event_action::catch_up},
    {"Account", "GAP_CREATE", rest_origin + ";client=syncforce/node-1", event_action::catch_up},
    {"Account", "GAP_OVERFLOW", "", event_action::catch_up},
    {"Account", "SOMETHING_NEW", "", event_action::catch_up},
    // Another object's event (an all-objects channel).
    {"Contact", "UPDATE", rest_origin, event_action::ignore},
    {"account", "UPDATE", rest_origin, event_action::update_changed},
  };
  for (const auto& r : table)
    EXPECT_EQ(plan_event(event_header{r.entity, r.type, r.origin}, "Account", "syncforce"), r.expected)
      << r.entity << " " << r.type << " " << r.origin << " -> " << to_string(r.expected);
  // Without a client name of its own nothing is an echo.
  EXPECT_EQ(plan_event(event_header{"Account", "UPDATE", rest_origin + ";client=syncforce/n"}, "Account", ""),
            event_action::update_changed);
}

TEST(change_events, origin_client_parsing) {
  EXPECT_EQ(origin_client(rest_origin + ";client=abc"), "abc");
  EXPECT_EQ(origin_client(rest_origin + ";client=abc;other=1"), "abc");
  EXPECT_EQ(origin_client(rest_origin), std::nullopt);
  EXPECT_EQ(origin_client(""), std::nullopt);
  EXPECT_EQ(origin_client("client=x"), "x");
  // `client=` inside another parameter's value is not the client.
  EXPECT_EQ(origin_client(rest_origin + ";myclient=x"), std::nullopt);
}

TEST(change_events, values_in_postgres_input_form) {
  // 2026-12-05T01:02:03.456Z = 1796432523456 ms
  EXPECT_EQ(event_value_to_wire(pg_value_kind::timestamp, json(1796432523456LL)), "2026-12-05T01:02:03.456+0000");
  EXPECT_EQ(event_value_to_wire(pg_value_kind::timestamp, json(-1)), "1969-12-31T23:59:59.999+0000");
  EXPECT_EQ(event_value_to_wire(pg_value_kind::date, json(20792)), "2026-12-05");
  EXPECT_EQ(event_value_to_wire(pg_value_kind::time, json(3723004)), "01:02:03.004Z");
  EXPECT_EQ(event_value_to_wire(pg_value_kind::text, json("x")), "x");
  EXPECT_EQ(event_value_to_wire(pg_value_kind::double_precision, json(2.5)), json(2.5));
  EXPECT_TRUE(event_value_to_wire(pg_value_kind::timestamp, json(nullptr)).is_null());
  // ... and through the poll's own conversion.
  auto v = convert_json_value(pg_value_kind::timestamp,
                              event_value_to_wire(pg_value_kind::timestamp, json(1796432523456LL)));
  ASSERT_TRUE(v.ok()) << v.error;
  ASSERT_TRUE(v.text);
  EXPECT_EQ(v.text->substr(0, 19), "2026-12-05 01:02:03");
  auto d = convert_json_value(pg_value_kind::date, event_value_to_wire(pg_value_kind::date, json(20792)));
  ASSERT_TRUE(d.ok() && d.text) << d.error;
  EXPECT_EQ(*d.text, "2026-12-05");
  // Stamps floor to the second, as Salesforce's SystemModstamp.
  EXPECT_EQ(stamp_text(1796432523999LL), "2026-12-05 01:02:03");
  EXPECT_EQ(stamp_text(1796432523000LL), "2026-12-05 01:02:03");
}

TEST(change_events, columns_an_event_may_touch) {
  hc_table_spec spec;
  spec.table = "account";
  auto col = [](const char* name, const char* field, pg_value_kind kind = pg_value_kind::text) {
    pg_column c;
    c.name = name;
    c.sf_field = field;
    c.kind = kind;
    return c;
  };
  spec.columns = {col("sfid", "Id"),
                  col("isdeleted", "IsDeleted", pg_value_kind::boolean),
                  col("systemmodstamp", "SystemModstamp", pg_value_kind::timestamp),
                  col("name", "Name"),
                  col("phone", "Phone"),
                  col("score__c", "Score__c", pg_value_kind::double_precision),
                  col("parent__r__ext__c", "Parent__r.Ext__c"),
                  col("loc__latitude__s", "Loc__Latitude__s", pg_value_kind::double_precision),
                  col("label__c", "Label__c")};
  const std::vector<std::string> calculated{"Label__c"};
  auto names = [](const std::vector<const pg_column*>& cols) {
    std::vector<std::string> out;
    for (const auto* c : cols)
      out.push_back(c->name);
    return out;
  };
  // A create sets every plain, non-calculated field (absent ones are null).
  EXPECT_EQ(names(event_columns(spec, event_action::upsert_all, {}, calculated)),
            (std::vector<std::string>{"name", "phone", "score__c"}));
  // An update only what changed (or was nulled); unmapped fields are ignored.
  EXPECT_EQ(names(event_columns(spec, event_action::update_changed, {"phone", "LastModifiedDate", "Other__c"},
                                calculated)),
            (std::vector<std::string>{"phone"}));
  EXPECT_TRUE(event_columns(spec, event_action::update_changed, {"Label__c"}, calculated).empty());
  // An echo of our own update sets the fields it changed, like any update.
  EXPECT_EQ(names(event_columns(spec, event_action::apply_echo, {"phone", "LastModifiedDate", "Other__c"},
                                calculated)),
            (std::vector<std::string>{"phone"}));
  EXPECT_TRUE(event_columns(spec, event_action::skip_echo, {"phone"}, calculated).empty());
  EXPECT_TRUE(event_columns(spec, event_action::remove, {"Name"}, calculated).empty());
}

TEST(change_events, pubsub_endpoint_is_confined) {
  secret_policy policy;
  EXPECT_FALSE(refuse_pubsub_endpoint("https://api.pubsub.salesforce.com:7443", policy));
  EXPECT_FALSE(refuse_pubsub_endpoint("https://api.pubsub.salesforce.com", policy));
  EXPECT_FALSE(refuse_pubsub_endpoint("https://acme.my.salesforce.com:7443", policy)); // a login host
  auto why = refuse_pubsub_endpoint("https://evil.example.com:7443", policy);
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("evil.example.com"), std::string::npos) << *why;
  EXPECT_TRUE(refuse_pubsub_endpoint("http://127.0.0.1:7000", policy)); // plain only for development hosts
  EXPECT_TRUE(refuse_pubsub_endpoint("api.pubsub.salesforce.com:7443", policy));
  EXPECT_TRUE(refuse_pubsub_endpoint("https://user@api.pubsub.salesforce.com:7443", policy));
  EXPECT_TRUE(refuse_pubsub_endpoint("https://api.pubsub.salesforce.com:7443/x", policy));
  EXPECT_TRUE(refuse_pubsub_endpoint("https://api.pubsub.salesforce.com:99999", policy));
  policy.insecure_login_hosts = {"127.0.0.1"};
  EXPECT_FALSE(refuse_pubsub_endpoint("http://127.0.0.1:7000", policy));
  auto p = parse_pubsub_endpoint("http://127.0.0.1:7000");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->target, "127.0.0.1:7000");
  EXPECT_FALSE(p->tls);
  p = parse_pubsub_endpoint("https://api.pubsub.salesforce.com/");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->target, "api.pubsub.salesforce.com:7443");
  EXPECT_TRUE(p->tls);
}

#include "sync/logfmt.hpp"

#include <gtest/gtest.h>

using namespace syncforce;

TEST(logfmt, heroku_connect_shape) {
  log_event ev{"RELOAD TABLE contact", "mapping", "3f2a", "RELOAD_TABLE"};
  ev.with("addon_id", "a-1");
  EXPECT_EQ(format_logfmt(ev), "event=\"RELOAD TABLE contact\" addon_id=a-1 object_type=mapping object_id=3f2a "
                               "state=RELOAD_TABLE");
}

TEST(logfmt, quotes_and_escapes_values_that_need_it) {
  EXPECT_EQ(logfmt_value("plain"), "plain");
  EXPECT_EQ(logfmt_value(""), "\"\"");
  EXPECT_EQ(logfmt_value("two words"), "\"two words\"");
  EXPECT_EQ(logfmt_value("a=b"), "\"a=b\"");
  EXPECT_EQ(logfmt_value("say \"hi\"\n"), "\"say \\\"hi\\\"\\n\"");
  EXPECT_EQ(logfmt_value("x", true), "\"x\"");
}

TEST(logfmt, omits_empty_object_fields) {
  log_event ev{"Database unavailable", "", "", ""};
  EXPECT_EQ(format_logfmt(ev), "event=\"Database unavailable\"");
}

TEST(redact, hides_passwords_in_urls_and_key_values) {
  EXPECT_EQ(redact_url("postgresql://bob:s3cret@db:5432/app"), "postgresql://bob:***@db:5432/app");
  EXPECT_EQ(redact_url("postgresql://bob@db/app"), "postgresql://bob@db/app");
  EXPECT_EQ(redact_url("host=db password=s3cret user=bob"), "host=db password=*** user=bob");
  EXPECT_EQ(redact_url("postgresql://db/app?user=bob&password=s3cret"), "postgresql://db/app?user=bob&password=***");
  EXPECT_EQ(redact_url("host=db password='a b' user=x").find("a b"), std::string::npos);
}

TEST(logfmt, addon_id_comes_right_after_the_event_as_in_heroku_connects_lines) {
  log_event ev{"Contact QUERY \xE2\x86\xB7SALESFORCE 500 rows (0.77 secs)", "sync", "82b1", "IDLE"};
  ev.with("object_name", "Contact").addon("82b1");
  EXPECT_EQ(format_logfmt(ev), "event=\"Contact QUERY \xE2\x86\xB7SALESFORCE 500 rows (0.77 secs)\" addon_id=82b1 "
                               "object_name=Contact object_type=sync object_id=82b1 state=IDLE");
  log_event node{"Node starting", "node", "n1", "STARTING"};
  node.addon(""); // node-level lines belong to no connection
  EXPECT_EQ(format_logfmt(node), "event=\"Node starting\" object_type=node object_id=n1 state=STARTING");
}

#include "store/cutover_catalog.hpp"

#include <gtest/gtest.h>

using namespace syncforce::store;

namespace {

const std::vector<cutover_table> contact{{"Contact", "contact", "", ""}};

TEST(cutover_retarget, points_qualified_references_at_the_target_schema) {
  EXPECT_EQ(retarget(" SELECT contact.sfid FROM schema1.contact WHERE contact.name <> ''", "schema1", "schema2",
                     contact),
            " SELECT contact.sfid FROM \"schema2\".\"contact\" WHERE contact.name <> ''");
  EXPECT_EQ(retarget("CREATE INDEX i ON schema1.contact USING btree (email)", "schema1", "schema2", contact),
            "CREATE INDEX i ON \"schema2\".\"contact\" USING btree (email)");
  EXPECT_EQ(retarget("FROM \"schema1\".\"contact\" JOIN schema1.\"contact\" x", "schema1", "schema2", contact),
            "FROM \"schema2\".\"contact\" JOIN \"schema2\".\"contact\" x");
}

TEST(cutover_retarget, leaves_other_names_alone) {
  // a longer table name, another schema with the same suffix, a column reference
  const std::string text = "FROM schema1.contact_history, myschema1.contact, schema1.contacts, x.schema1.contact";
  EXPECT_EQ(retarget(text, "schema1", "schema2", contact), text);
  EXPECT_EQ(retarget("FROM schema1.account", "schema1", "schema2", contact), "FROM schema1.account");
}

TEST(cutover_search_path, puts_the_target_right_before_the_source) {
  EXPECT_EQ(search_path_with("schema1, public", "schema1", "schema2"), "\"schema2\", schema1, public");
  EXPECT_EQ(search_path_with("\"$user\", schema1, public", "schema1", "schema2"),
            "\"$user\", \"schema2\", schema1, public");
  EXPECT_EQ(search_path_with("\"Schema1\",public", "Schema1", "schema2"), "\"schema2\", \"Schema1\", public");
  // a later target moves before the source
  EXPECT_EQ(search_path_with("schema1, public, schema2", "schema1", "schema2"), "\"schema2\", schema1, public");
}

TEST(cutover_search_path, leaves_a_path_alone_when_there_is_nothing_to_do) {
  EXPECT_EQ(search_path_with("schema2, schema1, public", "schema1", "schema2"), "schema2, schema1, public");
  EXPECT_EQ(search_path_with("public", "schema1", "schema2"), "public");
  // unquoted names fold to lower case: SCHEMA1 is schema1, "Schema1" is not
  EXPECT_EQ(search_path_with("SCHEMA1, public", "schema1", "schema2"), "\"schema2\", SCHEMA1, public");
  EXPECT_EQ(search_path_with("\"Schema1\", public", "schema1", "schema2"), "\"Schema1\", public");
}

TEST(cutover_statements, drop_in_reverse_then_create_in_order) {
  std::vector<dependent_object> objects{
    {"view", "v1", "", carry_phase::in_switch, {"DROP VIEW v1"}, {"CREATE VIEW v1"}, ""},
    {"index", "i", "", carry_phase::prepare, {}, {"CREATE INDEX i"}, ""},
    {"view", "v2", "", carry_phase::in_switch, {"DROP VIEW v2"}, {"CREATE VIEW v2"}, ""},
  };
  EXPECT_EQ(carry_statements(objects, carry_phase::in_switch),
            (std::vector<std::string>{"DROP VIEW v2", "DROP VIEW v1", "CREATE VIEW v1", "CREATE VIEW v2"}));
  EXPECT_EQ(carry_statements(objects, carry_phase::prepare), (std::vector<std::string>{"CREATE INDEX i"}));
}

} // namespace

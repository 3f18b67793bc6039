// Unit tests of sfemu's SOQL engine: lexer, parser, binder, evaluator, ORDER BY,
// and the exact Salesforce error codes, messages and pointers.

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "emulator/soql/lexer.hpp"
#include "emulator/soql/soql.hpp"
#include "soql_fake.hpp"

namespace {

using namespace sfemu::soql;

constexpr std::int64_t jan1_2024_ms = 1'704'067'200'000;  // 2024-01-01T00:00:00Z
constexpr std::int64_t hour_ms = 3'600'000;

/// 18-character ids with mixed case in the 15-character part: <prefix>Ab<10 digits>AAA.
std::string make_id(const char* prefix, int n) {
  std::string digits = std::to_string(n);
  return prefix + std::string("Ab") + std::string(10 - digits.size(), '0') + digits + "AAA";
}
std::string aid(int n) {
  return make_id("001", n);
}
std::string cid(int n) {
  return make_id("003", n);
}
std::string uid(int n) {
  return make_id("005", n);
}

soql_error parse_error(const std::string& soql) {
  auto q = parse(soql);
  EXPECT_FALSE(q.ok()) << soql;
  return q.ok() ? soql_error{} : q.error();
}

// ---- values and calendar ------------------------------------------------------

TEST(soql_value, calendar_round_trips) {
  EXPECT_EQ(days_from_civil(1970, 1, 1), 0);
  EXPECT_EQ(days_from_civil(2024, 1, 1), 19723);
  EXPECT_EQ(days_from_civil(1969, 12, 31), -1);
  auto c = civil_from_days(days_from_civil(2024, 2, 29));
  EXPECT_EQ(c.year, 2024);
  EXPECT_EQ(c.month, 2u);
  EXPECT_EQ(c.day, 29u);
  EXPECT_EQ(format_date(19723), "2024-01-01");
  EXPECT_EQ(format_datetime(jan1_2024_ms + 1234), "2024-01-01T00:00:01.234+0000");
  EXPECT_EQ(format_datetime(-1), "1969-12-31T23:59:59.999+0000");
}

TEST(soql_value, parses_dates_and_datetimes) {
  EXPECT_EQ(parse_date("2024-01-01"), 19723);
  EXPECT_FALSE(parse_date("2024-02-30"));
  EXPECT_FALSE(parse_date("2023-02-29"));
  EXPECT_TRUE(parse_date("2024-02-29"));
  EXPECT_FALSE(parse_date("2024-1-01"));
  EXPECT_EQ(parse_datetime("2024-01-01T00:00:00Z"), jan1_2024_ms);
  EXPECT_EQ(parse_datetime("2024-01-01T00:00:00.000+02:00"), jan1_2024_ms - 2 * hour_ms);
  EXPECT_EQ(parse_datetime("2024-01-01T00:00:00-05:00"), jan1_2024_ms + 5 * hour_ms);
  EXPECT_EQ(parse_datetime("2024-01-01T00:00:00.5Z"), jan1_2024_ms + 500);
  EXPECT_EQ(parse_datetime("2024-01-01T00:00:00.000+0000"), jan1_2024_ms);
  EXPECT_FALSE(parse_datetime("2024-01-01T24:00:00Z"));
  EXPECT_FALSE(parse_datetime("2024-01-01T00:00:00"));
  EXPECT_FALSE(parse_datetime("2024-01-01T00:00:00Zjunk"));
}

TEST(soql_value, field_types_round_trip) {
  EXPECT_EQ(field_type_from_string("datetime"), field_type::datetime);
  EXPECT_EQ(field_type_from_string("int"), field_type::integer);
  EXPECT_EQ(field_type_from_string("MultiPicklist"), field_type::multipicklist);
  EXPECT_FALSE(field_type_from_string("nope"));
  EXPECT_EQ(to_string(field_type::double_), "double");
  EXPECT_TRUE(is_text_type(field_type::email));
  EXPECT_FALSE(is_text_type(field_type::boolean));
  EXPECT_FALSE(is_text_type(field_type::time));
  EXPECT_TRUE(is_numeric_type(field_type::percent));
}

// ---- lexer ------------------------------------------------------------------

TEST(soql_lexer, tokenizes_every_kind) {
  auto t = tokenize("SELECT a.b, 'x' -5 +2.5 .5 2024-01-01 2024-01-01T10:00:00Z ( ) : = != <> < <= > >=");
  ASSERT_TRUE(t) << t.error().message;
  std::vector<token_kind> kinds;
  for (const auto& tok : *t)
    kinds.push_back(tok.kind);
  std::vector<token_kind> want{
    token_kind::identifier, token_kind::identifier, token_kind::dot,     token_kind::identifier,
    token_kind::comma,      token_kind::string,     token_kind::integer, token_kind::decimal,
    token_kind::decimal,    token_kind::date,       token_kind::datetime, token_kind::lparen,
    token_kind::rparen,     token_kind::colon,      token_kind::eq,      token_kind::ne,
    token_kind::ne,         token_kind::lt,         token_kind::le,      token_kind::gt,
    token_kind::ge,         token_kind::end};
  EXPECT_EQ(kinds, want);
  EXPECT_EQ((*t)[6].integer, -5);
  EXPECT_DOUBLE_EQ((*t)[7].decimal, 2.5);
  EXPECT_DOUBLE_EQ((*t)[8].decimal, 0.5);
  EXPECT_EQ((*t)[10].integer, jan1_2024_ms + 10 * hour_ms);
  EXPECT_EQ((*t)[5].offset, 12u);
}

TEST(soql_lexer, decodes_every_escape) {
  auto t = tokenize(R"('a\'b\\c\nd\te\"f\%g\_h\rB\bF\f\u00e9')");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ((*t)[0].text, "a'b\\c\nd\te\"f%g_h\rB\bF\f\xC3\xA9");
  // LIKE form keeps escaped wildcards and backslashes distinct from bare ones.
  EXPECT_EQ((*t)[0].like, "a'b\\\\c\nd\te\"f\\%g\\_h\rB\bF\f\xC3\xA9");
  auto w = tokenize("'50%_x'");
  ASSERT_TRUE(w);
  EXPECT_EQ((*w)[0].like, "50%_x");
}

TEST(soql_lexer, rejects_bad_escapes_strings_and_characters) {
  auto e = tokenize(R"(SELECT Id FROM Account WHERE Name = 'a\qb')");
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, "MALFORMED_QUERY");
  EXPECT_EQ(e.error().message, R"(Invalid string literal 'a\qb'. Illegal character sequence '\q' in string literal.)");
  auto u = tokenize("SELECT Id FROM Account WHERE Name = 'abc");
  ASSERT_FALSE(u);
  EXPECT_EQ(u.error().message, "line 1:40 mismatched character '<EOF>' expecting '''");
  auto c = tokenize("SELECT Id FROM Account WHERE Name # 'a'");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, "line 1:34 no viable alternative at character '#'");
  auto d = tokenize("SELECT Id FROM Account WHERE LastActivityDate = 2024-13-01");
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, "MALFORMED_QUERY");
  EXPECT_NE(d.error().message.find("unexpected token: '2024-13-01'"), std::string::npos);
}

TEST(soql_lexer, huge_integers_become_decimals) {
  auto t = tokenize("99999999999999999999 -9223372036854775808 9223372036854775807");
  ASSERT_TRUE(t);
  EXPECT_EQ((*t)[0].kind, token_kind::decimal);
  EXPECT_EQ((*t)[1].kind, token_kind::integer);
  EXPECT_EQ((*t)[1].integer, INT64_MIN);
  EXPECT_EQ((*t)[2].integer, INT64_MAX);
}

// ---- parser -----------------------------------------------------------------

TEST(soql_parser, parses_a_full_query) {
  auto q = parse("select Id, account.owner.NAME from Contact where (A = 1 or B != 'x') and not C < 2 "
                 "order by LastName desc nulls first, Id limit 10 offset 5");
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_FALSE(q->count_only);
  ASSERT_EQ(q->fields.size(), 2u);
  EXPECT_EQ(q->fields[1].parts, (std::vector<std::string>{"account", "owner", "NAME"}));
  EXPECT_EQ(q->fields[1].text(), "account.owner.NAME");
  EXPECT_EQ(q->object, "Contact");
  ASSERT_TRUE(q->where);
  EXPECT_EQ(q->where->type, expr::kind::and_);
  ASSERT_EQ(q->where->children.size(), 2u);
  EXPECT_EQ(q->where->children[0]->type, expr::kind::or_);
  EXPECT_EQ(q->where->children[1]->type, expr::kind::not_);
  ASSERT_EQ(q->order_by.size(), 2u);
  EXPECT_TRUE(q->order_by[0].descending);
  EXPECT_FALSE(q->order_by[0].nulls_last);
  EXPECT_FALSE(q->order_by[1].descending);
  EXPECT_FALSE(q->order_by[1].nulls_last);
  EXPECT_EQ(q->limit, 10);
  EXPECT_EQ(q->offset, 5);
}

TEST(soql_parser, order_by_null_defaults_follow_salesforce) {
  auto q = parse("SELECT Id FROM Account ORDER BY Name DESC, Id ASC NULLS LAST, CreatedDate");
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->order_by[0].nulls_last);   // DESC -> NULLS LAST
  EXPECT_TRUE(q->order_by[1].nulls_last);   // explicit
  EXPECT_FALSE(q->order_by[2].nulls_last);  // ASC -> NULLS FIRST
}

TEST(soql_parser, and_binds_tighter_than_or) {
  auto q = parse("SELECT Id FROM Account WHERE A = 1 OR B = 2 AND C = 3 OR D = 4");
  ASSERT_TRUE(q);
  ASSERT_EQ(q->where->type, expr::kind::or_);
  ASSERT_EQ(q->where->children.size(), 3u);
  EXPECT_EQ(q->where->children[1]->type, expr::kind::and_);
}

TEST(soql_parser, count_and_literals) {
  auto q = parse("SELECT COUNT() FROM Account WHERE A IN (null, true, FALSE, -1, 2.5, 'x', 2024-01-01, "
                 "2024-01-01T00:00:00Z, TODAY, yesterday, Tomorrow, LAST_N_DAYS:7, NEXT_N_DAYS:3, LAST_90_DAYS)");
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_TRUE(q->count_only);
  const auto& v = q->where->cond.values;
  ASSERT_EQ(v.size(), 14u);
  EXPECT_EQ(v[0].type, literal::kind::null);
  EXPECT_TRUE(v[1].boolean);
  EXPECT_FALSE(v[2].boolean);
  EXPECT_EQ(v[3].integer, -1);
  EXPECT_DOUBLE_EQ(v[4].decimal, 2.5);
  EXPECT_EQ(v[5].text, "x");
  EXPECT_EQ(v[6].integer, 19723);
  EXPECT_EQ(v[7].integer, jan1_2024_ms);
  EXPECT_EQ(v[8].relative, relative_unit::this_);
  EXPECT_EQ(v[8].period, date_period::day);
  EXPECT_EQ(v[9].relative, relative_unit::last);
  EXPECT_EQ(v[10].relative, relative_unit::next);
  EXPECT_EQ(v[11].relative, relative_unit::last_n);
  EXPECT_EQ(v[11].integer, 7);
  EXPECT_EQ(v[12].relative, relative_unit::next_n);
  EXPECT_EQ(v[12].integer, 3);
  EXPECT_EQ(v[13].integer, 90);
}

TEST(soql_parser, every_operator) {
  struct item {
    const char* text;
    comparison_op op;
  } items[] = {{"=", comparison_op::eq},        {"!=", comparison_op::ne},          {"<>", comparison_op::ne},
               {"<", comparison_op::lt},        {"<=", comparison_op::le},          {">", comparison_op::gt},
               {">=", comparison_op::ge},       {"LIKE", comparison_op::like},      {"in", comparison_op::in},
               {"NOT IN", comparison_op::not_in}, {"includes", comparison_op::includes},
               {"EXCLUDES", comparison_op::excludes}};
  for (const auto& it : items) {
    const bool list = it.op == comparison_op::in || it.op == comparison_op::not_in || it.op == comparison_op::includes
                      || it.op == comparison_op::excludes;
    std::string soql = std::string("SELECT Id FROM Account WHERE Name ") + it.text + (list ? " ('a')" : " 'a'");
    auto q = parse(soql);
    ASSERT_TRUE(q) << soql << ": " << q.error().message;
    EXPECT_EQ(q->where->cond.op, it.op) << soql;
  }
}

TEST(soql_parser, malformed_query_messages_have_the_pointer) {
  auto e = parse_error("SELECT Id FORM Account");
  EXPECT_EQ(e.code, "MALFORMED_QUERY");
  EXPECT_EQ(e.message, "\nSELECT Id FORM Account\n          ^\nERROR at Row:1:Column:11\nunexpected token: 'FORM'");
  e = parse_error("SELECT Id FROM Account WHERE");
  EXPECT_EQ(e.message, "\nSELECT Id FROM Account WHERE\n                            ^\nERROR at Row:1:Column:29\n"
                       "unexpected token: <EOF>");
  e = parse_error("SELECT Id, Name FROM Account WHERE Name = 'O'Brien'");
  EXPECT_NE(e.message.find("unexpected token: 'Brien'"), std::string::npos);
  e = parse_error("SELECT Id\nFROM Account\nWHERE Name = = 'x'");
  EXPECT_EQ(e.message, "\nWHERE Name = = 'x'\n             ^\nERROR at Row:3:Column:14\nunexpected token: '='");
}

TEST(soql_parser, pointer_columns_count_characters) {
  auto e = parse_error("SELECT Id FROM Account WHERE Name = '\xC3\xA9t\xC3\xA9' junk");
  EXPECT_EQ(e.message, "\nSELECT Id FROM Account WHERE Name = '\xC3\xA9t\xC3\xA9' junk\n" + std::string(42, ' ')
                         + "^\nERROR at Row:1:Column:43\nunexpected token: 'junk'");
}

TEST(soql_parser, rejects_malformed_shapes) {
  for (const char* bad : {"", "SELECT", "SELECT FROM Account", "SELECT Id,", "SELECT Id FROM",
                          "UPDATE Account", "SELECT Id FROM Account LIMIT", "SELECT Id FROM Account LIMIT -1",
                          "SELECT Id FROM Account LIMIT 1.5", "SELECT Id FROM Account ORDER Id",
                          "SELECT Id FROM Account ORDER BY Id NULLS", "SELECT Id FROM Account WHERE Name",
                          "SELECT Id FROM Account WHERE Name = ", "SELECT Id FROM Account WHERE (Name = 'a'",
                          "SELECT Id FROM Account WHERE Name IN 'a'", "SELECT Id FROM Account WHERE Name IN ()",
                          "SELECT Id FROM Account WHERE Name = foo", "SELECT Id FROM Account WHERE D = LAST_N_DAYS",
                          "SELECT Id FROM Account WHERE D = LAST_N_DAYS:-1", "SELECT Id FROM Account junk",
                          "SELECT Id FROM Account OFFSET 5 LIMIT 1", "SELECT COUNT( FROM Account",
                          "SELECT Id FROM Account WHERE Name NOT 'a'", "SELECT a..b FROM Account"}) {
    auto e = parse_error(bad);
    EXPECT_EQ(e.code, "MALFORMED_QUERY") << bad;
  }
}

TEST(soql_parser, contextual_keywords_name_objects_and_relationships) {
  auto q = parse("SELECT Id, Order.Name FROM Order ORDER BY Order.Name");
  ASSERT_TRUE(q) << q.error().message;
  EXPECT_EQ(q->object, "Order");
  EXPECT_EQ(q->fields[1].text(), "Order.Name");
  EXPECT_EQ(q->order_by[0].field.text(), "Order.Name");
  EXPECT_TRUE(parse("SELECT Id FROM Group WHERE Type = 'Queue'"));
  EXPECT_EQ(parse_error("SELECT Id FROM Account GROUP BY Name").message,
            "\nSELECT Id FROM Account GROUP BY Name\n                       ^\nERROR at Row:1:Column:24\n"
            "unexpected token: 'GROUP'");
}

TEST(soql_parser, offset_over_2000_is_out_of_range) {
  auto e = parse_error("SELECT Id FROM Account OFFSET 2001");
  EXPECT_EQ(e.code, "NUMBER_OUTSIDE_VALID_RANGE");
  EXPECT_EQ(e.message, "Maximum SOQL offset allowed is 2000");
  EXPECT_TRUE(parse("SELECT Id FROM Account OFFSET 2000"));
}

TEST(soql_parser, nesting_is_bounded) {
  std::string deep = "SELECT Id FROM Account WHERE " + std::string(10000, '(') + "Name = 'a'"
                     + std::string(10000, ')');
  EXPECT_EQ(parse_error(deep).code, "MALFORMED_QUERY");
  std::string nots = "SELECT Id FROM Account WHERE ";
  for (int i = 0; i < 10000; ++i)
    nots += "NOT ";
  nots += "Name = 'a'";
  EXPECT_EQ(parse_error(nots).code, "MALFORMED_QUERY");
  std::string ok = "SELECT Id FROM Account WHERE " + std::string(60, '(') + "Name = 'a'" + std::string(60, ')');
  EXPECT_TRUE(parse(ok));
  // Long flat chains are not nesting.
  std::string chain = "SELECT Id FROM Account WHERE Name = 'a'";
  for (int i = 0; i < 5000; ++i)
    chain += " OR Name = 'a'";
  EXPECT_TRUE(parse(chain));
  EXPECT_EQ(parse_error(std::string(100'001, ' ')).code, "MALFORMED_QUERY");
}

// ---- binding ------------------------------------------------------------------

class soql_bind : public ::testing::Test {
protected:
  soql_fake::schema schema_;

  soql_error bind_error(const std::string& soql) {
    auto b = compile(soql, schema_);
    EXPECT_FALSE(b.ok()) << soql;
    return b.ok() ? soql_error{} : b.error();
  }
};

TEST_F(soql_bind, unknown_field_is_invalid_field_with_pointer) {
  auto e = bind_error("SELECT Id, Foo FROM Account");
  EXPECT_EQ(e.code, "INVALID_FIELD");
  EXPECT_EQ(e.message,
            "\nSELECT Id, Foo FROM Account\n           ^\nERROR at Row:1:Column:12\nNo such column 'Foo' on entity "
            "'Account'. If you are attempting to use a custom field, be sure to append the '__c' after the custom "
            "field name. Please reference your WSDL or the describe call for the appropriate names.");
}

TEST_F(soql_bind, unknown_object_is_invalid_type_with_pointer) {
  auto e = bind_error("SELECT Id FROM Acount");
  EXPECT_EQ(e.code, "INVALID_TYPE");
  EXPECT_EQ(e.message,
            "\nSELECT Id FROM Acount\n               ^\nERROR at Row:1:Column:16\nsObject type 'Acount' is not "
            "supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity "
            "name. Please reference your WSDL or the describe call for the appropriate names.");
}

TEST_F(soql_bind, unknown_relationship_and_parent_field) {
  auto e = bind_error("SELECT Id, Acount.Name FROM Contact");
  EXPECT_EQ(e.code, "INVALID_FIELD");
  EXPECT_NE(e.message.find("ERROR at Row:1:Column:12\nDidn't understand relationship 'Acount' in field path. If you "
                           "are attempting to use a custom relationship, be sure to append the '__r' after the "
                           "custom relationship name."),
            std::string::npos)
    << e.message;
  e = bind_error("SELECT Id FROM Contact WHERE Account.Foo = 'x'");
  EXPECT_NE(e.message.find("No such column 'Foo' on entity 'Account'."), std::string::npos) << e.message;
  e = bind_error("SELECT Id FROM Contact ORDER BY Account.Owner.Nme");
  EXPECT_NE(e.message.find("No such column 'Nme' on entity 'User'."), std::string::npos) << e.message;
}

TEST_F(soql_bind, type_errors_use_salesforce_messages) {
  auto e = bind_error("SELECT Id FROM Account WHERE IsDeleted = 'true'");
  EXPECT_EQ(e.code, "INVALID_FIELD");
  EXPECT_EQ(e.message, "\nSELECT Id FROM Account WHERE IsDeleted = 'true'\n                             ^\n"
                       "ERROR at Row:1:Column:30\nvalue of filter criterion for field 'IsDeleted' must be of type "
                       "boolean and should not be enclosed in quotes");
  e = bind_error("SELECT Id FROM Account WHERE Name = 5");
  EXPECT_NE(e.message.find("value of filter criterion for field 'Name' must be of type string and should be "
                           "enclosed in quotes"),
            std::string::npos);
  e = bind_error("SELECT Id FROM Account WHERE CreatedDate > 2024-01-01");
  EXPECT_NE(e.message.find("field 'CreatedDate' must be of type dateTime and should not be enclosed in quotes"),
            std::string::npos);
  e = bind_error("SELECT Id FROM Account WHERE LastActivityDate > 2024-01-01T00:00:00Z");
  EXPECT_NE(e.message.find("must be of type date and"), std::string::npos);
  e = bind_error("SELECT Id FROM Account WHERE NumberOfEmployees > '5'");
  EXPECT_NE(e.message.find("must be of type integer and should not be enclosed in quotes"), std::string::npos);
  e = bind_error("SELECT Id FROM Account WHERE Rating__c IN (1, 'x')");
  EXPECT_NE(e.message.find("must be of type double"), std::string::npos);
  e = bind_error("SELECT Id FROM Account WHERE Name = TODAY");
  EXPECT_NE(e.message.find("must be of type string"), std::string::npos);
  e = bind_error("SELECT Id FROM Account WHERE isdeleted = 1");
  EXPECT_NE(e.message.find("for field 'IsDeleted'"), std::string::npos);  // describe case
}

TEST_F(soql_bind, operator_and_capability_errors) {
  auto e = bind_error("SELECT Id FROM Account WHERE Name INCLUDES ('a')");
  EXPECT_EQ(e.code, "INVALID_FIELD");
  EXPECT_NE(e.message.find("includes or excludes operator only valid on multipicklist field"), std::string::npos);
  e = bind_error("SELECT Id FROM Account WHERE Tags__c LIKE 'a%'");
  EXPECT_NE(e.message.find("invalid operator on multipicklist field"), std::string::npos);
  e = bind_error("SELECT Id FROM Account WHERE IsDeleted > false");
  EXPECT_NE(e.message.find("invalid operator on boolean field"), std::string::npos);
  e = bind_error("SELECT Id FROM Account WHERE NumberOfEmployees LIKE '1%'");
  EXPECT_NE(e.message.find("invalid operator on int field"), std::string::npos);
  e = bind_error("SELECT Id FROM Account WHERE Notes__c = 'x'");
  EXPECT_NE(e.message.find("field 'Notes__c' can not be filtered in a query call"), std::string::npos);
  e = bind_error("SELECT Id FROM Account ORDER BY Notes__c");
  EXPECT_NE(e.message.find("field 'Notes__c' can not be sorted in a query call"), std::string::npos);
  e = bind_error("SELECT Id FROM Account ORDER BY Tags__c");
  EXPECT_NE(e.message.find("can not be sorted"), std::string::npos);
  e = bind_error("SELECT Id FROM Account WHERE Id = 'abc'");
  EXPECT_EQ(e.code, "INVALID_QUERY_FILTER_OPERATOR");
  EXPECT_NE(e.message.find("invalid ID field: abc"), std::string::npos);
  e = bind_error("SELECT Id, Name, name FROM Account");
  EXPECT_EQ(e.message, "duplicate field selected: name");
}

TEST_F(soql_bind, resolves_paths_in_describe_case) {
  auto b = compile("select id, NAME, owner.name, Parent.Owner.isactive, account.name from account", schema_);
  ASSERT_FALSE(b) << "Account has no 'account' relationship and 'account.name' is the object prefix: duplicate";
  b = compile("select id, NAME, owner.name, Parent.Owner.isactive from account where owner.isactive = true "
              "order by parent.name desc",
              schema_);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->object(), "Account");
  ASSERT_EQ(b->fields().size(), 4u);
  EXPECT_EQ(b->fields()[0].path(), "Id");
  EXPECT_EQ(b->fields()[1].path(), "Name");
  EXPECT_EQ(b->fields()[2].path(), "Owner.Name");
  EXPECT_EQ(b->fields()[3].path(), "Parent.Owner.IsActive");
  const auto& hops = b->fields()[3].hops;
  ASSERT_EQ(hops.size(), 2u);
  EXPECT_EQ(hops[0].relationship, "Parent");
  EXPECT_EQ(hops[0].reference.name, "ParentId");
  EXPECT_EQ(hops[0].target_object, "Account");
  EXPECT_EQ(hops[1].relationship, "Owner");
  EXPECT_EQ(hops[1].target_object, "User");
  EXPECT_EQ(b->fields()[3].field.type, field_type::boolean);
  EXPECT_TRUE(b->has_where());
  ASSERT_EQ(b->where_fields().size(), 1u);
  EXPECT_EQ(b->where_fields()[0].path(), "Owner.IsActive");
  ASSERT_EQ(b->order_by().size(), 1u);
  EXPECT_EQ(b->order_fields()[0].path(), "Parent.Name");
  EXPECT_FALSE(b->count_only());
  EXPECT_FALSE(b->limit());
  // The object's own name as a prefix.
  auto p = compile("SELECT Account.Name FROM Account", schema_);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->fields()[0].path(), "Name");
}

TEST_F(soql_bind, large_queries_bind_and_share_field_slots) {
  std::string soql = "SELECT Id FROM Account WHERE Name = 'a'";
  for (int i = 0; i < 3000; ++i)
    soql += std::string(" OR ") + (i % 3 == 0 ? "name" : i % 3 == 1 ? "Parent.Name" : "Owner.Name") + " = 'x"
            + std::to_string(i) + "'";
  auto b = compile(soql, schema_);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_EQ(b->where_fields().size(), 3u);
  std::string deep = "SELECT Id";
  std::string path;
  for (int i = 0; i < 40; ++i) {
    path += "Parent.";
    deep += ", " + path + "Name";
  }
  auto d = compile(deep + " FROM Account", schema_);
  ASSERT_TRUE(d) << d.error().message;
  EXPECT_EQ(d->fields().size(), 41u);
  EXPECT_EQ(d->fields().back().hops.size(), 40u);
}

TEST_F(soql_bind, count_limit_offset_accessors) {
  auto b = compile("SELECT COUNT() FROM Contact WHERE LastName != null LIMIT 7 OFFSET 3", schema_);
  ASSERT_TRUE(b) << b.error().message;
  EXPECT_TRUE(b->count_only());
  EXPECT_TRUE(b->fields().empty());
  EXPECT_EQ(b->limit(), 7);
  EXPECT_EQ(b->offset(), 3);
}

// ---- evaluation ---------------------------------------------------------------

class soql_eval : public ::testing::Test {
protected:
  soql_fake::schema schema_;
  soql_fake::store db_{schema_};
  eval_context ctx_{jan1_2024_ms + 15 * hour_ms, 0};  // 2024-01-01T15:00:00Z

  void SetUp() override {
    auto& u1 = db_.add("User", uid(1));
    db_.set(u1, "Name", "Ada");
    db_.set_bool(u1, "IsActive", true);
    auto& u2 = db_.add("User", uid(2));
    db_.set(u2, "Name", "Bob");
    db_.set_bool(u2, "IsActive", false);

    auto& a1 = db_.add("Account", aid(1));
    db_.set(a1, "Name", "Acme");
    db_.set_bool(a1, "IsDeleted", false);
    db_.set_double(a1, "AnnualRevenue", 1000.5);
    db_.set_int(a1, "NumberOfEmployees", 10);
    db_.set(a1, "Industry", "Energy");
    db_.set_datetime(a1, "CreatedDate", jan1_2024_ms + 1 * hour_ms);
    db_.set_datetime(a1, "SystemModstamp", jan1_2024_ms + 2 * hour_ms);
    db_.set_date(a1, "LastActivityDate", 19723);
    db_.set(a1, "OwnerId", uid(1));
    db_.set(a1, "Tags__c", "red;green;blue");
    db_.set_double(a1, "Rating__c", 4.5);

    auto& a2 = db_.add("Account", aid(2));
    db_.set(a2, "Name", "beta 50% off");
    db_.set_bool(a2, "IsDeleted", true);
    db_.set_int(a2, "AnnualRevenue", 20);
    db_.set_int(a2, "NumberOfEmployees", 200);
    db_.set(a2, "Industry", "Banking");
    db_.set_datetime(a2, "CreatedDate", jan1_2024_ms - 1);  // 2023-12-31T23:59:59.999Z
    db_.set_datetime(a2, "SystemModstamp", jan1_2024_ms + 3 * hour_ms);
    db_.set_date(a2, "LastActivityDate", 19722);
    db_.set(a2, "OwnerId", uid(2));
    db_.set(a2, "ParentId", aid(1));
    db_.set(a2, "Tags__c", "green");

    auto& a3 = db_.add("Account", aid(3));
    db_.set(a3, "Name", "Cobalt_Co");
    db_.set_bool(a3, "IsDeleted", false);
    db_.set_datetime(a3, "CreatedDate", jan1_2024_ms + 2 * 86'400'000LL);  // 2024-01-03
    db_.set_datetime(a3, "SystemModstamp", jan1_2024_ms + 2 * hour_ms);
    db_.set(a3, "OwnerId", uid(9));  // dangling
    db_.set(a3, "ParentId", aid(2));

    auto& c1 = db_.add("Contact", cid(1));
    db_.set(c1, "LastName", "O'Brien");
    db_.set(c1, "AccountId", aid(1));
    db_.set(c1, "Email", "ob@example.com");
    auto& c2 = db_.add("Contact", cid(2));
    db_.set(c2, "LastName", "Line\nBreak");
    db_.set(c2, "AccountId", aid(2));
    auto& c3 = db_.add("Contact", cid(3));
    db_.set(c3, "LastName", "Orphan");
  }

  /// Runs the query the way the emulator will: filter, stable sort, offset, limit.
  /// Returns the Ids of the result, abbreviated: "a1", "c2", ...
  std::vector<std::string> run(const std::string& soql) {
    auto b = compile(soql, schema_);
    EXPECT_TRUE(b.ok()) << soql << ": " << (b.ok() ? "" : b.error().message);
    if (!b)
      return {"<error>"};
    std::vector<soql_fake::view> hits;
    for (const auto& [id, r] : db_.records()) {
      if (r.object != b->object())
        continue;
      soql_fake::view v(db_, r);
      if (matches(*b, v, ctx_))
        hits.push_back(v);
    }
    std::stable_sort(hits.begin(), hits.end(), [&](const auto& x, const auto& y) {
      return compare_for_order(*b, x, y) < 0;
    });
    std::vector<std::string> out;
    std::int64_t skip = b->offset().value_or(0);
    for (const auto& v : hits) {
      if (skip-- > 0)
        continue;
      if (b->limit() && static_cast<std::int64_t>(out.size()) >= *b->limit())
        break;
      field_handle id_handle;
      id_handle.field = *schema_.find_object(b->object())->find_field("Id");
      auto id = std::string(v.get(id_handle).as_string());
      out.push_back(std::string(1, id[2] == '1' ? 'a' : id[2] == '3' ? 'c' : 'u') + std::to_string(std::stoi(id.substr(5, 10))));
    }
    return out;
  }

  using ids = std::vector<std::string>;
};

TEST_F(soql_eval, text_comparisons_are_case_insensitive) {
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Name = 'ACME'"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Name != 'acme'"), ids({"a2", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Name <> 'acme'"), ids({"a2", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Name < 'B'"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Name <= 'BETA 50% OFF'"), ids({"a1", "a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Name > 'beta'"), ids({"a2", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Name >= 'cobalt_co'"), ids({"a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Industry = 'energy'"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Contact WHERE LastName = 'O\\'Brien'"), ids({"c1"}));
  EXPECT_EQ(run("SELECT Id FROM Contact WHERE LastName = 'line\\nbreak'"), ids({"c2"}));
}

TEST_F(soql_eval, like_wildcards_and_escapes) {
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Name LIKE 'a%'"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Name LIKE '%CO%'"), ids({"a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Name LIKE '_cme'"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Name LIKE '_me'"), ids({}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Name LIKE '%'"), ids({"a1", "a2", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Name LIKE '%50\\%%'"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Name LIKE '%0\\%'"), ids({}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Name LIKE 'cobalt\\_co'"), ids({"a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Name LIKE 'cobalt\\_c'"), ids({}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Name LIKE 'b%f%f'"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE NOT Name LIKE 'a%'"), ids({"a2", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Contact WHERE Email LIKE '%@EXAMPLE.com'"), ids({"c1"}));
}

TEST_F(soql_eval, numbers_booleans_and_nulls) {
  EXPECT_EQ(run("SELECT Id FROM Account WHERE AnnualRevenue > 100"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE AnnualRevenue = 20"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE AnnualRevenue = 20.0"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE AnnualRevenue >= 1000.5"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE AnnualRevenue < -1"), ids({}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE NumberOfEmployees <= 10"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE NumberOfEmployees > 10.5"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Rating__c = 4.5"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE IsDeleted = true"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE IsDeleted != TRUE"), ids({"a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE IsDeleted = false"), ids({"a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE AnnualRevenue = null"), ids({"a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE AnnualRevenue != null"), ids({"a1", "a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE AnnualRevenue > null"), ids({}));
  // != includes nulls, as in Salesforce.
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Industry != 'Energy'"), ids({"a2", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Industry < 'Z'"), ids({"a1", "a2"}));
}

TEST_F(soql_eval, in_and_not_in) {
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Industry IN ('energy', 'Banking')"), ids({"a1", "a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Industry NOT IN ('energy')"), ids({"a2", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Industry IN (null, 'Energy')"), ids({"a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Industry NOT IN (null)"), ids({"a1", "a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE NumberOfEmployees IN (10, 200.0)"), ids({"a1", "a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Id IN ('" + aid(1) + "', '" + aid(3) + "')"), ids({"a1", "a3"}));
}

TEST_F(soql_eval, long_in_lists_are_hashed_with_the_same_semantics) {
  std::string fillers;
  for (int i = 0; i < 10; ++i)
    fillers += ", 'zz" + std::to_string(i) + "'";
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Industry IN ('ENERGY'" + fillers + ")"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Industry IN (null, 'banking'" + fillers + ")"), ids({"a2", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Industry NOT IN ('energy'" + fillers + ")"), ids({"a2", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Industry NOT IN (null" + fillers + ")"), ids({"a1", "a2"}));
  std::string id_fillers;
  for (int i = 100; i < 110; ++i)
    id_fillers += ", '" + aid(i) + "'";
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Id IN ('" + to_lower(aid(1)) + "'" + id_fillers + ")"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Id IN ('" + aid(2).substr(0, 15) + "'" + id_fillers + ")"),
            ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Id IN ('" + to_lower(aid(2)).substr(0, 15) + "'" + id_fillers + ")"),
            ids({}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE ParentId NOT IN ('" + aid(1) + "'" + id_fillers + ")"),
            ids({"a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE ParentId IN (''" + id_fillers + ")"), ids({"a1"}));
}

TEST_F(soql_eval, ids_match_by_15_and_18_characters) {
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Id = '" + aid(2) + "'"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Id = '" + aid(2).substr(0, 15) + "'"), ids({"a2"}));
  std::string lower = to_lower(aid(2));  // 18 chars: case-insensitive
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Id = '" + lower + "'"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Id = '" + lower.substr(0, 15) + "'"), ids({}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE ParentId = '" + aid(1) + "'"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE ParentId = ''"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE ParentId != null"), ids({"a2", "a3"}));
}

TEST_F(soql_eval, multipicklist_includes_excludes) {
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Tags__c INCLUDES ('green')"), ids({"a1", "a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Tags__c INCLUDES ('RED')"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Tags__c INCLUDES ('red;blue')"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Tags__c INCLUDES ('green;pink')"), ids({}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Tags__c INCLUDES ('green;pink', 'red')"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Tags__c EXCLUDES ('red')"), ids({"a2", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Tags__c EXCLUDES ('green', 'blue')"), ids({"a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Tags__c = 'blue;RED;green'"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Tags__c = 'red;green'"), ids({}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Tags__c != 'green'"), ids({"a1", "a3"}));
}

TEST_F(soql_eval, datetime_literals_with_offsets) {
  EXPECT_EQ(run("SELECT Id FROM Account WHERE SystemModstamp > 2024-01-01T02:00:00Z"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE SystemModstamp >= 2024-01-01T02:00:00Z"), ids({"a1", "a2", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE SystemModstamp = 2024-01-01T04:00:00.000+02:00"),
            ids({"a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE SystemModstamp < 2023-12-31T22:00:00-05:00"), ids({"a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate < 2024-01-01T00:00:00Z"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE LastActivityDate = 2024-01-01"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE LastActivityDate < 2024-01-01"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE LastActivityDate <= 2024-01-01"), ids({"a1", "a2"}));
}

TEST_F(soql_eval, time_fields_and_literals) {
  auto& a1 = const_cast<soql_fake::record&>(*db_.find(aid(1)));
  db_.set_int(a1, "OpenTime__c", 9 * hour_ms + 30 * 60'000);  // 09:30
  auto& a2 = const_cast<soql_fake::record&>(*db_.find(aid(2)));
  db_.set_int(a2, "OpenTime__c", 13 * hour_ms + 5);  // 13:00:00.005
  EXPECT_EQ(run("SELECT Id FROM Account WHERE OpenTime__c = 09:30:00.000Z"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE OpenTime__c > 09:30:00Z"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE OpenTime__c = 13:00:00.005Z"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE OpenTime__c IN (13:00:00.005, 01:00:00)"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE OpenTime__c != null ORDER BY OpenTime__c DESC"), ids({"a2", "a1"}));
  auto e = compile("SELECT Id FROM Account WHERE OpenTime__c = '09:30:00'", schema_);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("must be of type time and should not be enclosed in quotes"), std::string::npos);
  EXPECT_FALSE(compile("SELECT Id FROM Account WHERE OpenTime__c LIKE '9%'", schema_));
  EXPECT_FALSE(parse("SELECT Id FROM Account WHERE OpenTime__c = 24:00:00Z"));
}

TEST_F(soql_eval, relative_dates_cover_whole_days) {
  // now = 2024-01-01T15:00Z, UTC org.
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = TODAY"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = YESTERDAY"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = TOMORROW"), ids({}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate > TODAY"), ids({"a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate >= TODAY"), ids({"a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate < TODAY"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate <= TODAY"), ids({"a1", "a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate != TODAY"), ids({"a2", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:1"), ids({"a1", "a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:0"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = NEXT_N_DAYS:1"), ids({}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = NEXT_N_DAYS:2"), ids({"a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate > NEXT_N_DAYS:1"), ids({"a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE LastActivityDate = TODAY"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE LastActivityDate = YESTERDAY"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE LastActivityDate IN (TODAY, YESTERDAY)"), ids({"a1", "a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE LastActivityDate = LAST_90_DAYS"), ids({"a1", "a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = NEXT_90_DAYS"), ids({"a3"}));
}

TEST_F(soql_eval, week_month_quarter_year_literals) {
  // now = Monday 2024-01-01T15:00Z. Week (Sunday start): 2023-12-31 .. 2024-01-06.
  // CreatedDate: a1 2024-01-01, a2 2023-12-31 (Sunday), a3 2024-01-03.
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = THIS_WEEK"), ids({"a1", "a2", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = LAST_WEEK"), ids({}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = THIS_MONTH"), ids({"a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = LAST_MONTH"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate < THIS_MONTH"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = LAST_N_MONTHS:1"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = THIS_QUARTER"), ids({"a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = LAST_QUARTER"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = THIS_YEAR"), ids({"a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = LAST_YEAR"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = N_YEARS_AGO:1"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = NEXT_YEAR"), ids({}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = N_DAYS_AGO:1"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE LastActivityDate = LAST_N_YEARS:1"), ids({"a2"}));
  // At Saturday 2024-01-06 the week is still 2023-12-31 .. 2024-01-06; the next Sunday starts NEXT_WEEK.
  ctx_.now_ms = jan1_2024_ms + 5 * 86'400'000LL;
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = THIS_WEEK"), ids({"a1", "a2", "a3"}));
  ctx_.now_ms = jan1_2024_ms + 6 * 86'400'000LL;
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = LAST_WEEK"), ids({"a1", "a2", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = N_WEEKS_AGO:1"), ids({"a1", "a2", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = LAST_N_WEEKS:2"), ids({"a1", "a2", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = THIS_WEEK"), ids({}));
  // Quarters and years across a boundary: now 2023-12-15.
  ctx_.now_ms = jan1_2024_ms - 16 * 86'400'000LL;
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = NEXT_QUARTER"), ids({"a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = NEXT_N_MONTHS:1"), ids({"a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = THIS_MONTH"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = NEXT_N_QUARTERS:1"), ids({"a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = NEXT_N_YEARS:1"), ids({"a1", "a3"}));
}

TEST_F(soql_eval, relative_dates_follow_the_org_time_zone) {
  // An org at UTC-05:00: now is 2024-01-01T10:00 local; a2 (2023-12-31T18:59:59.999 local)
  // and a1 (2023-12-31T20:00 local) are both yesterday.
  ctx_.tz_offset_minutes = -300;
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = TODAY"), ids({}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = YESTERDAY"), ids({"a1", "a2"}));
  // At UTC+09:00 now is 2024-01-02T00:00 local: a1 (10:00 on the 1st) and a2 (08:59 on
  // the 1st) are yesterday, a3 (09:00 on the 3rd) is tomorrow.
  ctx_.tz_offset_minutes = 9 * 60;
  ctx_.now_ms = jan1_2024_ms + 15 * hour_ms;
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = YESTERDAY"), ids({"a1", "a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = TODAY"), ids({}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = TOMORROW"), ids({"a3"}));
}

TEST_F(soql_eval, boolean_logic_and_parentheses) {
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Name = 'Acme' OR Name = 'Cobalt_Co' AND IsDeleted = true"),
            ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE (Name = 'Acme' OR Name = 'Cobalt_Co') AND IsDeleted = false"),
            ids({"a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE NOT (Name = 'Acme' OR Name = 'Cobalt_Co')"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE NOT NOT Name = 'Acme'"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE ((((Name = 'Acme'))))"), ids({"a1"}));
}

TEST_F(soql_eval, relationship_paths) {
  EXPECT_EQ(run("SELECT Id FROM Contact WHERE Account.Name = 'acme'"), ids({"c1"}));
  EXPECT_EQ(run("SELECT Id FROM Contact WHERE Account.Name = null"), ids({"c3"}));
  EXPECT_EQ(run("SELECT Id FROM Contact WHERE Account.Owner.IsActive = true"), ids({"c1"}));
  EXPECT_EQ(run("SELECT Id FROM Contact WHERE Account.Parent.Name LIKE 'ACM%'"), ids({"c2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Owner.Name = null"), ids({"a3"}));  // dangling reference
  EXPECT_EQ(run("SELECT Id FROM Account WHERE Parent.Parent.Name = 'Acme'"), ids({"a3"}));
}

TEST_F(soql_eval, order_by_with_nulls_and_several_keys) {
  EXPECT_EQ(run("SELECT Id FROM Account ORDER BY Name"), ids({"a1", "a2", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account ORDER BY Name DESC"), ids({"a3", "a2", "a1"}));
  // Industry: a1 Energy, a2 Banking, a3 null.
  EXPECT_EQ(run("SELECT Id FROM Account ORDER BY Industry"), ids({"a3", "a2", "a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account ORDER BY Industry ASC NULLS LAST"), ids({"a2", "a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account ORDER BY Industry DESC"), ids({"a1", "a2", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account ORDER BY Industry DESC NULLS FIRST"), ids({"a3", "a1", "a2"}));
  // Ties on SystemModstamp (a1 and a3) broken by the second key.
  EXPECT_EQ(run("SELECT Id FROM Account ORDER BY SystemModstamp, Name DESC"), ids({"a3", "a1", "a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account ORDER BY SystemModstamp DESC, Id"), ids({"a2", "a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account ORDER BY AnnualRevenue"), ids({"a3", "a2", "a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account ORDER BY IsDeleted DESC, Name"), ids({"a2", "a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account ORDER BY LastActivityDate DESC"), ids({"a1", "a2", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Contact ORDER BY Account.Name DESC"), ids({"c2", "c1", "c3"}));
}

TEST_F(soql_eval, extracted_order_keys_sort_like_compare_for_order) {
  auto b = compile("SELECT Id FROM Account ORDER BY Industry DESC NULLS FIRST, SystemModstamp, Name DESC", schema_);
  ASSERT_TRUE(b) << b.error().message;
  std::vector<soql_fake::view> views;
  for (const auto& [id, r] : db_.records())
    if (r.object == "Account")
      views.emplace_back(db_, r);
  const std::size_t k = b->order_by().size();
  ASSERT_EQ(k, 3u);
  std::vector<value> keys(views.size() * k);
  for (std::size_t i = 0; i < views.size(); ++i)
    extract_order_keys(*b, views[i], &keys[i * k]);
  for (std::size_t i = 0; i < views.size(); ++i)
    for (std::size_t j = 0; j < views.size(); ++j) {
      const int direct = compare_for_order(*b, views[i], views[j]);
      const int extracted = compare_order_keys(*b, &keys[i * k], &keys[j * k]);
      EXPECT_EQ(direct < 0, extracted < 0) << i << " vs " << j;
      EXPECT_EQ(direct == 0, extracted == 0) << i << " vs " << j;
    }
  // Industry: a3 null first (NULLS FIRST), then Energy (a1), Banking (a2).
  EXPECT_LT(compare_order_keys(*b, &keys[2 * k], &keys[0]), 0);
  EXPECT_LT(compare_order_keys(*b, &keys[0], &keys[1 * k]), 0);
}

TEST_F(soql_eval, limit_and_offset) {
  EXPECT_EQ(run("SELECT Id FROM Account ORDER BY Name LIMIT 2"), ids({"a1", "a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account ORDER BY Name LIMIT 2 OFFSET 1"), ids({"a2", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account ORDER BY Name OFFSET 2"), ids({"a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account ORDER BY Name LIMIT 0"), ids({}));
}

TEST_F(soql_eval, count_query_filters_like_any_other) {
  auto b = compile("SELECT COUNT() FROM Account WHERE IsDeleted = false", schema_);
  ASSERT_TRUE(b);
  int n = 0;
  for (const auto& [id, r] : db_.records())
    if (r.object == "Account" && matches(*b, soql_fake::view(db_, r), ctx_))
      ++n;
  EXPECT_EQ(n, 2);
}

TEST(soql_compare, compare_values_orders_each_kind) {
  EXPECT_LT(compare_values(value::integer(1), value::decimal(1.5)), 0);
  EXPECT_EQ(compare_values(value::integer(2), value::decimal(2.0)), 0);
  EXPECT_LT(compare_values(value::string("apple"), value::string("Banana")), 0);
  EXPECT_EQ(compare_values(value::string("ABC"), value::string("abc")), 0);
  EXPECT_LT(compare_values(value::boolean(false), value::boolean(true)), 0);
  EXPECT_GT(compare_values(value::datetime(5), value::datetime(4)), 0);
  EXPECT_LT(compare_values(value::date(-3), value::date(4)), 0);
  // A total order even with NaN: after every number, equal to itself.
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_GT(compare_values(value::decimal(nan), value::decimal(1e300)), 0);
  EXPECT_LT(compare_values(value::integer(5), value::decimal(nan)), 0);
  EXPECT_EQ(compare_values(value::decimal(nan), value::decimal(nan)), 0);
  // Different kinds order by kind, consistently both ways.
  EXPECT_EQ(compare_values(value::string("a"), value::boolean(true)),
            -compare_values(value::boolean(true), value::string("a")));
}

} // namespace

// ---- datetime literals: exactly the SOQL reference's forms ----------------------

namespace {

/// The lexer's verdict on `literal` placed after "SELECT Id FROM Account WHERE CreatedDate > "
/// (43 characters, so the literal starts at column 43).
result<std::vector<token>> lex_after_gt(const std::string& literal) {
  return tokenize("SELECT Id FROM Account WHERE CreatedDate > " + literal);
}

} // namespace

TEST(soql_lexer, datetime_literals_take_the_reference_forms_and_fractions) {
  struct accepted {
    const char* text;
    std::int64_t ms;
  };
  const accepted ok[] = {
      {"2024-01-01T00:00:00Z", jan1_2024_ms},
      {"2024-01-01T01:00:00+01:00", jan1_2024_ms},
      {"2023-12-31T16:00:00-08:00", jan1_2024_ms},
      {"2024-01-01T00:00:00.000Z", jan1_2024_ms},
      {"2024-01-01T00:00:00.5Z", jan1_2024_ms + 500},
      {"2024-01-01T00:00:00.123456789+00:00", jan1_2024_ms + 123},
      {"2024-01-01T05:30:00.250+05:30", jan1_2024_ms + 250},
  };
  for (const auto& a : ok) {
    auto t = lex_after_gt(a.text);
    ASSERT_TRUE(t) << a.text << ": " << t.error().message;
    EXPECT_EQ((*t)[7].kind, token_kind::datetime) << a.text;
    EXPECT_EQ((*t)[7].integer, a.ms) << a.text;
    EXPECT_EQ((*t)[8].kind, token_kind::end) << a.text;
  }
}

TEST(soql_lexer, malformed_datetime_tails_are_lexer_errors_at_the_first_bad_character) {
  struct refused {
    const char* text;
    const char* message;
  };
  const refused bad[] = {
      // no zone at all (end of the query, or followed by more text)
      {"2024-01-01T00:00:00", "line 1:62 no viable alternative at character '<EOF>'"},
      {"2024-01-01T00:00:00 LIMIT 1", "line 1:62 no viable alternative at character ' '"},
      // the form Salesforce prints (+0000) is not a SOQL literal: the offset needs its colon
      {"2024-01-01T00:00:00.000+0000", "line 1:69 no viable alternative at character '0'"},
      {"2024-01-01T00:00:00+01", "line 1:65 no viable alternative at character '<EOF>'"},
      {"2024-01-01T00:00:00+1:00", "line 1:64 no viable alternative at character ':'"},
      {"2024-01-01T00:00:00z", "line 1:62 no viable alternative at character 'z'"},
      {"2024-01-01T00:00Z", "line 1:59 no viable alternative at character 'Z'"},
      {"2024-01-01T0:00:00Z", "line 1:55 no viable alternative at character ':'"},
      {"2024-01-01T00:00:00.Z", "line 1:63 no viable alternative at character 'Z'"},
      {"2024-01-01T00:00:00.1234567890Z", "line 1:72 no viable alternative at character '0'"},
  };
  for (const auto& b : bad) {
    auto t = lex_after_gt(b.text);
    ASSERT_FALSE(t) << b.text;
    EXPECT_EQ(t.error().code, "MALFORMED_QUERY") << b.text;
    EXPECT_EQ(t.error().message, b.message) << b.text;
  }
}

TEST(soql_lexer, impossible_datetimes_are_unexpected_tokens) {
  for (const char* text : {"2024-01-01T24:00:00Z", "2024-01-01T23:60:00Z", "2024-01-01T23:59:60Z",
                           "2023-02-29T00:00:00Z", "2024-01-01T00:00:00+24:00", "2024-01-01T00:00:00-01:60"}) {
    auto t = lex_after_gt(text);
    ASSERT_FALSE(t) << text;
    EXPECT_EQ(t.error().code, "MALFORMED_QUERY") << text;
    EXPECT_NE(t.error().message.find("unexpected token: '" + std::string(text) + "'"), std::string::npos)
        << t.error().message;
    EXPECT_NE(t.error().message.find("ERROR at Row:1:Column:44"), std::string::npos) << t.error().message;
  }
}

TEST(soql_parser, lowercase_t_a_relative_literal_without_its_n_or_an_unknown_function_is_malformed) {
  for (const char* q : {"SELECT Id FROM Account WHERE CreatedDate > 2024-01-01t00:00:00Z",
                        "SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS",
                        "SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:",
                        "SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:-1",
                        "SELECT Id FROM Account WHERE CreatedDate = LAST_N_DAYS:1.5",
                        "SELECT Id FROM Account WHERE CreatedDate = NEXT_N_FISCAL_YEARS",
                        "SELECT Id FROM Account WHERE CreatedDate = THIS_FISCAL_MONTH",
                        "SELECT Id FROM Account WHERE CALENDAR_WEEK(CreatedDate) = 1",
                        "SELECT Id FROM Account WHERE CALENDAR_YEAR(CreatedDate = 2024",
                        "SELECT Id FROM Account WHERE CALENDAR_YEAR() = 2024"}) {
    auto p = parse(q);
    ASSERT_FALSE(p) << q;
    EXPECT_EQ(p.error().code, "MALFORMED_QUERY") << q;
  }
}

TEST_F(soql_eval, fiscal_literals_follow_the_default_fiscal_year) {
  // Salesforce's default fiscal year starts in January: fiscal periods are calendar ones.
  // now = 2024-01-01T15:00Z; CreatedDate: a1 2024-01-01, a2 2023-12-31, a3 2024-01-03.
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = THIS_FISCAL_YEAR"), ids({"a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = LAST_FISCAL_YEAR"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = NEXT_FISCAL_YEAR"), ids({}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = THIS_FISCAL_QUARTER"), ids({"a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = LAST_FISCAL_QUARTER"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = LAST_N_FISCAL_QUARTERS:2"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate = N_FISCAL_YEARS_AGO:1"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate > LAST_N_FISCAL_YEARS:3"), ids({"a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CreatedDate < NEXT_N_FISCAL_QUARTERS:1"), ids({"a1", "a2", "a3"}));
}

TEST_F(soql_eval, date_functions_filter_on_a_part_of_a_date_or_datetime) {
  // CreatedDate: a1 2024-01-01T01:00Z (Monday), a2 2023-12-31T23:59:59.999Z (Sunday),
  // a3 2024-01-03T00:00Z (Wednesday); LastActivityDate: a1 2024-01-01, a2 2023-12-31, a3 null.
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CALENDAR_YEAR(CreatedDate) = 2024"), ids({"a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE calendar_year(CreatedDate) < 2024"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CALENDAR_MONTH(CreatedDate) = 12"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CALENDAR_QUARTER(CreatedDate) > 1"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE FISCAL_YEAR(CreatedDate) = 2024"), ids({"a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE FISCAL_QUARTER(CreatedDate) = 4"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE FISCAL_MONTH(CreatedDate) = 1"), ids({"a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE DAY_IN_WEEK(CreatedDate) = 1"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE DAY_IN_WEEK(CreatedDate) = 2"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE DAY_IN_WEEK(CreatedDate) = 4"), ids({"a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE DAY_IN_MONTH(CreatedDate) = 3"), ids({"a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE DAY_IN_YEAR(CreatedDate) = 365"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE WEEK_IN_YEAR(CreatedDate) = 53"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE WEEK_IN_MONTH(CreatedDate) = 1"), ids({"a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE WEEK_IN_MONTH(CreatedDate) = 5"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE HOUR_IN_DAY(CreatedDate) = 23"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE HOUR_IN_DAY(CreatedDate) IN (0, 1)"), ids({"a1", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE DAY_ONLY(CreatedDate) = 2024-01-03"), ids({"a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE DAY_ONLY(CreatedDate) < 2024-01-01"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE DAY_ONLY(CreatedDate) = TODAY"), ids({"a1"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE DAY_IN_MONTH(LastActivityDate) = 31"), ids({"a2"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CALENDAR_YEAR(LastActivityDate) != 2024"), ids({"a2", "a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CALENDAR_YEAR(LastActivityDate) = null"), ids({"a3"}));
  EXPECT_EQ(run("SELECT Id FROM Account WHERE CALENDAR_YEAR(CreatedDate) = 2024 AND DAY_IN_WEEK(CreatedDate) = 2"),
            ids({"a1"}));

  struct refused {
    const char* soql;
    const char* message;
  };
  const refused bad[] = {
      {"SELECT Id FROM Account WHERE CALENDAR_YEAR(Name) = 2024",
       "Invalid date function: CALENDAR_YEAR(Name) needs a date or dateTime field"},
      {"SELECT Id FROM Account WHERE HOUR_IN_DAY(LastActivityDate) = 1",
       "Invalid date function: HOUR_IN_DAY(LastActivityDate) needs a dateTime field"},
      {"SELECT Id FROM Account WHERE DAY_ONLY(LastActivityDate) = 2024-01-01",
       "Invalid date function: DAY_ONLY(LastActivityDate) needs a dateTime field"},
      {"SELECT Id FROM Account WHERE CALENDAR_YEAR(CreatedDate) = '2024'",
       "value of filter criterion for field 'CreatedDate' must be of type integer and should not be enclosed in quotes"},
      {"SELECT Id FROM Account WHERE DAY_ONLY(CreatedDate) = 2024-01-03T00:00:00Z",
       "value of filter criterion for field 'CreatedDate' must be of type date and should not be enclosed in quotes"},
      {"SELECT Id FROM Account WHERE CALENDAR_YEAR(CreatedDate) LIKE '2%'", "invalid operator on"},
  };
  for (const auto& b : bad) {
    auto e = compile(b.soql, schema_);
    ASSERT_FALSE(e) << b.soql;
    EXPECT_EQ(e.error().code, "INVALID_FIELD") << b.soql;
    EXPECT_NE(e.error().message.find(b.message), std::string::npos) << e.error().message;
  }
}

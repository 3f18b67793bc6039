// Binary COPY (store/copy_binary.hpp) against text COPY: the same awkward
// records, converted as a load converts them, go into two tables, one through
// each path; PostgreSQL must store the same value in every column, and refuse
// the same rows with the same message and column.
#include "hc_fixture.hpp"

#include "store/copy_binary.hpp"
#include "store/row_isolation.hpp"

#include <cstring>
#include <random>
#include <set>

using namespace syncforce;
using namespace syncforce::hc_test;

namespace {

std::vector<sf_field_info> awkward_describe() {
  return {{"Id", sf_field_type::id, 18},          {"Name", sf_field_type::string, 10},
          {"Body__c", sf_field_type::textarea, 32000}, {"Score__c", sf_field_type::double_, 0},
          {"Flag__c", sf_field_type::boolean, 0},  {"Day__c", sf_field_type::date, 0},
          {"Stamp__c", sf_field_type::datetime, 0}, {"Alarm__c", sf_field_type::time, 0},
          {"Count__c", sf_field_type::int_, 0}};
}

hc_table_spec awkward_spec(const std::string& schema, const std::string& object) {
  mapping_config m;
  m.object_name = object;
  for (const auto& f : awkward_describe())
    m.fields.push_back(f.name);
  auto r = make_table_spec(schema, m, awkward_describe());
  EXPECT_TRUE(r.ok());
  return *r.spec;
}

// Values as Salesforce sends them (empty = null), one list per field; record i
// takes value i modulo the list's length, so every value meets the others.
const std::vector<std::string> names{
  "", "plain", "abc            " /* trailing spaces past 10: PostgreSQL drops them */,
  "\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9\xC3\xA9" /* 9 two-byte characters */,
  "tab\there", "back\\N", " ", "x"};
const std::vector<std::string> bodies{
  "", "a\tb\nc\rd\\e \\N end \"q\" 'q'", std::string("nul\0byte", 8), "bad \xFF utf8 \xC3", "\\", "\\N", "\\.",
  "caf\xC3\xA9 \xF0\x9F\x98\x80", std::string(3000, 'w'), "  "};
const std::vector<std::string> scores{
  "", "0", "-0", "1", "-1.5", "12.50", "0.1", "1e308", "1.7976931348623157e308", "-1.7976931348623157E308",
  "4.9e-324", "1e-310", "2.2250738585072014e-308", "123456789012345678901234567890", "1E5", "+3", ".5", "5.",
  "-0.0", " 7 ", "3.14159265358979323846264338327950288", "0.30000000000000004", "1e-400", "1e400", "NaN",
  "Infinity", "0x10", "12abc", "99999999999999999"};
const std::vector<std::string> flags{"", "true", "false", "TRUE", "False", "1", "0", "yes"};
const std::vector<std::string> days{"", "0001-01-01", "9999-12-31", "2000-02-29", "1900-03-01", "1582-10-10",
                                    "2000-01-01", "1999-12-31", "0000-01-01", "2023-02-29", " 2024-06-30 "};
const std::vector<std::string> stamps{
  "", "0001-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999999Z", "2024-12-31T23:30:00.000-0100",
  "2024-01-01T00:30:00+01:00", "2000-01-01T00:00:00.000+0000", "1999-12-31T23:59:59.999Z",
  "0001-01-01T00:30:00+01:00", "9999-12-31T23:00:00-05:00", "2024-02-29T12:00:00Z", "2024-05-01T10:20:30Z",
  "2024-05-01T10:20:30.1Z", "2024-05-01T10:20:30.12Z", "2024-05-01T10:20:30.123Z", "2024-05-01T10:20:30.1234Z",
  "2024-05-01T10:20:30.12345Z", "2024-05-01T10:20:30.123456Z", "2024-05-01T10:20:30.1234567Z",
  "2024-05-01T10:20:30.12345678Z", "2024-05-01T10:20:30.123456789Z", "2024-05-01T10:20:30.000Z",
  "2016-12-31T23:59:60.500Z", "1970-01-01T00:00:00Z", "1969-12-31T23:59:59.999999Z", "2024-05-01",
  "not a date"};
const std::vector<std::string> alarms{"",           "00:00:00.000Z", "23:59:59.999999Z", "12:34:56.7Z",
                                      "23:59:60Z",  "08:00",         "08:00:00.123456789Z", "25:00:00Z"};
const std::vector<std::string> counts{"", "0", "-0", "2147483647", "-2147483648", "2147483648", "42", "1.5"};

struct loaded {
  std::vector<store::refused_row> refused;
  std::set<std::size_t> text_only; ///< rows the binary path could not take
};

} // namespace

TEST_F(hc_fixture, binary_copy_stores_what_text_copy_stores) {
  const auto text_spec = awkward_spec(schema_, "Text_Path__c");
  const auto bin_spec = awkward_spec(schema_, "Binary_Path__c");
  apply(text_spec);
  apply(bin_spec);
  for (const auto& c : bin_spec.columns)
    EXPECT_TRUE(store::binary_copy_capable(c)) << c.name << " " << c.type;

  wire_row_converter conv(text_spec);
  std::vector<std::string> header;
  for (const auto& f : awkward_describe())
    header.push_back(f.name);
  ASSERT_TRUE(conv.bind_csv_header(header).empty());

  // The lines a load page holds: records the node refuses are not among them.
  std::vector<std::string> lines;
  std::vector<std::string> sfids;
  std::size_t node_refused = 0;
  const std::vector<const std::vector<std::string>*> lists{&names, &bodies, &scores, &flags,
                                                           &days,  &stamps, &alarms, &counts};
  std::size_t n = 0;
  for (const auto* l : lists)
    n = std::max(n, l->size());
  n *= 3; // every list wraps at least twice, meeting other values
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<std::string> texts;
    char id[32];
    std::snprintf(id, sizeof id, "a0B%015zu", i);
    texts.push_back(id);
    for (const auto* l : lists)
      texts.push_back((*l)[i % l->size()]);
    std::vector<std::string_view> views(texts.begin(), texts.end());
    std::string line;
    record_problem problem;
    if (!conv.append_copy_line(views, line, problem)) {
      ++node_refused;
      continue;
    }
    lines.push_back(line);
    sfids.push_back(id);
  }
  // And rows PostgreSQL refuses: a text too long for varchar(10) and a NUL
  // written as COPY's octal escape would be refused by the node; here they
  // reach PostgreSQL as if the node had let them through.
  {
    std::vector<std::string> fields;
    std::size_t at = 0;
    for (auto tab = lines.front().find('\t'); tab != std::string::npos; tab = lines.front().find('\t', at)) {
      fields.push_back(lines.front().substr(at, tab - at));
      at = tab + 1;
    }
    fields.push_back(lines.front().substr(at));
    fields[0] = "a0Btoolong";
    fields[1] = "abcdefghijklmnop";
    std::string line;
    for (std::size_t k = 0; k < fields.size(); ++k)
      line += (k ? "\t" : "") + fields[k];
    lines.push_back(line);
    sfids.push_back("a0Btoolong");
  }
  ASSERT_GT(node_refused, 0u);
  ASSERT_GT(lines.size(), 40u);

  const std::vector<std::string> columns = conv.columns();
  auto load = [&](bool binary) {
    loaded out;
    std::vector<std::string> tuples(lines.size());
    std::vector<std::size_t> kept; // rows of this path, as indexes into lines
    for (std::size_t i = 0; i < lines.size(); ++i) {
      if (binary && !store::append_binary_tuple(lines[i], conv.kinds(), tuples[i])) {
        out.text_only.insert(i);
        continue;
      }
      kept.push_back(i);
    }
    pqxx::work tx{*engine_};
    EXPECT_TRUE(store::binary_copy_session(tx));
    const auto& spec = binary ? bin_spec : text_spec;
    std::vector<std::string> page_lines;
    std::vector<std::string> page_tuples;
    for (auto i : kept) {
      page_lines.push_back(lines[i]);
      page_tuples.push_back(tuples[i]);
    }
    out.refused = store::apply_isolating(tx, kept.size(), [&](pqxx::transaction_base& t, std::size_t first,
                                                              std::size_t last) {
      if (binary) {
        store::copy_binary_tuples(t, spec.schema, spec.table, columns, page_tuples, first, last);
      } else {
        store::copy_writer w(t, spec.schema, spec.table, columns);
        w.write_lines(page_lines, first, last);
        w.complete();
      }
    });
    for (auto& r : out.refused)
      r.index = kept[r.index];
    tx.commit();
    return out;
  };
  const auto text = load(false);
  const auto bin = load(true);

  // The binary path sets aside for text exactly the values whose text
  // PostgreSQL reads differently from their binary form or that the node
  // never writes: year 10000 (after an offset), a leap second.
  std::set<std::size_t> expect_text_only;
  for (std::size_t i = 0; i < lines.size(); ++i)
    if (lines[i].find("10000-01-01") != std::string::npos || lines[i].find(":60") != std::string::npos)
      expect_text_only.insert(i);
  EXPECT_EQ(bin.text_only, expect_text_only);
  EXPECT_FALSE(expect_text_only.empty());

  // The same refusals (those of rows both paths loaded), with message and column.
  std::vector<std::tuple<std::size_t, std::string, std::string>> text_refused;
  std::vector<std::tuple<std::size_t, std::string, std::string>> bin_refused;
  for (const auto& r : text.refused)
    if (!bin.text_only.count(r.index))
      text_refused.emplace_back(r.index, r.column, r.error);
  for (const auto& r : bin.refused)
    bin_refused.emplace_back(r.index, r.column, r.error);
  EXPECT_EQ(bin_refused, text_refused);
  ASSERT_EQ(text_refused.size(), 1u);
  EXPECT_EQ(std::get<0>(text_refused[0]), lines.size() - 1);
  EXPECT_EQ(std::get<1>(text_refused[0]), "name");
  EXPECT_EQ(std::get<2>(text_refused[0]), "value too long for type character varying(10)");

  // Every column of every row both loaded: the same value and the same text.
  const auto qt = schema_ + "." + text_spec.table;
  const auto qb = schema_ + "." + bin_spec.table;
  const long both = static_cast<long>(lines.size() - bin.text_only.size() - bin.refused.size());
  EXPECT_EQ(count("SELECT count(*) FROM " + qb), both);
  EXPECT_EQ(count("SELECT count(*) FROM " + qt), static_cast<long>(lines.size() - text.refused.size()));
  EXPECT_EQ(count("SELECT count(*) FROM " + qt + " t JOIN " + qb + " b USING (sfid)"), both);
  for (const auto& c : columns) {
    const auto q = "\"" + c + "\"";
    EXPECT_EQ(count("SELECT count(*) FROM " + qt + " t JOIN " + qb + " b USING (sfid) WHERE t." + q +
                    " IS DISTINCT FROM b." + q + " OR t." + q + "::text IS DISTINCT FROM b." + q + "::text"),
              0)
      << "column " << c;
    // Each column holds more than one value and some nulls: the comparison compared something.
    EXPECT_GT(count("SELECT count(DISTINCT " + q + ") FROM " + qb), 1) << c;
    if (c != "sfid") {
      EXPECT_GT(count("SELECT count(*) FROM " + qb + " WHERE " + q + " IS NULL"), 0) << c;
    }
  }
  // A few values spelled out, so a shared mistake of both paths shows too.
  auto one = [&](const std::string& sql) { return std::string(query(sql)[0][0].c_str()); };
  EXPECT_GT(count("SELECT count(*) FROM " + qb + " WHERE score__c::text = '-0'"), 0);
  EXPECT_EQ((one("SELECT min(stamp__c)::text FROM " + qb)), "0001-01-01 00:00:00");
  EXPECT_EQ((one("SELECT max(stamp__c)::text FROM " + qb)), "9999-12-31 23:59:59.999999");
  EXPECT_GT(count("SELECT count(*) FROM " + qb + " WHERE stamp__c = '2025-01-01 00:30:00'"), 0);
  EXPECT_GT(count("SELECT count(*) FROM " + qb + " WHERE day__c = '0001-01-01'"), 0);
  EXPECT_GT(count("SELECT count(*) FROM " + qb + " WHERE body__c = E'a\\tb\\nc\\rd\\\\e \\\\N end \"q\" ''q'''"), 0);
}

TEST(copy_binary, tuples_follow_the_binary_format) {
  std::string t;
  ASSERT_TRUE(store::append_binary_tuple("ab\t\\N\tt\t2000-01-02\t2000-01-01 00:00:01.5\t1.5",
                                         {pg_value_kind::text, pg_value_kind::text, pg_value_kind::boolean,
                                          pg_value_kind::date, pg_value_kind::timestamp,
                                          pg_value_kind::double_precision},
                                         t));
  const std::string expected = std::string("\0\x06", 2) + std::string("\0\0\0\x02" "ab", 6) +
                               std::string("\xFF\xFF\xFF\xFF", 4) + std::string("\0\0\0\x01\x01", 5) +
                               std::string("\0\0\0\x04\0\0\0\x01", 8) +
                               std::string("\0\0\0\x08\0\0\0\0\0\x16\xE3\x60", 12) +
                               std::string("\0\0\0\x08\x3F\xF8\0\0\0\0\0\0", 12);
  EXPECT_EQ(t, expected);
  // Lines that do not fit their kinds, or values the node never writes, refuse.
  std::string u;
  EXPECT_FALSE(store::append_binary_tuple("a\tb", {pg_value_kind::text}, u));
  u.clear();
  EXPECT_FALSE(store::append_binary_tuple("a", {pg_value_kind::text, pg_value_kind::text}, u));
  u.clear();
  EXPECT_FALSE(store::append_binary_tuple("\\101", {pg_value_kind::text}, u));
  u.clear();
  EXPECT_FALSE(store::append_binary_tuple("0000-01-01", {pg_value_kind::date}, u));
  u.clear();
  EXPECT_FALSE(store::append_binary_tuple("2000-01-01 00:00:00.1234567", {pg_value_kind::timestamp}, u));
  u.clear();
  EXPECT_FALSE(store::append_binary_tuple("nan", {pg_value_kind::double_precision}, u));
  u.clear();
  EXPECT_FALSE(store::append_binary_tuple("2147483648", {pg_value_kind::integer}, u));
  u.clear();
  ASSERT_TRUE(store::append_binary_tuple("-2147483648", {pg_value_kind::integer}, u));
  EXPECT_EQ(u, std::string("\0\x01\0\0\0\x04\x80\0\0\0", 10));
}

// Plain decimals take a fast path (no strtod); its doubles must be strtod's, bit for bit.
TEST(copy_binary, doubles_are_those_strtod_reads) {
  std::mt19937_64 rng(16);
  std::vector<std::string> values{"0", "-0", "0.0", "-0.0", "1", "0.1", "0.3", "2.675", "1.005", "9007199254740993",
                                  "999999999999999", "99999999999999.9", "0.000000000000000000001",
                                  "123456789012345", "12345678901234.5", "1234567890123456", "007.50",
                                  "0.1234567890123456789012", "5.", ".5", "1e5", "-1.5E-7", "4.9e-324"};
  for (int i = 0; i < 200000; ++i) {
    const int digits = 1 + static_cast<int>(rng() % 40); // past what a double holds exactly
    std::string v = rng() % 2 ? "-" : "";
    for (int d = 0; d < digits; ++d)
      v.push_back(static_cast<char>('0' + rng() % 10));
    const auto dot = rng() % (digits + 1);
    if (dot > 0 && static_cast<int>(dot) < digits)
      v.insert(v.size() - dot, ".");
    values.push_back(v);
  }
  for (const auto& v : values) {
    std::string t;
    ASSERT_TRUE(store::append_binary_tuple(v, {pg_value_kind::double_precision}, t)) << v;
    ASSERT_EQ(t.size(), 14u);
    const double d = std::strtod(v.c_str(), nullptr);
    std::uint64_t bits = 0;
    std::memcpy(&bits, &d, 8);
    std::uint64_t got = 0;
    for (int b = 0; b < 8; ++b)
      got = (got << 8) | static_cast<unsigned char>(t[6 + b]);
    ASSERT_EQ(got, bits) << v;
  }
}

#include "emulator/bulk/results.hpp"

#include <gtest/gtest.h>

using namespace sfemu::bulk;
namespace csv = syncforce::csv;

namespace {

/// Parses one data row and returns its encoded fields.
std::string encoded(const result_store& store, std::string_view line) {
  std::string out;
  csv::parser p;
  auto on_row = [&](const csv::row& r) { out = store.encode_fields(r); };
  EXPECT_FALSE(p.feed(line, on_row));
  EXPECT_FALSE(p.finish(on_row));
  return out;
}

} // namespace

TEST(bulk_results, error_text_format) {
  EXPECT_EQ(result_store::format_error("REQUIRED_FIELD_MISSING", "Required fields are missing: [Name]", {"Name"}),
            "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --");
  EXPECT_EQ(result_store::format_error("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", {}),
            "INVALID_CROSS_REFERENCE_KEY:invalid cross reference id:--");
  EXPECT_EQ(result_store::format_error("X", "m", {"A", "B"}), "X:m:A,B --");
}

TEST(bulk_results, successful_failed_and_unprocessed_files) {
  result_store s;
  s.set_header({"Name", "Phone"});
  s.add_success("001000000000001AAA", true, encoded(s, "Acme,123\n"));
  s.add_success("001000000000002AAA", false, encoded(s, "\"Big, Co\",#N/A\n"));
  s.add_failure("", "REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --",
                encoded(s, ",555\n"));
  s.add_unprocessed(encoded(s, "Late,1\n"));
  EXPECT_EQ(s.successful_csv(),
            "\"sf__Id\",\"sf__Created\",\"Name\",\"Phone\"\n"
            "\"001000000000001AAA\",\"true\",\"Acme\",\"123\"\n"
            "\"001000000000002AAA\",\"false\",\"Big, Co\",#N/A\n");
  EXPECT_EQ(s.failed_csv(),
            "\"sf__Id\",\"sf__Error\",\"Name\",\"Phone\"\n"
            "\"\",\"REQUIRED_FIELD_MISSING:Required fields are missing: [Name]:Name --\",\"\",\"555\"\n");
  EXPECT_EQ(s.unprocessed_csv(), "\"Name\",\"Phone\"\n\"Late\",\"1\"\n");
  EXPECT_EQ(s.successes(), 2u);
  EXPECT_EQ(s.failures(), 1u);
  EXPECT_EQ(s.unprocessed(), 1u);

  // the files are valid CSV that parse back
  auto parsed = csv::parse_all(s.successful_csv());
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed.doc.rows.size(), 3u);
  EXPECT_EQ(*parsed.doc.rows[2][2], "Big, Co");
  EXPECT_FALSE(parsed.doc.rows[2][3].has_value());
}

TEST(bulk_results, dialect_follows_the_job) {
  result_store s(csv::delimiter::tab, csv::line_ending::crlf);
  s.set_header({"Id"});
  s.add_success("001", false, "\"001\"");
  EXPECT_EQ(s.successful_csv(), "\"sf__Id\"\t\"sf__Created\"\t\"Id\"\r\n\"001\"\t\"false\"\t\"001\"\r\n");
}

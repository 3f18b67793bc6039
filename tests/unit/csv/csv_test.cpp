#include "sync/csv.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace csv = syncforce::csv;

namespace {

using cells = std::vector<std::optional<std::string>>;

/// Feeds `text` to a parser in chunks of `chunk` bytes and collects the rows.
struct collected {
  std::vector<cells> rows;
  std::vector<std::size_t> lines;
  std::optional<csv::parse_error> error;
};

collected parse_chunked(std::string_view text, std::size_t chunk, csv::parse_options opts = {}) {
  collected out;
  csv::parser p(opts);
  auto on_row = [&](const csv::row& r) {
    out.rows.push_back(r.to_vector());
    out.lines.push_back(r.line());
  };
  for (std::size_t i = 0; i < text.size() && !out.error; i += chunk)
    out.error = p.feed(text.substr(i, chunk), on_row);
  if (!out.error)
    out.error = p.finish(on_row);
  return out;
}

cells row_of(std::initializer_list<const char*> values) {
  cells out;
  for (auto v : values)
    out.emplace_back(v ? std::optional<std::string>(v) : std::nullopt);
  return out;
}

} // namespace

TEST(csv_parser, simple_rows_with_lf) {
  auto r = csv::parse_all("Name,Phone\nAcme,123\nGlobex,456\n");
  ASSERT_TRUE(r.ok()) << r.error->to_string();
  ASSERT_EQ(r.doc.rows.size(), 3u);
  EXPECT_EQ(r.doc.rows[0], row_of({"Name", "Phone"}));
  EXPECT_EQ(r.doc.rows[2], row_of({"Globex", "456"}));
}

TEST(csv_parser, crlf_and_lone_cr_and_no_trailing_newline) {
  auto r = csv::parse_all("a,b\r\nc,d\re,f");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.doc.rows.size(), 3u);
  EXPECT_EQ(r.doc.rows[1], row_of({"c", "d"}));
  EXPECT_EQ(r.doc.rows[2], row_of({"e", "f"}));
}

TEST(csv_parser, quoted_fields_with_delimiters_quotes_and_newlines) {
  auto r = csv::parse_all("\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"\"\n");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.doc.rows.size(), 1u);
  EXPECT_EQ(r.doc.rows[0], row_of({"a,b", "say \"hi\"", "two\nlines", ""}));
}

TEST(csv_parser, empty_fields_including_trailing) {
  auto r = csv::parse_all(",a,,\n");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.doc.rows.size(), 1u);
  EXPECT_EQ(r.doc.rows[0], row_of({"", "a", "", ""}));
  auto r2 = csv::parse_all("x,");
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2.doc.rows[0], row_of({"x", ""}));
}

TEST(csv_parser, null_marker_is_distinct_from_empty) {
  csv::parser p;
  std::vector<bool> nulls;
  std::vector<std::string> texts;
  auto on_row = [&](const csv::row& r) {
    for (std::size_t i = 0; i < r.size(); ++i) {
      nulls.push_back(r.is_null(i));
      texts.emplace_back(r[i]);
    }
  };
  ASSERT_FALSE(p.feed("#N/A,,\"#N/A\",#N/A2\n", on_row));
  ASSERT_FALSE(p.finish(on_row));
  EXPECT_EQ(nulls, (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(texts[1], "");
  EXPECT_EQ(texts[2], "#N/A");  // quoted: a literal string
  EXPECT_EQ(texts[3], "#N/A2");
}

TEST(csv_parser, null_marker_can_be_disabled) {
  csv::parse_options o;
  o.null_marker = false;
  auto r = csv::parse_all("#N/A\n", o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.doc.rows[0], row_of({"#N/A"}));
}

TEST(csv_parser, every_bulk_delimiter) {
  for (auto d : {csv::delimiter::comma, csv::delimiter::tab, csv::delimiter::pipe,
                 csv::delimiter::semicolon, csv::delimiter::caret, csv::delimiter::backquote}) {
    char c = csv::delimiter_char(d);
    std::string text = std::string("a") + c + "\"b" + c + "c\"" + c + "d\n";
    csv::parse_options o;
    o.delim = d;
    auto r = csv::parse_all(text, o);
    ASSERT_TRUE(r.ok()) << csv::delimiter_name(d);
    ASSERT_EQ(r.doc.rows.size(), 1u);
    std::string mid = std::string("b") + c + "c";
    EXPECT_EQ(r.doc.rows[0], row_of({"a", mid.c_str(), "d"})) << csv::delimiter_name(d);
    EXPECT_EQ(csv::parse_delimiter(csv::delimiter_name(d)), d);
    if (d != csv::delimiter::comma) {
      auto r2 = csv::parse_all("x,y\n", o);
      ASSERT_TRUE(r2.ok());
      EXPECT_EQ(r2.doc.rows[0], row_of({"x,y"}));
    }
  }
  EXPECT_FALSE(csv::parse_delimiter("COLON"));
  EXPECT_EQ(csv::parse_line_ending("CRLF"), csv::line_ending::crlf);
  EXPECT_FALSE(csv::parse_line_ending("CR"));
}

TEST(csv_parser, skips_empty_lines_and_bom) {
  auto r = csv::parse_all("\xEF\xBB\xBFId\n\n001\n\n");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.doc.rows.size(), 2u);
  EXPECT_EQ(r.doc.rows[0], row_of({"Id"}));
  csv::parse_options keep;
  keep.skip_empty_lines = false;
  auto r2 = csv::parse_all("a\n\nb\n", keep);
  ASSERT_TRUE(r2.ok());
  ASSERT_EQ(r2.doc.rows.size(), 3u);
  EXPECT_EQ(r2.doc.rows[1], row_of({""}));
}

TEST(csv_parser, bom_split_over_chunks_and_bom_like_data) {
  std::string text = "\xEF\xBB\xBFId,Name\n1,\"x\"y\n";
  for (std::size_t chunk = 1; chunk <= 4; ++chunk) {
    auto c = parse_chunked(text, chunk);
    ASSERT_TRUE(c.error) << chunk;
    EXPECT_EQ(c.rows[0], row_of({"Id", "Name"})) << chunk;
    EXPECT_EQ(c.error->line, 2u);
    EXPECT_EQ(c.error->column, 6u) << chunk;
  }
  // two bytes of a BOM and then something else are data
  auto partial = parse_chunked("\xEF\xBBx\n", 1);
  ASSERT_FALSE(partial.error);
  ASSERT_EQ(partial.rows.size(), 1u);
  EXPECT_EQ(partial.rows[0], row_of({"\xEF\xBBx"}));
  auto only = parse_chunked("\xEF", 1);
  ASSERT_FALSE(only.error);
  EXPECT_EQ(only.rows[0], row_of({"\xEF"}));
}

TEST(csv_parser, error_quote_in_unquoted_field) {
  auto r = csv::parse_all("a,b\nxy,ab\"c\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->line, 2u);
  EXPECT_EQ(r.error->column, 6u);
  EXPECT_EQ(r.error->message, "Unexpected quote in an unquoted field");
  EXPECT_EQ(r.error->to_string(), "Unexpected quote in an unquoted field at line 2, column 6");
}

TEST(csv_parser, error_after_closing_quote) {
  auto r = csv::parse_all("\"ab\"c,d\n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->line, 1u);
  EXPECT_EQ(r.error->column, 5u);
  EXPECT_EQ(r.error->message, "Unexpected 'c' after a closing quote");
}

TEST(csv_parser, error_unterminated_quote_points_at_opening_quote) {
  auto r = csv::parse_all("a,b\nc,\"open\nstill open");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->line, 2u);
  EXPECT_EQ(r.error->column, 3u);
  EXPECT_EQ(r.error->message, "Unterminated quoted field");
}

TEST(csv_parser, line_numbers_count_newlines_inside_quotes) {
  auto c = parse_chunked("h1,h2\n\"x\ny\",1\nz,\"2\"3\n", 3);
  ASSERT_TRUE(c.error);
  EXPECT_EQ(c.error->line, 4u);
  EXPECT_EQ(c.error->column, 6u);
  ASSERT_EQ(c.lines.size(), 2u);
  EXPECT_EQ(c.lines[0], 1u);
  EXPECT_EQ(c.lines[1], 2u);
}

TEST(csv_parser, uniform_columns) {
  csv::parse_options o;
  o.uniform_columns = true;
  auto r = csv::parse_all("a,b\n1,2\n3\n", o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->line, 3u);
  EXPECT_EQ(r.error->message, "Row has 1 fields but the first row has 2");
}

TEST(csv_parser, stays_failed_after_error) {
  csv::parser p;
  auto noop = [](const csv::row&) {};
  ASSERT_TRUE(p.feed("\"a\"b", noop));
  auto again = p.feed("c,d\n", noop);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->message, "Unexpected 'b' after a closing quote");
}

TEST(csv_parser, chunking_never_changes_the_result) {
  std::string text =
      "Id,Name,Desc\r\n001,\"Acme, Inc\",\"He said \"\"x\"\"\r\nnext\"\r\n002,#N/A,\r\n003,\"\",plain\r\n";
  auto whole = parse_chunked(text, text.size());
  ASSERT_FALSE(whole.error);
  ASSERT_EQ(whole.rows.size(), 4u);
  EXPECT_EQ(whole.rows[1], row_of({"001", "Acme, Inc", "He said \"x\"\r\nnext"}));
  EXPECT_EQ(whole.rows[2], row_of({"002", nullptr, ""}));
  for (std::size_t chunk = 1; chunk < text.size(); ++chunk) {
    auto c = parse_chunked(text, chunk);
    ASSERT_FALSE(c.error) << chunk;
    EXPECT_EQ(c.rows, whole.rows) << "chunk size " << chunk;
    EXPECT_EQ(c.lines, whole.lines) << "chunk size " << chunk;
  }
}

TEST(csv_parser, counts_rows_and_bytes_and_resets) {
  csv::parser p;
  std::size_t seen = 0;
  auto on_row = [&](const csv::row& r) { seen += r.size(); };
  ASSERT_FALSE(p.feed("a,b\nc,d\n", on_row));
  EXPECT_EQ(p.rows(), 2u);
  EXPECT_EQ(p.bytes(), 8u);
  EXPECT_EQ(seen, 4u);
  p.reset();
  EXPECT_EQ(p.rows(), 0u);
  ASSERT_FALSE(p.feed("x\n", on_row));
  EXPECT_EQ(p.rows(), 1u);
}

TEST(csv_writer, quotes_only_when_needed) {
  csv::writer w;
  w.write_row({"plain", "a,b", "say \"hi\"", "two\nlines", "cr\r", "#N/A", ""});
  w.null_field();
  w.field("x");
  w.end_row();
  EXPECT_EQ(w.buffer(), "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\"cr\r\",\"#N/A\",\n#N/A,x\n");
  EXPECT_EQ(w.rows(), 2u);
}

TEST(csv_writer, quote_all_crlf_and_delimiters) {
  csv::write_options o;
  o.quote_all = true;
  o.ending = csv::line_ending::crlf;
  o.delim = csv::delimiter::pipe;
  csv::writer w(o);
  w.write_row({"sf__Id", "sf__Created"});
  w.field("001");
  w.empty_field();
  w.end_row();
  EXPECT_EQ(w.take(), "\"sf__Id\"|\"sf__Created\"\r\n\"001\"|\r\n");
  EXPECT_TRUE(w.buffer().empty());
}

TEST(csv_writer, single_empty_field_row_survives) {
  csv::writer w;
  w.write_row({"h"});
  w.field("");
  w.end_row();
  auto r = csv::parse_all(w.buffer());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r.doc.rows.size(), 2u);
  EXPECT_EQ(r.doc.rows[1], row_of({""}));
}

TEST(csv_round_trip, random_fields_every_delimiter_and_ending) {
  std::mt19937 rng(42);
  const std::string alphabet = "ab ,\"\n\r|;^`\t#N/A";
  for (auto d : {csv::delimiter::comma, csv::delimiter::tab, csv::delimiter::pipe,
                 csv::delimiter::semicolon, csv::delimiter::caret, csv::delimiter::backquote}) {
    for (auto e : {csv::line_ending::lf, csv::line_ending::crlf}) {
      std::vector<cells> rows;
      csv::write_options wo;
      wo.delim = d;
      wo.ending = e;
      csv::writer w(wo);
      for (int i = 0; i < 200; ++i) {
        cells row;
        for (int f = 0; f < 5; ++f) {
          if (rng() % 10 == 0) {
            row.emplace_back(std::nullopt);
            w.null_field();
            continue;
          }
          std::string v;
          auto len = rng() % 8;
          for (unsigned k = 0; k < len; ++k)
            v.push_back(alphabet[rng() % alphabet.size()]);
          row.emplace_back(v);
          w.field(v);
        }
        w.end_row();
        rows.push_back(row);
      }
      csv::parse_options po;
      po.delim = d;
      po.skip_empty_lines = false;
      auto c = parse_chunked(w.buffer(), 7, po);
      ASSERT_FALSE(c.error) << c.error->to_string();
      EXPECT_EQ(c.rows, rows) << csv::delimiter_name(d) << " " << csv::line_ending_name(e);
    }
  }
}

TEST(csv_parser, arbitrary_bytes_never_crash_and_errors_have_positions) {
  std::mt19937 rng(7);
  const std::string interesting = ",\"\r\n#N/A\t|a ";
  for (int round = 0; round < 300; ++round) {
    std::string text;
    if (rng() % 4 == 0)
      text = std::string("\xEF\xBB\xBF").substr(0, 1 + rng() % 3); // a BOM or a piece of one
    auto len = rng() % 200;
    for (unsigned i = 0; i < len; ++i)
      text.push_back(rng() % 3 == 0 ? static_cast<char>(rng() % 256) : interesting[rng() % interesting.size()]);
    auto whole = parse_chunked(text, text.size() + 1);
    auto chunked = parse_chunked(text, 1 + rng() % 5);
    ASSERT_EQ(whole.error.has_value(), chunked.error.has_value()) << round;
    if (whole.error) {
      EXPECT_GE(whole.error->line, 1u);
      EXPECT_GE(whole.error->column, 1u);
      EXPECT_EQ(whole.error->line, chunked.error->line) << round;
      EXPECT_EQ(whole.error->column, chunked.error->column) << round;
      EXPECT_EQ(whole.error->message, chunked.error->message) << round;
    } else {
      EXPECT_EQ(whole.rows, chunked.rows) << round;
    }
  }
}

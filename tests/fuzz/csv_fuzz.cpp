// libFuzzer entry point for the CSV decoder (sync/csv.cpp), which reads Bulk API 2.0
// results. The first byte picks the dialect (delimiter, null marker, uniform
// columns); the second picks a chunk size. Invariants:
//  - feeding the input in chunks gives the same rows and the same error as parse_all;
//  - an error says where (line, column >= 1) and why;
//  - rows that parse, written back with the writer (quote_all), parse to the same rows.
// See docs/fuzzing.md.

#include "sync/csv.hpp"
#include "tests/fuzz/fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace {

using namespace syncforce::csv;

using rows_t = std::vector<std::vector<std::optional<std::string>>>;

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2)
    return 0;
  const std::uint8_t mode = data[0];
  const std::size_t chunk = 1 + data[1] % 17;
  const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);

  parse_options options;
  static constexpr delimiter delimiters[] = {delimiter::comma, delimiter::tab,   delimiter::pipe,
                                             delimiter::semicolon, delimiter::caret, delimiter::backquote};
  options.delim = delimiters[mode % 6];
  options.null_marker = (mode & 0x08) != 0;
  options.uniform_columns = (mode & 0x10) != 0;
  options.skip_empty_lines = (mode & 0x20) == 0;
  options.skip_bom = (mode & 0x40) == 0;

  auto whole = parse_all(text, options);
  if (whole.error) {
    FUZZ_CHECK(!whole.error->message.empty());
    FUZZ_CHECK(whole.error->line >= 1 && whole.error->column >= 1);
  }

  // The same input in chunks of `chunk` bytes.
  parser p(options);
  rows_t rows;
  auto on_row = [&rows](const row& r) { rows.push_back(r.to_vector()); };
  std::optional<parse_error> error;
  for (std::size_t at = 0; at < text.size() && !error; at += chunk)
    error = p.feed(text.substr(at, chunk), on_row);
  if (!error)
    error = p.finish(on_row);
  FUZZ_CHECK(error.has_value() == whole.error.has_value());
  if (error) {
    FUZZ_CHECK(error->line == whole.error->line && error->column == whole.error->column);
    FUZZ_CHECK(error->message == whole.error->message);
    return 0;
  }
  FUZZ_CHECK(rows == whole.doc.rows);

  // Written back, the rows read the same (nulls as the null marker when it is recognised).
  write_options w_options;
  w_options.delim = options.delim;
  w_options.quote_all = true;
  writer w(w_options);
  for (const auto& r : rows) {
    for (const auto& f : r) {
      if (f)
        w.field(*f);
      else
        w.null_field();
    }
    w.end_row();
  }
  parse_options reread = options;
  reread.skip_bom = false;
  auto back = parse_all(w.buffer(), reread);
  FUZZ_CHECK(!back.error);
  rows_t expected = rows;
  if (!options.null_marker)
    for (auto& r : expected)
      for (auto& f : r)
        if (!f)
          f = std::string{};
  FUZZ_CHECK(back.doc.rows == expected);
  return 0;
}

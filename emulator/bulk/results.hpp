#pragma once

#include "sync/csv.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sfemu::bulk {

/// The three result files of an ingest job, built as records are processed:
/// successfulResults (`"sf__Id","sf__Created",<cols>`), failedResults
/// (`"sf__Id","sf__Error",<cols>`) and unprocessedrecords (`<cols>`). Each
/// record's original fields are kept already encoded, so a file is the header
/// plus a prefix per record.
class result_store {
public:
  result_store(syncforce::csv::delimiter delim = syncforce::csv::delimiter::comma,
               syncforce::csv::line_ending ending = syncforce::csv::line_ending::lf);

  /// The column names of the job data (the header row).
  void set_header(const std::vector<std::string>& columns);
  const std::vector<std::string>& header() const { return header_; }

  /// Encodes a record's original fields (as they were uploaded, `#N/A` kept).
  std::string encode_fields(const syncforce::csv::row& r) const;

  void add_success(std::string_view id, bool created, std::string encoded_fields);
  void add_failure(std::string_view id, std::string_view error, std::string encoded_fields);
  void add_unprocessed(std::string encoded_fields);

  std::size_t successes() const { return success_.size(); }
  std::size_t failures() const { return failure_.size(); }
  std::size_t unprocessed() const { return unprocessed_.size(); }

  std::string successful_csv() const;
  std::string failed_csv() const;
  std::string unprocessed_csv() const;

  /// Salesforce's sf__Error text: "CODE:message:Field1,Field2 --".
  static std::string format_error(std::string_view code, std::string_view message,
                                  const std::vector<std::string>& fields);

private:
  struct entry {
    std::string id;
    std::string extra; // sf__Created or sf__Error
    std::string fields;
  };
  std::string file(std::string_view first, std::string_view second, const std::vector<entry>& rows) const;

  syncforce::csv::write_options options_;
  std::vector<std::string> header_;
  std::vector<entry> success_;
  std::vector<entry> failure_;
  std::vector<std::string> unprocessed_;
};

} // namespace sfemu::bulk

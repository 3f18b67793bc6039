#include "emulator/bulk/results.hpp"

namespace sfemu::bulk {

namespace csv = syncforce::csv;

result_store::result_store(csv::delimiter delim, csv::line_ending ending) {
  options_.delim = delim;
  options_.ending = ending;
  options_.quote_all = true;
}

void result_store::set_header(const std::vector<std::string>& columns) {
  header_ = columns;
}

std::string result_store::encode_fields(const csv::row& r) const {
  csv::writer w(options_);
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (r.is_null(i))
      w.null_field();
    else
      w.field(r[i]);
  }
  return std::string(w.buffer());
}

void result_store::add_success(std::string_view id, bool created, std::string encoded_fields) {
  success_.push_back({std::string(id), created ? "true" : "false", std::move(encoded_fields)});
}

void result_store::add_failure(std::string_view id, std::string_view error, std::string encoded_fields) {
  failure_.push_back({std::string(id), std::string(error), std::move(encoded_fields)});
}

void result_store::add_unprocessed(std::string encoded_fields) {
  unprocessed_.push_back(std::move(encoded_fields));
}

std::string result_store::format_error(std::string_view code, std::string_view message,
                                       const std::vector<std::string>& fields) {
  std::string out(code);
  out += ':';
  out += message;
  out += ':';
  for (std::size_t i = 0; i < fields.size(); ++i) {
    if (i)
      out += ',';
    out += fields[i];
  }
  out += fields.empty() ? "--" : " --";
  return out;
}

std::string result_store::file(std::string_view first, std::string_view second,
                               const std::vector<entry>& rows) const {
  csv::writer w(options_);
  w.field(first);
  w.field(second);
  for (const auto& h : header_)
    w.field(h);
  w.end_row();
  std::string out = w.take();
  const char delim = csv::delimiter_char(options_.delim);
  const std::string_view eol = options_.ending == csv::line_ending::crlf ? "\r\n" : "\n";
  for (const auto& e : rows) {
    w.field(e.id);
    w.field(e.extra);
    out += w.buffer();
    w.clear();
    if (!header_.empty()) {
      out += delim;
      out += e.fields;
    }
    out += eol;
  }
  return out;
}

std::string result_store::successful_csv() const {
  return file("sf__Id", "sf__Created", success_);
}

std::string result_store::failed_csv() const {
  return file("sf__Id", "sf__Error", failure_);
}

std::string result_store::unprocessed_csv() const {
  csv::writer w(options_);
  for (const auto& h : header_)
    w.field(h);
  w.end_row();
  std::string out = w.take();
  const std::string_view eol = options_.ending == csv::line_ending::crlf ? "\r\n" : "\n";
  for (const auto& fields : unprocessed_) {
    out += fields;
    out += eol;
  }
  return out;
}

} // namespace sfemu::bulk

#include "engine_io/read_page.hpp"

#include "engine_io/jobs.hpp"
#include "store/copy_binary.hpp"
#include "store/copy_loader.hpp"
#include "sync/value_cleaning.hpp"

namespace syncforce::engine_io {

read_page::read_page(const hc_table_spec& spec, const wire_row_converter& conv) : spec_(spec), conv_(conv) {}

void read_page::clear() {
  records_ = 0;
  rows_ = 0;
  refused_.clear();
  errors_.clear();
  nul_records_ = 0;
  utf8_records_ = 0;
  tuples_ok_ = binary_;
}

void read_page::set_binary(bool on) {
  binary_ = on && store::binary_copy_enabled();
  for (const auto& c : spec_.columns)
    binary_ = binary_ && store::binary_copy_capable(c);
  tuples_ok_ = binary_ && rows_ == 0;
}

void read_page::add(const std::vector<std::string>& texts, std::string_view sfid) {
  views_.assign(texts.begin(), texts.end());
  add(views_, sfid);
}

void read_page::add(const std::vector<std::string_view>& values, std::string_view sfid) {
  ++records_;
  if (rows_ == lines_.size()) {
    lines_.emplace_back();
    sfids_.emplace_back();
  }
  auto& line = lines_[rows_];
  line.clear();
  const bool ok = conv_.append_copy_line(values, line, problem_);
  if (has(problem_.cleaned, text_cleaning::nul_removed))
    ++nul_records_;
  if (has(problem_.cleaned, text_cleaning::invalid_utf8_replaced))
    ++utf8_records_;
  if (!ok) {
    errors_.push_back({std::string{sfid}, problem_.field, problem_.error, problem_.excerpt});
    return;
  }
  sfids_[rows_].assign(sfid);
  if (tuples_ok_) {
    if (tuples_.size() <= rows_)
      tuples_.resize(rows_ + 1);
    auto& tuple = tuples_[rows_];
    tuple.clear();
    tuples_ok_ = store::append_binary_tuple(line, conv_.kinds(), tuple);
  }
  ++rows_;
}

void read_page::apply(pqxx::dbtransaction& tx, const apply_lines& apply) {
  refused_.assign(rows_, false);
  if (rows_ == 0)
    return;
  auto refused = store::apply_isolating(tx, rows_, [&](pqxx::transaction_base& sub, std::size_t first,
                                                        std::size_t last) { apply(sub, lines_, first, last); });
  const auto& columns = conv_.columns();
  for (const auto& r : refused) {
    refused_[r.index] = true;
    store::read_error e;
    e.sfid = sfids_[r.index];
    e.error = r.error;
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (columns[c] != r.column)
        continue;
      const auto* col = spec_.find_column(columns[c]);
      e.field = col ? col->sf_field : columns[c];
      auto value = store::copy_writer::line_field(lines_[r.index], c);
      e.excerpt = value ? value_excerpt(*value, col && col->sensitive) : std::string{"(null)"};
    }
    errors_.push_back(std::move(e));
  }
}

std::size_t read_page::settle(pqxx::transaction_base& tx, const mapping_job& j, const std::string& operation,
                              const std::string& state, bool clear_clean) {
  if (!errors_.empty())
    store::record_read_errors(tx, j.mapping_id, operation, errors_);
  if (clear_clean) {
    std::vector<std::string> clean;
    clean.reserve(rows_);
    for (std::size_t i = 0; i < rows_; ++i)
      if (i >= refused_.size() || !refused_[i])
        clean.push_back(sfids_[i]);
    if (auto n = store::clear_read_errors(tx, j.mapping_id, clean); n > 0)
      log(spdlog::level::info,
          log_event{"Read errors cleared: " + std::to_string(n) + " records of " + j.config.object_name +
                      " arrived clean",
                    "sync", j.mapping_id, state}
            .with("object_name", j.config.object_name));
  }
  for (const auto& e : errors_)
    log(spdlog::level::warn,
        log_event{"Read error: " + j.config.object_name + " record " + e.sfid + " skipped: " +
                    (e.field.empty() ? "" : e.field + ": ") + e.error,
                  "sync", j.mapping_id, state}
          .with("object_name", j.config.object_name)
          .with("sfid", e.sfid)
          .with("field", e.field)
          .with("operation", operation)
          .with("value", e.excerpt));
  if (nul_records_ > 0 || utf8_records_ > 0) {
    std::string what;
    if (nul_records_ > 0)
      what = std::to_string(nul_records_) + " with NUL bytes removed";
    if (utf8_records_ > 0)
      what += (what.empty() ? "" : ", ") + std::to_string(utf8_records_) + " with invalid UTF-8 replaced by U+FFFD";
    log(spdlog::level::info,
        log_event{"Cleaned " + j.config.object_name + " records: " + what, "sync", j.mapping_id, state}
          .with("object_name", j.config.object_name)
          .with("operation", operation));
  }
  return errors_.size();
}

} // namespace syncforce::engine_io

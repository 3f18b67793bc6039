#include "emulator/bulk/engine.hpp"

#include "emulator/ids.hpp"
#include "emulator/org.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace sfemu::bulk {

namespace csv = syncforce::csv;

// ---- the job record --------------------------------------------------------------

/// A job and everything it holds: uploaded data, results, query output.
struct engine::job {
  job_info info;
  std::vector<std::string> uploads;
  std::size_t upload_bytes = 0;
  result_store results;
  // query jobs
  std::unique_ptr<query_run> run;
  std::string query_header;
  std::string query_body;
  std::vector<std::size_t> row_offsets; ///< start of each row in query_body, plus the end
};

namespace {

/// How one CSV column maps onto the object: a field, or (field null) a parent
/// addressed by external id ("Account.Ext__c").
struct column {
  std::string name;
  const field_def* field = nullptr;
};

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

/// CSV text to the JSON value the REST write path expects for this field type.
/// Unparseable text stays a string, so the write path reports its usual error.
nlohmann::json to_json_value(const field_def& f, std::string_view text) {
  switch (f.type) {
    case field_type::boolean: {
      if (iequal(text, "true") || text == "1" || iequal(text, "yes"))
        return true;
      if (iequal(text, "false") || text == "0" || iequal(text, "no"))
        return false;
      return std::string(text);
    }
    case field_type::int_: {
      std::string s(text);
      char* end = nullptr;
      long long v = std::strtoll(s.c_str(), &end, 10);
      if (end && *end == '\0' && !s.empty())
        return v;
      return s;
    }
    case field_type::double_:
    case field_type::currency:
    case field_type::percent: {
      std::string s(text);
      char* end = nullptr;
      double v = std::strtod(s.c_str(), &end);
      if (end && *end == '\0' && !s.empty())
        return v;
      return s;
    }
    default: return std::string(text);
  }
}

/// The first error of a failed write as an sf__Error text.
std::string error_text(const write_result& r) {
  if (!r.errors.empty()) {
    const auto& e = r.errors.front();
    return result_store::format_error(e.code, e.message, e.fields);
  }
  switch (r.what) {
    case write_result::outcome::not_found:
      return result_store::format_error("ENTITY_IS_DELETED", "entity is deleted", {});
    case write_result::outcome::multiple:
      return result_store::format_error("DUPLICATE_EXTERNAL_ID",
                                        "more than one record found for external id field", {});
    default: return result_store::format_error("UNKNOWN_EXCEPTION", "unknown error", {});
  }
}

/// The line ending the data actually uses, judged by its first line break.
std::optional<csv::line_ending> detect_line_ending(std::string_view data) {
  bool quoted = false;
  for (std::size_t i = 0; i < data.size(); ++i) {
    char c = data[i];
    if (c == '"')
      quoted = !quoted;
    else if (!quoted && c == '\n')
      return (i > 0 && data[i - 1] == '\r') ? csv::line_ending::crlf : csv::line_ending::lf;
  }
  return std::nullopt;
}

} // namespace

// ---- lifecycle -------------------------------------------------------------------

engine::engine(org& o, sfemu::clock& clk) : org_(o), clock_(clk) {
  worker_ = std::thread([this] { run(); });
}

engine::~engine() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable())
    worker_.join();
}

void engine::reset() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& [id, j] : jobs_)
    if (!is_terminal(j->info.state))
      j->info.state = job_state::aborted; // a job being processed stops at its next batch
  jobs_.clear();
  queue_.clear();
}

void engine::set_max_upload_bytes(std::size_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  max_upload_bytes_ = n;
}

bool engine::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return idle_.wait_for(lock, timeout, [&] { return queue_.empty() && !busy_; });
}

engine::job_ptr engine::find(job_kind kind, const std::string& id) {
  auto full = ids::to_18(id);
  auto it = jobs_.find(full.empty() ? id : full);
  if (it == jobs_.end() || it->second->info.kind != kind)
    return nullptr;
  return it->second;
}

void engine::enqueue(const std::string& id) {
  queue_.push_back(id);
  wake_.notify_one();
}

void engine::run() {
  while (true) {
    job_ptr j;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_)
        return;
      auto id = queue_.front();
      queue_.pop_front();
      if (auto it = jobs_.find(id); it != jobs_.end())
        j = it->second;
      busy_ = true;
    }
    if (j) {
      if (j->info.kind == job_kind::ingest)
        process_ingest(j);
      else
        process_query(j);
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      busy_ = false;
      if (queue_.empty())
        idle_.notify_all();
    }
  }
}

void engine::finish(const job_ptr& j, job_state state, std::string error_message, std::int64_t started_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto now = clock_.now_ms();
  j->info.processing_ms = std::max<std::int64_t>(0, now - started_ms);
  j->info.modstamp_ms = now;
  if (j->info.state == job_state::aborted)
    return;
  j->info.state = state;
  j->info.error_message = std::move(error_message);
}

// ---- ingest ------------------------------------------------------------------------

reply<nlohmann::json> engine::create_ingest(const nlohmann::json& body, const std::string& user_id,
                                            const std::string& version) {
  job_info info;
  if (auto e = parse_ingest_request(body, info))
    return reply<nlohmann::json>::fail(*e);
  auto def = org_.object_definition(info.object);
  if (!def)
    return reply<nlohmann::json>::fail(
        {400, "INVALIDJOB", "InvalidJob : Unable to find object: " + info.object});
  info.object = def->name;
  if (info.op == operation::upsert) {
    const field_def* ext = def->field(info.external_id_field);
    if (!ext || !(ext->external_id || ext->type == field_type::id || ext->id_lookup))
      return reply<nlohmann::json>::fail(
          {400, "INVALIDJOB", "InvalidJob : Field name provided, " + info.external_id_field
                                  + " does not match an External ID, Salesforce Id, or indexed field for "
                                  + def->name});
    info.external_id_field = ext->name;
  }
  info.created_by_id = user_id;
  info.api_version = version;
  // The job's rows are written later by the worker thread: keep the creating call's
  // client for their change events, under the Bulk API's name.
  {
    const std::string& origin = cdc::current_origin();
    auto client = origin.find(";client=");
    info.change_origin = origin.empty() ? std::string()
                                        : cdc::make_origin("bulkapi", version,
                                                           client == std::string::npos ? std::string_view()
                                                                                       : std::string_view(origin).substr(client + 8));
  }
  info.state = job_state::open;
  auto j = std::make_shared<job>();
  std::lock_guard<std::mutex> lock(mutex_);
  info.id = ids::make_id("750", next_sequence_++);
  info.created_ms = info.modstamp_ms = clock_.now_ms();
  j->info = info;
  j->results = result_store(info.delim, info.ending);
  jobs_[info.id] = j;
  return reply<nlohmann::json>::ok(j->info.to_json(false));
}

std::optional<api_error> engine::upload(const std::string& id, std::string_view data) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto j = find(job_kind::ingest, id);
  if (!j)
    return job_not_found();
  if (auto e = check_upload(j->info))
    return e;
  if (j->upload_bytes + data.size() > max_upload_bytes_)
    return upload_too_large(max_upload_bytes_);
  j->upload_bytes += data.size();
  j->uploads.emplace_back(data);
  j->info.modstamp_ms = clock_.now_ms();
  return std::nullopt;
}

reply<std::string> engine::ingest_results(const std::string& id, result_kind which) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto j = find(job_kind::ingest, id);
  if (!j)
    return reply<std::string>::fail(job_not_found());
  if (auto e = check_ingest_results(j->info))
    return reply<std::string>::fail(*e);
  switch (which) {
    case result_kind::successful: return reply<std::string>::ok(j->results.successful_csv());
    case result_kind::failed: return reply<std::string>::ok(j->results.failed_csv());
    case result_kind::unprocessed: return reply<std::string>::ok(j->results.unprocessed_csv());
  }
  return reply<std::string>::ok(std::string());
}

void engine::process_ingest(const job_ptr& j) {
  const auto started = clock_.now_ms();
  std::vector<std::string> uploads;
  job_info info;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (j->info.state != job_state::upload_complete)
      return;
    j->info.state = job_state::in_progress;
    j->info.modstamp_ms = started;
    uploads = std::move(j->uploads);
    j->uploads.clear();
    info = j->info;
  }
  auto def = org_.object_definition(info.object);
  if (!def)
    return finish(j, job_state::failed, "InvalidJob : Unable to find object: " + info.object, started);
  if (uploads.empty())
    return finish(j, job_state::failed, "InvalidBatch : No data was uploaded for this job", started);
  if (auto seen = detect_line_ending(uploads.front()); seen && *seen != info.ending)
    return finish(j, job_state::failed,
                  "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is "
                      + std::string(csv::line_ending_name(info.ending)),
                  started);

  const result_store& encoder = j->results; // encode_fields only reads the dialect
  std::vector<column> columns;
  int id_column = -1;
  int ext_column = -1;
  std::optional<std::string> fatal;
  bool aborted = false;

  // one internal batch
  struct pending {
    std::string encoded;
    std::string given_id;
    std::optional<std::string> error; // set when the row failed before the write
    std::size_t op_index = 0;
  };
  std::vector<pending> batch;
  std::vector<write_op> ops;
  batch.reserve(internal_batch_size);
  ops.reserve(internal_batch_size);

  auto flush = [&] {
    if (batch.empty())
      return;
    bool abort_now = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      abort_now = j->info.state == job_state::aborted;
    }
    if (abort_now || aborted) {
      aborted = true;
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& p : batch)
        j->results.add_unprocessed(std::move(p.encoded));
      batch.clear();
      ops.clear();
      return;
    }
    std::vector<write_result> results;
    if (!ops.empty()) {
      cdc::origin_scope origin(info.change_origin);
      results = org_.write_batch(ops, false, info.created_by_id);
    }
    std::lock_guard<std::mutex> lock(mutex_);
    std::uint64_t failed = 0;
    for (auto& p : batch) {
      if (p.error) {
        ++failed;
        j->results.add_failure(p.given_id, *p.error, std::move(p.encoded));
        continue;
      }
      const auto& r = results[p.op_index];
      if (r.success()) {
        bool created = r.what == write_result::outcome::created;
        j->results.add_success(r.id.empty() ? p.given_id : r.id, created, std::move(p.encoded));
      } else {
        ++failed;
        j->results.add_failure(p.given_id.empty() ? r.id : p.given_id, error_text(r), std::move(p.encoded));
      }
    }
    j->info.records_processed += batch.size();
    j->info.records_failed += failed;
    j->info.modstamp_ms = clock_.now_ms();
    batch.clear();
    ops.clear();
  };

  auto on_row = [&](const csv::row& r) {
    if (fatal)
      return;
    if (columns.empty() || r.index() == 0) {
      // header row of this upload
      std::vector<column> cols;
      std::vector<std::string> names;
      for (std::size_t i = 0; i < r.size(); ++i) {
        std::string name(r[i]);
        const field_def* f = def->field(name);
        if (!f) {
          // a parent by external id: "Account.Ext__c" (the write path resolves it)
          auto dot = name.find('.');
          int rel = dot == std::string::npos ? -1 : def->relationship_index(name.substr(0, dot));
          if (rel < 0 || dot + 1 >= name.size()) {
            fatal = "InvalidBatch : Field name not found : " + name;
            return;
          }
          cols.push_back({def->fields[static_cast<std::size_t>(rel)].relationship_name + name.substr(dot), nullptr});
          names.push_back(name);
          continue;
        }
        cols.push_back({f->name, f});
        names.push_back(name);
      }
      if (!columns.empty()) {
        bool same = cols.size() == columns.size();
        for (std::size_t i = 0; same && i < cols.size(); ++i)
          same = cols[i].field == columns[i].field && cols[i].name == columns[i].name;
        if (!same)
          fatal = "InvalidBatch : Every upload of a job must have the same header row";
        return;
      }
      columns = std::move(cols);
      for (std::size_t i = 0; i < columns.size(); ++i) {
        if (!columns[i].field)
          continue;
        if (columns[i].field->type == field_type::id)
          id_column = static_cast<int>(i);
        if (!info.external_id_field.empty() && iequal(columns[i].field->name, info.external_id_field))
          ext_column = static_cast<int>(i);
      }
      std::lock_guard<std::mutex> lock(mutex_);
      j->results.set_header(names);
      return;
    }
    pending p;
    p.encoded = encoder.encode_fields(r);
    if (r.size() != columns.size()) {
      p.error = result_store::format_error(
          "INVALID_FIELD", "Row has " + std::to_string(r.size()) + " fields but the header has "
                               + std::to_string(columns.size()),
          {});
      batch.push_back(std::move(p));
      if (batch.size() >= internal_batch_size)
        flush();
      return;
    }
    write_op op;
    op.object = info.object;
    auto id_text = [&]() -> std::string {
      if (id_column < 0 || r.is_null(static_cast<std::size_t>(id_column)))
        return {};
      return std::string(r[static_cast<std::size_t>(id_column)]);
    };
    switch (info.op) {
      case operation::insert: op.op = write_op::kind::create; break;
      case operation::update:
        op.op = write_op::kind::update;
        op.id = p.given_id = id_text();
        if (op.id.empty())
          p.error = result_store::format_error("MISSING_ARGUMENT", "Id not specified in an update call", {});
        break;
      case operation::upsert:
        op.op = write_op::kind::upsert;
        op.ext_field = info.external_id_field;
        if (ext_column >= 0 && !r.is_null(static_cast<std::size_t>(ext_column)))
          op.ext_value = std::string(r[static_cast<std::size_t>(ext_column)]);
        if (op.ext_value.empty())
          p.error = result_store::format_error("MISSING_ARGUMENT",
                                               info.external_id_field + " not specified", {});
        break;
      case operation::delete_:
      case operation::hard_delete:
        op.op = info.op == operation::delete_ ? write_op::kind::remove : write_op::kind::hard_remove;
        op.id = p.given_id = id_text();
        if (op.id.empty())
          p.error = result_store::format_error("MISSING_ARGUMENT", "Id not specified in a delete call", {});
        break;
      default: break;
    }
    if (!p.error && op.op != write_op::kind::remove && op.op != write_op::kind::hard_remove) {
      for (std::size_t i = 0; i < columns.size(); ++i) {
        const auto& c = columns[i];
        if (static_cast<int>(i) == id_column)
          continue; // the Id addresses the record; it is never a field value
        if (info.op == operation::upsert && static_cast<int>(i) == ext_column)
          continue;
        if (r.is_null(i))
          op.fields[c.name] = nullptr;
        else if (!r[i].empty())
          op.fields[c.name] = c.field ? to_json_value(*c.field, r[i]) : nlohmann::json(std::string(r[i]));
      }
      if (info.op == operation::insert && id_column >= 0 && !id_text().empty())
        op.fields["Id"] = id_text();
    }
    if (!p.error) {
      p.op_index = ops.size();
      ops.push_back(std::move(op));
    }
    batch.push_back(std::move(p));
    if (batch.size() >= internal_batch_size)
      flush();
  };

  csv::parse_options po;
  po.delim = info.delim;
  for (const auto& data : uploads) {
    csv::parser parser(po);
    auto err = parser.feed(data, on_row);
    if (!err)
      err = parser.finish(on_row);
    if (err) {
      fatal = "InvalidBatch : Failed to parse CSV: " + err->to_string();
      break;
    }
    if (fatal)
      break;
  }
  if (fatal) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& p : batch)
      j->results.add_unprocessed(std::move(p.encoded));
    batch.clear();
  }
  if (fatal)
    return finish(j, job_state::failed, *fatal, started);
  flush();
  if (columns.empty())
    return finish(j, job_state::failed, "InvalidBatch : The job data has no header row", started);
  finish(j, job_state::job_complete, std::string(), started);
}

// ---- query jobs ------------------------------------------------------------------------

reply<nlohmann::json> engine::create_query(const nlohmann::json& body, const std::string& user_id,
                                           const std::string& version) {
  job_info info;
  if (auto e = parse_query_request(body, info))
    return reply<nlohmann::json>::fail(*e);
  auto run = org_.run_query(info.query, info.op == operation::query_all);
  if (!run)
    return reply<nlohmann::json>::fail({400, run.error().code, run.error().message});
  if (run->query && run->query->count_only())
    return reply<nlohmann::json>::fail(
        {400, "API_ERROR", "Aggregate queries are not supported by Bulk API 2.0 query jobs"});
  info.object = run->query ? run->query->object() : std::string();
  info.created_by_id = user_id;
  info.api_version = version;
  info.state = job_state::upload_complete;
  auto j = std::make_shared<job>();
  j->run = std::make_unique<query_run>(std::move(*run));
  std::lock_guard<std::mutex> lock(mutex_);
  info.id = ids::make_id("750", next_sequence_++);
  info.created_ms = info.modstamp_ms = clock_.now_ms();
  j->info = info;
  jobs_[info.id] = j;
  enqueue(info.id);
  return reply<nlohmann::json>::ok(j->info.to_json(false));
}

void engine::process_query(const job_ptr& j) {
  const auto started = clock_.now_ms();
  std::unique_ptr<query_run> run;
  job_info info;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (j->info.state != job_state::upload_complete)
      return;
    j->info.state = job_state::in_progress;
    j->info.modstamp_ms = started;
    run = std::move(j->run);
    info = j->info;
  }
  if (!run || !run->query)
    return finish(j, job_state::failed, "InvalidBatch : the query could not be run", started);
  csv::write_options wo;
  wo.delim = info.delim;
  wo.ending = info.ending;
  wo.quote_all = true;
  csv::writer header(wo);
  for (const auto& f : run->query->fields())
    header.field(f.path());
  header.end_row();

  csv::writer body(wo);
  std::vector<std::size_t> offsets;
  offsets.reserve(run->slots.size() + 1);
  const std::size_t total = run->slots.size();
  for (std::size_t begin = 0; begin < total; begin += internal_batch_size) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (j->info.state == job_state::aborted)
        return finish(j, job_state::aborted, std::string(), started);
    }
    std::size_t end = std::min(total, begin + internal_batch_size);
    org_.flat_rows(*run, begin, end, [&](const std::vector<std::optional<std::string>>& row) {
      offsets.push_back(body.buffer().size());
      for (const auto& v : row) {
        if (v)
          body.field(*v);
        else
          body.empty_field();
      }
      body.end_row();
    });
    std::lock_guard<std::mutex> lock(mutex_);
    j->info.records_processed = offsets.size();
  }
  offsets.push_back(body.buffer().size());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    j->query_header = header.take();
    j->query_body = body.take();
    j->row_offsets = std::move(offsets);
    j->info.records_processed = j->row_offsets.size() - 1;
  }
  finish(j, job_state::job_complete, std::string(), started);
}

reply<result_page> engine::query_results(const std::string& id, std::string_view locator,
                                         std::size_t max_records) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto j = find(job_kind::query, id);
  if (!j)
    return reply<result_page>::fail(job_not_found());
  if (auto e = check_query_results(j->info))
    return reply<result_page>::fail(*e);
  const std::size_t total = j->row_offsets.empty() ? 0 : j->row_offsets.size() - 1;
  std::size_t start = 0;
  if (!locator.empty()) {
    auto decoded = decode_locator(locator);
    if (!decoded || *decoded > total)
      return reply<result_page>::fail({400, "INVALID_LOCATOR", "Invalid locator: " + std::string(locator)});
    start = static_cast<std::size_t>(*decoded);
  }
  std::size_t end = max_records ? std::min(total, start + max_records) : total;
  result_page out;
  out.csv = j->query_header;
  if (end > start)
    out.csv.append(j->query_body, j->row_offsets[start], j->row_offsets[end] - j->row_offsets[start]);
  out.records = end - start;
  out.locator = end < total ? encode_locator(end) : "null";
  return reply<result_page>::ok(std::move(out));
}

// ---- both kinds ----------------------------------------------------------------------

reply<nlohmann::json> engine::set_state(job_kind kind, const std::string& id, const nlohmann::json& body) {
  if (!body.is_object() || !body.contains("state") || !body["state"].is_string())
    return reply<nlohmann::json>::fail(
        {400, "JSON_PARSER_ERROR", "The request body must be a JSON object with a \"state\" string"});
  std::string requested = body["state"].get<std::string>();
  std::lock_guard<std::mutex> lock(mutex_);
  auto j = find(kind, id);
  if (!j)
    return reply<nlohmann::json>::fail(job_not_found());
  if (auto e = check_client_transition(j->info, requested))
    return reply<nlohmann::json>::fail(*e);
  j->info.modstamp_ms = clock_.now_ms();
  if (requested == "UploadComplete") {
    j->info.state = job_state::upload_complete;
    enqueue(j->info.id);
  } else {
    bool was_waiting = j->info.state == job_state::open || j->info.state == job_state::upload_complete;
    j->info.state = job_state::aborted;
    if (kind == job_kind::ingest && was_waiting) {
      // nothing was processed: every uploaded record is unprocessed
      csv::parse_options po;
      po.delim = j->info.delim;
      for (const auto& data : j->uploads) {
        csv::parser parser(po);
        auto on_row = [&](const csv::row& r) {
          if (r.index() == 0) {
            if (j->results.header().empty()) {
              std::vector<std::string> names;
              for (std::size_t i = 0; i < r.size(); ++i)
                names.emplace_back(r[i]);
              j->results.set_header(names);
            }
            return;
          }
          j->results.add_unprocessed(j->results.encode_fields(r));
        };
        if (!parser.feed(data, on_row))
          parser.finish(on_row);
      }
      j->uploads.clear();
    }
  }
  return reply<nlohmann::json>::ok(j->info.to_json(false));
}

reply<nlohmann::json> engine::info(job_kind kind, const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto j = find(kind, id);
  if (!j)
    return reply<nlohmann::json>::fail(job_not_found());
  return reply<nlohmann::json>::ok(j->info.to_json(true));
}

nlohmann::json engine::list(job_kind kind) {
  std::lock_guard<std::mutex> lock(mutex_);
  nlohmann::json records = nlohmann::json::array();
  for (const auto& [id, j] : jobs_)
    if (j->info.kind == kind)
      records.push_back(j->info.to_json(false));
  return {{"done", true}, {"records", records}, {"nextRecordsUrl", nullptr}};
}

std::optional<api_error> engine::remove(job_kind kind, const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto j = find(kind, id);
  if (!j)
    return job_not_found();
  if (auto e = check_delete(j->info))
    return e;
  jobs_.erase(j->info.id);
  return std::nullopt;
}

} // namespace sfemu::bulk

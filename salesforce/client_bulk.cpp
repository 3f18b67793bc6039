// Bulk API 2.0: ingest jobs and query jobs.
#include "salesforce/client.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace syncforce::salesforce {

namespace {

using json = nlohmann::json;

std::string str(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end())
    return {};
  if (it->is_string())
    return it->get<std::string>();
  if (it->is_number_float()) {
    auto s = it->dump(); // apiVersion comes as a number, 60.0
    return s;
  }
  if (it->is_number())
    return it->dump();
  return {};
}

long num(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end())
    return 0;
  if (it->is_number())
    return it->get<long>();
  return 0;
}

result<job_info> parse_job(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("id")) {
    sf_error e;
    e.kind = error_kind::protocol;
    e.code = "MALFORMED_RESPONSE";
    e.message = "bulk job answer has no id";
    return e;
  }
  job_info info;
  info.id = str(j, "id");
  info.operation = str(j, "operation");
  info.object = str(j, "object");
  info.state_text = str(j, "state");
  info.state = parse_job_state(info.state_text);
  info.external_id_field = str(j, "externalIdFieldName");
  info.content_url = str(j, "contentUrl");
  info.api_version = str(j, "apiVersion");
  info.job_type = str(j, "jobType");
  info.error_message = str(j, "errorMessage");
  info.records_processed = num(j, "numberRecordsProcessed");
  info.records_failed = num(j, "numberRecordsFailed");
  info.retries = num(j, "retries");
  info.total_processing_time = num(j, "totalProcessingTime");
  return info;
}

} // namespace

result<job_info> client::job_call(std::string method, std::string path, std::string body, call_options options) {
  raw_call c;
  c.method = std::move(method);
  c.path = std::move(path);
  c.body = std::move(body);
  c.options = options;
  auto r = call(c);
  if (!r)
    return r.error();
  return parse_job(r->body);
}

// ---- ingest ------------------------------------------------------------------

result<job_info> client::create_ingest_job(const ingest_job_spec& spec) {
  json body = {{"object", spec.object},
               {"operation", spec.operation},
               {"contentType", "CSV"},
               {"columnDelimiter", std::string(csv::delimiter_name(spec.column_delimiter))},
               {"lineEnding", std::string(csv::line_ending_name(spec.line_ending))}};
  if (!spec.external_id_field.empty())
    body["externalIdFieldName"] = spec.external_id_field;
  return job_call("POST", data_path("/jobs/ingest"), body.dump(), {false});
}

status client::upload_job_data(std::string_view job_id, std::string csv_data) {
  raw_call c;
  c.method = "PUT";
  c.path = data_path("/jobs/ingest/" + std::string(job_id) + "/batches");
  c.body = std::move(csv_data);
  c.content_type = "text/csv";
  c.options.idempotent = true; // one upload per job: a repeat replaces, never adds
  auto r = call(c);
  if (!r)
    return r.error();
  return done_t{};
}

result<job_info> client::close_ingest_job(std::string_view job_id) {
  return job_call("PATCH", data_path("/jobs/ingest/" + std::string(job_id)), R"({"state":"UploadComplete"})",
                  {true});
}

result<job_info> client::abort_ingest_job(std::string_view job_id) {
  return job_call("PATCH", data_path("/jobs/ingest/" + std::string(job_id)), R"({"state":"Aborted"})", {true});
}

result<job_info> client::ingest_job(std::string_view job_id) {
  return job_call("GET", data_path("/jobs/ingest/" + std::string(job_id)), {}, {true});
}

status client::delete_ingest_job(std::string_view job_id) {
  raw_call c;
  c.method = "DELETE";
  c.path = data_path("/jobs/ingest/" + std::string(job_id));
  c.options.idempotent = true;
  auto r = call(c);
  if (!r)
    return r.error();
  return done_t{};
}

result<job_info> client::wait_for_job(std::string_view kind, std::string_view job_id,
                                      std::chrono::milliseconds timeout, std::chrono::milliseconds first_delay,
                                      double factor, bool wait_first) {
  auto deadline = time_->steady_now() + timeout;
  auto delay = first_delay;
  if (wait_first) {
    time_->sleep_for(std::min(delay, timeout));
    delay = std::min(config_.job_poll_max,
                     std::chrono::milliseconds(static_cast<long long>(static_cast<double>(delay.count()) * factor) + 1));
  }
  for (;;) {
    auto info = job_call("GET", data_path("/jobs/" + std::string(kind) + "/" + std::string(job_id)), {}, {true});
    if (!info || is_terminal(info->state))
      return info;
    auto now = time_->steady_now();
    if (now >= deadline) {
      sf_error e;
      e.kind = error_kind::transient;
      e.code = "TIMEOUT";
      e.message = "bulk job " + std::string(job_id) + " still " + info->state_text + " after " +
                  std::to_string(timeout.count()) + " ms";
      return e;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    time_->sleep_for(std::min(delay, left));
    delay = std::min(config_.job_poll_max,
                     std::chrono::milliseconds(static_cast<long long>(static_cast<double>(delay.count()) * factor) + 1));
  }
}

result<job_info> client::wait_for_ingest_job(std::string_view job_id, std::chrono::milliseconds timeout,
                                             bool just_closed) {
  return wait_for_job("ingest", job_id, timeout, config_.ingest_poll_initial, config_.ingest_poll_factor, just_closed);
}

result<long> client::ingest_job_results(std::string_view job_id, ingest_results which,
                                        const std::function<void(const csv::row&)>& on_row) {
  const char* leaf = which == ingest_results::successful ? "/successfulResults"
                     : which == ingest_results::failed   ? "/failedResults"
                                                         : "/unprocessedrecords";
  csv::parser parser;
  long rows = 0;
  std::optional<csv::parse_error> perr;
  auto handler = [&](const csv::row& r) {
    if (r.index() > 0)
      ++rows;
    on_row(r);
  };
  raw_call c;
  c.path = data_path("/jobs/ingest/" + std::string(job_id) + leaf);
  c.content_type = "text/csv";
  c.body_sink = [&](std::string_view chunk) {
    perr = parser.feed(chunk, handler);
    return !perr;
  };
  auto r = call(c);
  if (!r) {
    if (perr) {
      sf_error e;
      e.kind = error_kind::protocol;
      e.code = "MALFORMED_CSV";
      e.message = perr->to_string();
      return e;
    }
    return r.error();
  }
  if ((perr = parser.finish(handler))) {
    sf_error e;
    e.kind = error_kind::protocol;
    e.code = "MALFORMED_CSV";
    e.message = perr->to_string();
    return e;
  }
  return rows;
}

// ---- query jobs --------------------------------------------------------------

result<job_info> client::create_query_job(std::string_view soql, bool include_deleted) {
  json body = {{"operation", include_deleted ? "queryAll" : "query"}, {"query", std::string(soql)}};
  return job_call("POST", data_path("/jobs/query"), body.dump(), {false});
}

result<job_info> client::query_job(std::string_view job_id) {
  return job_call("GET", data_path("/jobs/query/" + std::string(job_id)), {}, {true});
}

result<job_info> client::abort_query_job(std::string_view job_id) {
  return job_call("PATCH", data_path("/jobs/query/" + std::string(job_id)), R"({"state":"Aborted"})", {true});
}

status client::delete_query_job(std::string_view job_id) {
  raw_call c;
  c.method = "DELETE";
  c.path = data_path("/jobs/query/" + std::string(job_id));
  c.options.idempotent = true;
  auto r = call(c);
  if (!r)
    return r.error();
  return done_t{};
}

result<job_info> client::wait_for_query_job(std::string_view job_id, std::chrono::milliseconds timeout) {
  return wait_for_job("query", job_id, timeout, config_.job_poll_initial, config_.job_poll_factor);
}

bulk_query_reader client::query_job_results(std::string job_id, long max_records, std::string start_locator) {
  bulk_query_reader reader(this, std::move(job_id), max_records);
  reader.locator_ = std::move(start_locator);
  return reader;
}

bulk_query_reader::bulk_query_reader(client* owner, std::string job_id, long max_records)
  : client_(owner), job_id_(std::move(job_id)), max_records_(max_records) {}

result<bulk_page_info> bulk_query_reader::next_page(const record_handler& on_record) {
  bulk_page_info info;
  if (done_) {
    info.done = true;
    return info;
  }
  std::string path = client_->data_path("/jobs/query/" + job_id_ + "/results");
  char sep = '?';
  if (!locator_.empty()) {
    path += sep + std::string("locator=") + url_encode(locator_);
    sep = '&';
  }
  if (max_records_ > 0)
    path += sep + std::string("maxRecords=") + std::to_string(max_records_);

  csv::parser parser;
  std::optional<csv::parse_error> perr;
  bool first_page = columns_.empty();
  auto handler = [&](const csv::row& r) {
    if (r.index() == 0) {
      if (first_page)
        for (size_t i = 0; i < r.size(); ++i)
          columns_.emplace_back(r[i]);
      return;
    }
    ++info.records;
    on_record(r);
  };
  raw_call c;
  c.path = path;
  c.content_type = "text/csv";
  c.body_sink = [&](std::string_view chunk) {
    perr = parser.feed(chunk, handler);
    return !perr;
  };
  auto r = client_->call(c);
  auto csv_error = [&] {
    sf_error e;
    e.kind = error_kind::protocol;
    e.code = "MALFORMED_CSV";
    e.message = perr->to_string();
    return e;
  };
  if (!r)
    return perr ? csv_error() : r.error();
  if ((perr = parser.finish(handler)))
    return csv_error();
  records_read_ += info.records;
  std::string next(r->header("Sforce-Locator"));
  if (next.empty() || next == "null") {
    done_ = true;
    locator_.clear();
    info.done = true;
  } else {
    locator_ = next;
    info.locator = next;
  }
  return info;
}

} // namespace syncforce::salesforce

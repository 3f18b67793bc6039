// REST API under /services/data: versions, resources, describe, query/queryAll/queryMore,
// record CRUD, upsert by external id, updated/deleted, collections, limits.
#include "emulator/handlers.hpp"
#include "emulator/ids.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace sfemu {

namespace {

using httplib::Request;
using httplib::Response;

int major_of(const std::string& version) { return std::atoi(version.c_str()); }

void not_found(Response& res) {
  route_context::write_error(res, 404, "NOT_FOUND", "The requested resource does not exist");
}

void method_not_allowed(Response& res, const std::string& method, const char* allowed) {
  route_context::write_error(res, 405, "METHOD_NOT_ALLOWED",
                             "HTTP Method '" + method + "' not allowed. Allowed are " + allowed);
}

/// Parses a JSON body; writes 400 JSON_PARSER_ERROR and returns nullopt if malformed.
std::optional<nlohmann::json> json_body(const Request& req, Response& res) {
  if (req.body.empty()) {
    route_context::write_error(res, 400, "JSON_PARSER_ERROR", "The request body is empty; a JSON body is required");
    return std::nullopt;
  }
  try {
    return nlohmann::json::parse(req.body);
  } catch (const nlohmann::json::parse_error& e) {
    route_context::write_error(res, 400, "JSON_PARSER_ERROR",
                               "Unexpected character in JSON input at [line:1, column:" + std::to_string(e.byte) + "]");
    return std::nullopt;
  }
}

/// The JSON object body of a single-record write; anything else gets Salesforce's
/// JSON_PARSER_ERROR written and nullopt.
std::optional<nlohmann::json> record_body(const Request& req, Response& res, const std::string& object) {
  auto body = json_body(req, res);
  if (body && !body->is_object()) {
    route_context::write_error(res, 400, "JSON_PARSER_ERROR",
                               "Cannot deserialize instance of " + object + " from START_ARRAY value");
    return std::nullopt;
  }
  return body;
}

nlohmann::json errors_json(const std::vector<field_error>& errors, const char* code_key) {
  nlohmann::json out = nlohmann::json::array();
  for (auto& e : errors)
    out.push_back({{code_key, e.code}, {"message", e.message}, {"fields", e.fields}});
  return out;
}

/// A single-record error response: `[{"message","errorCode","fields"}]`.
void write_errors(Response& res, int status, const std::vector<field_error>& errors) {
  nlohmann::json out = nlohmann::json::array();
  for (auto& e : errors)
    out.push_back({{"message", e.message}, {"errorCode", e.code}, {"fields", e.fields}});
  route_context::write_json(res, status, out);
}

int status_for(const write_result& r) {
  if (r.what == write_result::outcome::not_found)
    return 404;
  for (auto& e : r.errors)
    if (e.code == "ENTITY_IS_DELETED")
      return 404;
  return 400;
}

nlohmann::json collection_item(const write_result& r, bool with_created) {
  nlohmann::json item;
  if (r.success()) {
    item = {{"id", r.id}, {"success", true}, {"errors", nlohmann::json::array()}};
    if (with_created)
      item["created"] = r.what == write_result::outcome::created;
  } else {
    if (!r.id.empty())
      item["id"] = r.id;
    item["success"] = false;
    item["errors"] = errors_json(r.errors, "statusCode");
  }
  return item;
}

std::string version_label(int v) {
  static const char* seasons[] = {"Winter", "Spring", "Summer"};
  int k = v - 56;
  int season = ((k % 3) + 3) % 3;
  int year = 23 + (k >= 0 ? k / 3 : -((-k + 2) / 3));
  return std::string(seasons[season]) + " '" + std::to_string(year);
}

std::string query_option_batch(const Request& req) {
  return req.get_header_value("Sforce-Query-Options");
}

std::size_t batch_size(const Request& req) {
  std::string opts = query_option_batch(req);
  std::size_t size = 2000;
  auto pos = opts.find("batchSize");
  if (pos != std::string::npos) {
    auto eq = opts.find('=', pos);
    if (eq != std::string::npos) {
      long n = std::strtol(opts.c_str() + eq + 1, nullptr, 10);
      if (n > 0)
        size = static_cast<std::size_t>(std::clamp(n, 200L, 2000L));
    }
  }
  return size;
}

std::string fix_plus(std::string s) {
  // an unencoded '+' of a timezone offset arrives as a space
  for (auto& c : s)
    if (c == ' ')
      c = '+';
  return s;
}

std::vector<std::string> split_csv_param(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto comma = s.find(',', start);
    std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    while (!part.empty() && part.front() == ' ')
      part.erase(part.begin());
    while (!part.empty() && part.back() == ' ')
      part.pop_back();
    if (!part.empty())
      out.push_back(part);
    if (comma == std::string::npos)
      break;
    start = comma + 1;
  }
  return out;
}

/// A query-string parameter read from the raw request target: httplib splits values at
/// every '=', so an unencoded `WHERE X=1` would be cut short.
std::optional<std::string> raw_param(const Request& req, const std::string& name) {
  auto q = req.target.find('?');
  if (q == std::string::npos)
    return std::nullopt;
  std::string_view rest = std::string_view(req.target).substr(q + 1);
  auto decode = [](std::string_view in) { return httplib::detail::decode_url(std::string(in), true); };
  while (!rest.empty()) {
    auto amp = rest.find('&');
    auto part = rest.substr(0, amp);
    auto eq = part.find('=');
    if (decode(part.substr(0, eq)) == name)
      return eq == std::string_view::npos ? std::string() : decode(part.substr(eq + 1));
    if (amp == std::string_view::npos)
      break;
    rest = rest.substr(amp + 1);
  }
  return std::nullopt;
}

bool truthy_param(const Request& req, const char* name) {
  if (!req.has_param(name))
    return false;
  std::string v = lower(req.get_param_value(name));
  return v == "true" || v == "1";
}

/// The REST API, one request at a time.
class rest_api {
public:
  explicit rest_api(route_context& ctx) : ctx_(ctx) {}

  void handle(const Request& req, Response& res) {
    std::string version = req.matches[1].str();
    std::vector<std::string> seg = split_path(req.matches[2].str());
    const std::string& m = req.method;
    if (seg.empty())
      return resources(req, res, version);
    const std::string& head = seg[0];
    if (head == "sobjects")
      return sobjects(req, res, version, seg);
    if (head == "query" || head == "queryAll") {
      if (m != "GET")
        return method_not_allowed(res, m, "GET,HEAD");
      if (seg.size() == 1)
        return query(req, res, version, head == "queryAll");
      if (seg.size() == 2)
        return query_more(req, res, version, seg[1]);
      return not_found(res);
    }
    if (head == "composite" && seg.size() >= 2 && seg[1] == "sobjects")
      return collections(req, res, version, seg);
    if (head == "limits") {
      if (m != "GET")
        return method_not_allowed(res, m, "GET,HEAD");
      if (seg.size() == 1)
        return limits(req, res);
      if (seg.size() == 2 && seg[1] == "recordCount")
        return record_count(req, res);
      return not_found(res);
    }
    auto s = ctx_.begin(req, res, head);
    if (!s)
      return;
    not_found(res);
  }

private:
  // -- resources --
  void resources(const Request& req, Response& res, const std::string& v) {
    if (!ctx_.begin(req, res, "resources"))
      return;
    std::string b = "/services/data/v" + v;
    ctx_.write_json(res, 200,
                    {{"sobjects", b + "/sobjects"}, {"query", b + "/query"}, {"queryAll", b + "/queryAll"},
                     {"limits", b + "/limits"}, {"composite", b + "/composite"}, {"jobs", b + "/jobs"},
                     {"recent", b + "/recent"}, {"search", b + "/search"}, {"tooling", b + "/tooling"}});
  }

  // -- sobjects --
  void sobjects(const Request& req, Response& res, const std::string& v, const std::vector<std::string>& seg) {
    const std::string& m = req.method;
    if (seg.size() == 1) {
      if (m != "GET")
        return method_not_allowed(res, m, "GET,HEAD");
      if (!ctx_.begin(req, res, "sobjects"))
        return;
      return ctx_.write_json(res, 200, ctx_.model().describe_global(v));
    }
    std::string object = ctx_.model().canonical_name(seg[1]);
    if (seg.size() == 2) {
      if (!ctx_.begin(req, res, m == "POST" ? "sobjects/record" : "sobjects"))
        return;
      if (object.empty())
        return ctx_.write_error(res, 404, "NOT_FOUND", "The requested resource does not exist");
      if (m == "GET") {
        auto g = ctx_.model().describe_global(v);
        nlohmann::json entry;
        for (auto& o : g["sobjects"])
          if (o["name"] == object)
            entry = o;
        return ctx_.write_json(res, 200, {{"objectDescribe", entry}, {"recentItems", nlohmann::json::array()}});
      }
      if (m == "POST")
        return create(req, res, object);
      return method_not_allowed(res, m, "GET,HEAD,POST");
    }
    const std::string& third = seg[2];
    if (seg.size() == 3 && third == "describe") {
      if (m != "GET")
        return method_not_allowed(res, m, "GET,HEAD");
      if (!ctx_.begin(req, res, "sobjects/describe"))
        return;
      auto d = ctx_.model().describe(seg[1], v);
      if (!d)
        return ctx_.write_error(res, 404, "NOT_FOUND", "The requested resource does not exist");
      return ctx_.write_json(res, 200, *d);
    }
    if (seg.size() == 3 && (third == "updated" || third == "deleted")) {
      if (m != "GET")
        return method_not_allowed(res, m, "GET,HEAD");
      if (!ctx_.begin(req, res, "sobjects/" + third))
        return;
      if (object.empty())
        return not_found(res);
      return replication(req, res, object, third == "deleted");
    }
    if (seg.size() == 3) {
      if (!ctx_.begin(req, res, "sobjects/record"))
        return;
      if (object.empty())
        return not_found(res);
      const std::string& id = third;
      if (m == "GET") {
        std::vector<std::string> fields;
        if (req.has_param("fields"))
          fields = split_csv_param(req.get_param_value("fields"));
        auto r = ctx_.model().read(object, id, fields, v);
        if (!r.body) {
          std::vector<field_error> errs{r.error};
          return write_errors(res, r.status, errs);
        }
        return ctx_.write_json_text(res, 200, std::move(*r.body));
      }
      if (m == "PATCH" || m == "DELETE") {
        if (ids::to_18(id).empty() || ctx_.model().object_for_id(id) != object)
          return ctx_.write_error(res, 404, "NOT_FOUND",
                                  "Provided external ID field does not exist or is not accessible: " + id);
        write_op op;
        op.object = object;
        op.id = id;
        if (m == "PATCH") {
          auto body = record_body(req, res, object);
          if (!body)
            return;
          op.op = write_op::kind::update;
          op.fields = std::move(*body);
        } else {
          op.op = write_op::kind::remove;
        }
        auto r = ctx_.model().write(op, s_user_);
        if (!r.success()) {
          if (r.what == write_result::outcome::not_found && m == "PATCH")
            return not_found(res);
          return write_errors(res, status_for(r), r.errors);
        }
        res.status = 204;
        return;
      }
      return method_not_allowed(res, m, "GET,HEAD,PATCH,DELETE");
    }
    if (seg.size() == 4) {
      if (!ctx_.begin(req, res, m == "PATCH" || m == "POST" ? "sobjects/upsert" : "sobjects/record"))
        return;
      if (object.empty())
        return not_found(res);
      return by_external_id(req, res, v, object, seg[2], seg[3]);
    }
    ctx_.begin(req, res, "sobjects");
    not_found(res);
  }

  void create(const Request& req, Response& res, const std::string& object) {
    auto body = record_body(req, res, object);
    if (!body)
      return;
    write_op op;
    op.op = write_op::kind::create;
    op.object = object;
    op.fields = std::move(*body);
    auto r = ctx_.model().write(op, s_user_);
    if (!r.success())
      return write_errors(res, 400, r.errors);
    ctx_.write_json(res, 201, {{"id", r.id}, {"success", true}, {"errors", nlohmann::json::array()}});
  }

  void by_external_id(const Request& req, Response& res, const std::string& v, const std::string& object,
                      const std::string& field, const std::string& value) {
    const std::string& m = req.method;
    auto def = ctx_.model().object_definition(object);
    const field_def* f = def ? def->field(field) : nullptr;
    if (!f || !(f->external_id || f->name == "Id"))
      return ctx_.write_error(res, 404, "NOT_FOUND",
                              "Provided external ID field does not exist or is not accessible: " + field);
    if (m == "PATCH" || m == "POST") {
      auto body = record_body(req, res, object);
      if (!body)
        return;
      write_op op;
      op.op = write_op::kind::upsert;
      op.object = object;
      op.ext_field = f->name;
      op.ext_value = value;
      op.fields = std::move(*body);
      op.update_only = truthy_param(req, "updateOnly");
      auto r = ctx_.model().write(op, s_user_);
      if (r.what == write_result::outcome::multiple) {
        nlohmann::json urls = nlohmann::json::array();
        for (auto& id : r.matches)
          urls.push_back("/services/data/v" + v + "/sobjects/" + object + "/" + id);
        return ctx_.write_json(res, 300, urls);
      }
      if (!r.success())
        return write_errors(res, status_for(r), r.errors);
      if (r.what == write_result::outcome::created)
        return ctx_.write_json(res, 201, {{"id", r.id}, {"success", true}, {"errors", nlohmann::json::array()},
                                          {"created", true}});
      if (major_of(v) < 46) {
        res.status = 204;
        return;
      }
      return ctx_.write_json(res, 200, {{"id", r.id}, {"success", true}, {"errors", nlohmann::json::array()},
                                        {"created", false}});
    }
    if (m == "GET" || m == "DELETE") {
      std::string soql = "SELECT Id FROM " + object + " WHERE " + f->name + " = '";
      for (char c : value) {
        if (c == '\'' || c == '\\')
          soql.push_back('\\');
        soql.push_back(c);
      }
      soql += "'";
      auto run = ctx_.model().run_query(soql, false);
      std::vector<std::string> found;
      if (run) {
        auto text = ctx_.model().render_records(*run, 0, run->slots.size(), v);
        auto arr = nlohmann::json::parse(text, nullptr, false);
        if (arr.is_array())
          for (auto& r : arr)
            found.push_back(r.value("Id", std::string()));
      }
      if (found.empty())
        return not_found(res);
      if (found.size() > 1) {
        nlohmann::json urls = nlohmann::json::array();
        for (auto& id : found)
          urls.push_back("/services/data/v" + v + "/sobjects/" + object + "/" + id);
        return ctx_.write_json(res, 300, urls);
      }
      if (m == "GET") {
        std::vector<std::string> fields;
        if (req.has_param("fields"))
          fields = split_csv_param(req.get_param_value("fields"));
        auto r = ctx_.model().read(object, found.front(), fields, v);
        if (!r.body) {
          std::vector<field_error> errs{r.error};
          return write_errors(res, r.status, errs);
        }
        return ctx_.write_json_text(res, 200, std::move(*r.body));
      }
      write_op op;
      op.op = write_op::kind::remove;
      op.object = object;
      op.id = found.front();
      auto r = ctx_.model().write(op, s_user_);
      if (!r.success())
        return write_errors(res, status_for(r), r.errors);
      res.status = 204;
      return;
    }
    method_not_allowed(res, m, "GET,HEAD,PATCH,DELETE");
  }

  void replication(const Request& req, Response& res, const std::string& object, bool deleted) {
    if (!req.has_param("start") || !req.has_param("end"))
      return ctx_.write_error(res, 400, "MISSING_ARGUMENT", "start and end parameters are required");
    auto start = parse_datetime(fix_plus(req.get_param_value("start")));
    auto end = parse_datetime(fix_plus(req.get_param_value("end")));
    if (!start || !end)
      return ctx_.write_error(res, 400, "INVALID_REPLICATION_DATE", "Unable to parse the start or end datetime");
    if (*end < *start)
      return ctx_.write_error(res, 400, "INVALID_REPLICATION_DATE", "EndDate can not be before StartDate");
    std::int64_t now = ctx_.clock().now_ms();
    std::int64_t covered = std::min(*end, now);
    covered -= ((covered % 60000) + 60000) % 60000; // whole minutes, as Salesforce
    if (!deleted) {
      auto found = ctx_.model().updated_ids(object, *start, *end);
      return ctx_.write_json(res, 200, {{"ids", found}, {"latestDateCovered", format_datetime(covered)}});
    }
    auto found = ctx_.model().deleted_ids(object, *start, *end);
    nlohmann::json list = nlohmann::json::array();
    std::int64_t earliest = *start;
    for (auto& [id, t] : found) {
      list.push_back({{"id", id}, {"deletedDate", format_datetime(t)}});
      earliest = std::min(earliest, t);
    }
    ctx_.write_json(res, 200, {{"deletedRecords", list},
                               {"earliestDateAvailable", format_datetime(earliest)},
                               {"latestDateCovered", format_datetime(covered)}});
  }

  // -- query --
  bool legacy_for(const std::string& version) const {
    auto mode = ctx_.settings().legacy_cursors;
    return mode == cursor_mode::always || (mode == cursor_mode::below_v56 && major_of(version) < 56);
  }

  cursor_store::limits cursor_limits() const {
    auto s = ctx_.settings();
    cursor_store::limits l;
    l.legacy_limit = s.legacy_cursor_limit;
    l.legacy_idle_ms = s.legacy_cursor_idle_ms;
    l.modern_ttl_ms = s.modern_cursor_ttl_ms;
    return l;
  }

  void page(Response& res, const std::string& v, const query_run& run, std::size_t offset, std::size_t batch,
            const std::string& cursor_id) {
    std::size_t end = std::min(run.slots.size(), offset + batch);
    bool done = end >= run.slots.size();
    std::string out = "{\"totalSize\":" + std::to_string(run.total) + ",\"done\":" + (done ? "true" : "false");
    if (!done)
      out += ",\"nextRecordsUrl\":\"/services/data/v" + v + "/query/" + cursor_id + "-" + std::to_string(end) + "\"";
    out += ",\"records\":";
    out += ctx_.model().render_records(run, offset, end, v);
    out += "}";
    ctx_.write_json_text(res, 200, std::move(out));
  }

  void query(const Request& req, Response& res, const std::string& v, bool all) {
    auto s = ctx_.begin(req, res, all ? "queryAll" : "query");
    if (!s)
      return;
    auto q = raw_param(req, "q");
    if (!q || q->empty())
      return ctx_.write_error(res, 400, "MALFORMED_QUERY", "A query string has to be specified");
    auto run = ctx_.model().run_query(*q, all);
    if (!run)
      return ctx_.write_error(res, 400, run.error().code, run.error().message);
    std::size_t batch = batch_size(req);
    if (run->query->count_only() || run->slots.size() <= batch)
      return page(res, v, *run, 0, batch, std::string());
    auto shared = std::move(run.value());
    std::string id = ctx_.cursors().open(s->user_id, shared, legacy_for(v), ctx_.clock().now_ms(), cursor_limits());
    page(res, v, shared, 0, batch, id);
  }

  void query_more(const Request& req, Response& res, const std::string& v, const std::string& locator) {
    auto s = ctx_.begin(req, res, "queryMore");
    if (!s)
      return;
    auto loc = parse_locator(locator);
    if (!loc)
      return ctx_.write_error(res, 400, "INVALID_QUERY_LOCATOR", "invalid query locator");
    auto c = ctx_.cursors().find(loc->first, s->user_id, ctx_.clock().now_ms(), cursor_limits());
    if (!c || loc->second > c->run.slots.size())
      return ctx_.write_error(res, 400, "INVALID_QUERY_LOCATOR", "invalid query locator");
    std::size_t batch = batch_size(req);
    std::size_t end = std::min(c->run.slots.size(), loc->second + batch);
    page(res, v, c->run, loc->second, batch, c->id);
    if (end >= c->run.slots.size())
      ctx_.cursors().close(c->id);
  }

  // -- collections --
  void collections(const Request& req, Response& res, const std::string& v, const std::vector<std::string>& seg) {
    const std::string& m = req.method;
    auto s = ctx_.begin(req, res, "composite/sobjects");
    if (!s)
      return;
    std::string user = s->user_id;
    if (seg.size() == 2 && m == "DELETE") {
      std::vector<std::string> list = split_csv_param(req.get_param_value("ids"));
      if (list.empty())
        return ctx_.write_error(res, 400, "MISSING_ARGUMENT", "ids parameter is required");
      if (list.size() > 200)
        return ctx_.write_error(res, 400, "EXCEEDED_ID_LIMIT",
                                "record limit reached. cannot submit more than 200 records into this call");
      std::vector<write_op> ops;
      for (auto& id : list) {
        write_op op;
        op.op = write_op::kind::remove;
        op.id = id;
        ops.push_back(std::move(op));
      }
      auto results = ctx_.model().write_batch(ops, truthy_param(req, "allOrNone"), user);
      nlohmann::json out = nlohmann::json::array();
      for (std::size_t i = 0; i < results.size(); ++i) {
        auto item = collection_item(results[i], false);
        if (!item.contains("id"))
          item["id"] = list[i];
        out.push_back(item);
      }
      return ctx_.write_json(res, 200, out);
    }
    if (seg.size() == 3 && (m == "GET" || m == "POST")) {
      // Retrieve several records: GET ?ids=&fields= or POST {"ids":[...],"fields":[...]} (jsforce's retrieve).
      std::string object = ctx_.model().canonical_name(seg[2]);
      if (object.empty())
        return ctx_.write_error(res, 400, "INVALID_TYPE", "sObject type '" + seg[2] + "' is not supported.");
      std::vector<std::string> list, fields;
      if (m == "GET") {
        list = split_csv_param(req.get_param_value("ids"));
        fields = split_csv_param(req.get_param_value("fields"));
      } else {
        auto body = json_body(req, res);
        if (!body)
          return;
        auto strings = [&](const char* key, std::vector<std::string>& into) {
          if (!body->is_object() || !body->contains(key) || !(*body)[key].is_array())
            return false;
          for (const auto& item : (*body)[key]) {
            if (!item.is_string())
              return false;
            into.push_back(item.get<std::string>());
          }
          return true;
        };
        if (!strings("ids", list) || !strings("fields", fields))
          return ctx_.write_error(res, 400, "JSON_PARSER_ERROR",
                                  "Expected {\"ids\": [string, ...], \"fields\": [string, ...]}");
      }
      if (list.empty() || fields.empty())
        return ctx_.write_error(res, 400, "MISSING_ARGUMENT", "ids and fields parameters are required");
      if (list.size() > 2000)
        return ctx_.write_error(res, 400, "EXCEEDED_ID_LIMIT",
                                "record limit reached. cannot submit more than 2000 records into this call");
      if (std::find(fields.begin(), fields.end(), "Id") == fields.end())
        fields.insert(fields.begin(), "Id");
      std::string out = "[";
      for (std::size_t i = 0; i < list.size(); ++i) {
        auto r = ctx_.model().read(object, list[i], fields, v);
        if (!r.body && r.status == 400)
          return write_errors(res, 400, {r.error});
        out += (i ? "," : "");
        out += r.body ? *r.body : "null";
      }
      out += "]";
      return ctx_.write_json_text(res, 200, std::move(out));
    }
    if (!((seg.size() == 2 && (m == "POST" || m == "PATCH")) || (seg.size() == 4 && m == "PATCH")))
      return seg.size() <= 4 ? method_not_allowed(res, m, "POST,PATCH,DELETE") : not_found(res);
    auto body = json_body(req, res);
    if (!body)
      return;
    if (!body->is_object() || !body->contains("records") || !(*body)["records"].is_array())
      return ctx_.write_error(res, 400, "JSON_PARSER_ERROR", "Expected {\"allOrNone\": bool, \"records\": [...]}");
    const auto& records = (*body)["records"];
    if (records.size() > 200)
      return ctx_.write_error(res, 400, "EXCEEDED_ID_LIMIT",
                              "record limit reached. cannot submit more than 200 records into this call");
    bool all_or_none = body->contains("allOrNone") && (*body)["allOrNone"].is_boolean() &&
                       (*body)["allOrNone"].get<bool>();
    std::string upsert_object, upsert_field;
    if (seg.size() == 4) {
      upsert_object = ctx_.model().canonical_name(seg[2]);
      if (upsert_object.empty())
        return ctx_.write_error(res, 400, "INVALID_TYPE", "sObject type '" + seg[2] + "' is not supported.");
      auto def = ctx_.model().object_definition(upsert_object);
      const field_def* f = def->field(seg[3]);
      if (!f || !(f->external_id || f->name == "Id"))
        return ctx_.write_error(res, 404, "NOT_FOUND",
                                "Provided external ID field does not exist or is not accessible: " + seg[3]);
      upsert_field = f->name;
    }
    std::vector<write_op> ops;
    std::vector<std::optional<write_result>> pre(records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
      const auto& r = records[i];
      write_op op;
      if (!r.is_object()) {
        write_result bad;
        bad.errors.push_back({"JSON_PARSER_ERROR", "Each record must be a JSON object", {}});
        pre[i] = bad;
        ops.emplace_back();
        continue;
      }
      std::string type;
      if (r.contains("attributes") && r["attributes"].is_object() && r["attributes"].contains("type") &&
          r["attributes"]["type"].is_string())
        type = r["attributes"]["type"].get<std::string>();
      op.fields = r;
      op.fields.erase("attributes");
      if (seg.size() == 4) {
        if (!type.empty() && !iequals(type, upsert_object)) {
          write_result bad;
          bad.errors.push_back({"INVALID_TYPE", "Record type " + type + " does not match " + upsert_object, {}});
          pre[i] = bad;
        }
        op.op = write_op::kind::upsert;
        op.object = upsert_object;
        op.ext_field = upsert_field;
        for (auto it = r.begin(); it != r.end(); ++it)
          if (iequals(it.key(), upsert_field) && !it->is_null())
            op.ext_value = it->is_string() ? it->get<std::string>() : it->dump();
        if (op.ext_value.empty() && upsert_field != "Id" && !pre[i]) {
          write_result bad;
          bad.errors.push_back({"MISSING_ARGUMENT", upsert_field + " not specified", {upsert_field}});
          pre[i] = bad;
        }
      } else if (m == "POST") {
        if (type.empty()) {
          write_result bad;
          bad.errors.push_back({"INVALID_TYPE", "Must specify a type in the attributes of each record", {}});
          pre[i] = bad;
        }
        op.op = write_op::kind::create;
        op.object = type;
      } else {
        op.op = write_op::kind::update;
        op.object = type;
        for (auto key : {"id", "Id", "ID"})
          if (r.contains(key) && r[key].is_string())
            op.id = r[key].get<std::string>();
        op.fields.erase("id");
        op.fields.erase("Id");
        op.fields.erase("ID");
        if (op.id.empty() && !pre[i]) {
          write_result bad;
          bad.errors.push_back({"MISSING_ARGUMENT", "Id not specified in an update call", {}});
          pre[i] = bad;
        }
      }
      ops.push_back(std::move(op));
    }
    // records that failed before reaching the org do not run; allOrNone then runs nothing
    bool any_pre = std::any_of(pre.begin(), pre.end(), [](auto& p) { return p.has_value(); });
    std::vector<write_op> runnable;
    std::vector<std::size_t> index;
    for (std::size_t i = 0; i < ops.size(); ++i)
      if (!pre[i]) {
        runnable.push_back(ops[i]);
        index.push_back(i);
      }
    std::vector<write_result> results(ops.size());
    if (!(all_or_none && any_pre)) {
      auto done = ctx_.model().write_batch(runnable, all_or_none, user);
      for (std::size_t k = 0; k < done.size(); ++k)
        results[index[k]] = std::move(done[k]);
    } else {
      for (auto i : index) {
        results[i].what = write_result::outcome::error;
        results[i].errors = {{"ALL_OR_NONE_OPERATION_ROLLED_BACK",
                              "Record rolled back because not all records were valid and the request was using "
                              "AllOrNone header",
                              {}}};
      }
    }
    for (std::size_t i = 0; i < ops.size(); ++i)
      if (pre[i])
        results[i] = *pre[i];
    nlohmann::json out = nlohmann::json::array();
    for (auto& r : results)
      out.push_back(collection_item(r, seg.size() == 4));
    ctx_.write_json(res, 200, out);
  }

  // -- limits --
  void limits(const Request& req, Response& res) {
    auto s = ctx_.begin(req, res, "limits");
    if (!s)
      return;
    auto settings = ctx_.settings();
    auto used = ctx_.usage().used(ctx_.clock().now_ms());
    auto lim = [](std::int64_t max, std::int64_t remaining) {
      return nlohmann::json{{"Max", max}, {"Remaining", std::max<std::int64_t>(0, remaining)}};
    };
    ctx_.write_json(res, 200,
                    {{"ConcurrentAsyncGetReportInstances", lim(200, 200)},
                     {"ConcurrentSyncReportRuns", lim(20, 20)},
                     {"DailyApiRequests", lim(settings.api_limit, settings.api_limit - used)},
                     {"DailyAsyncApexExecutions", lim(250000, 250000)},
                     {"DailyBulkApiBatches", lim(15000, 15000)},
                     {"DailyBulkV2QueryFileStorageMB", lim(976562, 976562)},
                     {"DailyBulkV2QueryJobs", lim(10000, 10000)},
                     {"DailyDurableStreamingApiEvents", lim(10000, 10000)},
                     {"DailyStreamingApiEvents", lim(10000, 10000)},
                     {"DataStorageMB", lim(1024, 1024)},
                     {"FileStorageMB", lim(1024, 1024)},
                     {"HourlyODataCallout", lim(10000, 10000)},
                     {"HourlyTimeBasedWorkflow", lim(1000, 1000)},
                     {"MonthlyPlatformEventsUsageEntitlement", lim(0, 0)},
                     {"SingleEmail", lim(5000, 5000)}});
  }

  void record_count(const Request& req, Response& res) {
    auto s = ctx_.begin(req, res, "limits/recordCount");
    if (!s)
      return;
    std::vector<std::string> names = split_csv_param(req.get_param_value("sObjects"));
    if (!req.has_param("sObjects"))
      names = ctx_.model().object_names();
    nlohmann::json list = nlohmann::json::array();
    for (auto& n : names) {
      auto count = ctx_.model().record_count(n);
      if (!count)
        return ctx_.write_error(res, 400, "INVALID_TYPE", "sObject type '" + n + "' is not supported.");
      list.push_back({{"count", *count}, {"name", ctx_.model().canonical_name(n)}});
    }
    ctx_.write_json(res, 200, {{"sObjects", list}});
  }

  route_context& ctx_;
  std::string s_user_;

public:
  /// Sets the acting user for writes made by this request (set by begin's session).
  void set_user(std::string u) { s_user_ = std::move(u); }
};

} // namespace

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < path.size()) {
    auto slash = path.find('/', start);
    std::string part = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (!part.empty()) {
      out.push_back(httplib::detail::decode_url(part, false));
    }
    if (slash == std::string::npos)
      break;
    start = slash + 1;
  }
  return out;
}

void register_rest_routes(httplib::Server& http, route_context& ctx) {
  auto versions = [](const Request&, Response& res) {
    nlohmann::json list = nlohmann::json::array();
    for (int v = 20; v <= 62; ++v) {
      std::string ver = std::to_string(v) + ".0";
      list.push_back({{"label", version_label(v)}, {"url", "/services/data/v" + ver}, {"version", ver}});
    }
    route_context::write_json(res, 200, list);
  };
  http.Get(R"(/services/data/?)", versions);

  auto handler = [&ctx](const Request& req, Response& res) {
    rest_api api(ctx);
    auto auth = req.get_header_value("Authorization");
    auto sp = auth.find(' ');
    if (auto s = ctx.sessions().find(sp == std::string::npos ? auth : auth.substr(sp + 1), ctx.clock().now_ms()))
      api.set_user(s->user_id);
    api.handle(req, res);
  };
  const char* pattern = R"(/services/data/v(\d{1,3}\.\d)(/.*)?)";
  http.Get(pattern, handler);
  http.Post(pattern, handler);
  http.Patch(pattern, handler);
  http.Delete(pattern, handler);
  http.Put(pattern, handler);

  // anything else under /services: Salesforce's 404 shape
  auto fallback = [](const Request&, Response& res) { not_found(res); };
  const char* any = R"(/.*)";
  http.Get(any, fallback);
  http.Post(any, fallback);
  http.Patch(any, fallback);
  http.Delete(any, fallback);
  http.Put(any, fallback);
  http.Options(any, fallback);
}

} // namespace sfemu

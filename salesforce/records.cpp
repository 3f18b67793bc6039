#include "salesforce/records.hpp"

#include <simdjson.h>

#include <algorithm>
#include <strings.h>

namespace syncforce::salesforce {

namespace od = simdjson::ondemand;

const field_value* record::find(std::string_view name) const {
  for (auto& [k, v] : fields)
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0)
      return &v;
  return nullptr;
}

std::string_view record::text(std::string_view name) const {
  auto v = find(name);
  return v == nullptr || v->is_null() ? std::string_view{} : std::string_view(v->text);
}

std::string locator_of(std::string_view url) {
  auto q = url.find('?');
  if (q != std::string_view::npos)
    url = url.substr(0, q);
  while (!url.empty() && url.back() == '/')
    url.remove_suffix(1);
  auto slash = url.rfind('/');
  return std::string(slash == std::string_view::npos ? url : url.substr(slash + 1));
}

namespace {

sf_error parse_failure(simdjson::error_code code, const char* where) {
  sf_error e;
  e.kind = error_kind::protocol;
  e.code = "MALFORMED_RESPONSE";
  e.message = std::string("query page: ") + where + ": " + simdjson::error_message(code);
  return e;
}

std::string_view trim_right(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

/// Walks the fields of `obj` depth first and hands each to `sink` by its JSON
/// type, named `prefix` + key (a relationship's fields as `Parent.Field`).
/// `attributes` is no field: the top level's goes to sink.attributes. The one
/// walk behind both a parsed record (record_sink) and parse_each's views
/// (field_matcher).
template <class Sink>
simdjson::error_code walk_fields(od::object obj, std::string& prefix, Sink& sink, bool top) {
  for (auto member : obj) {
    std::string_view key;
    if (auto err = member.unescaped_key().get(key))
      return err;
    od::value v;
    if (auto err = member.value().get(v))
      return err;
    if (key == "attributes") {
      if (top)
        sink.attributes(v);
      continue;
    }
    od::json_type type;
    if (auto err = v.type().get(type))
      return err;
    std::string_view name = key;
    if (!prefix.empty()) {
      sink.name.assign(prefix).append(key);
      name = sink.name;
    }
    switch (type) {
      case od::json_type::null:
        sink.null(name);
        break;
      case od::json_type::boolean: {
        bool b = false;
        if (auto err = v.get_bool().get(b))
          return err;
        sink.boolean(name, b);
        break;
      }
      case od::json_type::number:
        sink.number(name, trim_right(v.raw_json_token()));
        break;
      case od::json_type::string: {
        std::string_view text;
        if (auto err = v.get_string().get(text))
          return err;
        sink.string(name, text);
        break;
      }
      case od::json_type::object: {
        od::object nested;
        if (auto err = v.get_object().get(nested))
          return err;
        const auto prefix_size = prefix.size();
        prefix.append(key).push_back('.');
        auto err = walk_fields(nested, prefix, sink, false);
        prefix.resize(prefix_size);
        if (err)
          return err;
        break;
      }
      case od::json_type::array: {
        od::array arr;
        if (auto err = v.get_array().get(arr))
          return err;
        std::string_view raw;
        if (auto err = arr.raw_json().get(raw))
          return err;
        sink.json(name, trim_right(raw));
        break;
      }
    }
  }
  return simdjson::SUCCESS;
}

/// walk_fields into a record: typed values, their texts copied.
struct record_sink {
  record& out;
  std::string name; ///< scratch for dotted names

  void attributes(od::value v) {
    od::object attrs;
    if (v.get_object().get(attrs) != simdjson::SUCCESS)
      return;
    for (auto a : attrs) {
      std::string_view akey;
      if (a.unescaped_key().get(akey) == simdjson::SUCCESS && akey == "type") {
        std::string_view type;
        if (a.value().get_string().get(type) == simdjson::SUCCESS)
          out.sobject_type.assign(type);
      }
    }
  }
  void null(std::string_view n) { out.fields.emplace_back(std::string(n), field_value::null()); }
  void boolean(std::string_view n, bool b) { out.fields.emplace_back(std::string(n), field_value::boolean(b)); }
  void number(std::string_view n, std::string_view raw) {
    out.fields.emplace_back(std::string(n), field_value::number(std::string(raw)));
  }
  void string(std::string_view n, std::string_view text) {
    out.fields.emplace_back(std::string(n), field_value::string(std::string(text)));
  }
  void json(std::string_view n, std::string_view raw) {
    out.fields.emplace_back(std::string(n), field_value{value_type::json, std::string(raw)});
  }
};

/// parse_each's state: which wanted field each walked field is, by its
/// position in the record (the records of one query have the same shape, so
/// a name is compared once per field, not searched for).
struct field_matcher {
  std::vector<std::string> wanted;
  std::vector<std::string_view> values;
  std::vector<bool> seen;
  std::vector<std::pair<std::string, std::size_t>> slots; ///< by position: name, wanted index (npos: not wanted)
  std::size_t position = 0;
  std::string name; ///< scratch for dotted names

  void begin() {
    values.assign(wanted.size(), std::string_view{});
    seen.assign(wanted.size(), false);
    position = 0;
  }

  // walk_fields' sink: every value as its text (a boolean as true/false, null as empty).
  void attributes(od::value) {}
  void null(std::string_view field) { set(field, {}); }
  void boolean(std::string_view field, bool b) { set(field, b ? "true" : "false"); }
  void number(std::string_view field, std::string_view raw) { set(field, raw); }
  void string(std::string_view field, std::string_view text) { set(field, text); }
  void json(std::string_view field, std::string_view raw) { set(field, raw); }

  void set(std::string_view field, std::string_view text) {
    const auto at = position++;
    if (at >= slots.size())
      slots.resize(at + 1, {std::string{}, std::string::npos});
    auto& slot = slots[at];
    if (slot.first.size() != field.size() || slot.first != field) {
      slot.first.assign(field);
      slot.second = std::string::npos;
      for (std::size_t i = 0; i < wanted.size(); ++i) {
        const auto& w = wanted[i];
        if (w.size() == field.size() && strncasecmp(w.data(), field.data(), w.size()) == 0) {
          slot.second = i;
          break;
        }
      }
    }
    if (slot.second != std::string::npos && !seen[slot.second]) {
      seen[slot.second] = true;
      values[slot.second] = text;
    }
  }
};

} // namespace

struct page_parser::impl {
  od::parser parser;
  simdjson::padded_string copy;
  field_matcher matcher; ///< kept from page to page of one query
};

page_parser::page_parser() : impl_(std::make_unique<impl>()) {}
page_parser::~page_parser() = default;
page_parser::page_parser(page_parser&&) noexcept = default;
page_parser& page_parser::operator=(page_parser&&) noexcept = default;

result<query_page> page_parser::parse(const std::string& body) {
  return walk(body, nullptr, nullptr);
}

result<query_page> page_parser::parse_each(const std::string& body, const std::vector<std::string>& wanted,
                                           const record_values_fn& on_record) {
  return walk(body, &wanted, &on_record);
}

result<query_page> page_parser::walk(const std::string& body, const std::vector<std::string>* wanted,
                                     const record_values_fn* on_record) {
  od::document doc;
  simdjson::error_code err;
  if (body.capacity() >= body.size() + simdjson::SIMDJSON_PADDING) {
    err = impl_->parser.iterate(body.data(), body.size(), body.capacity()).get(doc);
  } else {
    impl_->copy = simdjson::padded_string(body);
    err = impl_->parser.iterate(impl_->copy).get(doc);
  }
  if (err)
    return parse_failure(err, "document");
  od::object root;
  if ((err = doc.get_object().get(root)))
    return parse_failure(err, "root");
  auto& m = impl_->matcher;
  if (wanted && m.wanted != *wanted) {
    m = field_matcher{};
    m.wanted = *wanted;
  }
  query_page page;
  bool saw_records = false;
  std::string prefix;
  size_t width = 8;
  for (auto member : root) {
    std::string_view key;
    if ((err = member.unescaped_key().get(key)))
      return parse_failure(err, "key");
    if (key == "totalSize") {
      int64_t n = 0;
      if ((err = member.value().get_int64().get(n)))
        return parse_failure(err, "totalSize");
      page.total_size = static_cast<long>(n);
    } else if (key == "done") {
      if ((err = member.value().get_bool().get(page.done)))
        return parse_failure(err, "done");
    } else if (key == "nextRecordsUrl") {
      od::value v;
      if ((err = member.value().get(v)))
        return parse_failure(err, "nextRecordsUrl");
      std::string_view url;
      if (v.get_string().get(url) == simdjson::SUCCESS)
        page.next_records_url.assign(url);
    } else if (key == "records") {
      od::array records;
      if ((err = member.value().get_array().get(records)))
        return parse_failure(err, "records");
      saw_records = true;
      for (auto element : records) {
        od::object obj;
        if ((err = element.get_object().get(obj)))
          return parse_failure(err, "record");
        prefix.clear();
        if (wanted) {
          m.begin();
          if ((err = walk_fields(obj, prefix, m, true)))
            return parse_failure(err, "record field");
          ++page.streamed;
          (*on_record)(m.values);
          continue;
        }
        record r;
        r.fields.reserve(width); // records of a page have the same shape
        record_sink sink{r, {}};
        if ((err = walk_fields(obj, prefix, sink, true)))
          return parse_failure(err, "record field");
        width = std::max(width, r.fields.size());
        page.records.push_back(std::move(r));
      }
    }
  }
  if (!saw_records)
    return parse_failure(simdjson::NO_SUCH_FIELD, "records");
  if (page.done)
    page.next_records_url.clear();
  return page;
}

} // namespace syncforce::salesforce

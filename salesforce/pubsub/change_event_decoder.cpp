#include "salesforce/pubsub/change_event_decoder.hpp"

#include <avro.h>

#include <cctype>

namespace syncforce::pubsub {

namespace {

/// An Avro value as JSON (unions as their branch's value, enums as their symbol).
nlohmann::json to_json(avro_value_t* v) {
  switch (avro_value_get_type(v)) {
    case AVRO_NULL: return nullptr;
    case AVRO_BOOLEAN: {
      int b = 0;
      avro_value_get_boolean(v, &b);
      return b != 0;
    }
    case AVRO_INT32: {
      int32_t i = 0;
      avro_value_get_int(v, &i);
      return i;
    }
    case AVRO_INT64: {
      int64_t i = 0;
      avro_value_get_long(v, &i);
      return i;
    }
    case AVRO_FLOAT: {
      float f = 0;
      avro_value_get_float(v, &f);
      return f;
    }
    case AVRO_DOUBLE: {
      double d = 0;
      avro_value_get_double(v, &d);
      return d;
    }
    case AVRO_STRING: {
      const char* s = nullptr;
      size_t n = 0;
      avro_value_get_string(v, &s, &n);
      return std::string(s, n > 0 ? n - 1 : 0); // n counts the terminating NUL
    }
    case AVRO_BYTES: {
      const void* b = nullptr;
      size_t n = 0;
      avro_value_get_bytes(v, &b, &n);
      return std::string(static_cast<const char*>(b), n);
    }
    case AVRO_ENUM: {
      int e = 0;
      avro_value_get_enum(v, &e);
      const char* symbol = avro_schema_enum_get(avro_value_get_schema(v), e);
      return symbol ? std::string(symbol) : std::to_string(e);
    }
    case AVRO_ARRAY: {
      nlohmann::json out = nlohmann::json::array();
      size_t n = 0;
      avro_value_get_size(v, &n);
      for (size_t i = 0; i < n; ++i) {
        avro_value_t el;
        avro_value_get_by_index(v, i, &el, nullptr);
        out.push_back(to_json(&el));
      }
      return out;
    }
    case AVRO_RECORD: {
      nlohmann::json out = nlohmann::json::object();
      size_t n = 0;
      avro_value_get_size(v, &n);
      for (size_t i = 0; i < n; ++i) {
        avro_value_t f;
        const char* name = nullptr;
        avro_value_get_by_index(v, i, &f, &name);
        out[name] = to_json(&f);
      }
      return out;
    }
    case AVRO_UNION: {
      avro_value_t branch;
      if (avro_value_get_current_branch(v, &branch) != 0)
        return nullptr;
      return to_json(&branch);
    }
    default: return nullptr;
  }
}

std::vector<std::string> strings_of(const nlohmann::json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (auto& s : j)
      if (s.is_string())
        out.push_back(s.get<std::string>());
  return out;
}

/// The record schema inside a field type (itself, or the record branch of a union).
const nlohmann::json* record_of(const nlohmann::json& type) {
  if (type.is_object() && type.value("type", "") == "record")
    return &type;
  if (type.is_array())
    for (auto& t : type)
      if (t.is_object() && t.value("type", "") == "record")
        return &t;
  return nullptr;
}

/// Bits set in a "0x<hex>" bitmap, least significant first.
std::optional<std::vector<std::size_t>> bits_of(const std::string& text) {
  if (text.size() < 3 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X'))
    return std::nullopt;
  std::vector<std::size_t> out;
  std::string hex = text.substr(2);
  for (std::size_t d = 0; d < hex.size(); ++d) {
    char c = hex[hex.size() - 1 - d];
    if (!std::isxdigit(static_cast<unsigned char>(c)))
      return std::nullopt;
    int nibble = std::isdigit(static_cast<unsigned char>(c)) ? c - '0' : std::toupper(c) - 'A' + 10;
    for (int b = 0; b < 4; ++b)
      if (nibble & (1 << b))
        out.push_back(d * 4 + static_cast<std::size_t>(b));
  }
  return out;
}

} // namespace

std::optional<std::string> bitmap_names(const std::vector<std::string>& bitmaps, const std::vector<std::string>& fields,
                                        const std::map<std::size_t, std::vector<std::string>>& sub_fields,
                                        std::vector<std::string>& out) {
  out.clear();
  for (auto& entry : bitmaps) {
    auto dash = entry.find('-');
    if (dash == std::string::npos) {
      auto bits = bits_of(entry);
      if (!bits)
        return "malformed field bitmap '" + entry + "'";
      for (auto b : *bits) {
        if (b >= fields.size())
          return "field bitmap '" + entry + "' names field " + std::to_string(b) + " of a schema with " +
                 std::to_string(fields.size());
        // a compound field's own bit is followed by its "<i>-0x..." entry: listed once, by its parts
        if (!sub_fields.count(b))
          out.push_back(fields[b]);
      }
      continue;
    }
    std::size_t parent = 0;
    try {
      parent = std::stoul(entry.substr(0, dash));
    } catch (const std::exception&) {
      return "malformed field bitmap '" + entry + "'";
    }
    auto subs = sub_fields.find(parent);
    auto bits = bits_of(entry.substr(dash + 1));
    if (!bits || parent >= fields.size() || subs == sub_fields.end())
      return "field bitmap '" + entry + "' names no compound field of the schema";
    for (auto b : *bits) {
      if (b >= subs->second.size())
        return "field bitmap '" + entry + "' names sub-field " + std::to_string(b) + " of " + fields[parent];
      out.push_back(fields[parent] + "." + subs->second[b]);
    }
  }
  return std::nullopt;
}

std::optional<std::uint64_t> decode_replay_id(const std::string& bytes) {
  if (bytes.size() != 8)
    return std::nullopt;
  std::uint64_t id = 0;
  for (unsigned char c : bytes)
    id = (id << 8) | c;
  return id;
}

std::string encode_replay_id(std::uint64_t id) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, id >>= 8)
    out[static_cast<std::size_t>(i)] = static_cast<char>(id & 0xff);
  return out;
}

// ---- decoder ----------------------------------------------------------------------------------------

struct change_event_decoder::compiled {
  avro_schema_t schema = nullptr;
  avro_value_iface_t* iface = nullptr;
  std::vector<std::string> fields;                             ///< top-level names
  std::map<std::size_t, std::vector<std::string>> sub_fields; ///< compound fields' parts
  ~compiled() {
    if (iface)
      avro_value_iface_decref(iface);
    if (schema)
      avro_schema_decref(schema);
  }
};

change_event_decoder::change_event_decoder() = default;
change_event_decoder::~change_event_decoder() = default;

std::optional<std::string> change_event_decoder::add_schema(const std::string& schema_id,
                                                            const std::string& schema_json) {
  auto doc = nlohmann::json::parse(schema_json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.value("type", "") != "record" || !doc["fields"].is_array() ||
      doc["fields"].empty() || doc["fields"][0].value("name", "") != "ChangeEventHeader")
    return "schema " + schema_id + " is not a change event schema (a record whose first field is ChangeEventHeader)";
  auto c = std::make_shared<compiled>();
  for (std::size_t i = 0; i < doc["fields"].size(); ++i) {
    const auto& f = doc["fields"][i];
    c->fields.push_back(f.value("name", ""));
    if (i > 0)
      if (const auto* rec = record_of(f["type"]); rec && (*rec)["fields"].is_array()) {
        std::vector<std::string> parts;
        for (auto& p : (*rec)["fields"])
          parts.push_back(p.value("name", ""));
        c->sub_fields[i] = std::move(parts);
      }
  }
  if (avro_schema_from_json_length(schema_json.data(), schema_json.size(), &c->schema) != 0)
    return "schema " + schema_id + " does not compile: " + avro_strerror();
  c->iface = avro_generic_class_from_schema(c->schema);
  if (!c->iface)
    return "schema " + schema_id + " does not compile: " + avro_strerror();
  std::lock_guard<std::mutex> lock(mutex_);
  schemas_[schema_id] = std::move(c);
  return std::nullopt;
}

bool change_event_decoder::has_schema(const std::string& schema_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  return schemas_.count(schema_id) > 0;
}

std::optional<std::string> change_event_decoder::decode(const std::string& schema_id, const std::string& payload,
                                                        change_event& out) const {
  std::shared_ptr<compiled> c;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = schemas_.find(schema_id);
    if (it == schemas_.end())
      return "unknown schema id " + schema_id + " (fetch it with GetSchema first)";
    c = it->second;
  }
  avro_value_t value;
  if (avro_generic_value_new(c->iface, &value) != 0)
    return std::string("cannot allocate an Avro value: ") + avro_strerror();
  avro_reader_t reader = avro_reader_memory(payload.data(), static_cast<int64_t>(payload.size()));
  int rc = avro_value_read(reader, &value);
  nlohmann::json doc = rc == 0 ? to_json(&value) : nlohmann::json();
  avro_reader_free(reader);
  avro_value_decref(&value);
  if (rc != 0)
    return "payload of " + std::to_string(payload.size()) + " bytes does not match schema " + schema_id + ": " +
           avro_strerror();
  const auto& h = doc["ChangeEventHeader"];
  if (!h.is_object())
    return "payload has no ChangeEventHeader";
  change_event ev;
  ev.entity_name = h.value("entityName", "");
  ev.change_type = h.value("changeType", "");
  ev.record_ids = strings_of(h["recordIds"]);
  ev.change_origin = h.value("changeOrigin", "");
  ev.transaction_key = h.value("transactionKey", "");
  ev.sequence_number = h.value("sequenceNumber", 0);
  ev.commit_timestamp = h.value("commitTimestamp", std::int64_t{0});
  ev.commit_number = h.value("commitNumber", std::int64_t{0});
  ev.commit_user = h.value("commitUser", "");
  if (auto err = bitmap_names(strings_of(h["changedFields"]), c->fields, c->sub_fields, ev.changed_fields))
    return "changedFields: " + *err;
  if (auto err = bitmap_names(strings_of(h["nulledFields"]), c->fields, c->sub_fields, ev.nulled_fields))
    return "nulledFields: " + *err;
  if (auto err = bitmap_names(strings_of(h["diffFields"]), c->fields, c->sub_fields, ev.diff_fields))
    return "diffFields: " + *err;
  for (auto it = doc.begin(); it != doc.end(); ++it)
    if (it.key() != "ChangeEventHeader" && !it.value().is_null())
      ev.fields[it.key()] = it.value();
  out = std::move(ev);
  return std::nullopt;
}

} // namespace syncforce::pubsub

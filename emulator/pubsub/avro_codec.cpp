#include "emulator/pubsub/avro_codec.hpp"

#include <nlohmann/json.hpp>

#include <avro.h>

#include <cstdio>

namespace sfemu::pubsub {

namespace {

/// The Avro type of a field's values (inside ["null", T]).
nlohmann::json avro_type_of(field_type t) {
  switch (t) {
    case field_type::boolean: return "boolean";
    case field_type::int_: return "int";
    case field_type::double_:
    case field_type::currency:
    case field_type::percent: return "double";
    case field_type::datetime:
    case field_type::time: return "long";
    case field_type::date: return "int";
    default: return "string";
  }
}

nlohmann::json header_schema() {
  auto strings = nlohmann::json{{"type", "array"}, {"items", "string"}};
  return {{"type", "record"},
          {"name", "ChangeEventHeader"},
          {"namespace", "com.sforce.eventbus"},
          {"fields",
           nlohmann::json::array(
               {{{"name", "entityName"}, {"type", "string"}},
                {{"name", "recordIds"}, {"type", strings}},
                {{"name", "changeType"},
                 {"type",
                  {{"type", "enum"},
                   {"name", "ChangeType"},
                   {"namespace", "com.sforce.eventbus"},
                   {"symbols", {"CREATE", "UPDATE", "DELETE", "UNDELETE", "GAP_CREATE", "GAP_UPDATE",
                                "GAP_DELETE", "GAP_UNDELETE", "GAP_OVERFLOW", "SNAPSHOT"}}}}},
                {{"name", "changeOrigin"}, {"type", "string"}},
                {{"name", "transactionKey"}, {"type", "string"}},
                {{"name", "sequenceNumber"}, {"type", "int"}},
                {{"name", "commitTimestamp"}, {"type", "long"}},
                {{"name", "commitNumber"}, {"type", "long"}},
                {{"name", "commitUser"}, {"type", "string"}},
                {{"name", "nulledFields"}, {"type", strings}},
                {{"name", "diffFields"}, {"type", strings}},
                {{"name", "changedFields"}, {"type", strings}}})}};
}

int enum_index(cdc::change_type t) {
  switch (t) {
    case cdc::change_type::create: return 0;
    case cdc::change_type::update: return 1;
    case cdc::change_type::remove: return 2;
    case cdc::change_type::undelete: return 3;
    case cdc::change_type::gap_create: return 4;
    case cdc::change_type::gap_update: return 5;
    case cdc::change_type::gap_delete: return 6;
    case cdc::change_type::gap_undelete: return 7;
    case cdc::change_type::gap_overflow: return 8;
  }
  return 0;
}

/// The last libavro error as text.
std::string avro_error(const char* what) { return std::string(what) + ": " + avro_strerror(); }

} // namespace

std::string change_event_schema(const object_def& def) {
  nlohmann::json fields = nlohmann::json::array({{{"name", "ChangeEventHeader"}, {"type", header_schema()},
                                                  {"doc", "Data:ChangeEventHeader"}}});
  for (auto& f : def.fields) {
    if (!cdc::carried_in_events(f))
      continue;
    fields.push_back({{"name", f.name}, {"type", {"null", avro_type_of(f.type)}}, {"default", nullptr},
                      {"doc", "Data:" + std::string(to_string(f.type))}});
  }
  nlohmann::json schema = {{"type", "record"},
                           {"name", cdc::event_name_of(def.name)},
                           {"namespace", "com.sforce.eventbus"},
                           {"fields", fields}};
  return schema.dump();
}

std::string schema_id_of(const std::string& schema_json) {
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : schema_json) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::vector<std::string> field_bitmap(const std::vector<std::string>& schema_fields,
                                      const std::vector<std::string>& names) {
  std::vector<bool> bits(schema_fields.size(), false);
  bool any = false;
  for (auto& n : names)
    for (std::size_t i = 0; i < schema_fields.size(); ++i)
      if (schema_fields[i] == n) {
        bits[i] = true;
        any = true;
      }
  if (!any)
    return {};
  // hex digits, most significant first; digit k (from the right) holds bits 4k..4k+3
  std::size_t top = bits.size();
  while (top > 0 && !bits[top - 1])
    --top;
  std::size_t digits = (top + 3) / 4;
  std::string hex = "0x";
  static const char* alphabet = "0123456789ABCDEF";
  for (std::size_t d = digits; d-- > 0;) {
    int nibble = 0;
    for (int b = 0; b < 4; ++b)
      if (d * 4 + static_cast<std::size_t>(b) < bits.size() && bits[d * 4 + static_cast<std::size_t>(b)])
        nibble |= 1 << b;
    hex += alphabet[nibble];
  }
  return {hex};
}

std::string encode_replay_id(std::uint64_t id) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(id & 0xff);
    id >>= 8;
  }
  return out;
}

std::optional<std::uint64_t> decode_replay_id(const std::string& bytes) {
  if (bytes.size() != 8)
    return std::nullopt;
  std::uint64_t id = 0;
  for (unsigned char c : bytes)
    id = (id << 8) | c;
  return id;
}

// ---- codec --------------------------------------------------------------------------------------

struct codec::compiled {
  std::string json;
  std::vector<std::string> field_names; ///< top-level, in schema order
  std::vector<field_type> field_types;  ///< the same order (index 0: the header, unused)
  avro_schema_t schema = nullptr;
  avro_value_iface_t* iface = nullptr;
  std::mutex mutex; ///< one encode at a time on `value`
  avro_value_t value{};
  bool has_value = false;

  ~compiled() {
    if (has_value)
      avro_value_decref(&value);
    if (iface)
      avro_value_iface_decref(iface);
    if (schema)
      avro_schema_decref(schema);
  }
};

codec::codec() = default;
codec::~codec() = default;

std::string codec::schema_for(const object_def& def) {
  std::string json = change_event_schema(def);
  std::string id = schema_id_of(json);
  std::lock_guard<std::mutex> lock(mutex_);
  if (by_id_.count(id))
    return id;
  auto c = std::make_shared<compiled>();
  c->json = json;
  c->field_names.push_back("ChangeEventHeader");
  c->field_types.push_back(field_type::anytype);
  for (auto& f : def.fields)
    if (cdc::carried_in_events(f)) {
      c->field_names.push_back(f.name);
      c->field_types.push_back(f.type);
    }
  if (avro_schema_from_json_length(json.data(), json.size(), &c->schema) != 0)
    return id; // cannot happen for a schema we build; encode() reports it
  c->iface = avro_generic_class_from_schema(c->schema);
  if (c->iface && avro_generic_value_new(c->iface, &c->value) == 0)
    c->has_value = true;
  by_id_[id] = std::move(c);
  return id;
}

std::optional<std::string> codec::schema_json(const std::string& schema_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = by_id_.find(schema_id);
  if (it == by_id_.end())
    return std::nullopt;
  return it->second->json;
}

bool codec::encode(const cdc::change_event& ev, const std::string& schema_id, std::string& out, std::string& error) {
  std::shared_ptr<compiled> c;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = by_id_.find(schema_id);
    if (it != by_id_.end())
      c = it->second;
  }
  if (!c || !c->has_value) {
    error = "no compiled schema " + schema_id;
    return false;
  }
  std::lock_guard<std::mutex> lock(c->mutex);
  avro_value_t& rec = c->value;
  avro_value_reset(&rec);
  auto set_string = [](avro_value_t& v, const std::string& s) {
    return avro_value_set_string_len(&v, s.c_str(), s.size() + 1);
  };
  auto set_strings = [&](avro_value_t& arr, const std::vector<std::string>& items) {
    for (auto& s : items) {
      avro_value_t el;
      if (avro_value_append(&arr, &el, nullptr) != 0 || set_string(el, s) != 0)
        return false;
    }
    return true;
  };
  // header
  avro_value_t header, f;
  if (avro_value_get_by_index(&rec, 0, &header, nullptr) != 0) {
    error = avro_error("header");
    return false;
  }
  bool ok = true;
  ok = ok && avro_value_get_by_name(&header, "entityName", &f, nullptr) == 0 && set_string(f, ev.entity_name) == 0;
  ok = ok && avro_value_get_by_name(&header, "recordIds", &f, nullptr) == 0 && set_strings(f, ev.record_ids);
  ok = ok && avro_value_get_by_name(&header, "changeType", &f, nullptr) == 0 &&
       avro_value_set_enum(&f, enum_index(ev.type)) == 0;
  ok = ok && avro_value_get_by_name(&header, "changeOrigin", &f, nullptr) == 0 && set_string(f, ev.change_origin) == 0;
  ok = ok && avro_value_get_by_name(&header, "transactionKey", &f, nullptr) == 0 &&
       set_string(f, ev.transaction_key) == 0;
  ok = ok && avro_value_get_by_name(&header, "sequenceNumber", &f, nullptr) == 0 &&
       avro_value_set_int(&f, ev.sequence_number) == 0;
  ok = ok && avro_value_get_by_name(&header, "commitTimestamp", &f, nullptr) == 0 &&
       avro_value_set_long(&f, ev.commit_timestamp) == 0;
  ok = ok && avro_value_get_by_name(&header, "commitNumber", &f, nullptr) == 0 &&
       avro_value_set_long(&f, static_cast<std::int64_t>(ev.commit_number)) == 0;
  ok = ok && avro_value_get_by_name(&header, "commitUser", &f, nullptr) == 0 && set_string(f, ev.commit_user) == 0;
  ok = ok && avro_value_get_by_name(&header, "nulledFields", &f, nullptr) == 0 &&
       set_strings(f, field_bitmap(c->field_names, ev.nulled_fields));
  ok = ok && avro_value_get_by_name(&header, "diffFields", &f, nullptr) == 0 &&
       set_strings(f, field_bitmap(c->field_names, ev.diff_fields));
  ok = ok && avro_value_get_by_name(&header, "changedFields", &f, nullptr) == 0 &&
       set_strings(f, field_bitmap(c->field_names, ev.changed_fields));
  if (!ok) {
    error = avro_error("ChangeEventHeader");
    return false;
  }
  // body: every field null, then the event's values
  for (std::size_t i = 1; i < c->field_names.size(); ++i) {
    avro_value_t u, branch;
    if (avro_value_get_by_index(&rec, i, &u, nullptr) != 0 || avro_value_set_branch(&u, 0, &branch) != 0 ||
        avro_value_set_null(&branch) != 0) {
      error = avro_error(c->field_names[i].c_str());
      return false;
    }
  }
  for (auto& bf : ev.fields) {
    avro_value_t u, branch;
    std::size_t index = 0;
    if (bf.v.is_null() || avro_value_get_by_name(&rec, bf.name.c_str(), &u, &index) != 0)
      continue; // not in this schema (field added since): left out
    if (avro_value_set_branch(&u, 1, &branch) != 0) {
      error = avro_error(bf.name.c_str());
      return false;
    }
    int rc = 0;
    switch (c->field_types[index]) {
      case field_type::boolean: rc = avro_value_set_boolean(&branch, bf.v.as_bool() ? 1 : 0); break;
      case field_type::int_:
      case field_type::date: rc = avro_value_set_int(&branch, static_cast<std::int32_t>(bf.v.as_int())); break;
      case field_type::double_:
      case field_type::currency:
      case field_type::percent: rc = avro_value_set_double(&branch, bf.v.as_real()); break;
      case field_type::datetime:
      case field_type::time: rc = avro_value_set_long(&branch, bf.v.as_int()); break;
      default: rc = set_string(branch, std::string(bf.v.as_string())); break;
    }
    if (rc != 0) {
      error = avro_error(bf.name.c_str());
      return false;
    }
  }
  std::size_t size = 0;
  if (avro_value_sizeof(&rec, &size) != 0) {
    error = avro_error("size");
    return false;
  }
  out.assign(size, '\0');
  avro_writer_t writer = avro_writer_memory(out.data(), static_cast<int64_t>(size));
  int rc = avro_value_write(writer, &rec);
  avro_writer_free(writer);
  if (rc != 0) {
    error = avro_error("write");
    return false;
  }
  return true;
}

} // namespace sfemu::pubsub

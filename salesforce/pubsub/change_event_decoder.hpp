#pragma once

// The engine's side of Change Data Capture over the Pub/Sub API: a change event's Avro
// binary payload decoded (with Debian's libavro) under the schema GetSchema returned,
// into the ChangeEventHeader and the body's non-null fields. changedFields, nulledFields
// and diffFields arrive as bitmaps over the schema's fields ("0x<hex>", and "<i>-0x<hex>"
// for the sub-fields of compound field i); they are turned back into field names here
// ("Name", compound sub-fields as "Parent.Child").

#include "sync/change_event.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace syncforce::pubsub {

// change_event is plain data in sync/change_event.hpp (the actors hold events
// without linking this client).
using syncforce::change_event;

/// Decodes change events of any schema it was given (thread-safe).
class change_event_decoder {
public:
  change_event_decoder();
  ~change_event_decoder();
  change_event_decoder(const change_event_decoder&) = delete;
  change_event_decoder& operator=(const change_event_decoder&) = delete;

  /// Compiles and keeps a schema (GetSchema's schema_json) under its id; error message
  /// if it is not an Avro record schema whose first field is ChangeEventHeader.
  std::optional<std::string> add_schema(const std::string& schema_id, const std::string& schema_json);
  bool has_schema(const std::string& schema_id) const;
  /// Decodes `payload` written with schema `schema_id`; error message (and `out`
  /// untouched) if the schema is unknown or the payload does not match it.
  std::optional<std::string> decode(const std::string& schema_id, const std::string& payload,
                                    change_event& out) const;

private:
  struct compiled;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<compiled>> schemas_;
};

/// The field names a bitmap list stands for, given the schema's top-level field names and,
/// per compound field index, its sub-field names. Error message on a malformed entry.
std::optional<std::string> bitmap_names(const std::vector<std::string>& bitmaps,
                                        const std::vector<std::string>& fields,
                                        const std::map<std::size_t, std::vector<std::string>>& sub_fields,
                                        std::vector<std::string>& out);

/// Replay ids as the Pub/Sub API carries them: 8 bytes, big-endian.
std::optional<std::uint64_t> decode_replay_id(const std::string& bytes);
std::string encode_replay_id(std::uint64_t id);

} // namespace syncforce::pubsub

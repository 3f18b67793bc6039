#pragma once

// Change events as the Pub/Sub API carries them: an Avro record per object (the
// ChangeEventHeader record first, then every field of the object as a nullable union,
// as Salesforce's <Object>ChangeEvent schemas are), written in Avro binary with
// Debian's libavro (C). The schema id is a fingerprint of the schema's JSON text.

#include "emulator/cdc/event_log.hpp"
#include "emulator/schema.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace sfemu::pubsub {

/// The Avro schema (JSON text) of an object's change events: record `<Object>ChangeEvent`
/// (`Widget__ChangeEvent`) in namespace com.sforce.eventbus; field 0 is ChangeEventHeader,
/// then the object's fields a change event can carry, each `["null", T]` with default null
/// (T: string, boolean, int, double, long for datetimes and times (epoch ms / ms of the
/// day), int for dates (days since the epoch)).
std::string change_event_schema(const object_def& def);
/// The schema's id: a 64-bit FNV-1a fingerprint of its JSON text, as 16 hex digits
/// (Salesforce's ids are opaque strings too).
std::string schema_id_of(const std::string& schema_json);
/// The ChangeEventHeader bitmap form of a field list (changedFields, nulledFields):
/// {"0x<hex>"} where bit i (least significant first) stands for the schema's top-level
/// field i; empty list for no fields. Field names not in the schema are ignored.
std::vector<std::string> field_bitmap(const std::vector<std::string>& schema_fields,
                                      const std::vector<std::string>& names);
/// Replay ids on the wire: 8 bytes, big-endian (what clients store as opaque bytes).
std::string encode_replay_id(std::uint64_t id);
/// nullopt unless exactly 8 bytes.
std::optional<std::uint64_t> decode_replay_id(const std::string& bytes);

/// Encodes change events of any object; caches one compiled schema per schema id.
/// Thread-safe.
class codec {
public:
  codec();
  ~codec();
  codec(const codec&) = delete;
  codec& operator=(const codec&) = delete;

  /// Registers (or finds) the schema of `def`; returns its id.
  std::string schema_for(const object_def& def);
  /// The JSON text of a registered schema, or nullopt.
  std::optional<std::string> schema_json(const std::string& schema_id) const;
  /// Avro binary of `ev` under the schema `schema_id` (registered before). Body fields
  /// the schema does not have are left out. Error message on failure.
  bool encode(const cdc::change_event& ev, const std::string& schema_id, std::string& out, std::string& error);

private:
  struct compiled;
  mutable std::mutex mutex_;
  std::map<std::string, std::shared_ptr<compiled>> by_id_;
};

} // namespace sfemu::pubsub

#pragma once

#include "emulator/cdc/event_log.hpp"
#include "emulator/clock.hpp"
#include "emulator/schema.hpp"
#include "emulator/soql/soql.hpp"
#include "emulator/value.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sfemu {

// ---- records ---------------------------------------------------------------------

/// Floors epoch milliseconds to the whole second (also before 1970).
inline std::int64_t truncate_to_second(std::int64_t ms) {
  std::int64_t r = ms % 1000;
  return r < 0 ? ms - r - 1000 : ms - r;
}

/// One stored record: a value per field of its object (values[0] is the Id).
struct record {
  std::vector<value> values;
  bool erased = false; ///< hard-deleted: the slot stays so that slot numbers are stable
};

/// All records of one object, with their indexes.
struct object_store {
  object_def def;
  std::vector<record> records; ///< by slot
  std::unordered_map<std::string, std::uint32_t> by_id; ///< 18-char id -> slot
  /// unique / external-id field index -> normalised value -> slots (live, not deleted)
  std::unordered_map<int, std::unordered_map<std::string, std::vector<std::uint32_t>>> keys;
  std::uint64_t next_sequence = 1;
  std::size_t live_count = 0; ///< not erased (deleted ones included)
  // positions of the system fields (-1 if absent)
  int is_deleted = -1, created_date = -1, created_by = -1, last_modified_date = -1,
      last_modified_by = -1, system_modstamp = -1, owner = -1;
  /// SOQL's view of this object
  std::unique_ptr<soql::basic_object_info> soql_info;

  void refresh_positions();
  bool is_deleted_slot(std::uint32_t slot) const {
    return is_deleted >= 0 && records[slot].values[static_cast<std::size_t>(is_deleted)].as_bool();
  }
};

// ---- write results -----------------------------------------------------------------

/// One error of a write, in Salesforce's shape (`statusCode`/`errorCode`, message, fields).
struct field_error {
  std::string code;
  std::string message;
  std::vector<std::string> fields;
};

/// A write to perform (one record).
struct write_op {
  enum class kind { create, update, upsert, remove, hard_remove };
  kind op = kind::create;
  std::string object;       ///< required for create/upsert; optional for update/remove (from the id)
  std::string id;           ///< update/remove
  std::string ext_field;    ///< upsert: external id field name ("Id" allowed)
  std::string ext_value;    ///< upsert: value to match
  nlohmann::json fields = nlohmann::json::object(); ///< field values; "attributes" ignored
  bool update_only = false; ///< upsert: never create
};

/// What a write did.
struct write_result {
  enum class outcome { created, updated, deleted, not_found, multiple, error };
  outcome what = outcome::error;
  std::string id;
  std::vector<field_error> errors;
  std::vector<std::string> matches; ///< upsert with several matches: their ids
  bool success() const {
    return what == outcome::created || what == outcome::updated || what == outcome::deleted;
  }
};

/// The result of a query: the matching records' slots in order (a snapshot).
struct query_run {
  std::shared_ptr<const soql::bound_query> query;
  std::vector<std::uint32_t> slots;
  std::size_t total = 0; ///< number of rows (COUNT() included)
};

/// A user of the org (also a User record).
struct user_info {
  std::string id;
  std::string username;
  std::string display_name;
  std::string email;
};

// ---- org --------------------------------------------------------------------------------

/// The emulated org: schema, records, users. Thread-safe: every public method
/// takes the org's lock (shared for reads, exclusive for writes) for its duration.
class org : public soql::schema_view {
public:
  explicit org(sfemu::clock& clk);
  ~org() override;

  sfemu::clock& clock() { return clock_; }

  /// Salesforce keeps datetimes to the second (responses show `.000`), so by default
  /// every datetime the org stores (system stamps and datetime field values) is
  /// truncated to the second, which makes SystemModstamp ties as common as in a real
  /// org. `true` keeps milliseconds (setting `millisecond_datetimes`).
  void set_millisecond_datetimes(bool keep) { millisecond_datetimes_.store(keep); }
  bool millisecond_datetimes() const { return millisecond_datetimes_.load(); }
  const std::string& org_id() const { return org_id_; }

  /// Back to a fresh org: standard objects, no records, the default admin user.
  void reset();

  // -- schema --
  /// Defines or extends objects: {"objects":[{name, label?, key_prefix?, fields:[...]}]}
  /// (a single object or an array of objects is accepted too). Error message on bad input.
  std::optional<std::string> define(const nlohmann::json& spec);
  /// Loads an org file: {"objects":[..], "users":[{username,password,...}], "records":{"Obj":[..]}}.
  std::optional<std::string> load(const nlohmann::json& org_file);
  std::vector<std::string> object_names() const;
  bool has_object(std::string_view name) const;
  /// The describe-case name of an object, or empty.
  std::string canonical_name(std::string_view name) const;
  /// describeGlobal's body; `version` like "60.0".
  nlohmann::json describe_global(const std::string& version) const;
  /// describe's body or nullopt if the object does not exist.
  std::optional<nlohmann::json> describe(std::string_view object, const std::string& version) const;
  /// A copy of an object's definition.
  std::optional<object_def> object_definition(std::string_view object) const;
  /// The object an id belongs to (by key prefix), or empty.
  std::string object_for_id(std::string_view id) const;

  // -- users --
  /// Adds (or updates the password of) a user; returns its id.
  std::string add_user(const std::string& username, const std::string& password);
  /// The user if username and password match.
  std::optional<user_info> check_password(const std::string& username, const std::string& password) const;
  std::optional<user_info> find_user(const std::string& username) const;
  std::optional<user_info> user_by_id(const std::string& id) const;

  // -- writes --
  write_result write(const write_op& op, const std::string& user_id);
  /// Takes deleted records out of the recycle bin (IsDeleted=false, stamps bumped), as
  /// SOAP's undelete(); one result per id, in order.
  std::vector<write_result> undelete(const std::vector<std::string>& ids, const std::string& user_id);
  /// Several writes in one lock. With `all_or_none`, the first failure rolls every other
  /// write back and they report ALL_OR_NONE_OPERATION_ROLLED_BACK.
  std::vector<write_result> write_batch(const std::vector<write_op>& ops, bool all_or_none,
                                        const std::string& user_id);
  /// Fast load for tests and benchmarks (control API): no per-field permission checks,
  /// system fields (Id, CreatedDate, SystemModstamp, ...) may be given. Rows are JSON
  /// objects (values as JSON, or strings as in CSV). Returns ids or the first error.
  struct load_result {
    std::vector<std::string> ids;
    std::optional<std::string> error;
  };
  load_result bulk_load(std::string_view object, const std::vector<nlohmann::json>& rows,
                        const std::string& user_id);
  /// The same from CSV text (header row of field names; empty cell = not set, `#N/A` = null),
  /// converting cells straight to values. `count` gets the number of records loaded.
  load_result load_csv(std::string_view object, std::string_view csv, const std::string& user_id, bool want_ids,
                       std::size_t& count);

  // -- reads --
  /// GET sobjects/Obj/id: the record's fields (all, or `fields`), or an error code.
  struct read_result {
    std::optional<std::string> body; ///< JSON text
    int status = 200;
    field_error error;
  };
  read_result read(std::string_view object, std::string_view id, const std::vector<std::string>& fields,
                   const std::string& version) const;
  /// Compiles and runs a query. With `all_rows` deleted records are included (queryAll).
  soql::result<query_run> run_query(std::string_view soql, bool all_rows) const;
  /// Renders the records of `run` in [begin, end) as a JSON array text (query's `records`).
  /// Slots whose record has since been hard-deleted are skipped.
  std::string render_records(const query_run& run, std::size_t begin, std::size_t end,
                             const std::string& version) const;
  /// Visits the records of `run` in [begin, end) as flat (path, value) rows for CSV output
  /// (Bulk 2.0 query results): `row` gets one string per selected field path (empty for null).
  void flat_rows(const query_run& run, std::size_t begin, std::size_t end,
                 const std::function<void(const std::vector<std::optional<std::string>>&)>& row) const;
  /// ids changed (created or updated, not deleted) with SystemModstamp in [start, end].
  std::vector<std::string> updated_ids(std::string_view object, std::int64_t start, std::int64_t end) const;
  /// (id, deleted date) of records deleted in [start, end].
  std::vector<std::pair<std::string, std::int64_t>> deleted_ids(std::string_view object, std::int64_t start,
                                                                std::int64_t end) const;
  /// Live records per object (deleted ones in the recycle bin excluded).
  std::optional<std::size_t> record_count(std::string_view object) const;

  // -- Change Data Capture --
  /// The org's change event log: every committed API write (not the control API's fast
  /// loads) is published here, with the thread's cdc::current_origin() as changeOrigin.
  cdc::event_log& change_log() { return change_log_; }
  /// Sees every committed transaction's record changes (every object, whatever the CDC
  /// selection), under the org's write lock, before they become change events: the
  /// Streaming API's PushTopics (emulator/streaming/) match them there so that they
  /// see each record as that transaction left it. It must not call the org's locking
  /// methods; match_locked() is for it.
  using change_observer = std::function<void(const std::vector<cdc::record_change>&)>;
  void set_change_observer(change_observer observer);
  /// For a change observer (org lock held): whether record `id` as it is now (deleted ones
  /// included) matches the WHERE of `q` (a query bound against this org), and if so its
  /// selected fields as a JSON object without `attributes`. nullopt if not or if it is gone.
  std::optional<nlohmann::json> match_locked(const soql::bound_query& q, std::string_view id,
                                             const std::string& version) const;

  // -- schema_view --
  const soql::object_info* find_object(std::string_view name) const override;

  /// For tests: number of stored records (including deleted, excluding hard-deleted).
  std::size_t size(std::string_view object) const;

private:
  friend class org_record_view;
  friend struct org_formula_resolver;
  friend struct org_page_renderer;
  struct undo_entry;

  object_store* store_unlocked(std::string_view name);
  const object_store* store_unlocked(std::string_view name) const;
  const object_store* store_for_id_unlocked(std::string_view id) const;
  object_store& add_object_unlocked(object_def def);
  void rebuild_soql_info(object_store& s);
  std::optional<std::string> define_unlocked(const nlohmann::json& spec);
  std::string add_user_unlocked(const std::string& username, const std::string& password);
  load_result bulk_load_unlocked(std::string_view object, const std::vector<nlohmann::json>& rows,
                                 const std::string& user_id);

  write_result write_unlocked(const write_op& op, const std::string& user_id, std::vector<undo_entry>* undo);
  write_result create_unlocked(object_store& s, const nlohmann::json& fields, const std::string& user_id,
                               std::vector<undo_entry>* undo);
  write_result update_unlocked(object_store& s, std::uint32_t slot, const nlohmann::json& fields,
                               const std::string& user_id, std::vector<undo_entry>* undo);
  write_result remove_unlocked(object_store& s, std::uint32_t slot, bool hard, const std::string& user_id,
                               std::vector<undo_entry>* undo);
  void rollback_unlocked(std::vector<undo_entry>& undo);
  /// Remembers a successful record change for the change log (published at commit).
  void note_change(cdc::change_type type, const object_store& s, std::uint32_t slot, const std::vector<value>* before);
  /// Commits the noted changes to the change log as one transaction.
  void publish_changes_unlocked(const std::string& user_id);
  /// Converts and validates incoming field values into `changes` (field index -> value).
  bool convert_fields(object_store& s, const nlohmann::json& fields, bool creating,
                      std::vector<std::pair<int, value>>& changes, std::vector<field_error>& errors,
                      bool allow_system = false);
  void index_add(object_store& s, std::uint32_t slot);
  void index_remove(object_store& s, std::uint32_t slot);
  std::string next_id(object_store& s);
  /// Evaluates a field for output or filtering (formula fields computed here).
  value field_value(const object_store& s, const record& r, int field, int depth = 0) const;
  /// A roll-up summary field's value for `parent` (field_def::rollup).
  value rollup_value(const field_def& f, const record& parent) const;
  const record* follow(const object_store& s, const record& r, int ref_field, const object_store** target) const;

  /// "Now" as a stored datetime (see set_millisecond_datetimes).
  std::int64_t stamp_now() const { return stored_datetime(clock_.now_ms()); }
  /// An epoch-ms datetime as the org stores it.
  std::int64_t stored_datetime(std::int64_t ms) const {
    return millisecond_datetimes() ? ms : truncate_to_second(ms);
  }
  /// Datetime field values as the org stores them (other types unchanged).
  void settle(const field_def& f, value& v) const;

  sfemu::clock& clock_;
  std::atomic<bool> millisecond_datetimes_{false};
  mutable std::shared_mutex mutex_;
  std::string org_id_;
  std::vector<std::unique_ptr<object_store>> stores_;
  std::unordered_map<std::string, std::size_t> store_by_lower_;
  std::unordered_map<std::string, std::size_t> store_by_prefix_;
  std::unordered_map<std::string, std::string> passwords_; ///< user id -> password
  int next_custom_prefix_ = 1;
  cdc::event_log change_log_{clock_};
  std::vector<cdc::record_change> pending_changes_; ///< this transaction's changes (under the write lock)
  change_observer change_observer_;
};

/// Normalises a unique/external-id key (lowercase unless case-sensitive).
std::string key_of(const field_def& f, const value& v);

/// Converts one JSON value to a field value; on failure fills `error`.
bool convert_value(const field_def& f, const nlohmann::json& in, value& out, field_error& error);

/// Converts one text value (CSV cell) to a field value; on failure fills `error`.
bool convert_text(const field_def& f, std::string_view in, value& out, field_error& error);

/// Appends `s` as a JSON string literal (quoted, escaped).
void append_json_string(std::string& out, std::string_view s);

} // namespace sfemu

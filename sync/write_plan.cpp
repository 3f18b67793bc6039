#include "sync/write_plan.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace syncforce {

// ---------------------------------------------------------------------------
// names
// ---------------------------------------------------------------------------

std::optional<write_action> parse_write_action(std::string_view text) {
  std::string upper;
  upper.reserve(text.size());
  for (char c : text)
    upper.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (upper == "INSERT")
    return write_action::insert;
  if (upper == "UPDATE")
    return write_action::update;
  if (upper == "DELETE")
    return write_action::remove;
  return std::nullopt;
}

std::string_view to_string(write_action a) {
  switch (a) {
    case write_action::insert:
      return "INSERT";
    case write_action::update:
      return "UPDATE";
    case write_action::remove:
      return "DELETE";
  }
  return "?";
}

std::string_view to_string(write_operation o) {
  switch (o) {
    case write_operation::create:
      return "create";
    case write_operation::upsert:
      return "upsert";
    case write_operation::update:
      return "update";
    case write_operation::remove:
      return "remove";
  }
  return "?";
}

std::string_view to_string(write_transport t) {
  return t == write_transport::bulk ? "bulk" : "collection";
}

std::string_view to_string(skip_reason r) {
  switch (r) {
    case skip_reason::merged:
      return "merged";
    case skip_reason::no_changes:
      return "no_changes";
    case skip_reason::not_writable:
      return "not_writable";
    case skip_reason::no_sfid:
      return "no_sfid";
    case skip_reason::no_record:
      return "no_record";
  }
  return "?";
}

std::string_view outcome_of(skip_reason r) {
  return r == skip_reason::merged ? "MERGED" : "IGNORED";
}

std::set<std::string> default_system_columns() {
  return {"id", "sfid", "_hc_lastop", "_hc_err", "systemmodstamp", "createddate", "isdeleted", "lastmodifieddate"};
}

namespace {

// ---------------------------------------------------------------------------
// entry preparation (common to both modes)
// ---------------------------------------------------------------------------

/// One entry that passed the common checks.
struct prepared {
  const write_entry* entry = nullptr;
  const table_write_config* table = nullptr;
  std::string key; ///< identifies the record within this plan
  std::optional<std::int64_t> record_id;
  std::optional<std::string> sfid;
  hstore values; ///< without system columns
  /// UPDATE of a table with an upsert column: the unchanged external id it could be upserted by.
  std::optional<std::string> upsert_id;
};

std::optional<std::int64_t> parse_int64(const std::optional<std::string>& text) {
  if (!text || text->empty())
    return std::nullopt;
  std::int64_t out = 0;
  const char* first = text->data();
  const char* last = first + text->size();
  auto [ptr, ec] = std::from_chars(first, last, out);
  if (ec != std::errc{} || ptr != last)
    return std::nullopt;
  return out;
}

/// `h` without `columns`; its pairs are moved, not copied.
hstore without_columns(hstore&& h, const std::set<std::string>& columns) {
  auto pairs = std::move(h).take_entries();
  pairs.erase(std::remove_if(pairs.begin(), pairs.end(),
                             [&](const hstore_entry& e) { return columns.count(e.key) != 0; }),
              pairs.end());
  return hstore(std::move(pairs));
}

/// The row id an entry names: its record_id, else an `id` among its values.
std::optional<std::int64_t> own_record_id(const write_entry& e) {
  if (e.record_id)
    return e.record_id;
  if (auto id = parse_int64(e.values.get("id")))
    return id;
  if (e.old)
    return parse_int64(e.old->get("id"));
  return std::nullopt;
}

/// The sfid an entry names: its sfid column, else the old row's.
std::optional<std::string> own_sfid(const write_entry& e) {
  if (e.sfid && !e.sfid->empty())
    return e.sfid;
  if (e.old) {
    if (auto s = e.old->get("sfid"); s && !s->empty())
      return s;
  }
  return std::nullopt;
}

std::string record_key(const std::string& table, const std::optional<std::int64_t>& record_id,
                       const std::optional<std::string>& sfid, std::int64_t entry_id) {
  std::string key = table;
  key.push_back('\x1f');
  if (record_id)
    return key + "r" + std::to_string(*record_id);
  if (sfid)
    return key + "s" + *sfid;
  return key + "e" + std::to_string(entry_id);
}

/// The external id an UPDATE can be upserted by: the value in the row, and
/// only when this update does not change it (else an upsert would match
/// another record or create one).
std::optional<std::string> update_external_id(const write_entry& e, const std::string& column) {
  const auto* changed = e.values.find(column);
  if (changed == nullptr)
    return e.old ? e.old->get(column) : std::nullopt;
  if (e.old && e.old->get(column) != changed->value)
    return std::nullopt;
  return changed->value;
}

/// Runs the common checks over all entries, filling `skipped` with the
/// entries that fail them. The values of the entries that pass are moved into their `prepared`.
std::vector<prepared> prepare(std::vector<write_entry>& entries, const table_write_configs& tables,
                              const write_plan_settings& settings, std::vector<skipped_entry>& skipped) {
  // sfid -> record_id, so that entries made by hc_capture_update_from_row
  // (record_id null) fold with the row's other entries.
  std::map<std::pair<std::string, std::string>, std::int64_t> linked;
  for (const auto& e : entries) {
    auto rid = own_record_id(e);
    auto sfid = own_sfid(e);
    if (rid && sfid)
      linked.emplace(std::make_pair(e.table_name, *sfid), *rid);
  }
  std::vector<prepared> out;
  out.reserve(entries.size());
  for (auto& e : entries) {
    auto t = tables.find(e.table_name);
    if (t == tables.end() || !t->second.writable) {
      skipped.push_back({e.id, skip_reason::not_writable, std::nullopt});
      continue;
    }
    prepared p;
    p.entry = &e;
    p.table = &t->second;
    p.sfid = own_sfid(e);
    p.record_id = own_record_id(e);
    if (!p.record_id && p.sfid) {
      if (auto l = linked.find(std::make_pair(e.table_name, *p.sfid)); l != linked.end())
        p.record_id = l->second;
    }
    if (e.action == write_action::update && t->second.upsert_column)
      p.upsert_id = update_external_id(e, *t->second.upsert_column);
    p.values = e.action == write_action::remove ? hstore{} : without_columns(std::move(e.values), settings.system_columns);
    if (e.action == write_action::update) {
      if (p.values.empty()) {
        skipped.push_back({e.id, skip_reason::no_changes, std::nullopt});
        continue;
      }
      if (!p.record_id && !p.sfid) {
        skipped.push_back({e.id, skip_reason::no_record, std::nullopt});
        continue;
      }
    }
    p.key = record_key(e.table_name, p.record_id, p.sfid, e.id);
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<std::string> keys_of(const hstore& h) {
  std::vector<std::string> out;
  out.reserve(h.size());
  for (const auto& e : h.entries())
    out.push_back(e.key);
  return out;
}

void overlay(hstore& into, const hstore& from) {
  for (const auto& e : from.entries())
    into.set(e.key, e.value);
}

/// The identities under which one item may not appear twice in a batch.
std::vector<std::string> identities(const std::string& key, const write_item& item, bool by_external_id) {
  std::vector<std::string> out{"k" + key};
  if (item.sfid)
    out.push_back("s" + *item.sfid);
  if (by_external_id && item.external_id)
    out.push_back("x" + *item.external_id);
  return out;
}

/// A batch under construction with the identities it already holds.
struct batch_builder {
  write_batch batch;
  std::unordered_set<std::string> seen;

  bool holds_any(const std::vector<std::string>& ids) const {
    for (const auto& id : ids)
      if (seen.count(id) != 0)
        return true;
    return false;
  }

  void add(write_item item, const std::vector<std::string>& ids) {
    seen.insert(ids.begin(), ids.end());
    batch.items.push_back(std::move(item));
  }
};

// ---------------------------------------------------------------------------
// ordered mode
// ---------------------------------------------------------------------------

/// One entry of ordered mode, ready to batch.
struct ordered_item {
  std::string key;
  write_action action = write_action::insert;
  write_operation operation = write_operation::create;
  write_item item;
  /// UPDATE: the unchanged external id it could be upserted by.
  std::optional<std::string> upsert_id;
};

/// Splits `run[first, last)` into batches of at most `cap` items where no
/// record appears twice, appending them to `out`.
void split_run(std::vector<ordered_item>& run, std::size_t first, std::size_t last, std::size_t cap,
               const std::string& table, write_operation op, write_transport transport,
               const std::optional<std::string>& upsert_column, std::vector<write_batch>& out) {
  if (cap == 0)
    cap = 1;
  std::optional<batch_builder> current;
  auto flush = [&] {
    if (current && !current->batch.items.empty())
      out.push_back(std::move(current->batch));
    current.reset();
  };
  bool by_external_id = op == write_operation::upsert;
  for (auto i = first; i < last; ++i) {
    write_item item = std::move(run[i].item);
    if (op == write_operation::upsert && run[i].operation == write_operation::update) {
      // An UPDATE sent as an upsert: the external id goes with the values.
      item.external_id = run[i].upsert_id;
      item.values.set(*upsert_column, run[i].upsert_id);
    }
    auto ids = identities(run[i].key, item, by_external_id);
    if (current && (current->batch.items.size() >= cap || current->holds_any(ids)))
      flush();
    if (!current) {
      current.emplace();
      current->batch.table = table;
      current->batch.operation = op;
      current->batch.transport = transport;
      current->batch.action = run[i].action;
      if (op == write_operation::upsert)
        current->batch.upsert_column = upsert_column;
    }
    current->add(std::move(item), ids);
  }
  flush();
}

/// The maximal pieces of `run[first, last)` with no record twice, each at most `cap`.
std::vector<std::pair<std::size_t, std::size_t>> distinct_pieces(const std::vector<ordered_item>& run, std::size_t cap,
                                                                 bool by_external_id) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::unordered_set<std::string> seen;
  std::size_t start = 0;
  for (std::size_t i = 0; i < run.size(); ++i) {
    write_item probe;
    probe.sfid = run[i].item.sfid;
    probe.external_id = run[i].upsert_id ? run[i].upsert_id : run[i].item.external_id;
    auto ids = identities(run[i].key, probe, by_external_id);
    bool clash = i - start >= cap;
    for (const auto& id : ids)
      clash = clash || seen.count(id) != 0;
    if (clash) {
      out.emplace_back(start, i);
      start = i;
      seen.clear();
    }
    seen.insert(ids.begin(), ids.end());
  }
  if (start < run.size())
    out.emplace_back(start, run.size());
  return out;
}

void plan_run(std::vector<ordered_item>& run, const prepared& head, const write_plan_settings& settings,
              std::vector<write_batch>& out) {
  const auto& table = head.entry->table_name;
  const auto& upsert_column = head.table->upsert_column;
  auto action = run.front().action;
  auto op = run.front().operation;
  bool bulk = upsert_column && !settings.disable_bulk_writes && settings.api_version >= settings.bulk_min_api_version
              && settings.bulk_threshold > 0 && run.size() >= settings.bulk_threshold;
  if (bulk) {
    switch (action) {
      case write_action::insert:
        bulk = op == write_operation::upsert;
        break;
      case write_action::update:
        bulk = std::all_of(run.begin(), run.end(), [](const ordered_item& i) { return i.upsert_id.has_value(); });
        break;
      case write_action::remove:
        bulk = std::all_of(run.begin(), run.end(), [](const ordered_item& i) { return i.item.sfid.has_value(); });
        break;
    }
  }
  if (!bulk) {
    split_run(run, 0, run.size(), settings.collection_size, table, op, write_transport::collection, upsert_column, out);
    return;
  }
  auto bulk_op = action == write_action::remove ? write_operation::remove : write_operation::upsert;
  auto cap = std::max(settings.bulk_batch_size, std::size_t{1});
  for (auto [first, last] : distinct_pieces(run, cap, bulk_op == write_operation::upsert)) {
    if (last - first >= settings.bulk_threshold)
      split_run(run, first, last, cap, table, bulk_op, write_transport::bulk, upsert_column, out);
    else
      split_run(run, first, last, settings.collection_size, table, op, write_transport::collection, upsert_column, out);
  }
}

void plan_ordered(std::vector<prepared>& entries, const write_plan_settings& settings, write_plan& plan) {
  std::vector<ordered_item> items;
  std::vector<const prepared*> heads;
  items.reserve(entries.size());
  std::unordered_set<std::string> inserted; // records an earlier item of this plan inserts
  for (auto& p : entries) {
    const auto& e = *p.entry;
    ordered_item oi;
    oi.key = p.key;
    oi.action = e.action;
    oi.item.entry_id = e.id;
    oi.item.record_id = p.record_id;
    oi.item.values = std::move(p.values);
    const auto& column = p.table->upsert_column;
    switch (e.action) {
      case write_action::insert: {
        auto ext = column ? oi.item.values.get(*column) : std::nullopt;
        oi.operation = ext ? write_operation::upsert : write_operation::create;
        oi.item.external_id = ext;
        inserted.insert(p.key);
        break;
      }
      case write_action::update:
        oi.operation = write_operation::update;
        oi.item.sfid = p.sfid;
        oi.item.changed_columns = keys_of(oi.item.values);
        oi.upsert_id = p.upsert_id;
        break;
      case write_action::remove:
        if (!p.sfid && (!p.record_id || inserted.count(p.key) == 0)) {
          plan.skipped.push_back({e.id, skip_reason::no_sfid, std::nullopt});
          continue;
        }
        oi.operation = write_operation::remove;
        oi.item.sfid = p.sfid;
        break;
    }
    items.push_back(std::move(oi));
    heads.push_back(&p);
  }
  std::size_t start = 0;
  for (std::size_t i = 1; i <= items.size(); ++i) {
    bool same = i < items.size() && heads[i]->entry->table_name == heads[start]->entry->table_name
                && items[i].action == items[start].action && items[i].operation == items[start].operation;
    if (same)
      continue;
    if (start < i) {
      std::vector<ordered_item> run(std::make_move_iterator(items.begin() + static_cast<std::ptrdiff_t>(start)),
                                    std::make_move_iterator(items.begin() + static_cast<std::ptrdiff_t>(i)));
      plan_run(run, *heads[start], settings, plan.batches);
    }
    start = i;
  }
}

// ---------------------------------------------------------------------------
// merged mode
// ---------------------------------------------------------------------------

/// The folded changes of one record (one write, or none when it vanished).
struct change {
  const prepared* head = nullptr; ///< the first entry (table, position)
  write_action kind = write_action::insert;
  std::int64_t owner = 0;
  std::vector<std::int64_t> ids; ///< every entry folded in, log order
  std::optional<std::int64_t> record_id;
  std::optional<std::string> sfid;
  hstore values;
  std::vector<std::string> changed;
  bool vanished = false;
};

void fold(change& c, const prepared& p) {
  const auto& e = *p.entry;
  c.ids.push_back(e.id);
  if (p.sfid)
    c.sfid = p.sfid;
  if (!c.record_id)
    c.record_id = p.record_id;
  switch (c.kind) {
    case write_action::insert:
      if (e.action == write_action::remove) {
        // An insert and its delete cancel out only while the record was never
        // created. With an sfid known (the create was settled in doubt, or went out
        // under a lease since lost), the record exists in Salesforce: delete it.
        if (c.sfid) {
          c.kind = write_action::remove;
          c.owner = e.id;
          c.values = hstore{};
          c.changed.clear();
        } else {
          c.vanished = true;
        }
      } else {
        overlay(c.values, p.values);
      }
      return;
    case write_action::update:
      if (e.action == write_action::remove) {
        c.kind = write_action::remove;
        c.owner = e.id;
        c.values = hstore{};
        c.changed.clear();
        return;
      }
      for (const auto& v : p.values.entries())
        if (std::find(c.changed.begin(), c.changed.end(), v.key) == c.changed.end())
          c.changed.push_back(v.key);
      overlay(c.values, p.values);
      return;
    case write_action::remove:
      return; // a deleted record takes no further update or delete
  }
}

change start_change(prepared& p) {
  change c;
  c.head = &p;
  c.kind = p.entry->action;
  c.owner = p.entry->id;
  c.ids.push_back(p.entry->id);
  c.record_id = p.record_id;
  c.sfid = p.sfid;
  if (c.kind == write_action::update)
    c.changed = keys_of(p.values);
  c.values = std::move(p.values);
  return c;
}

void plan_merged(std::vector<prepared>& entries, const write_plan_settings& settings, write_plan& plan) {
  std::vector<change> changes;
  changes.reserve(entries.size());
  std::unordered_map<std::string, std::size_t> open; // record key -> its current change
  for (auto& p : entries) {
    auto i = open.find(p.key);
    bool starts =
        i == open.end() || (p.entry->action == write_action::insert && changes[i->second].kind != write_action::insert);
    if (starts) {
      open[p.key] = changes.size();
      changes.push_back(start_change(p));
      continue;
    }
    auto& c = changes[i->second];
    fold(c, p);
    if (c.vanished)
      open.erase(i);
  }

  auto cap = std::max(settings.collection_size, std::size_t{1});
  std::vector<batch_builder> batches;
  std::map<std::pair<std::string, write_operation>, std::size_t> open_batch; // (table, op) -> batch
  std::unordered_map<std::string, std::size_t> last_batch;                   // record key -> batch
  for (auto& c : changes) {
    auto merged_ids = [&] {
      std::vector<std::int64_t> out;
      for (auto id : c.ids)
        if (id != c.owner)
          out.push_back(id);
      return out;
    };
    if (c.vanished) {
      for (auto id : c.ids)
        plan.skipped.push_back({id, skip_reason::merged, std::nullopt});
      continue;
    }
    if (c.kind == write_action::remove && !c.sfid) {
      plan.skipped.push_back({c.owner, skip_reason::no_sfid, std::nullopt});
      for (auto id : merged_ids())
        plan.skipped.push_back({id, skip_reason::merged, c.owner});
      continue;
    }
    const auto& table = c.head->entry->table_name;
    const auto& column = c.head->table->upsert_column;
    write_item item;
    item.entry_id = c.owner;
    item.merged_ids = merged_ids();
    item.record_id = c.record_id;
    write_operation op = write_operation::create;
    switch (c.kind) {
      case write_action::insert:
        item.external_id = column ? c.values.get(*column) : std::nullopt;
        op = item.external_id ? write_operation::upsert : write_operation::create;
        break;
      case write_action::update:
        op = write_operation::update;
        item.sfid = c.sfid;
        item.changed_columns = std::move(c.changed);
        break;
      case write_action::remove:
        op = write_operation::remove;
        item.sfid = c.sfid;
        break;
    }
    item.values = std::move(c.values);
    auto ids = identities(c.head->key, item, op == write_operation::upsert);
    auto bucket = std::make_pair(table, op);
    std::optional<std::size_t> target;
    if (auto b = open_batch.find(bucket); b != open_batch.end()) {
      auto& builder = batches[b->second];
      auto prev = last_batch.find(c.head->key);
      bool after_prev = prev == last_batch.end() || b->second > prev->second;
      if (builder.batch.items.size() < cap && after_prev && !builder.holds_any(ids))
        target = b->second;
    }
    if (!target) {
      target = batches.size();
      batches.emplace_back();
      auto& b = batches.back().batch;
      b.table = table;
      b.operation = op;
      b.transport = write_transport::collection;
      b.action = c.kind;
      if (op == write_operation::upsert)
        b.upsert_column = column;
      open_batch[bucket] = *target;
    }
    last_batch[c.head->key] = *target;
    batches[*target].add(std::move(item), ids);
  }
  for (auto& b : batches)
    plan.batches.push_back(std::move(b.batch));
}

} // namespace

// ---------------------------------------------------------------------------
// plan_writes
// ---------------------------------------------------------------------------

write_plan plan_writes(std::vector<write_entry> entries, const table_write_configs& tables,
                       const write_plan_settings& settings) {
  write_plan plan;
  auto ready = prepare(entries, tables, settings, plan.skipped);
  if (settings.mode == write_mode::ordered)
    plan_ordered(ready, settings, plan);
  else
    plan_merged(ready, settings, plan);
  std::stable_sort(plan.skipped.begin(), plan.skipped.end(),
                   [](const skipped_entry& a, const skipped_entry& b) { return a.entry_id < b.entry_id; });
  return plan;
}

std::size_t promote_updates_without_insert(std::vector<write_entry>& entries, const row_values& rows) {
  std::set<std::pair<std::string, std::int64_t>> done;
  std::size_t n = 0;
  for (auto& e : entries) {
    if (e.action != write_action::update || (e.sfid && !e.sfid->empty()) || !e.record_id)
      continue;
    auto key = std::make_pair(e.table_name, *e.record_id);
    auto row = rows.find(key);
    if (row == rows.end() || !done.insert(key).second)
      continue; // later updates of the row follow the insert (merged, or by the sfid it gets)
    e.action = write_action::insert;
    e.values = row->second;
    e.old.reset();
    e.sfid.reset();
    ++n;
  }
  return n;
}

} // namespace syncforce

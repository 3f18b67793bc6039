#include "store/trigger_log.hpp"

#include <algorithm>

#include "store/hc_schema.hpp"
#include "store/sql_arrays.hpp"

namespace syncforce::store {

namespace {

constexpr const char* log_columns
  = "id, txid, created_at, updated_at, processed_at, processed_tx, state, action, table_name, "
    "record_id, sfid, old, \"values\", sf_result, sf_message";

template <class T>
std::optional<T> opt(const pqxx::field& f) {
  if (f.is_null())
    return std::nullopt;
  return f.as<T>();
}

} // namespace

std::string to_log_state(log_outcome o) {
  switch (o) {
    case log_outcome::success:
      return "SUCCESS";
    case log_outcome::failed:
      return "FAILED";
    case log_outcome::merged:
      return "MERGED";
    case log_outcome::ignored:
      return "IGNORED";
  }
  return "FAILED";
}

namespace {
std::vector<trigger_log_entry> claim_where(pqxx::transaction_base& tx, const std::string& schema,
                                           std::size_t limit, const std::string& filter);
}

std::vector<trigger_log_entry> claim_new_entries(pqxx::transaction_base& tx,
                                                 const std::string& schema, std::size_t limit,
                                                 const std::optional<std::string>& table_name) {
  return claim_where(tx, schema, limit, table_name ? " AND table_name = " + tx.quote(*table_name) : "");
}

std::vector<trigger_log_entry> claim_entries(pqxx::transaction_base& tx, const std::string& schema,
                                             std::size_t limit, const std::vector<queue_block>& blocks) {
  std::string filter;
  for (const auto& b : blocks)
    filter += " AND (table_name <> " + tx.quote(b.table_name) + " OR (action = 'INSERT' AND record_id = " +
              std::to_string(b.record_id) + "))";
  return claim_where(tx, schema, limit, filter);
}

std::size_t unclaim_entries(pqxx::transaction_base& tx, const std::string& schema,
                            const std::vector<std::int64_t>& ids) {
  if (ids.empty())
    return 0;
  std::string list;
  for (auto id : ids)
    list += (list.empty() ? "" : ",") + std::to_string(id);
  return tx.exec0("UPDATE " + qualified_name(tx, schema, "_trigger_log") +
                  " SET state = 'NEW', updated_at = now() WHERE state = 'PENDING' AND id IN (" + list + ")")
    .affected_rows();
}

namespace {
std::vector<trigger_log_entry> claim_where(pqxx::transaction_base& tx, const std::string& schema,
                                           std::size_t limit, const std::string& filter) {
  const auto log = qualified_name(tx, schema, "_trigger_log");
  // The claim runs once, materialized: a LIMIT subquery inside IN (...) may be
  // re-evaluated by the planner and hand out more rows than asked for.
  auto r = tx.exec_params(
    "WITH claim AS MATERIALIZED (SELECT id FROM " + log + " WHERE state = 'NEW'" + filter
      + " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) UPDATE " + log
      + " l SET state = 'PENDING', updated_at = now() FROM claim WHERE l.id = claim.id "
        "RETURNING l.id, l.txid, l.created_at, l.state, l.action, l.table_name, l.record_id, "
        "l.sfid, l.old, l.\"values\"",
    static_cast<long>(limit));
  std::vector<trigger_log_entry> out;
  out.reserve(r.size());
  for (const auto& row : r) {
    trigger_log_entry e;
    e.id = row[0].as<std::int64_t>();
    e.txid = opt<std::int64_t>(row[1]);
    e.created_at = row[2].is_null() ? std::string{} : row[2].as<std::string>();
    e.state = row[3].as<std::string>();
    e.action = row[4].is_null() ? std::string{} : row[4].as<std::string>();
    e.table_name = row[5].is_null() ? std::string{} : row[5].as<std::string>();
    e.record_id = opt<std::int64_t>(row[6]);
    e.sfid = opt<std::string>(row[7]);
    e.old = opt<std::string>(row[8]);
    e.values = opt<std::string>(row[9]);
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(),
            [](const trigger_log_entry& a, const trigger_log_entry& b) { return a.id < b.id; });
  return out;
}
} // namespace

std::size_t finish_entries(pqxx::transaction_base& tx, const std::string& schema,
                           const std::vector<log_result>& results) {
  if (results.empty())
    return 0;
  const auto log = qualified_name(tx, schema, "_trigger_log");
  const auto archive = qualified_name(tx, schema, "_trigger_log_archive");
  // One statement for the batch, its results as arrays: the entries are found
  // by their primary key (`= ANY`), not by a join the planner may turn into a
  // scan of the whole log.
  std::vector<std::int64_t> ids;
  std::vector<std::string> states;
  std::vector<std::optional<std::string>> codes, messages;
  ids.reserve(results.size());
  for (const auto& res : results) {
    ids.push_back(res.id);
    states.push_back(to_log_state(res.outcome));
    codes.push_back(res.sf_result ? std::optional<std::string>{std::to_string(*res.sf_result)} : std::nullopt);
    messages.push_back(res.sf_message);
  }
  const auto id_list = store::bigint_array(ids);
  auto r = tx.exec_params0(
    "WITH r AS (SELECT * FROM unnest($1::bigint[], $2::text[], $3::integer[], $4::text[]) AS r(id, state, sf_result, "
    "sf_message)), d AS (DELETE FROM " + log + " l USING r WHERE l.id = r.id AND l.id = ANY($1::bigint[]) RETURNING l.*, "
    "r.state AS new_state, r.sf_result AS new_result, r.sf_message AS new_message) INSERT INTO " + archive + " (" +
      log_columns +
      ") SELECT id, txid, created_at, now(), now(), txid_current(), new_state, action, table_name, "
      "record_id, sfid, old, \"values\", new_result, new_message FROM d ORDER BY id",
    id_list, store::text_array(states), store::nullable_text_array(codes), store::nullable_text_array(messages));
  return r.affected_rows();
}

std::size_t archive_unsyncable(pqxx::transaction_base& tx, const std::string& schema) {
  const auto log = qualified_name(tx, schema, "_trigger_log");
  const auto archive = qualified_name(tx, schema, "_trigger_log_archive");
  auto r = tx.exec0("WITH d AS (DELETE FROM " + log
                    + " WHERE state IN ('IGNORE', 'READONLY') RETURNING *) INSERT INTO " + archive
                    + " (" + log_columns + ") SELECT " + log_columns + " FROM d ORDER BY id");
  return r.affected_rows();
}

std::size_t requeue_archived(pqxx::transaction_base& tx, const std::string& schema) {
  const auto log = qualified_name(tx, schema, "_trigger_log");
  const auto archive = qualified_name(tx, schema, "_trigger_log_archive");
  auto r = tx.exec0("WITH q AS (UPDATE " + archive
                    + " SET state = 'REQUEUED', updated_at = now() WHERE state = 'REQUEUE' "
                      "RETURNING *) INSERT INTO "
                    + log
                    + " (txid, created_at, updated_at, state, action, table_name, record_id, sfid, "
                      "old, \"values\") SELECT txid, now(), now(), 'NEW', action, table_name, "
                      "record_id, sfid, old, \"values\" FROM q ORDER BY id");
  return r.affected_rows();
}

std::size_t release_pending(pqxx::transaction_base& tx, const std::string& schema) {
  const auto log = qualified_name(tx, schema, "_trigger_log");
  auto r = tx.exec0("UPDATE " + log + " SET state = 'NEW', updated_at = now() WHERE state = 'PENDING'");
  return r.affected_rows();
}

std::size_t purge_archive(pqxx::transaction_base& tx, const std::string& schema,
                          std::chrono::seconds retention) {
  const auto archive = qualified_name(tx, schema, "_trigger_log_archive");
  auto r = tx.exec_params0("DELETE FROM " + archive
                             + " WHERE created_at < now() - make_interval(secs => $1)",
                           static_cast<double>(retention.count()));
  return r.affected_rows();
}

std::vector<std::pair<std::string, std::size_t>> count_by_state(pqxx::transaction_base& tx,
                                                                const std::string& schema) {
  const auto log = qualified_name(tx, schema, "_trigger_log");
  std::vector<std::pair<std::string, std::size_t>> out;
  for (const auto& row : tx.exec("SELECT coalesce(state, ''), count(*) FROM " + log
                                 + " GROUP BY 1 ORDER BY 1"))
    out.emplace_back(row[0].as<std::string>(), row[1].as<std::size_t>());
  return out;
}

std::optional<std::int64_t> write_block_of(pqxx::transaction_base& tx, const std::string& mapping_id) {
  auto r = tx.exec_params("SELECT (write_block->>'record_id')::bigint FROM syncforce.mappings "
                          "WHERE id = $1 AND write_block IS NOT NULL",
                          mapping_id);
  if (r.empty() || r[0][0].is_null())
    return std::nullopt;
  return r[0][0].as<std::int64_t>();
}

void set_write_block(pqxx::transaction_base& tx, const std::string& mapping_id, const std::string& block_json) {
  tx.exec_params0("UPDATE syncforce.mappings SET write_block = $2::jsonb WHERE id = $1", mapping_id, block_json);
}

void clear_write_block(pqxx::transaction_base& tx, const std::string& mapping_id) {
  tx.exec_params0("UPDATE syncforce.mappings SET write_block = NULL WHERE id = $1", mapping_id);
}

} // namespace syncforce::store

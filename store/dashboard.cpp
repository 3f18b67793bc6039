#include "store/dashboard.hpp"

namespace syncforce::store {

namespace {

bool relation_missing(pqxx::transaction_base& tx, const std::string& name) {
  return tx.exec_params1("SELECT to_regclass($1) IS NULL", name)[0].as<bool>();
}

} // namespace

void insert_dashboard_session(pqxx::transaction_base& tx, const std::string& id_hash, const std::string& token_name,
                              const std::string& csrf_token, std::chrono::seconds idle_timeout,
                              const std::string& node_name) {
  tx.exec_params("INSERT INTO syncforce.dashboard_sessions (id_hash, token_name, csrf_token, expires_at, "
                 "created_by_node) VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5)",
                 pqxx::binarystring(id_hash), token_name, csrf_token, static_cast<double>(idle_timeout.count()),
                 node_name);
}

std::optional<dashboard_session_row> touch_dashboard_session(pqxx::transaction_base& tx, const std::string& id_hash,
                                                             std::chrono::seconds idle_timeout,
                                                             std::chrono::seconds max_age) {
  auto rows = tx.exec_params(
    "UPDATE syncforce.dashboard_sessions SET last_seen = now(), "
    "expires_at = least(now() + make_interval(secs => $2), created_at + make_interval(secs => $3)) "
    "WHERE id_hash = $1 AND expires_at > now() RETURNING token_name, csrf_token",
    pqxx::binarystring(id_hash), static_cast<double>(idle_timeout.count()), static_cast<double>(max_age.count()));
  if (rows.empty())
    return std::nullopt;
  return dashboard_session_row{rows[0][0].as<std::string>(), rows[0][1].as<std::string>()};
}

void delete_dashboard_session(pqxx::transaction_base& tx, const std::string& id_hash) {
  tx.exec_params("DELETE FROM syncforce.dashboard_sessions WHERE id_hash = $1", pqxx::binarystring(id_hash));
}

long delete_expired_dashboard_sessions(pqxx::transaction_base& tx) {
  auto r = tx.exec0("DELETE FROM syncforce.dashboard_sessions WHERE expires_at <= now()");
  return static_cast<long>(r.affected_rows());
}

bool cluster_has_nodes(pqxx::transaction_base& tx) {
  return !relation_missing(tx, "syncforce.nodes") &&
         tx.exec1("SELECT EXISTS (SELECT 1 FROM syncforce.nodes)")[0].as<bool>();
}

std::string nodes_json(pqxx::transaction_base& tx) {
  return tx
    .exec1("SELECT coalesce(json_agg(json_build_object('name', name, 'version', version, 'grpc_address', "
           "grpc_address, 'started_at', started_at, 'heartbeat_at', heartbeat_at) ORDER BY name), '[]')::text "
           "FROM syncforce.nodes")[0]
    .as<std::string>();
}

std::optional<std::string> live_leases_json(pqxx::transaction_base& tx) {
  if (relation_missing(tx, "syncforce.leases"))
    return std::nullopt;
  return tx
    .exec1("SELECT coalesce(json_agg(json_build_object('owner_node', l.owner_node, 'kind', l.kind, "
           "'what', coalesce(c.name, m.object_name, l.key))), '[]')::text FROM syncforce.leases l "
           "JOIN syncforce.nodes n ON n.name = l.owner_node AND n.expires_at > clock_timestamp() "
           "LEFT JOIN syncforce.connections c ON l.kind = 'writer' AND c.id::text = l.key "
           "LEFT JOIN syncforce.mappings m ON l.kind = 'mapping' AND m.id::text = l.key")[0]
    .as<std::string>();
}

} // namespace syncforce::store

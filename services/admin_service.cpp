#include "services/admin_service.hpp"

#include "store/control_repo.hpp"
#include "sync/mapping_config.hpp"

#include <pqxx/pqxx>

#include <chrono>
#include <ctime>
#include <functional>

namespace syncforce::services {

namespace {

/// Compares without stopping at the first difference (no timing hint).
bool same_secret(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < a.size(); ++i)
    diff |= static_cast<unsigned char>(a[i] ^ (i < b.size() ? b[i] : 0));
  return diff == 0;
}

/// Runs `work` in a read transaction of its own, on a detached actor of its own,
/// and finishes the call with its status.
void run_blocking(caf::actor_system& sys, grpc::ServerUnaryReactor* reactor, std::string url,
                  std::function<grpc::Status(pqxx::transaction_base&)> work) {
  sys.spawn<caf::detached>([reactor, url = std::move(url), work = std::move(work)] {
    grpc::Status status;
    try {
      pqxx::connection conn(url);
      pqxx::read_transaction tx(conn);
      status = work(tx);
    } catch (const pqxx::broken_connection&) {
      status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "the database is not reachable; try again");
    } catch (const std::exception& e) {
      status = grpc::Status(grpc::StatusCode::INTERNAL, e.what());
    }
    reactor->Finish(status);
  });
}

long count_or(pqxx::transaction_base& tx, const std::string& relation, const std::string& where, long missing) {
  if (tx.exec_params1("SELECT to_regclass($1) IS NULL", relation)[0].as<bool>())
    return missing;
  return tx.exec("SELECT count(*) FROM " + relation + (where.empty() ? "" : " WHERE " + where))[0][0].as<long>();
}

/// The connection named `name` (every connection when empty); NOT_FOUND for an unknown name.
grpc::Status select_connections(pqxx::transaction_base& tx, const std::string& name,
                                std::vector<store::connection_row>& out) {
  for (auto& c : store::load_connections(tx))
    if (name.empty() || c.name == name)
      out.push_back(std::move(c));
  if (!name.empty() && out.empty())
    return grpc::Status(grpc::StatusCode::NOT_FOUND, "no connection named '" + name + "'");
  return grpc::Status::OK;
}

std::string utc_now() {
  auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

} // namespace

admin_service::admin_service(caf::actor_system& sys, admin_settings settings)
  : sys_(sys), settings_(std::move(settings)) {}

grpc::Status admin_service::authenticate(const grpc::CallbackServerContext* ctx) const {
  if (!settings_.token || settings_.token->empty())
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "the admin API is off on this node: start it with --admin-token-file or "
                        "SYNCFORCE_ADMIN_TOKEN");
  const auto& md = ctx->client_metadata();
  auto it = md.find("authorization");
  if (it == md.end())
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "no token: send 'authorization: Bearer <token>' (syncforce: --token-file or SYNCFORCE_TOKEN)");
  std::string value(it->second.data(), it->second.size());
  const std::string prefix = "Bearer ";
  if (value.compare(0, prefix.size(), prefix) != 0 || !same_secret(value.substr(prefix.size()), *settings_.token))
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "the token is not valid for this cluster");
  return grpc::Status::OK;
}

grpc::ServerUnaryReactor* admin_service::GetState(grpc::CallbackServerContext* ctx,
                                                  const syncforce::v1::GetStateRequest* req,
                                                  syncforce::v1::State* reply) {
  auto* reactor = ctx->DefaultReactor();
  if (auto auth = authenticate(ctx); !auth.ok()) {
    reactor->Finish(auth);
    return reactor;
  }
  run_blocking(sys_, reactor, settings_.database_url, [name = req->connection(), reply](pqxx::transaction_base& tx) {
    std::vector<store::connection_row> connections;
    if (auto lookup = select_connections(tx, name, connections); !lookup.ok())
      return lookup;
    for (const auto& c : connections) {
      auto* cs = reply->add_connections();
      cs->set_id(c.id);
      cs->set_name(c.name);
      cs->set_schema_name(c.schema_name);
      cs->set_state(c.state);
      cs->set_api_version(c.api_version);
      const auto schema = tx.quote_name(c.schema_name);
      for (const auto& m : store::load_mappings(tx, c.id)) {
        auto* ms = cs->add_mappings();
        ms->set_id(m.id);
        ms->set_object_name(m.object_name);
        ms->set_state(m.state);
        ms->set_state_description(m.state_description);
        ms->set_high_water_mark(m.high_water_mark.value_or(""));
        ms->set_access(std::string{to_string(m.config.access)});
        const auto table = m.config.table_name();
        ms->set_db_rows(count_or(tx, schema + "." + tx.quote_name(table), "", -1));
        ms->set_pending_writes(count_or(tx, schema + "._trigger_log",
                                        "table_name = " + tx.quote(table) + " AND state IN ('NEW', 'PENDING')", 0));
        ms->set_failed_writes_24h(count_or(tx, schema + "._trigger_log_archive",
                                           "table_name = " + tx.quote(table) +
                                             " AND state = 'FAILED' AND processed_at > now() - interval '24 hours'",
                                           0));
      }
    }
    return grpc::Status::OK;
  });
  return reactor;
}

grpc::ServerUnaryReactor* admin_service::GetWriteErrors(grpc::CallbackServerContext* ctx,
                                                        const syncforce::v1::GetWriteErrorsRequest* req,
                                                        syncforce::v1::WriteErrors* reply) {
  auto* reactor = ctx->DefaultReactor();
  if (auto auth = authenticate(ctx); !auth.ok()) {
    reactor->Finish(auth);
    return reactor;
  }
  auto work = [name = req->connection(), object = req->object_name(), reply](pqxx::transaction_base& tx) {
    std::vector<store::connection_row> connections;
    if (auto lookup = select_connections(tx, name, connections); !lookup.ok())
      return lookup;
    bool found = object.empty();
    for (const auto& c : connections) {
      const auto archive = tx.quote_name(c.schema_name) + "._trigger_log_archive";
      const bool has_archive = !tx.exec_params1("SELECT to_regclass($1) IS NULL", archive)[0].as<bool>();
      for (const auto& m : store::load_mappings(tx, c.id)) {
        if (!object.empty() && m.object_name != object)
          continue;
        found = true;
        if (!has_archive)
          continue;
        auto rows = tx.exec_params(
          "SELECT id, action, record_id, sfid, sf_message, "
          "to_char(processed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM " + archive +
            " WHERE state = 'FAILED' AND table_name = $1 AND processed_at > now() - interval '24 hours' "
            "ORDER BY id DESC LIMIT 1000",
          m.config.table_name());
        for (const auto& r : rows) {
          auto* e = reply->add_errors();
          e->set_id(r[0].as<std::int64_t>());
          e->set_connection(c.name);
          e->set_object_name(m.object_name);
          e->set_action(r[1].is_null() ? "" : r[1].as<std::string>());
          e->set_record_id(r[2].is_null() ? 0 : r[2].as<std::int64_t>());
          e->set_sfid(r[3].is_null() ? "" : r[3].as<std::string>());
          e->set_message(r[4].is_null() ? "" : r[4].as<std::string>());
          e->set_processed_at(r[5].is_null() ? "" : r[5].as<std::string>());
        }
      }
    }
    if (!found)
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "no mapping of " + object);
    return grpc::Status::OK;
  };
  run_blocking(sys_, reactor, settings_.database_url, std::move(work));
  return reactor;
}

grpc::ServerUnaryReactor* admin_service::ExportConfiguration(grpc::CallbackServerContext* ctx,
                                                             const syncforce::v1::ExportConfigurationRequest* req,
                                                             syncforce::v1::ExportedConfiguration* reply) {
  auto* reactor = ctx->DefaultReactor();
  if (auto auth = authenticate(ctx); !auth.ok()) {
    reactor->Finish(auth);
    return reactor;
  }
  run_blocking(sys_, reactor, settings_.database_url, [name = req->connection(), reply](pqxx::transaction_base& tx) {
    std::vector<store::connection_row> connections;
    if (auto lookup = select_connections(tx, name, connections); !lookup.ok())
      return lookup;
    if (connections.empty())
      return grpc::Status(grpc::StatusCode::NOT_FOUND, "there is no connection to export");
    if (connections.size() > 1) {
      std::string names;
      for (const auto& c : connections)
        names += (names.empty() ? "" : ", ") + c.name;
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                          "several connections (" + names + "): name the one to export with --connection");
    }
    const auto& c = connections.front();
    config_document doc;
    connection_config cc;
    cc.name = c.name;
    cc.organization_id = c.organization_id;
    cc.api_version = c.api_version;
    cc.features = c.features;
    cc.exported_at = utc_now();
    doc.connection = cc;
    for (auto& m : store::load_mappings(tx, c.id))
      doc.mappings.push_back(std::move(m.config));
    reply->set_json(serialize_config(doc));
    return grpc::Status::OK;
  });
  return reactor;
}

} // namespace syncforce::services

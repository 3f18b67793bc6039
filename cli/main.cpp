// syncforce: the admin command line of a Syncforce cluster. Talks gRPC to any node.

#include "cli/admin_commands.hpp"
#include "cli/schema_swap_commands.hpp"
#include "cli/live_commands.hpp"
#include "cli/common.hpp"
#include "cli/output.hpp"
#include "grpc/health/v1/health.grpc.pb.h"
#include "syncforce/v1/admin.grpc.pb.h"
#include "syncforce/v1/node.grpc.pb.h"

#include <CLI/CLI.hpp>
#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <regex>
#include <sstream>
#include <vector>

namespace {

using namespace syncforce::cli;

int node_info(const common_options& opts) {
  auto stub = syncforce::v1::Node::NewStub(channel_for(opts));
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline(opts));
  syncforce::v1::NodeInfo info;
  auto status = stub->GetNodeInfo(&ctx, syncforce::v1::GetNodeInfoRequest{}, &info);
  if (!status.ok())
    return report_rpc_error(opts, status);
  if (opts.json) {
    nlohmann::json j{{"name", info.name()},
                     {"version", info.version()},
                     {"started_at_unix_ms", info.started_at_unix_ms()},
                     {"ready", info.ready()},
                     {"not_ready_reason", info.not_ready_reason()},
                     {"control_schema_version", info.control_schema_version()}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "Node:                   " << info.name() << "\n"
              << "Version:                " << info.version() << "\n"
              << "Ready:                  " << (info.ready() ? "yes" : "no")
              << (info.ready() ? "" : " (" + info.not_ready_reason() + ")") << "\n"
              << "Control schema version: " << info.control_schema_version() << "\n";
  }
  return info.ready() ? 0 : exit_not_ok;
}

int health(const common_options& opts, const std::string& service) {
  auto stub = grpc::health::v1::Health::NewStub(channel_for(opts));
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline(opts));
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  grpc::health::v1::HealthCheckResponse resp;
  auto status = stub->Check(&ctx, req, &resp);
  if (!status.ok())
    return report_rpc_error(opts, status);
  auto name = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(resp.status());
  if (opts.json)
    std::cout << nlohmann::json{{"service", service}, {"status", name}}.dump() << "\n";
  else
    std::cout << (service.empty() ? "(overall)" : service) << ": " << name << "\n";
  return resp.status() == grpc::health::v1::HealthCheckResponse::SERVING ? 0 : exit_not_ok;
}

/// One line of `mapping:state` about a sweep or formula repair.
std::string read_repair_text(const std::string& what, const syncforce::v1::ReadRepair& r, bool fetched) {
  return what + " at " + r.last_run_at() + ": checked " + std::to_string(r.checked()) +
         (fetched ? ", fetched " + std::to_string(r.fetched()) : std::string{}) + ", repaired " +
         std::to_string(r.repaired()) + " (" + std::to_string(r.runs()) + " runs: checked " +
         std::to_string(r.total_checked()) +
         (fetched ? ", fetched " + std::to_string(r.total_fetched()) : std::string{}) + ", repaired " +
         std::to_string(r.total_repaired()) + ")";
}

/// `state` (every mapping of the connection(s)) or `mapping:state OBJECT` (one).
int state(const common_options& opts, const std::string& object) {
  auto stub = syncforce::v1::Admin::NewStub(channel_for(opts));
  auto ctx = admin_context(opts);
  syncforce::v1::GetStateRequest req;
  req.set_connection(opts.connection);
  syncforce::v1::State reply;
  auto status = stub->GetState(ctx.get(), req, &reply);
  if (!status.ok())
    return report_rpc_error(opts, status);
  if (!object.empty()) {
    for (const auto& c : reply.connections())
      for (const auto& m : c.mappings())
        if (m.object_name() == object) {
          if (opts.json)
            std::cout << mapping_json(m).dump(2) << "\n";
          else
            std::cout << m.state() << (m.state_description().empty() ? "" : " (" + m.state_description() + ")")
                      << (m.read_errors() > 0 ? "; " + std::to_string(m.read_errors()) +
                                                  " records set aside (syncforce read-errors " + object + ")"
                                              : std::string{})
                      << "\n";
          if (!opts.json && m.has_sweep())
            std::cout << read_repair_text("sweep", m.sweep(), true) << "\n";
          if (!opts.json && m.has_formula_repair())
            std::cout << read_repair_text("formula repair", m.formula_repair(), false) << "\n";
          return 0;
        }
    std::cerr << "syncforce: no mapping of " << object
              << (opts.connection.empty() ? "" : " in connection " + opts.connection) << "\n";
    return exit_not_found;
  }
  // A node that gave up must not look healthy: said on stderr, exit 1.
  const bool failed = !reply.node().failure().empty();
  if (failed)
    std::cerr << "syncforce: node " << reply.node().name() << " has FAILED and waits to be restarted: "
              << reply.node().failure() << "\n";
  if (opts.json) {
    auto out = nlohmann::json::array();
    for (const auto& c : reply.connections())
      out.push_back(connection_json(c));
    std::cout << out.dump(2) << "\n";
    return failed ? 1 : 0;
  }
  for (const auto& c : reply.connections()) {
    std::cout << "=== " << c.name() << " (schema " << c.schema_name() << ", API " << c.api_version() << "): "
              << c.state() << (c.writer_node().empty() ? "" : "; writer on " + c.writer_node()) << "\n";
    std::cout << std::left << std::setw(28) << "Object" << std::setw(20) << "State" << std::setw(12) << "Access"
              << std::right << std::setw(10) << "Rows" << std::setw(9) << "Pending" << std::setw(8) << "Errors"
              << "  Node\n";
    for (const auto& m : c.mappings()) {
      std::cout << std::left << std::setw(28) << m.object_name() << std::setw(20) << m.state() << std::setw(12)
                << m.access() << std::right << std::setw(10) << m.db_rows() << std::setw(9) << m.pending_writes()
                << std::setw(8) << m.failed_writes_24h() << "  " << (m.node().empty() ? "-" : m.node());
      if (m.load_rows_expected() > 0)
        std::cout << "  loading " << with_commas(m.load_rows_loaded()) << " / " << with_commas(m.load_rows_expected())
                  << " rows";
      if (!m.pending_command().empty())
        std::cout << "  (" << m.pending_command() << " asked for)";
      if (m.read_errors() > 0)
        std::cout << "  " << m.read_errors() << " read errors";
      std::cout << "\n";
    }
  }
  if (failed)
    std::cout << "Node " << reply.node().name() << ": FAILED (" << reply.node().failure() << ")\n";
  return failed ? 1 : 0;
}

/// `write-errors` / `mapping:write-errors OBJECT`: failed writes of the last 24 hours.
int write_errors(const common_options& opts, const std::string& object) {
  auto stub = syncforce::v1::Admin::NewStub(channel_for(opts));
  auto ctx = admin_context(opts);
  syncforce::v1::GetWriteErrorsRequest req;
  req.set_connection(opts.connection);
  req.set_object_name(object);
  syncforce::v1::WriteErrors reply;
  auto status = stub->GetWriteErrors(ctx.get(), req, &reply);
  if (!status.ok())
    return report_rpc_error(opts, status);
  if (opts.json) {
    auto out = nlohmann::json::array();
    for (const auto& e : reply.errors())
      out.push_back({{"id", e.id()},
                     {"connection", e.connection()},
                     {"object_name", e.object_name()},
                     {"action", e.action()},
                     {"record_id", e.record_id()},
                     {"sfid", e.sfid()},
                     {"message", e.message()},
                     {"processed_at", e.processed_at()}});
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (reply.errors().empty()) {
    std::cout << "No write errors in the last 24 hours.\n";
    return 0;
  }
  std::cout << std::left << std::setw(10) << "Id" << std::setw(22) << "Object" << std::setw(8) << "Action"
            << std::setw(10) << "Row" << std::setw(22) << "At" << "Error\n";
  for (const auto& e : reply.errors())
    std::cout << std::left << std::setw(10) << e.id() << std::setw(22) << e.object_name() << std::setw(8)
              << e.action() << std::setw(10) << e.record_id() << std::setw(22) << e.processed_at() << e.message()
              << "\n";
  return 0;
}

/// `read-errors [OBJECT]`: Salesforce records set aside because PostgreSQL refuses one of their values.
int read_errors(const common_options& opts, const std::string& object) {
  auto stub = syncforce::v1::Admin::NewStub(channel_for(opts));
  auto ctx = admin_context(opts);
  syncforce::v1::GetReadErrorsRequest req;
  req.set_connection(opts.connection);
  req.set_object_name(object);
  syncforce::v1::ReadErrors reply;
  auto status = stub->GetReadErrors(ctx.get(), req, &reply);
  if (!status.ok())
    return report_rpc_error(opts, status);
  if (opts.json) {
    auto out = nlohmann::json::array();
    for (const auto& e : reply.errors())
      out.push_back({{"connection", e.connection()},
                     {"object_name", e.object_name()},
                     {"sfid", e.sfid()},
                     {"field", e.field()},
                     {"error", e.error()},
                     {"value_excerpt", e.value_excerpt()},
                     {"operation", e.operation()},
                     {"first_seen", e.first_seen()},
                     {"last_seen", e.last_seen()},
                     {"count", e.count()}});
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (reply.errors().empty()) {
    std::cout << "No read errors.\n";
    return 0;
  }
  std::cout << std::left << std::setw(22) << "Object" << std::setw(20) << "Record" << std::setw(24) << "Field"
            << std::setw(26) << "Last seen" << std::setw(7) << "Times" << "Error (value)\n";
  for (const auto& e : reply.errors())
    std::cout << std::left << std::setw(22) << e.object_name() << std::setw(20) << e.sfid() << std::setw(24)
              << e.field() << std::setw(26) << e.last_seen() << std::setw(7) << e.count() << e.error()
              << (e.value_excerpt().empty() ? "" : " (" + e.value_excerpt() + ")") << "\n";
  return 0;
}

/// `export [FILE]`: the connection's configuration as JSON v1, to FILE or stdout.
int export_config(const common_options& opts, const std::string& file) {
  auto stub = syncforce::v1::Admin::NewStub(channel_for(opts));
  auto ctx = admin_context(opts);
  syncforce::v1::ExportConfigurationRequest req;
  req.set_connection(opts.connection);
  syncforce::v1::ExportedConfiguration reply;
  auto status = stub->ExportConfiguration(ctx.get(), req, &reply);
  if (!status.ok())
    return report_rpc_error(opts, status);
  if (file.empty()) {
    std::cout << reply.json() << "\n";
    return 0;
  }
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << reply.json() << "\n";
  if (!out) {
    std::cerr << "syncforce: cannot write " << file << "\n";
    return exit_not_ok;
  }
  std::cerr << "Exported to " << file << "\n";
  return 0;
}

} // namespace

namespace {

/// `a,b,c` and repeated options alike -> {a, b, c}.
std::vector<std::string> split_list(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& v : values) {
    std::stringstream in(v);
    for (std::string part; std::getline(in, part, ',');)
      if (!part.empty())
        out.push_back(part);
  }
  return out;
}

} // namespace

int main(int argc, char** argv) {
  static const std::regex command_path("[a-z][a-z-]*(:[a-z][a-z-]*)+");
  common_options opts;
  if (const char* env = std::getenv("SYNCFORCE_SERVER"))
    opts.server = env;
  CLI::App app{"syncforce: operate a Syncforce cluster (the counterpart of `heroku connect:*`)"};
  app.name("syncforce");
  app.require_subcommand(1);
  app.fallthrough(); // global options may follow the command
  app.add_option("--server", opts.server, "HOST:PORT of any syncforced node (env SYNCFORCE_SERVER)")
    ->capture_default_str();
  app.add_flag("--json", opts.json, "print JSON for scripts instead of tables");
  app.add_option("--timeout", opts.timeout_seconds, "seconds to wait for the server")->capture_default_str();
  app.add_option("--token-file", opts.token_file,
                 "file holding the admin API's bearer token (else env SYNCFORCE_TOKEN)");
  app.add_option("--connection,-c", opts.connection, "the connection's name (when the cluster has several)");
  bool wait = false;
  bool no_wait = false;
  app.add_flag("--wait", wait, "mapping:create, mapping:reload, import: wait for the loads and show progress "
                               "(the default on a terminal)");
  app.add_flag("--no-wait", no_wait, "return as soon as the server accepted the change");
  app.add_option("--wait-timeout", opts.wait_timeout_seconds, "seconds --wait waits at most")->capture_default_str();
  app.footer("Commands may be written `mapping:create` or `mapping create`.\n"
             "Exit codes: 0 ok, 1 failed (not ready, an error state, diagnose found errors), 2 usage error,\n"
             "3 server unreachable, 4 not authenticated, 5 not found, 6 rejected (every problem is printed),\n"
             "7 not in a state to do it (e.g. pause while a load runs). Reference: docs/cli.md");

  auto* node_cmd = app.add_subcommand("node", "the node this command talks to");
  node_cmd->require_subcommand(1);
  node_cmd->fallthrough();
  auto* node_info_cmd = node_cmd->add_subcommand("info", "show the node's name, version and readiness");
  std::string service = "readiness";
  auto* info_cmd = app.add_subcommand("info", "the connection(s): state, schema, Salesforce login, API version, "
                                               "features, mappings summary");
  auto* state_cmd = app.add_subcommand("state", "every mapping's state, rows, pending writes and write errors");
  auto* pause_cmd = app.add_subcommand("pause", "pause the connection (only when IDLE; running work finishes)");
  auto* resume_cmd = app.add_subcommand("resume", "resume a paused connection (the trigger-log backlog drains)");
  auto* recover_cmd = app.add_subcommand("recover", "clear error states and restart what failed");
  auto* restart_cmd = app.add_subcommand("restart", "same as recover");
  bool verbose = false;
  auto* diagnose_cmd = app.add_subcommand("diagnose", "check the connection and its mappings, with a hint for "
                                                       "each problem (exit 1 on an error)");
  diagnose_cmd->add_flag("-v,--verbose", verbose, "show passes and skips too");
  std::string file;
  bool dry_run = false;
  auto* import_cmd = app.add_subcommand("import", "import a Heroku Connect export (validated in full first; all "
                                                   "or nothing)");
  import_cmd->add_option("FILE", file, "the JSON file")->required();
  import_cmd->add_flag("--dry-run", dry_run, "validate only");
  std::string export_file;
  auto* export_cmd = app.add_subcommand("export", "the connection's configuration as import/export JSON v1 (no secrets)");
  export_cmd->add_option("FILE", export_file, "write here instead of to standard output");
  auto* errors_cmd = app.add_subcommand("write-errors", "writes to Salesforce that failed in the last 24 hours");
  std::string read_errors_object;
  auto* read_errors_cmd = app.add_subcommand(
    "read-errors", "Salesforce records set aside because PostgreSQL refuses one of their values");
  read_errors_cmd->add_option("OBJECT", read_errors_object, "only this mapping's object (e.g. Contact)");
  auto* health_cmd = app.add_subcommand("health", "check grpc.health.v1 (exit 0 when SERVING)");
  health_cmd->add_option("--service", service, "health service: \"\" (liveness) or readiness")
    ->capture_default_str();

  connection_options conn;
  auto* connection_cmd = app.add_subcommand("connection", "connections");
  connection_cmd->require_subcommand(1);
  connection_cmd->fallthrough();
  auto* connection_create_cmd = connection_cmd->add_subcommand("create", "create a connection (its login is "
                                                                          "checked first)");
  connection_create_cmd->add_option("NAME", conn.name, "the connection's name")->required();
  connection_create_cmd->add_option("--login-url", conn.login_url, "e.g. https://login.salesforce.com")->required();
  connection_create_cmd->add_option("--username", conn.username, "the integration user")->required();
  connection_create_cmd->add_option("--auth", conn.auth, "password (default) or jwt");
  connection_create_cmd->add_option("--secret-ref", conn.secret_ref,
                                    "where the node finds the password (+ security token) or JWT key: env:NAME or "
                                    "file:/path (the CLI never reads secrets)");
  connection_create_cmd->add_option("--password-env", conn.password_env, "same as --secret-ref env:NAME");
  connection_create_cmd->add_option("--password-file", conn.password_file, "same as --secret-ref file:PATH");
  connection_create_cmd->add_option("--jwt-key-file", conn.jwt_key_file, "JWT private key file (implies --auth jwt)");
  connection_create_cmd->add_option("--client-id", conn.client_id, "the connected app's consumer key");
  connection_create_cmd->add_option("--client-secret-ref", conn.client_secret_ref,
                                    "where the node finds the consumer secret: env:NAME or file:/path");
  connection_create_cmd->add_option("--schema", conn.schema, "PostgreSQL schema of its tables (default salesforce)");
  connection_create_cmd->add_option("--api-version", conn.api_version, "Salesforce API version (default 60.0)");
  connection_create_cmd->add_option("--feature", conn.features,
                                    "NAME=true|false, repeatable: poll_db_no_merge, disable_bulk_writes, "
                                    "poll_external_ids, rest_count_only, ucs_basic_collation_index");
  clone_options clone;
  auto* connection_clone_cmd = connection_cmd->add_subcommand(
    "clone", "a second connection in another schema with copies of SOURCE's mappings (same login: it shares the "
             "integration user); loads them while SOURCE keeps syncing (docs/schema-swap.md)");
  connection_clone_cmd->add_option("SOURCE", clone.source, "the connection to copy")->required();
  connection_clone_cmd->add_option("--as", clone.name, "the new connection's name")->required();
  connection_clone_cmd->add_option("--schema", clone.schema, "its PostgreSQL schema (one no connection uses)")
    ->required();
  std::vector<std::string> clone_mappings;
  std::vector<std::string> clone_fields;
  connection_clone_cmd->add_option("--mappings", clone_mappings, "objects to copy, comma-separated (default: all)");
  connection_clone_cmd->add_option("--add-fields", clone_fields,
                                   "fields to add to the copies, comma-separated, as Object.Field");
  cutover_options cut;
  std::vector<std::string> cut_mappings;
  std::vector<std::string> cut_roles;
  auto* cutover_cmd = app.add_subcommand(
    "cutover", "move the tables TARGET also maps from SOURCE's schema to TARGET's: fence writes, drain, catch up, "
               "pause both, switch search_path (or, with --move-tables, move TARGET's tables into SOURCE's schema "
               "under their names) and resume both in one transaction; any failure rolls back "
               "(docs/schema-swap.md)");
  cutover_cmd->add_option("SOURCE", cut.source, "the connection whose tables move (hc1)")->required();
  cutover_cmd->add_option("TARGET", cut.target, "the connection that takes them over (hc2)")->required();
  cutover_cmd->add_flag("--dry-run", cut.dry_run, "list everything it would do, change nothing");
  cutover_cmd->add_flag("--move-tables", cut.move_tables,
                        "instead of switching the roles' search_path, move TARGET's tables into SOURCE's schema under "
                        "their names (SOURCE's set aside in schema SOURCESCHEMA_before_TARGETSCHEMA), so that queries "
                        "naming schema1.<table> keep working");
  cutover_cmd->add_option("--mappings", cut_mappings, "objects to move, comma-separated (default: all in common)");
  cutover_cmd->add_option("--roles", cut_roles,
                          "application roles whose search_path must start with TARGET's schema, comma-separated "
                          "(besides those whose setting names SOURCE's schema)");
  cutover_cmd->add_option("--drain-timeout", cut.drain_timeout, "seconds to wait for SOURCE's unsent writes (60)");
  cutover_cmd->add_option("--catch-up-timeout", cut.catch_up_timeout,
                          "seconds to wait for TARGET to catch up with Salesforce (120)");
  cutover_cmd->add_option("--lock-timeout", cut.lock_timeout,
                          "seconds a step waits for a table lock the application holds (10)");
  std::string schema;
  auto* db_cmd = app.add_subcommand("db", "the connection's database side");
  db_cmd->require_subcommand(1);
  db_cmd->fallthrough();
  auto* db_set_cmd = db_cmd->add_subcommand("set", "move the connection's tables to another schema (they load there)");
  db_set_cmd->add_option("--schema", schema, "the PostgreSQL schema")->required();
  auto* sf_cmd = app.add_subcommand("sf", "the connection's Salesforce side");
  sf_cmd->require_subcommand(1);
  sf_cmd->fallthrough();
  auto* sf_auth_cmd = sf_cmd->add_subcommand("auth", "new Salesforce credentials (checked by logging in first)");
  sf_auth_cmd->add_option("--username", conn.username, "the integration user (default: unchanged)");
  sf_auth_cmd->add_option("--login-url", conn.login_url, "OAuth host (default: unchanged)");
  sf_auth_cmd->add_option("--password-env", conn.password_env, "the password is in this environment variable of the nodes");
  sf_auth_cmd->add_option("--password-file", conn.password_file, "the password is in this file on the nodes");
  sf_auth_cmd->add_option("--jwt-key-file", conn.jwt_key_file, "JWT bearer flow with this private key file on the nodes");
  sf_auth_cmd->add_option("--secret-ref", conn.secret_ref, "env:NAME or file:/path");
  sf_auth_cmd->add_option("--client-id", conn.client_id, "the connected app's consumer key");
  sf_auth_cmd->add_option("--client-secret-ref", conn.client_secret_ref, "env:NAME or file:/path");
  std::string target_version;
  auto* api_version_cmd = app.add_subcommand("api-version", "change the Salesforce API version (the org must offer it)");
  api_version_cmd->add_option("--target-version", target_version, "e.g. 61.0")->required();

  mapping_options mapping;
  std::vector<std::string> fields;
  std::vector<std::string> add_fields;
  std::vector<std::string> remove_fields;
  auto* mapping_cmd = app.add_subcommand("mapping", "mappings");
  mapping_cmd->require_subcommand(1);
  mapping_cmd->fallthrough();
  auto object_arg = [&mapping](CLI::App* cmd) {
    cmd->add_option("OBJECT", mapping.object, "the mapping's object, e.g. Contact")->required();
  };
  auto* mapping_create_cmd = mapping_cmd->add_subcommand("create", "map an object (validated against Salesforce; "
                                                                    "the table is created and loaded)");
  object_arg(mapping_create_cmd);
  mapping_create_cmd->add_option("--fields", fields, "API names, comma-separated or repeated (Id, IsDeleted, "
                                                     "SystemModstamp, CreatedDate are always added)")
    ->required();
  mapping_create_cmd->add_option("--access", mapping.access, "read_only (default) or read_write");
  mapping_create_cmd->add_option("--upsert-field", mapping.upsert_field,
                                 "a unique External ID field (required for read_write)");
  mapping_create_cmd->add_option("--polling", mapping.polling, "seconds between polls (default 600)");
  auto* mapping_edit_cmd = mapping_cmd->add_subcommand(
    "edit", "change a mapping without a reload (no option: re-read describe after a field changed in Salesforce)");
  object_arg(mapping_edit_cmd);
  mapping_edit_cmd->add_option("--add-fields", add_fields, "API names to add");
  mapping_edit_cmd->add_option("--remove-fields", remove_fields, "API names to remove (their columns are dropped)");
  mapping_edit_cmd->add_option("--access", mapping.access, "read_only or read_write");
  mapping_edit_cmd->add_option("--upsert-field", mapping.upsert_field, "a unique External ID field");
  mapping_edit_cmd->add_flag("--no-upsert-field", mapping.no_upsert_field, "remove the upsert field");
  mapping_edit_cmd->add_option("--polling", mapping.polling, "seconds between polls");
  int sweep_seconds = 0;
  int sweep_window_seconds = 0;
  int formula_repair_seconds = 0;
  auto* sweep_opt = mapping_edit_cmd->add_option(
    "--sweep-seconds", sweep_seconds, "seconds between look-back sweeps for late commits (default 600; 0: off)");
  auto* sweep_window_opt = mapping_edit_cmd->add_option("--sweep-window-seconds", sweep_window_seconds,
                                                        "how far back a sweep looks (default 900)");
  auto* formula_repair_opt = mapping_edit_cmd->add_option(
    "--formula-repair-seconds", formula_repair_seconds,
    "seconds between re-reads of the formula and roll-up fields (default 0: off)");
  std::string accelerated;
  auto* accelerated_opt =
    mapping_edit_cmd
      ->add_option("--accelerated", accelerated,
                   "on: apply the object's change events as they happen (Heroku Connect's accelerated polling, "
                   "sf_notify_enabled; the node needs the Pub/Sub API: syncforced --pubsub-endpoint); off: polls only")
      ->check(CLI::IsMember({"on", "off"}));
  auto* mapping_delete_cmd = mapping_cmd->add_subcommand("delete", "delete a mapping and drop its table");
  object_arg(mapping_delete_cmd);
  mapping_delete_cmd->add_option("--confirm", mapping.confirm, "repeat the object's name");
  auto* mapping_reload_cmd = mapping_cmd->add_subcommand("reload", "load the whole table again (readers keep the old "
                                                                    "rows until it is done)");
  object_arg(mapping_reload_cmd);
  auto* mapping_abort_cmd = mapping_cmd->add_subcommand("abort", "stop a running load");
  object_arg(mapping_abort_cmd);
  auto* mapping_state_cmd = mapping_cmd->add_subcommand("state", "a mapping's state");
  object_arg(mapping_state_cmd);
  auto* mapping_diagnose_cmd = mapping_cmd->add_subcommand("diagnose", "check one mapping");
  object_arg(mapping_diagnose_cmd);
  mapping_diagnose_cmd->add_flag("-v,--verbose", verbose, "show passes and skips too");
  int log_lines = 0;
  auto* mapping_log_cmd = mapping_cmd->add_subcommand(
    "log", "the mapping's recent log lines (loads, polls, writes), from the nodes that run it, oldest first");
  object_arg(mapping_log_cmd);
  mapping_log_cmd->add_option("-n,--lines", log_lines, "at most this many (default and most: 200)")
    ->check(CLI::Range(1, 200));
  auto* mapping_errors_cmd =
    mapping_cmd->add_subcommand("write-errors", "a mapping's writes to Salesforce that failed in the last 24 hours");
  object_arg(mapping_errors_cmd);

  std::string csv_file;
  std::string since;
  int limit = 0;
  auto* limits_cmd = app.add_subcommand("limits", "the integration user's query cursors (in use, limit, who holds "
                                                   "them: mapping and node) and API usage, as its broker counts them");
  auto* nodes_cmd = app.add_subcommand("nodes", "the cluster's nodes, the units of work each runs (leases with epochs "
                                                 "and ages) and units no live node runs (exit 1 if any)");
  auto* audit_cmd = app.add_subcommand("audit", "the audit trail: who changed what, when (newest first)");
  audit_cmd->add_option("--csv", csv_file, "write it to this CSV file");
  audit_cmd->add_option("--since", since, "only entries at or after this time (YYYY-MM-DDTHH:MM:SSZ)");
  audit_cmd->add_option("--limit", limit, "at most this many (default 1000)");

  // Heroku Connect spells commands `mapping:create`; CLI11 does not allow ':'
  // in a subcommand's name, so `a:b` is taken as the nested subcommands `a b`.
  std::vector<std::string> args;
  for (int i = argc - 1; i >= 1; --i) {
    std::string arg = argv[i];
    if (std::regex_match(arg, command_path)) {
      std::vector<std::string> parts;
      std::stringstream in(arg);
      for (std::string part; std::getline(in, part, ':');)
        parts.push_back(part);
      args.insert(args.end(), parts.rbegin(), parts.rend());
    } else {
      args.push_back(arg);
    }
  }
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : exit_usage;
  }
  if (wait && no_wait) {
    std::cerr << "syncforce: --wait and --no-wait exclude each other\n";
    return exit_usage;
  }
  if (wait || no_wait)
    opts.wait = wait;
  clone.mappings = split_list(clone_mappings);
  clone.add_fields = split_list(clone_fields);
  cut.mappings = split_list(cut_mappings);
  cut.roles = split_list(cut_roles);
  mapping.fields = split_list(fields);
  mapping.add_fields = split_list(add_fields);
  mapping.remove_fields = split_list(remove_fields);

  if (*node_info_cmd)
    return node_info(opts);
  if (*health_cmd)
    return health(opts, service);
  if (*info_cmd)
    return info(opts);
  if (*state_cmd)
    return state(opts, "");
  if (*nodes_cmd)
    return nodes(opts);
  if (*pause_cmd)
    return pause(opts);
  if (*resume_cmd)
    return resume(opts);
  if (*recover_cmd || *restart_cmd)
    return recover(opts);
  if (*diagnose_cmd)
    return diagnose(opts, "", verbose);
  if (*import_cmd)
    return import_config(opts, file, dry_run);
  if (*export_cmd)
    return export_config(opts, export_file);
  if (*errors_cmd)
    return write_errors(opts, "");
  if (*read_errors_cmd)
    return read_errors(opts, read_errors_object);
  if (*connection_create_cmd)
    return connection_create(opts, conn);
  if (*connection_clone_cmd)
    return connection_clone(opts, clone);
  if (*cutover_cmd)
    return cutover(opts, cut);
  if (*db_set_cmd)
    return db_set(opts, schema);
  if (*sf_auth_cmd)
    return sf_auth(opts, conn);
  if (*api_version_cmd)
    return api_version(opts, target_version);
  if (*mapping_create_cmd)
    return mapping_create(opts, mapping);
  if (*mapping_edit_cmd) {
    if (sweep_opt->count() > 0)
      mapping.sweep_seconds = sweep_seconds;
    if (sweep_window_opt->count() > 0)
      mapping.sweep_window_seconds = sweep_window_seconds;
    if (formula_repair_opt->count() > 0)
      mapping.formula_repair_seconds = formula_repair_seconds;
    if (accelerated_opt->count() > 0)
      mapping.sf_notify_enabled = accelerated == "on";
    return mapping_edit(opts, mapping);
  }
  if (*mapping_delete_cmd)
    return mapping_delete(opts, mapping);
  if (*mapping_reload_cmd)
    return mapping_reload(opts, mapping.object);
  if (*mapping_abort_cmd)
    return mapping_abort(opts, mapping.object);
  if (*mapping_state_cmd)
    return state(opts, mapping.object);
  if (*mapping_diagnose_cmd)
    return diagnose(opts, mapping.object, verbose);
  if (*mapping_errors_cmd)
    return write_errors(opts, mapping.object);
  if (*mapping_log_cmd)
    return mapping_log(opts, mapping.object, log_lines);
  if (*limits_cmd)
    return limits(opts);
  if (*audit_cmd)
    return audit(opts, csv_file, since, limit);
  return exit_usage;
}

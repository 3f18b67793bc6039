#include "cli/admin_commands.hpp"

#include "cli/output.hpp"
#include "sync/csv.hpp"
#include "sync/states.hpp"
#include "syncforce/v1/admin.grpc.pb.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <iomanip>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace syncforce::cli {

namespace {

using admin_stub = std::unique_ptr<syncforce::v1::Admin::Stub>;

admin_stub stub_for(const common_options& opts) { return syncforce::v1::Admin::NewStub(channel_for(opts)); }

/// The connection's state, from GetState; nullopt after printing the error.
std::optional<syncforce::v1::State> get_state(const common_options& opts, int& code) {
  auto stub = stub_for(opts);
  auto ctx = admin_context(opts);
  syncforce::v1::GetStateRequest req;
  req.set_connection(opts.connection);
  syncforce::v1::State reply;
  auto status = stub->GetState(ctx.get(), req, &reply);
  if (!status.ok()) {
    code = report_rpc_error(opts, status);
    return std::nullopt;
  }
  return reply;
}

std::string mapping_line(const syncforce::v1::MappingState& m) {
  std::string line = m.object_name() + "  " + m.state();
  if (m.load_rows_expected() > 0 || m.load_rows_loaded() > 0)
    line += "  " + with_commas(m.load_rows_loaded()) + " / " + with_commas(m.load_rows_expected()) + " rows";
  else if (m.db_rows() >= 0)
    line += "  " + with_commas(m.db_rows()) + " rows";
  if (!m.pending_command().empty())
    line += "  (" + m.pending_command() + " asked for)";
  return line;
}

/// Waits (on a terminal, or with --wait) until the loads of `objects` end,
/// showing rows loaded / total. 0 when every one reached DATA_SYNCED, 1 when
/// one ended in an error state or ABORTED.
int wait_for_loads(const common_options& opts, const std::vector<std::string>& objects) {
  const bool tty = ::isatty(STDOUT_FILENO) == 1;
  if (objects.empty() || !opts.wait.value_or(tty) || opts.json)
    return 0;
  const auto until = opts.time->steady_now() + std::chrono::seconds(opts.wait_timeout_seconds);
  std::string last;
  while (true) {
    int code = 0;
    auto state = get_state(opts, code);
    if (!state)
      return code;
    std::string line;
    int done = 0;
    std::string failed;
    for (const auto& object : objects) {
      const syncforce::v1::MappingState* found = nullptr;
      for (const auto& c : state->connections())
        for (const auto& m : c.mappings())
          if (m.object_name() == object)
            found = &m;
      if (found == nullptr) {
        failed = object + " is gone";
        continue;
      }
      line += (line.empty() ? "" : "  |  ") + mapping_line(*found);
      if (!found->pending_command().empty())
        continue;
      auto s = parse_mapping_state(found->state());
      if (s == mapping_state::data_synced)
        ++done;
      else if (s && (is_error(*s) || *s == mapping_state::aborted))
        failed = object + " is " + found->state() +
                 (found->state_description().empty() ? "" : " (" + found->state_description() + ")");
    }
    if (tty) {
      std::cout << "\r\033[K" << line << std::flush;
    } else if (line != last) {
      std::cout << line << "\n" << std::flush;
    }
    last = line;
    if (!failed.empty()) {
      if (tty)
        std::cout << "\n";
      std::cerr << "syncforce: " << failed << "\n";
      return exit_not_ok;
    }
    if (done == static_cast<int>(objects.size())) {
      if (tty)
        std::cout << "\n";
      return 0;
    }
    if (opts.time->steady_now() > until) {
      if (tty)
        std::cout << "\n";
      std::cerr << "syncforce: still loading after " << opts.wait_timeout_seconds
                << " s; follow it with `syncforce state`\n";
      return exit_not_ok;
    }
    opts.time->sleep_for(std::chrono::milliseconds(500));
  }
}

/// A request the node refused as invalid (the reply's `rejected`): every problem,
/// one per line, on standard error (and as JSON with --json); exit 6.
int report_rejection(const common_options& opts, const syncforce::v1::Rejection& r) {
  if (opts.json) {
    auto problems = nlohmann::json::array();
    for (const auto& p : r.problems())
      problems.push_back({{"path", p.path()}, {"message", p.message()}});
    std::cout << nlohmann::json{{"rejected", {{"summary", r.summary()}, {"problems", problems}}}}.dump(
                   2, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n";
  }
  std::cerr << "syncforce: " << r.summary() << ":\n";
  for (const auto& p : r.problems())
    std::cerr << "  " << (p.path().empty() ? p.message() : p.path() + ": " + p.message()) << "\n";
  return exit_rejected;
}

void print_connection(const syncforce::v1::ConnectionState& c) {
  std::map<std::string, int> states;
  for (const auto& m : c.mappings())
    ++states[m.state()];
  std::string summary;
  for (const auto& [s, n] : states)
    summary += (summary.empty() ? "" : ", ") + std::to_string(n) + " " + s;
  std::string features;
  std::map<std::string, bool> sorted(c.features().begin(), c.features().end());
  for (const auto& [k, v] : sorted)
    if (v)
      features += (features.empty() ? "" : ", ") + k;
  std::cout << "=== " << c.name() << "\n"
            << "State:         " << c.state() << "\n"
            << "Schema:        " << c.schema_name() << "\n"
            << "Salesforce:    " << c.username() << " at " << c.login_url() << " (" << c.auth_method()
            << ", secret from " << c.secret_ref() << ")\n"
            << "Organization:  " << (c.organization_id().empty() ? "(not logged in yet)" : c.organization_id())
            << "\n"
            << "API version:   " << c.api_version() << "\n"
            << "Features:      " << (features.empty() ? "(none)" : features) << "\n"
            << "Mappings:      " << c.mappings().size() << (summary.empty() ? "" : " (" + summary + ")") << "\n";
  if (!c.cutover().empty())
    std::cout << "Cutover:       " << c.cutover() << "\n";
}

/// Prints a call's connection (--json) or `text`, or the call's error.
int connection_reply(const common_options& opts, const grpc::Status& status,
                     const syncforce::v1::ConnectionState& reply, const std::string& text) {
  if (!status.ok())
    return report_rpc_error(opts, status);
  if (reply.has_rejected())
    return report_rejection(opts, reply.rejected());
  if (opts.json)
    std::cout << connection_json(reply).dump(2) << "\n";
  else
    std::cout << text << "\n";
  return 0;
}

/// Runs a connection action (pause, resume, recover) and prints the new state.
template <class Call>
int connection_action(const common_options& opts, const char* verb, Call call) {
  auto stub = stub_for(opts);
  auto ctx = admin_context(opts);
  syncforce::v1::ConnectionActionRequest req;
  req.set_connection(opts.connection);
  syncforce::v1::ConnectionState reply;
  auto status = call(*stub, ctx.get(), req, &reply);
  std::ostringstream text;
  if (status.ok())
    text << verb << " connection " << reply.name() << ": " << reply.state();
  return connection_reply(opts, status, reply, text.str());
}

std::string secret_ref_of(const connection_options& c, std::string& auth) {
  if (!c.password_env.empty()) {
    auth = auth.empty() ? "password" : auth;
    return "env:" + c.password_env;
  }
  if (!c.password_file.empty()) {
    auth = auth.empty() ? "password" : auth;
    return "file:" + c.password_file;
  }
  if (!c.jwt_key_file.empty()) {
    auth = "jwt";
    return "file:" + c.jwt_key_file;
  }
  return c.secret_ref;
}

/// A call the node checks against Salesforce first (a login, describe): it may
/// take longer than --timeout's default.
std::unique_ptr<grpc::ClientContext> salesforce_checking_context(const common_options& opts) {
  auto ctx = admin_context(opts);
  ctx->set_deadline(deadline_at_least(opts, std::chrono::seconds(60)));
  return ctx;
}

/// The login part of CreateConnectionRequest and SetAuthRequest (same fields).
template <class Request>
void fill_login(Request& req, const connection_options& c) {
  req.set_login_url(c.login_url);
  req.set_username(c.username);
  std::string auth = c.auth;
  req.set_secret_ref(secret_ref_of(c, auth));
  req.set_auth_method(auth);
  req.set_client_id(c.client_id);
  req.set_client_secret_ref(c.client_secret_ref);
}

int print_mapping_reply(const common_options& opts, const syncforce::v1::MappingState& m, const char* verb) {
  if (opts.json)
    std::cout << mapping_json(m).dump(2) << "\n";
  else
    std::cout << verb << " mapping of " << m.object_name() << " (revision " << m.revision() << "): " << m.state()
              << "\n";
  return 0;
}

} // namespace

int info(const common_options& opts) {
  int code = 0;
  auto state = get_state(opts, code);
  if (!state)
    return code;
  if (opts.json) {
    auto out = nlohmann::json::array();
    for (const auto& c : state->connections())
      out.push_back(connection_json(c));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (state->connections().empty())
    std::cout << "No connection yet: create one with `syncforce connection:create`.\n";
  for (const auto& c : state->connections())
    print_connection(c);
  return 0;
}

int pause(const common_options& opts) {
  return connection_action(opts, "Paused", [](auto& stub, auto* ctx, const auto& req, auto* reply) {
    return stub.Pause(ctx, req, reply);
  });
}

int resume(const common_options& opts) {
  return connection_action(opts, "Resumed", [](auto& stub, auto* ctx, const auto& req, auto* reply) {
    return stub.Resume(ctx, req, reply);
  });
}

int recover(const common_options& opts) {
  return connection_action(opts, "Recovering", [](auto& stub, auto* ctx, const auto& req, auto* reply) {
    return stub.Recover(ctx, req, reply);
  });
}

int diagnose(const common_options& opts, const std::string& object, bool verbose) {
  auto stub = stub_for(opts);
  auto ctx = admin_context(opts);
  syncforce::v1::DiagnoseRequest req;
  req.set_connection(opts.connection);
  req.set_object_name(object);
  req.set_verbose(verbose);
  syncforce::v1::DiagnoseReport reply;
  auto status = stub->Diagnose(ctx.get(), req, &reply);
  if (!status.ok())
    return report_rpc_error(opts, status);
  if (opts.json) {
    auto results = nlohmann::json::array();
    for (const auto& r : reply.results())
      results.push_back({{"rule_id", r.rule_id()},
                         {"display_name", r.display_name()},
                         {"status", r.status()},
                         {"message", r.message()},
                         {"hint", r.hint()},
                         {"object_name", r.object_name()}});
    std::cout << nlohmann::json{{"errors", reply.errors()},
                                {"warnings", reply.warnings()},
                                {"passes", reply.passes()},
                                {"skips", reply.skips()},
                                {"results", results}}
                   .dump(2)
              << "\n";
  } else {
    std::cout << reply.errors() << " error(s), " << reply.warnings() << " warning(s), " << reply.passes()
              << " pass(es), " << reply.skips() << " skip(s)" << (verbose ? "" : " (-v shows passes and skips)")
              << "\n";
    for (const auto& r : reply.results()) {
      if (!verbose && (r.status() == "PASS" || r.status() == "SKIP"))
        continue;
      std::cout << std::left << std::setw(8) << r.status() << r.display_name()
                << (r.object_name().empty() ? "" : " [" + r.object_name() + "]") << ": " << r.message() << "\n";
      if (!r.hint().empty())
        std::cout << "        hint: " << r.hint() << "\n";
    }
  }
  return reply.errors() > 0 ? exit_not_ok : 0;
}

int import_config(const common_options& opts, const std::string& file, bool dry_run) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "syncforce: cannot read " << file << "\n";
    return exit_usage;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto stub = stub_for(opts);
  auto ctx = admin_context(opts);
  ctx->set_deadline(deadline_at_least(opts, std::chrono::seconds(120)));
  syncforce::v1::ImportConfigurationRequest req;
  req.set_connection(opts.connection);
  req.set_json(text);
  req.set_dry_run(dry_run);
  syncforce::v1::ImportReport reply;
  auto status = stub->ImportConfiguration(ctx.get(), req, &reply);
  if (!status.ok())
    return report_rpc_error(opts, status);
  if (reply.has_rejected())
    return report_rejection(opts, reply.rejected());
  if (opts.json) {
    std::cout << nlohmann::json{{"dry_run", reply.dry_run()},
                                {"mappings_created", reply.mappings_created()},
                                {"mappings_changed", reply.mappings_changed()},
                                {"mappings_unchanged", reply.mappings_unchanged()},
                                {"connection_changed", reply.connection_changed()},
                                {"created", std::vector<std::string>(reply.created().begin(), reply.created().end())},
                                {"warnings",
                                 std::vector<std::string>(reply.warnings().begin(), reply.warnings().end())}}
                   .dump(2)
              << "\n";
  } else {
    std::cout << (reply.dry_run() ? "Valid; an import would make: " : "Imported: ") << reply.mappings_created()
              << " mapping(s) created, " << reply.mappings_changed() << " changed, " << reply.mappings_unchanged()
              << " unchanged" << (reply.connection_changed() ? "; connection settings changed" : "") << "\n";
    for (const auto& w : reply.warnings())
      std::cout << "warning: " << w << "\n";
  }
  if (reply.dry_run())
    return 0;
  return wait_for_loads(opts, std::vector<std::string>(reply.created().begin(), reply.created().end()));
}

int connection_create(const common_options& opts, const connection_options& c) {
  auto stub = stub_for(opts);
  auto ctx = salesforce_checking_context(opts);
  syncforce::v1::CreateConnectionRequest req;
  req.set_name(c.name);
  req.set_schema_name(c.schema);
  fill_login(req, c);
  req.set_api_version(c.api_version);
  for (const auto& f : c.features) {
    auto eq = f.find('=');
    auto name = f.substr(0, eq);
    auto value = eq == std::string::npos ? std::string{"true"} : f.substr(eq + 1);
    if (value != "true" && value != "false") {
      std::cerr << "syncforce: --feature " << f << ": the value must be true or false\n";
      return exit_usage;
    }
    (*req.mutable_features())[name] = value == "true";
  }
  syncforce::v1::ConnectionState reply;
  auto status = stub->CreateConnection(ctx.get(), req, &reply);
  std::ostringstream text;
  if (status.ok())
    text << "Created connection " << reply.name() << " (schema " << reply.schema_name() << ", API "
         << reply.api_version() << "): " << reply.state();
  return connection_reply(opts, status, reply, text.str());
}

int db_set(const common_options& opts, const std::string& schema) {
  auto stub = stub_for(opts);
  auto ctx = admin_context(opts);
  syncforce::v1::SetDatabaseRequest req;
  req.set_connection(opts.connection);
  req.set_schema_name(schema);
  syncforce::v1::ConnectionState reply;
  auto status = stub->SetDatabase(ctx.get(), req, &reply);
  std::ostringstream text;
  if (status.ok())
    text << "Connection " << reply.name() << " now uses schema " << reply.schema_name()
         << "; its mappings load there (the old tables are left in place)";
  return connection_reply(opts, status, reply, text.str());
}

int sf_auth(const common_options& opts, const connection_options& c) {
  auto stub = stub_for(opts);
  auto ctx = salesforce_checking_context(opts);
  syncforce::v1::SetAuthRequest req;
  req.set_connection(opts.connection);
  fill_login(req, c);
  syncforce::v1::ConnectionState reply;
  auto status = stub->SetAuth(ctx.get(), req, &reply);
  std::ostringstream text;
  if (status.ok())
    text << "Connection " << reply.name() << " logs in as " << reply.username() << " (" << reply.auth_method()
         << ", secret from " << reply.secret_ref() << ")";
  return connection_reply(opts, status, reply, text.str());
}

int api_version(const common_options& opts, const std::string& target) {
  auto stub = stub_for(opts);
  auto ctx = salesforce_checking_context(opts);
  syncforce::v1::SetApiVersionRequest req;
  req.set_connection(opts.connection);
  req.set_target_version(target);
  syncforce::v1::ConnectionState reply;
  auto status = stub->SetApiVersion(ctx.get(), req, &reply);
  std::ostringstream text;
  if (status.ok())
    text << "Connection " << reply.name() << " uses Salesforce API " << reply.api_version();
  return connection_reply(opts, status, reply, text.str());
}

int mapping_create(const common_options& opts, const mapping_options& m) {
  auto stub = stub_for(opts);
  auto ctx = salesforce_checking_context(opts);
  syncforce::v1::CreateMappingRequest req;
  req.set_connection(opts.connection);
  req.set_object_name(m.object);
  for (const auto& f : m.fields)
    req.add_fields(f);
  req.set_access(m.access);
  req.set_upsert_field(m.upsert_field);
  req.set_polling_seconds(m.polling);
  syncforce::v1::MappingState reply;
  auto status = stub->CreateMapping(ctx.get(), req, &reply);
  if (!status.ok())
    return report_rpc_error(opts, status);
  if (reply.has_rejected())
    return report_rejection(opts, reply.rejected());
  print_mapping_reply(opts, reply, "Created");
  return wait_for_loads(opts, {reply.object_name()});
}

int mapping_edit(const common_options& opts, const mapping_options& m) {
  auto stub = stub_for(opts);
  auto ctx = salesforce_checking_context(opts);
  syncforce::v1::EditMappingRequest req;
  req.set_connection(opts.connection);
  req.set_object_name(m.object);
  for (const auto& f : m.add_fields)
    req.add_add_fields(f);
  for (const auto& f : m.remove_fields)
    req.add_remove_fields(f);
  req.set_access(m.access);
  req.set_upsert_field(m.upsert_field);
  req.set_clear_upsert_field(m.no_upsert_field);
  req.set_polling_seconds(m.polling);
  if (m.sweep_seconds)
    req.set_sweep_seconds(*m.sweep_seconds);
  if (m.sweep_window_seconds)
    req.set_sweep_window_seconds(*m.sweep_window_seconds);
  if (m.formula_repair_seconds)
    req.set_formula_repair_seconds(*m.formula_repair_seconds);
  if (m.sf_notify_enabled)
    req.set_sf_notify_enabled(*m.sf_notify_enabled);
  syncforce::v1::MappingState reply;
  auto status = stub->EditMapping(ctx.get(), req, &reply);
  if (!status.ok())
    return report_rpc_error(opts, status);
  if (reply.has_rejected())
    return report_rejection(opts, reply.rejected());
  return print_mapping_reply(opts, reply, "Edited");
}

int mapping_delete(const common_options& opts, const mapping_options& m) {
  auto stub = stub_for(opts);
  auto ctx = admin_context(opts);
  syncforce::v1::DeleteMappingRequest req;
  req.set_connection(opts.connection);
  req.set_object_name(m.object);
  req.set_confirm(m.confirm);
  syncforce::v1::ActionResult reply;
  auto status = stub->DeleteMapping(ctx.get(), req, &reply);
  if (!status.ok())
    return report_rpc_error(opts, status);
  if (opts.json)
    std::cout << nlohmann::json{{"message", reply.message()}, {"mapping_id", reply.mapping_id()}}.dump(2) << "\n";
  else
    std::cout << reply.message() << "\n";
  return 0;
}

namespace {

template <class Call>
int mapping_action(const common_options& opts, const std::string& object, Call call) {
  auto stub = stub_for(opts);
  auto ctx = admin_context(opts);
  syncforce::v1::MappingActionRequest req;
  req.set_connection(opts.connection);
  req.set_object_name(object);
  syncforce::v1::ActionResult reply;
  auto status = call(*stub, ctx.get(), req, &reply);
  if (!status.ok())
    return report_rpc_error(opts, status);
  if (opts.json)
    std::cout << nlohmann::json{{"message", reply.message()}, {"mapping_id", reply.mapping_id()}}.dump(2) << "\n";
  else
    std::cout << reply.message() << "\n";
  return 0;
}

} // namespace

int mapping_reload(const common_options& opts, const std::string& object) {
  auto code = mapping_action(opts, object, [](auto& stub, auto* ctx, const auto& req, auto* reply) {
    return stub.ReloadMapping(ctx, req, reply);
  });
  if (code != 0)
    return code;
  return wait_for_loads(opts, {object});
}

int mapping_abort(const common_options& opts, const std::string& object) {
  return mapping_action(opts, object, [](auto& stub, auto* ctx, const auto& req, auto* reply) {
    return stub.AbortMapping(ctx, req, reply);
  });
}

namespace {

nlohmann::json unit_json(const syncforce::v1::ClusterUnit& u) {
  return {{"kind", u.kind()},         {"key", u.key()},   {"label", u.label()},
          {"connection_id", u.connection_id()}, {"epoch", u.epoch()}, {"held_seconds", u.held_seconds()},
          {"moves", u.moves()}};
}

std::string age(double seconds) {
  auto s = static_cast<long>(seconds);
  if (s < 120)
    return std::to_string(s) + "s";
  if (s < 7200)
    return std::to_string(s / 60) + "m";
  return std::to_string(s / 3600) + "h";
}

} // namespace

int nodes(const common_options& opts) {
  auto stub = stub_for(opts);
  auto ctx = admin_context(opts);
  syncforce::v1::ListNodesRequest req;
  syncforce::v1::ClusterNodes reply;
  auto status = stub->ListNodes(ctx.get(), req, &reply);
  if (!status.ok())
    return report_rpc_error(opts, status);
  const bool orphans = !reply.unassigned().empty();
  if (opts.json) {
    auto nodes = nlohmann::json::array();
    for (const auto& n : reply.nodes()) {
      auto units = nlohmann::json::array();
      for (const auto& u : n.units())
        units.push_back(unit_json(u));
      nodes.push_back({{"name", n.name()},
                       {"address", n.address()},
                       {"version", n.version()},
                       {"started_at", n.started_at()},
                       {"heartbeat_age_seconds", n.heartbeat_age_seconds()},
                       {"live", n.live()},
                       {"incarnation", n.incarnation()},
                       {"units", units}});
    }
    auto unassigned = nlohmann::json::array();
    for (const auto& u : reply.unassigned())
      unassigned.push_back(unit_json(u));
    std::cout << nlohmann::json{{"nodes", nodes}, {"unassigned", unassigned}, {"answered_by", reply.answered_by()}}
                   .dump(2)
              << "\n";
    return orphans ? exit_not_ok : 0;
  }
  std::cout << std::left << std::setw(24) << "Node" << std::setw(24) << "Address" << std::setw(8) << "Live"
            << std::setw(11) << "Heartbeat" << std::setw(8) << "Units" << "Version\n";
  for (const auto& n : reply.nodes()) {
    std::cout << std::left << std::setw(24) << n.name() << std::setw(24) << n.address() << std::setw(8)
              << (n.live() ? "yes" : "no") << std::setw(11) << (age(n.heartbeat_age_seconds()) + " ago")
              << std::setw(8) << n.units().size() << n.version() << "\n";
  }
  for (const auto& n : reply.nodes()) {
    if (n.units().empty())
      continue;
    std::cout << "\n=== " << n.name() << "\n";
    std::cout << std::left << std::setw(18) << "Kind" << std::setw(40) << "Unit" << std::setw(8) << "Epoch"
              << std::setw(8) << "Held" << "Moves\n";
    for (const auto& u : n.units())
      std::cout << std::left << std::setw(18) << u.kind() << std::setw(40) << (u.label().empty() ? u.key() : u.label())
                << std::setw(8) << u.epoch() << std::setw(8) << age(u.held_seconds()) << u.moves() << "\n";
  }
  if (orphans) {
    std::cout << "\nNot running on any live node (moving, or no node live):\n";
    for (const auto& u : reply.unassigned())
      std::cout << "  " << u.kind() << " " << (u.label().empty() ? u.key() : u.label()) << "\n";
  }
  return orphans ? exit_not_ok : 0;
}

int audit(const common_options& opts, const std::string& csv_file, const std::string& since, int limit) {
  auto stub = stub_for(opts);
  auto ctx = admin_context(opts);
  syncforce::v1::GetAuditLogRequest req;
  req.set_since(since);
  req.set_limit(limit);
  syncforce::v1::AuditLog reply;
  auto status = stub->GetAuditLog(ctx.get(), req, &reply);
  if (!status.ok())
    return report_rpc_error(opts, status);
  if (!csv_file.empty()) {
    csv::writer w;
    w.write_row({"id", "at", "actor", "action", "object_type", "object_id", "connection", "object_name", "before",
                 "after"});
    for (const auto& e : reply.entries())
      w.write_row(std::vector<std::string>{std::to_string(e.id()), e.at(), e.actor(), e.action(), e.object_type(),
                                           e.object_id(), e.connection(), e.object_name(), e.before_json(),
                                           e.after_json()});
    std::ofstream out(csv_file, std::ios::binary | std::ios::trunc);
    out << w.buffer();
    if (!out) {
      std::cerr << "syncforce: cannot write " << csv_file << "\n";
      return exit_not_ok;
    }
    std::cerr << "Wrote " << reply.entries().size() << " audit entries to " << csv_file << "\n";
    return 0;
  }
  if (opts.json) {
    auto out = nlohmann::json::array();
    for (const auto& e : reply.entries()) {
      auto parse = [](const std::string& s) { return s.empty() ? nlohmann::json() : nlohmann::json::parse(s, nullptr, false); };
      out.push_back({{"id", e.id()},
                     {"at", e.at()},
                     {"actor", e.actor()},
                     {"action", e.action()},
                     {"object_type", e.object_type()},
                     {"object_id", e.object_id()},
                     {"connection", e.connection()},
                     {"object_name", e.object_name()},
                     {"before", parse(e.before_json())},
                     {"after", parse(e.after_json())}});
    }
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  if (reply.entries().empty()) {
    std::cout << "No audit entries.\n";
    return 0;
  }
  std::cout << std::left << std::setw(26) << "At" << std::setw(14) << "Actor" << std::setw(28) << "Action"
            << std::setw(16) << "Connection" << "Object\n";
  for (const auto& e : reply.entries())
    std::cout << std::left << std::setw(26) << e.at() << std::setw(14) << e.actor() << std::setw(28) << e.action()
              << std::setw(16) << e.connection() << e.object_name() << "\n";
  return 0;
}

} // namespace syncforce::cli

namespace syncforce::cli {

int wait_for_mapping_loads(const common_options& opts, const std::vector<std::string>& objects) {
  return wait_for_loads(opts, objects);
}

int print_rejection(const common_options& opts, const syncforce::v1::Rejection& r) {
  return report_rejection(opts, r);
}

} // namespace syncforce::cli

#include "cli/schema_swap_commands.hpp"

#include "cli/admin_commands.hpp"
#include "cli/output.hpp"
#include "syncforce/v1/admin.grpc.pb.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <future>

namespace syncforce::cli {

int connection_clone(const common_options& opts, const clone_options& c) {
  auto stub = syncforce::v1::Admin::NewStub(channel_for(opts));
  auto ctx = admin_context(opts);
  // The node logs in and checks every copied mapping against describe first.
  ctx->set_deadline(deadline_at_least(opts, std::chrono::seconds(60)));
  syncforce::v1::CloneConnectionRequest req;
  req.set_source(c.source);
  req.set_name(c.name);
  req.set_schema_name(c.schema);
  for (const auto& m : c.mappings)
    req.add_mappings(m);
  for (const auto& f : c.add_fields)
    req.add_add_fields(f);
  syncforce::v1::ConnectionState reply;
  auto status = stub->CloneConnection(ctx.get(), req, &reply);
  if (!status.ok())
    return report_rpc_error(opts, status);
  if (reply.has_rejected())
    return print_rejection(opts, reply.rejected());
  std::vector<std::string> objects;
  for (const auto& m : reply.mappings())
    objects.push_back(m.object_name());
  if (opts.json) {
    std::cout << connection_json(reply).dump(2) << "\n";
  } else {
    std::cout << "Created connection " << reply.name() << " (schema " << reply.schema_name() << ") from "
              << c.source << " with " << objects.size() << " mapping(s):";
    for (const auto& o : objects)
      std::cout << " " << o;
    std::cout << "\nIt logs in as " << reply.username()
              << " and shares that user's query cursors and API budget with " << c.source
              << ". When it is in sync: syncforce cutover " << c.source << " " << reply.name() << " --dry-run\n";
  }
  auto waiting = opts;
  waiting.connection = reply.name();
  return wait_for_mapping_loads(waiting, objects);
}

namespace {

nlohmann::json report_json(const syncforce::v1::CutoverReport& r) {
  auto objects = nlohmann::json::array();
  for (const auto& o : r.objects())
    objects.push_back({{"kind", o.kind()},
                       {"name", o.name()},
                       {"action", o.action()},
                       {"phase", o.phase()},
                       {"sql", std::vector<std::string>(o.sql().begin(), o.sql().end())},
                       {"blocker", o.blocker()}});
  return {{"id", r.id()},
          {"dry_run", r.dry_run()},
          {"move_tables", r.move_tables()},
          {"source", r.source()},
          {"target", r.target()},
          {"source_schema", r.source_schema()},
          {"target_schema", r.target_schema()},
          {"tables", std::vector<std::string>(r.tables().begin(), r.tables().end())},
          {"objects", objects},
          {"steps", std::vector<std::string>(r.steps().begin(), r.steps().end())},
          {"outcome", r.outcome()},
          {"error", r.error()},
          {"write_downtime_ms", r.write_downtime_ms()},
          {"warnings", std::vector<std::string>(r.warnings().begin(), r.warnings().end())}};
}

void print_report(const syncforce::v1::CutoverReport& r) {
  std::cout << (r.dry_run() ? "Cutover plan (dry run, nothing changed): " : "Cutover " + std::to_string(r.id()) + ": ")
            << r.source() << " (schema " << r.source_schema() << ") -> " << r.target() << " (schema "
            << r.target_schema() << ")"
            << (r.move_tables() ? ", tables moved into schema " + r.source_schema() + " under their names" : "") << "\n";
  std::cout << "Tables:";
  for (const auto& t : r.tables())
    std::cout << " " << t;
  std::cout << "\n";
  std::cout << "Objects outside Syncforce that depend on them:" << (r.objects().empty() ? " none" : "") << "\n";
  for (const auto& o : r.objects()) {
    std::cout << "  " << o.kind() << " " << o.name() << ": "
              << (o.blocker().empty() ? o.action() : "CANNOT BE CARRIED: " + o.blocker()) << "\n";
    if (r.dry_run())
      for (const auto& s : o.sql())
        std::cout << "      " << s << (!s.empty() && s.back() == '\n' ? "" : "\n");
  }
  std::cout << "Steps:\n";
  int n = 0;
  for (const auto& s : r.steps())
    std::cout << "  " << ++n << ". " << s << "\n";
  for (const auto& w : r.warnings())
    std::cout << "Warning: " << w << "\n";
  if (r.outcome() == "done")
    std::cout << "Done. Application writes to the moved tables were refused for " << with_commas(r.write_downtime_ms())
              << " ms (fence to switch).\n";
  else if (r.outcome() == "rolled_back")
    std::cout << "Rolled back: " << r.error() << "\n";
}

} // namespace

int cutover(const common_options& opts, const cutover_options& c) {
  auto stub = syncforce::v1::Admin::NewStub(channel_for(opts));
  auto ctx = admin_context(opts);
  // The node runs every step before it answers: wait for all of them (and then some).
  const int budget = (c.drain_timeout > 0 ? c.drain_timeout : 60) + (c.catch_up_timeout > 0 ? c.catch_up_timeout : 120) +
                     4 * (c.lock_timeout > 0 ? c.lock_timeout : 10) + 300;
  ctx->set_deadline(deadline_at_least(opts, std::chrono::seconds(budget)));
  syncforce::v1::CutoverRequest req;
  req.set_source(c.source);
  req.set_target(c.target);
  for (const auto& m : c.mappings)
    req.add_mappings(m);
  for (const auto& r : c.roles)
    req.add_roles(r);
  req.set_dry_run(c.dry_run);
  req.set_move_tables(c.move_tables);
  req.set_drain_timeout_seconds(c.drain_timeout);
  req.set_catch_up_timeout_seconds(c.catch_up_timeout);
  req.set_lock_timeout_seconds(c.lock_timeout);
  syncforce::v1::CutoverReport reply;
  // The node answers once every step is done; meanwhile the steps it reached are shown
  // (from the connection's state), so that an operator sees where it is.
  auto call = std::async(std::launch::async, [&] { return stub->Cutover(ctx.get(), req, &reply); });
  if (!c.dry_run && !opts.json) {
    std::string last;
    while (call.wait_for(std::chrono::milliseconds(250)) != std::future_status::ready) {
      auto state_ctx = admin_context(opts);
      syncforce::v1::GetStateRequest state_req;
      state_req.set_connection(c.source);
      syncforce::v1::State state;
      if (!stub->GetState(state_ctx.get(), state_req, &state).ok() || state.connections().empty())
        continue;
      const auto& now = state.connections(0).cutover();
      if (now != last && now.find(": running, step ") != std::string::npos)
        std::cerr << now << "\n";
      last = now;
    }
  }
  auto status = call.get();
  if (!status.ok())
    return report_rpc_error(opts, status);
  if (reply.has_rejected())
    return print_rejection(opts, reply.rejected());
  if (opts.json)
    std::cout << report_json(reply).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  else
    print_report(reply);
  if (reply.dry_run()) {
    const bool refused = std::any_of(reply.warnings().begin(), reply.warnings().end(),
                                     [](const std::string& w) { return w.rfind("would refuse:", 0) == 0; });
    return refused ? exit_rejected : 0;
  }
  return reply.outcome() == "done" ? 0 : exit_not_ok;
}

} // namespace syncforce::cli

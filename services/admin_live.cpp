// The admin calls that answer from running actors rather than the control
// schema: the integration user's limit broker (GetLimits) and a mapping's
// recent log lines (GetMappingLog). The control schema says where each runs
// (the leases, the nodes' advertised addresses); the actor itself is asked
// in-process when it runs here, else over the Cluster service of its node.
// Why ask live rather than store it: cursors are granted and given back many
// times a minute and log lines are many more; writing them to the database
// would cost more than everything they describe.

#include "services/admin_service.hpp"
#include "store/admin_changes.hpp"

#include "actors/atoms.hpp"
#include "actors/integration_user.hpp"
#include "actors/mapping_log.hpp"
#include "services/admin_detail.hpp"
#include "services/cluster_calls.hpp"
#include "store/cluster.hpp"
#include "store/control_repo.hpp"

#include <algorithm>
#include <ctime>
#include <map>
#include <optional>
#include <set>

namespace syncforce::services {

namespace detail = admin_detail;
namespace pb = syncforce::v1;

namespace {

std::string utc_ms(std::int64_t unix_ms) {
  std::time_t secs = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(unix_ms % 1000));
  return out;
}

/// The broker's pool from the broker in this node (in-process).
std::optional<pb::BrokerState> ask_local_broker(caf::actor_system& sys, const actors::integration_user_actor& broker, std::string& why) {
  caf::scoped_actor self{sys};
  std::optional<pb::BrokerState> out;
  self->request(broker, std::chrono::seconds(5), actors::broker_state_atom::value)
    .receive(
      [&](actors::broker_state& s) {
        pb::BrokerState b;
        b.set_username(s.username);
        b.set_cursor_limit(s.cursor_limit);
        b.set_held(s.held);
        b.set_peak(s.peak);
        b.set_waiting(s.waiting);
        b.set_delayed(s.delayed);
        b.set_recovering_for_ms(s.recovering_for.count());
        b.set_api_used(s.api_used);
        b.set_api_max(s.api_max);
        for (const auto& h : s.holders) {
          auto* o = b.add_holders();
          o->set_holder_node(h.holder_node);
          o->set_holder(h.holder);
          o->set_cursors(h.cursors);
        }
        out = std::move(b);
      },
      [&](caf::error& err) { why = "the broker did not answer: " + caf::to_string(err); });
  return out;
}

} // namespace

grpc::ServerUnaryReactor* admin_service::GetLimits(grpc::CallbackServerContext* ctx, const pb::GetLimitsRequest* req,
                                                   pb::ConnectionLimits* reply) {
  return read_call(ctx, [this, req, reply](pqxx::transaction_base& tx) {
    store::connection_row c;
    if (auto found = detail::find_connection(tx, req->connection(), c); !found.ok())
      return found;
    reply->set_connection(c.name);
    reply->set_username(c.login.username);
    const auto user_key = store::user_unit_key(c.login.login_url, c.login.username);
    // Which mapping each holder is, over every connection logging in as this user (hc1 and hc2 share it).
    std::map<std::string, std::pair<std::string, std::string>> mappings; // id -> (object, connection)
    for (auto& um : store::mappings_of_user(tx, c.login.login_url, c.login.username))
      mappings[um.id] = {std::move(um.object_name), std::move(um.connection_name)};

    std::optional<pb::BrokerState> state;
    std::string why;
    auto local = settings_.brokers ? settings_.brokers->find(user_key) : actors::integration_user_actor{};
    if (local) {
      reply->set_broker_node(settings_.node_name);
      state = ask_local_broker(sys_, local, why);
    } else if (auto owner = store::live_owner(tx, "integration_user", user_key)) {
      reply->set_broker_node(*owner);
      if (auto address = store::live_node_address(tx, *owner)) {
        pb::BrokerState remote;
        auto status = call_broker_state(settings_.cluster, *address, user_key, remote);
        if (status.ok())
          state = std::move(remote);
        else
          why = "node " + *owner + " (" + *address + ") did not answer: " + status.error_message();
      } else {
        why = "node " + *owner + " holds the broker but is not live";
      }
    } else {
      why = "no node runs the broker of " + c.login.username + " right now (it is starting or moving)";
    }
    if (!state) {
      reply->set_unavailable(why);
      return grpc::Status::OK;
    }
    reply->set_cursor_limit(state->cursor_limit());
    reply->set_cursors_in_use(state->held());
    reply->set_cursors_peak(state->peak());
    reply->set_waiting(state->waiting());
    reply->set_delayed(state->delayed());
    reply->set_api_used(state->api_used());
    reply->set_api_max(state->api_max());
    reply->set_recovering_for_ms(state->recovering_for_ms());
    for (const auto& h : state->holders()) {
      auto* out = reply->add_holders();
      out->set_holder(h.holder());
      out->set_cursors(h.cursors());
      // Remote holders are "<node>/<mapping id>"; the broker's own direct holders are mapping ids.
      auto slash = h.holder().rfind('/');
      auto mapping_id = slash == std::string::npos ? h.holder() : h.holder().substr(slash + 1);
      out->set_node(!h.holder_node().empty() ? h.holder_node() : reply->broker_node());
      if (auto m = mappings.find(mapping_id); m != mappings.end()) {
        out->set_mapping_id(mapping_id);
        out->set_object_name(m->second.first);
        out->set_connection(m->second.second);
      }
    }
    std::sort(reply->mutable_holders()->begin(), reply->mutable_holders()->end(),
              [](const pb::CursorHolder& a, const pb::CursorHolder& b) {
                return std::tie(a.connection(), a.object_name(), a.node()) <
                       std::tie(b.connection(), b.object_name(), b.node());
              });
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* admin_service::GetMappingLog(grpc::CallbackServerContext* ctx,
                                                       const pb::GetMappingLogRequest* req, pb::MappingLog* reply) {
  return read_call(ctx, [this, req, reply](pqxx::transaction_base& tx) {
    store::connection_row c;
    if (auto found = detail::find_connection(tx, req->connection(), c); !found.ok())
      return found;
    store::mapping_row m;
    if (auto found = detail::find_mapping(tx, c, req->object_name(), m); !found.ok())
      return found;
    reply->set_mapping_id(m.id);
    const auto limit = static_cast<std::int32_t>(
      std::clamp<std::int64_t>(req->limit() > 0 ? req->limit() : actors::mapping_log_lines_kept, 1,
                               actors::mapping_log_lines_kept));
    // The read side's node logs the loads and polls; the writer's node logs the mapping's writes.
    std::set<std::string> nodes;
    for (const auto& unit : {std::pair<const char*, std::string>{"mapping", m.id}, {"writer", c.id}})
      if (auto owner = store::live_owner(tx, unit.first, unit.second))
        nodes.insert(*owner);
    // Lines this node logged for the mapping (it ran it before, or runs it) are shown too.
    nodes.insert(settings_.node_name);
    struct line {
      std::int64_t at;
      pb::MappingLogLine out;
    };
    std::vector<line> lines;
    for (const auto& node : nodes) {
      if (node == settings_.node_name) {
        for (auto& l : actors::recent_mapping_log(m.id, c.id, m.object_name, static_cast<std::size_t>(limit))) {
          line x{l.at_unix_ms, {}};
          x.out.set_at(utc_ms(l.at_unix_ms));
          x.out.set_level(std::move(l.level));
          x.out.set_text(std::move(l.text));
          x.out.set_node(node);
          lines.push_back(std::move(x));
        }
        reply->add_nodes(node);
        continue;
      }
      auto address = store::live_node_address(tx, node);
      if (!address) {
        reply->add_unavailable(node + ": not live");
        continue;
      }
      pb::NodeMappingLog remote;
      auto status = call_node_mapping_log(settings_.cluster, *address, m.id, c.id, m.object_name, limit, remote);
      if (!status.ok()) {
        reply->add_unavailable(node + " (" + *address + "): " + status.error_message());
        continue;
      }
      reply->add_nodes(node);
      for (auto& l : *remote.mutable_lines()) {
        line x{l.at_unix_ms(), {}};
        x.out.set_at(utc_ms(l.at_unix_ms()));
        x.out.set_level(std::move(*l.mutable_level()));
        x.out.set_text(std::move(*l.mutable_text()));
        x.out.set_node(node);
        lines.push_back(std::move(x));
      }
    }
    std::stable_sort(lines.begin(), lines.end(), [](const line& a, const line& b) { return a.at < b.at; });
    auto first = lines.size() > static_cast<std::size_t>(limit) ? lines.size() - limit : 0;
    for (auto i = first; i < lines.size(); ++i)
      *reply->add_lines() = std::move(lines[i].out);
    return grpc::Status::OK;
  });
}

} // namespace syncforce::services

#include "services/cluster_service.hpp"

#include "actors/atoms.hpp"
#include "actors/integration_user.hpp"
#include "actors/mapping_log.hpp"

#include <algorithm>

namespace syncforce::services {

namespace {

using namespace std::chrono_literals;
namespace pb = syncforce::v1;

/// How long any broker call may take besides waiting in line.
constexpr auto broker_answer_time = std::chrono::seconds(10);
/// The longest an AcquireCursor waits in line before answering retry.
constexpr int64_t max_wait_cap_ms = 60000;

grpc::Status busy(const relay_pool& relay) {
  return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      std::to_string(relay.limit()) + " broker calls are waiting already; try again in a moment");
}

grpc::Status unavailable(const caf::error& err) {
  return grpc::Status(grpc::StatusCode::UNAVAILABLE, "the broker did not answer: " + caf::to_string(err));
}

} // namespace

cluster_service::cluster_service(caf::actor_system& sys, std::shared_ptr<actors::broker_registry> brokers,
                                 cluster_security security, std::string node_name)
  : brokers_(std::move(brokers)), security_(std::move(security)), node_name_(std::move(node_name)),
    relay_(sys, max_waiting_broker_calls) {
}

actors::integration_user_actor cluster_service::admit(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor,
                                  const std::string& user_key) {
  if (auto auth = authorize_cluster_call(security_, ctx); !auth.ok()) {
    reactor->Finish(auth);
    return {};
  }
  if (user_key.empty()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "user_key is required"));
    return {};
  }
  auto broker = brokers_ ? brokers_->find(user_key) : actors::integration_user_actor{};
  if (!broker)
    reactor->Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                 "this node does not run the broker of that user (it moved, or is not started yet)"));
  return broker;
}

grpc::ServerUnaryReactor* cluster_service::AcquireCursor(grpc::CallbackServerContext* ctx,
                                                         const pb::AcquireCursorRequest* req,
                                                         pb::AcquireCursorReply* reply) {
  auto* reactor = ctx->DefaultReactor();
  auto broker = admit(ctx, reactor, req->user_key());
  if (!broker)
    return reactor;
  if (req->holder_node().empty() || req->holder().empty() || req->ttl_ms() <= 0) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                 "holder_node, holder and a positive ttl_ms are required"));
    return reactor;
  }
  auto wait = std::clamp<int64_t>(req->max_wait_ms(), 0, max_wait_cap_ms);
  auto node = req->holder_node();
  if (!relay_.carry([=](call_relay_actor::pointer self, std::function<void()> done) {
    self->request(broker, std::chrono::milliseconds(wait) + broker_answer_time, actors::grant_atom::value, node,
                  req->holder(), req->ttl_ms(), wait)
      .then(
        [=](actors::grant_reply& r) {
          done();
          if (r.granted && ctx->IsCancelled()) {
            // The caller gave up (deadline, node gone): nobody would renew it.
            caf::anon_send(broker, actors::release_atom::value, node, r.grant_id);
            reactor->Finish(grpc::Status(grpc::StatusCode::CANCELLED, "the call was cancelled"));
            return;
          }
          reply->set_granted(r.granted);
          reply->set_reason(r.reason);
          reply->set_grant_id(r.grant_id);
          reply->set_expires_in_ms(r.expires_in_ms);
          reply->set_retry(r.retry);
          reactor->Finish(grpc::Status::OK);
        },
        [=](caf::error& err) {
          done();
          reactor->Finish(unavailable(err));
        });
  }))
    reactor->Finish(busy(relay_));
  return reactor;
}

grpc::ServerUnaryReactor* cluster_service::RenewGrants(grpc::CallbackServerContext* ctx,
                                                       const pb::RenewGrantsRequest* req,
                                                       pb::RenewGrantsReply* reply) {
  auto* reactor = ctx->DefaultReactor();
  auto broker = admit(ctx, reactor, req->user_key());
  if (!broker)
    return reactor;
  if (req->holder_node().empty() || req->ttl_ms() <= 0) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "holder_node and a positive ttl_ms are required"));
    return reactor;
  }
  std::vector<std::string> ids, holders;
  for (const auto& g : req->grants()) {
    ids.push_back(g.grant_id());
    holders.push_back(g.holder());
  }
  if (!relay_.carry([=](call_relay_actor::pointer self, std::function<void()> done) {
    self->request(broker, broker_answer_time, actors::renew_atom::value, req->holder_node(), ids, holders,
                  req->ttl_ms())
      .then(
        [=](std::vector<std::string>& valid) {
          done();
          for (auto& id : valid)
            reply->add_valid_grant_ids(std::move(id));
          reply->set_expires_in_ms(req->ttl_ms());
          reactor->Finish(grpc::Status::OK);
        },
        [=](caf::error& err) {
          done();
          reactor->Finish(unavailable(err));
        });
  }))
    reactor->Finish(busy(relay_));
  return reactor;
}

grpc::ServerUnaryReactor* cluster_service::ReleaseCursor(grpc::CallbackServerContext* ctx,
                                                         const pb::ReleaseCursorRequest* req,
                                                         pb::ReleaseCursorReply*) {
  auto* reactor = ctx->DefaultReactor();
  auto broker = admit(ctx, reactor, req->user_key());
  if (!broker)
    return reactor;
  caf::anon_send(broker, actors::release_atom::value, req->holder_node(), req->grant_id());
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* cluster_service::ReportLimits(grpc::CallbackServerContext* ctx,
                                                        const pb::ReportLimitsRequest* req, pb::ReportLimitsReply*) {
  auto* reactor = ctx->DefaultReactor();
  auto broker = admit(ctx, reactor, req->user_key());
  if (!broker)
    return reactor;
  if (req->used() < 0 || req->max() < 0) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "used and max must not be negative"));
    return reactor;
  }
  caf::anon_send(broker, actors::usage_atom::value, static_cast<int64_t>(req->used()),
                 static_cast<int64_t>(req->max()));
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* cluster_service::AskBudget(grpc::CallbackServerContext* ctx, const pb::AskBudgetRequest* req,
                                                     pb::AskBudgetReply* reply) {
  auto* reactor = ctx->DefaultReactor();
  auto broker = admit(ctx, reactor, req->user_key());
  if (!broker)
    return reactor;
  if (!relay_.carry([=](call_relay_actor::pointer self, std::function<void()> done) {
    self->request(broker, broker_answer_time, actors::budget_atom::value)
      .then(
        [=](actors::budget_reply& b) {
          done();
          reply->set_available(b.available);
          reply->set_used(b.used);
          reply->set_max(b.max);
          reply->set_reason(b.reason);
          reactor->Finish(grpc::Status::OK);
        },
        [=](caf::error& err) {
          done();
          reactor->Finish(unavailable(err));
        });
  }))
    reactor->Finish(busy(relay_));
  return reactor;
}

grpc::ServerUnaryReactor* cluster_service::GetBrokerState(grpc::CallbackServerContext* ctx,
                                                          const pb::GetBrokerStateRequest* req,
                                                          pb::BrokerState* reply) {
  auto* reactor = ctx->DefaultReactor();
  auto broker = admit(ctx, reactor, req->user_key());
  if (!broker)
    return reactor;
  if (!relay_.carry([=](call_relay_actor::pointer self, std::function<void()> done) {
    self->request(broker, broker_answer_time, actors::broker_state_atom::value)
      .then(
        [=](actors::broker_state& s) {
          done();
          reply->set_username(s.username);
          reply->set_cursor_limit(s.cursor_limit);
          reply->set_held(s.held);
          reply->set_peak(s.peak);
          reply->set_waiting(s.waiting);
          reply->set_delayed(s.delayed);
          reply->set_recovering_for_ms(s.recovering_for.count());
          reply->set_api_used(s.api_used);
          reply->set_api_max(s.api_max);
          reply->set_remote_grants(s.remote_grants);
          for (const auto& [node, n] : s.grants_by_node)
            (*reply->mutable_grants_by_node())[node] = n;
          for (const auto& h : s.holders) {
            auto* out = reply->add_holders();
            out->set_holder_node(h.holder_node);
            out->set_holder(h.holder);
            out->set_cursors(h.cursors);
          }
          reactor->Finish(grpc::Status::OK);
        },
        [=](caf::error& err) {
          done();
          reactor->Finish(unavailable(err));
        });
  }))
    reactor->Finish(busy(relay_));
  return reactor;
}

grpc::ServerUnaryReactor* cluster_service::GetNodeMappingLog(grpc::CallbackServerContext* ctx,
                                                             const pb::GetNodeMappingLogRequest* req,
                                                             pb::NodeMappingLog* reply) {
  auto* reactor = ctx->DefaultReactor();
  if (auto auth = authorize_cluster_call(security_, ctx); !auth.ok()) {
    reactor->Finish(auth);
    return reactor;
  }
  if (req->mapping_id().empty()) {
    reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "mapping_id is required"));
    return reactor;
  }
  // A copy under a short lock: cheap enough for a gRPC thread.
  auto limit = req->limit() > 0 ? static_cast<std::size_t>(req->limit()) : actors::mapping_log_lines_kept;
  reply->set_node(node_name_);
  for (auto& l : actors::recent_mapping_log(req->mapping_id(), req->connection_id(), req->object_name(), limit)) {
    auto* out = reply->add_lines();
    out->set_at_unix_ms(l.at_unix_ms);
    out->set_level(std::move(l.level));
    out->set_text(std::move(l.text));
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

} // namespace syncforce::services

#include "services/cluster_client.hpp"

#include "sync/clock.hpp"

#include "syncforce/v1/cluster.grpc.pb.h"

namespace syncforce::services {

namespace pb = syncforce::v1;

struct grpc_broker_transport::stub_holder {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::Cluster::Stub> stub;
};

namespace {

/// One call in flight: freed by its completion callback.
template <class Request, class Reply>
struct call_state {
  grpc::ClientContext ctx;
  Request req;
  Reply reply;
  std::shared_ptr<void> keep; ///< the stub's channel lives while the call does
};

template <class Request, class Reply>
call_state<Request, Reply>* new_call(std::shared_ptr<void> keep, std::chrono::milliseconds timeout,
                                     const std::string& secret) {
  auto* c = new call_state<Request, Reply>();
  c->keep = std::move(keep);
  c->ctx.set_deadline(real_time().deadline_in(timeout));
  if (!secret.empty())
    c->ctx.AddMetadata(cluster_secret_header, secret);
  return c;
}

/// Any call but a waiting AcquireCursor.
constexpr std::chrono::milliseconds call_timeout{10000};

std::string describe(const grpc::Status& s) {
  return "gRPC status " + std::to_string(static_cast<int>(s.error_code())) + ": " + s.error_message();
}

} // namespace

grpc_broker_transport::grpc_broker_transport(cluster_security security) : security_(std::move(security)) {
}

grpc_broker_transport::~grpc_broker_transport() = default;

std::shared_ptr<grpc_broker_transport::stub_holder> grpc_broker_transport::stub_for(const std::string& address) {
  std::lock_guard<std::mutex> guard(mtx_);
  auto& h = stubs_[address];
  if (!h) {
    h = std::make_shared<stub_holder>();
    h->channel = grpc::CreateChannel(address, cluster_channel_credentials(security_));
    h->stub = pb::Cluster::NewStub(h->channel);
  }
  return h;
}


void grpc_broker_transport::acquire(const std::string& address, const std::string& user_key,
                                    const std::string& holder_node, const std::string& holder, std::int64_t ttl_ms,
                                    std::int64_t max_wait_ms, std::function<void(actors::broker_answer)> done) {
  auto target = stub_for(address);
  auto* c = new_call<pb::AcquireCursorRequest, pb::AcquireCursorReply>(
    target, std::chrono::milliseconds(max_wait_ms) + call_timeout, security_.secret);
  c->req.set_user_key(user_key);
  c->req.set_holder_node(holder_node);
  c->req.set_holder(holder);
  c->req.set_ttl_ms(ttl_ms);
  c->req.set_max_wait_ms(max_wait_ms);
  target->stub->async()->AcquireCursor(&c->ctx, &c->req, &c->reply, [c, done](grpc::Status s) {
    actors::broker_answer a;
    a.reached = s.ok();
    if (!s.ok())
      a.error = describe(s);
    a.granted = c->reply.granted();
    a.reason = c->reply.reason();
    a.grant_id = c->reply.grant_id();
    a.expires_in_ms = c->reply.expires_in_ms();
    a.retry = c->reply.retry();
    delete c;
    done(std::move(a));
  });
}

void grpc_broker_transport::renew(const std::string& address, const std::string& user_key,
                                  const std::string& holder_node, const std::vector<std::string>& grant_ids,
                                  const std::vector<std::string>& holders, std::int64_t ttl_ms,
                                  std::function<void(actors::broker_answer)> done) {
  auto target = stub_for(address);
  auto* c = new_call<pb::RenewGrantsRequest, pb::RenewGrantsReply>(target, call_timeout,
                                                                     security_.secret);
  c->req.set_user_key(user_key);
  c->req.set_holder_node(holder_node);
  c->req.set_ttl_ms(ttl_ms);
  for (size_t i = 0; i < grant_ids.size(); ++i) {
    auto* g = c->req.add_grants();
    g->set_grant_id(grant_ids[i]);
    if (i < holders.size())
      g->set_holder(holders[i]);
  }
  target->stub->async()->RenewGrants(&c->ctx, &c->req, &c->reply, [c, done](grpc::Status s) {
    actors::broker_answer a;
    a.reached = s.ok();
    if (!s.ok())
      a.error = describe(s);
    for (const auto& id : c->reply.valid_grant_ids())
      a.valid_grant_ids.push_back(id);
    delete c;
    done(std::move(a));
  });
}

void grpc_broker_transport::release(const std::string& address, const std::string& user_key,
                                    const std::string& holder_node, const std::string& grant_id) {
  auto target = stub_for(address);
  auto* c = new_call<pb::ReleaseCursorRequest, pb::ReleaseCursorReply>(target, call_timeout,
                                                                     security_.secret);
  c->req.set_user_key(user_key);
  c->req.set_holder_node(holder_node);
  c->req.set_grant_id(grant_id);
  target->stub->async()->ReleaseCursor(&c->ctx, &c->req, &c->reply, [c](grpc::Status) { delete c; });
}

void grpc_broker_transport::report_limits(const std::string& address, const std::string& user_key, std::int64_t used,
                                          std::int64_t max) {
  auto target = stub_for(address);
  auto* c = new_call<pb::ReportLimitsRequest, pb::ReportLimitsReply>(target, call_timeout,
                                                                     security_.secret);
  c->req.set_user_key(user_key);
  c->req.set_used(used);
  c->req.set_max(max);
  target->stub->async()->ReportLimits(&c->ctx, &c->req, &c->reply, [c](grpc::Status) { delete c; });
}

} // namespace syncforce::services

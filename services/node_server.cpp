#include "services/node_server.hpp"

#include "sync/clock.hpp"

#include "actors/atoms.hpp"
#include "services/call_relay.hpp"
#include "syncforce/v1/node.grpc.pb.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/health_check_service_interface.h>

namespace syncforce::services {

// ---- readiness -------------------------------------------------------------------

void health_readiness::set_ready(bool ready, const std::string&) {
  std::lock_guard<std::mutex> guard(mtx_);
  ready_ = ready;
  if (health_ != nullptr && !shut_down_)
    health_->SetServingStatus("readiness", ready);
}

void health_readiness::set_live(bool live, const std::string&) {
  std::lock_guard<std::mutex> guard(mtx_);
  live_ = live;
  if (health_ != nullptr && !shut_down_)
    health_->SetServingStatus("", live);
}

void health_readiness::set_failed(const std::string& reason) {
  std::lock_guard<std::mutex> guard(mtx_);
  failure_ = reason;
}

std::string health_readiness::failure() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return failure_;
}

void health_readiness::attach(grpc::HealthCheckServiceInterface* health) {
  std::lock_guard<std::mutex> guard(mtx_);
  health_ = health;
  if (health_ == nullptr)
    return;
  health_->SetServingStatus("", live_);
  health_->SetServingStatus("readiness", ready_);
}

void health_readiness::shut_down() {
  std::lock_guard<std::mutex> guard(mtx_);
  ready_ = false;
  if (health_ != nullptr && !shut_down_)
    health_->Shutdown();
  shut_down_ = true;
}

bool health_readiness::ready() const {
  std::lock_guard<std::mutex> guard(mtx_);
  return ready_;
}

// ---- syncforce.v1.Node -------------------------------------------------------------

/// Answers from the node supervisor without blocking a gRPC thread: the
/// service's relay actor (call_relay.hpp) asks the supervisor and finishes the reactor.
class node_server::node_service : public syncforce::v1::Node::CallbackService {
public:
  node_service(caf::actor_system& sys, actors::node_supervisor_actor supervisor, node_identity identity, admin_service& admin)
    : supervisor_(std::move(supervisor)), identity_(std::move(identity)), admin_(admin), relay_(sys, 256) {
  }

  /// The admin API's answer, token check included: one reading of the cluster, two doors.
  grpc::ServerUnaryReactor* ListNodes(grpc::CallbackServerContext* ctx, const syncforce::v1::ListNodesRequest* req,
                                      syncforce::v1::ClusterNodes* reply) override {
    return admin_.ListNodes(ctx, req, reply);
  }

  grpc::ServerUnaryReactor* GetNodeInfo(grpc::CallbackServerContext* ctx, const syncforce::v1::GetNodeInfoRequest*,
                                        syncforce::v1::NodeInfo* reply) override {
    auto* reactor = ctx->DefaultReactor();
    reply->set_name(identity_.name);
    reply->set_version(identity_.version);
    reply->set_started_at_unix_ms(identity_.started_at_unix_ms);
    auto asked = relay_.carry([reactor, reply, supervisor = supervisor_](call_relay_actor::pointer self,
                                                                       std::function<void()> done) {
      self->request(supervisor, std::chrono::seconds(5), actors::status_atom::value)
        .then(
          [reactor, reply, done](const actors::node_status& s) {
            done();
            reply->set_ready(s.ready);
            reply->set_not_ready_reason(s.reason);
            reply->set_control_schema_version(s.schema_version);
            reactor->Finish(grpc::Status::OK);
          },
          [reactor, done](caf::error& err) {
            done();
            reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                         "the node supervisor did not answer: " + caf::to_string(err)));
          });
    });
    if (!asked)
      reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                   std::to_string(relay_.limit()) + " calls wait for the node supervisor already"));
    return reactor;
  }

private:
  actors::node_supervisor_actor supervisor_;
  node_identity identity_;
  admin_service& admin_;
  relay_pool relay_; ///< at most 256 GetNodeInfo calls wait for the supervisor at once
};

// ---- server ----------------------------------------------------------------------

node_server::~node_server() {
  shutdown(std::chrono::milliseconds(0));
}

std::unique_ptr<node_server> node_server::start(const std::string& address, caf::actor_system& sys,
                                                actors::node_supervisor_actor supervisor, node_identity identity,
                                                std::shared_ptr<health_readiness> readiness, admin_settings admin,
                                                std::string& error, cluster_endpoint cluster) {
  std::unique_ptr<node_server> srv(new node_server);
  const auto node_name = identity.name;
  srv->admin_service_ = std::make_unique<admin_service>(sys, std::move(admin));
  srv->node_service_ =
    std::make_unique<node_service>(sys, std::move(supervisor), std::move(identity), *srv->admin_service_);
  bool tls = cluster.security.tls();
  srv->cluster_service_ = std::make_unique<cluster_service>(sys, cluster.brokers, cluster.security, node_name);
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(address, grpc::InsecureServerCredentials(), &srv->port_);
  builder.RegisterService(srv->node_service_.get());
  if (tls) // Health and admin stay on plain TCP (kubelet probes); Cluster calls need this listener.
    builder.AddListeningPort(cluster.tls_address, cluster_server_credentials(cluster.security), &srv->tls_port_);
  builder.RegisterService(srv->admin_service_.get());
  builder.RegisterService(srv->cluster_service_.get());
  srv->server_ = builder.BuildAndStart();
  if (!srv->server_ || srv->port_ == 0) {
    error = "cannot listen on " + address + " (address in use, or not a valid address)";
    return nullptr;
  }
  if (tls && srv->tls_port_ == 0) {
    error = "cannot listen on " + cluster.tls_address + " with mTLS (address in use, not a valid address, or "
            "the certificate and key do not match)";
    return nullptr;
  }
  readiness->attach(srv->server_->GetHealthCheckService());
  return srv;
}

std::shared_ptr<grpc::Channel> node_server::in_process_channel() {
  return server_->InProcessChannel(grpc::ChannelArguments{});
}

void node_server::shutdown(std::chrono::milliseconds deadline) {
  if (!server_)
    return;
  server_->Shutdown(real_time().deadline_in(deadline));
  server_->Wait();
  server_.reset();
}

} // namespace syncforce::services

#pragma once

#include "actors/broker_registry.hpp"
#include "services/call_relay.hpp"
#include "services/cluster_security.hpp"
#include "syncforce/v1/cluster.grpc.pb.h"

#include <caf/all.hpp>

#include <cstddef>
#include <memory>
#include <string>

namespace syncforce::services {

/// syncforce.v1.Cluster: the limit brokers of this node (integration-user
/// actors, found in the registry by user key) for the nodes of the cluster.
/// Every call is authorized first (cluster secret, mTLS); no handler blocks a
/// gRPC thread: the service's relay actor (call_relay.hpp) asks the broker and
/// finishes the call (at most max_waiting_broker_calls wait at once), and
/// an AcquireCursor waits in the broker's line at most max_wait_ms (60 s at
/// most) before it answers retry. A cursor granted to a caller that hung up
/// meanwhile is given back at once.
class cluster_service : public syncforce::v1::Cluster::CallbackService {
public:
  /// Broker calls waiting for their answer at once (an AcquireCursor may wait
  /// up to a minute in the broker's line); one more is refused with RESOURCE_EXHAUSTED.
  static constexpr std::size_t max_waiting_broker_calls = 4096;

  cluster_service(caf::actor_system& sys, std::shared_ptr<actors::broker_registry> brokers,
                  cluster_security security, std::string node_name = {});

  grpc::ServerUnaryReactor* AcquireCursor(grpc::CallbackServerContext* ctx,
                                          const syncforce::v1::AcquireCursorRequest* req,
                                          syncforce::v1::AcquireCursorReply* reply) override;
  grpc::ServerUnaryReactor* RenewGrants(grpc::CallbackServerContext* ctx, const syncforce::v1::RenewGrantsRequest* req,
                                        syncforce::v1::RenewGrantsReply* reply) override;
  grpc::ServerUnaryReactor* ReleaseCursor(grpc::CallbackServerContext* ctx,
                                          const syncforce::v1::ReleaseCursorRequest* req,
                                          syncforce::v1::ReleaseCursorReply* reply) override;
  grpc::ServerUnaryReactor* ReportLimits(grpc::CallbackServerContext* ctx,
                                         const syncforce::v1::ReportLimitsRequest* req,
                                         syncforce::v1::ReportLimitsReply* reply) override;
  grpc::ServerUnaryReactor* AskBudget(grpc::CallbackServerContext* ctx, const syncforce::v1::AskBudgetRequest* req,
                                      syncforce::v1::AskBudgetReply* reply) override;
  grpc::ServerUnaryReactor* GetBrokerState(grpc::CallbackServerContext* ctx,
                                           const syncforce::v1::GetBrokerStateRequest* req,
                                           syncforce::v1::BrokerState* reply) override;
  grpc::ServerUnaryReactor* GetNodeMappingLog(grpc::CallbackServerContext* ctx,
                                              const syncforce::v1::GetNodeMappingLogRequest* req,
                                              syncforce::v1::NodeMappingLog* reply) override;

private:
  /// The broker of `user_key` after authorizing the call; finishes the call
  /// with the reason and returns an invalid handle when there is none.
  actors::integration_user_actor admit(grpc::CallbackServerContext* ctx, grpc::ServerUnaryReactor* reactor, const std::string& user_key);

  std::shared_ptr<actors::broker_registry> brokers_;
  cluster_security security_;
  std::string node_name_;
  relay_pool relay_;
};

} // namespace syncforce::services

#include "services/cluster_calls.hpp"

#include "sync/clock.hpp"

#include "syncforce/v1/cluster.grpc.pb.h"

namespace syncforce::services {

namespace {

namespace pb = syncforce::v1;

/// A stub of its own per call: these calls are rare (a page view), a channel
/// kept for them would be one more thing to invalidate when a node moves.
std::unique_ptr<pb::Cluster::Stub> stub_at(const cluster_security& sec, const std::string& address) {
  return pb::Cluster::NewStub(grpc::CreateChannel(address, cluster_channel_credentials(sec)));
}

void prepare(grpc::ClientContext& ctx, const cluster_security& sec, std::chrono::milliseconds timeout) {
  ctx.set_deadline(real_time().deadline_in(timeout));
  if (!sec.secret.empty())
    ctx.AddMetadata(cluster_secret_header, sec.secret);
}

} // namespace

grpc::Status call_broker_state(const cluster_security& sec, const std::string& address, const std::string& user_key,
                               pb::BrokerState& out, std::chrono::milliseconds timeout) {
  grpc::ClientContext ctx;
  prepare(ctx, sec, timeout);
  pb::GetBrokerStateRequest req;
  req.set_user_key(user_key);
  return stub_at(sec, address)->GetBrokerState(&ctx, req, &out);
}

grpc::Status call_node_mapping_log(const cluster_security& sec, const std::string& address,
                                   const std::string& mapping_id, const std::string& connection_id,
                                   const std::string& object_name, std::int32_t limit, pb::NodeMappingLog& out,
                                   std::chrono::milliseconds timeout) {
  grpc::ClientContext ctx;
  prepare(ctx, sec, timeout);
  pb::GetNodeMappingLogRequest req;
  req.set_mapping_id(mapping_id);
  req.set_limit(limit);
  req.set_connection_id(connection_id);
  req.set_object_name(object_name);
  return stub_at(sec, address)->GetNodeMappingLog(&ctx, req, &out);
}

} // namespace syncforce::services

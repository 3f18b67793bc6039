#include "salesforce/pubsub/subscription.hpp"

#include "eventbus/v1/pubsub_api.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <mutex>

namespace syncforce::pubsub {

namespace ev = eventbus::v1;

namespace {

void add_metadata(grpc::ClientContext& ctx, const subscription_config& cfg) {
  ctx.AddMetadata("accesstoken", cfg.access_token);
  ctx.AddMetadata("instanceurl", cfg.instance_url);
  ctx.AddMetadata("tenantid", cfg.tenant_id);
}

stream_error classify(const grpc::Status& status, const grpc::ClientContext& ctx) {
  stream_error e;
  e.message = status.error_message();
  std::string code;
  for (const auto& [k, v] : ctx.GetServerTrailingMetadata())
    if (k == "error-code")
      code.assign(v.data(), v.size());
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
      e.kind = code.find("replayid") != std::string::npos ||
                   e.message.find("Replay ID") != std::string::npos
                 ? stream_failure::replay_invalid
                 : stream_failure::other;
      break;
    case grpc::StatusCode::UNAUTHENTICATED: e.kind = stream_failure::unauthenticated; break;
    case grpc::StatusCode::NOT_FOUND: e.kind = stream_failure::not_found; break;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN: e.kind = stream_failure::unavailable; break;
    default: e.kind = stream_failure::other; break;
  }
  if (!code.empty())
    e.message += " (" + code + ")";
  return e;
}

} // namespace

struct subscription::impl {
  subscription_config cfg;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<ev::PubSub::Stub> stub;
  std::mutex mutex; ///< guards ctx and cancelled
  std::unique_ptr<grpc::ClientContext> ctx;
  std::unique_ptr<grpc::ClientReaderWriter<ev::FetchRequest, ev::FetchResponse>> stream;
  bool cancelled = false;
  change_event_decoder decoder;

  /// Fetches and compiles a schema the decoder does not know yet.
  std::optional<std::string> ensure_schema(const std::string& schema_id) {
    if (decoder.has_schema(schema_id))
      return std::nullopt;
    grpc::ClientContext c;
    add_metadata(c, cfg);
    c.set_deadline(cfg.time->deadline_in(std::chrono::seconds(30)));
    ev::SchemaRequest req;
    req.set_schema_id(schema_id);
    ev::SchemaInfo info;
    auto status = stub->GetSchema(&c, req, &info);
    if (!status.ok())
      return "GetSchema " + schema_id + ": " + status.error_message();
    return decoder.add_schema(schema_id, info.schema_json());
  }
};

subscription::subscription(subscription_config cfg) : impl_(std::make_unique<impl>()) {
  impl_->cfg = std::move(cfg);
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (impl_->cfg.tls) {
    grpc::SslCredentialsOptions opts;
    opts.pem_root_certs = impl_->cfg.ca_pem;
    creds = grpc::SslCredentials(opts);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  // Pub/Sub sends keepalive responses every 270 s; a dead peer must not hang the stream for hours.
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 60000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20000);
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 0);
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  impl_->channel = grpc::CreateCustomChannel(impl_->cfg.target, creds, args);
  impl_->stub = ev::PubSub::NewStub(impl_->channel);
}

subscription::~subscription() {
  cancel();
  if (impl_->stream) {
    impl_->stream->WritesDone();
    impl_->stream->Finish();
  }
}

std::optional<stream_error> subscription::start() {
  auto& d = *impl_;
  {
    std::lock_guard<std::mutex> lock(d.mutex);
    if (d.cancelled)
      return stream_error{stream_failure::unavailable, "cancelled"};
    d.ctx = std::make_unique<grpc::ClientContext>();
    add_metadata(*d.ctx, d.cfg);
  }
  d.stream = d.stub->Subscribe(d.ctx.get());
  ev::FetchRequest first;
  first.set_topic_name(d.cfg.topic);
  if (d.cfg.replay_after) {
    first.set_replay_preset(ev::ReplayPreset::CUSTOM);
    first.set_replay_id(encode_replay_id(*d.cfg.replay_after));
  } else {
    first.set_replay_preset(ev::ReplayPreset::LATEST);
  }
  first.set_num_requested(d.cfg.batch);
  if (!d.stream->Write(first)) {
    auto status = d.stream->Finish();
    d.stream.reset();
    return classify(status, *d.ctx);
  }
  return std::nullopt;
}

bool subscription::next(fetch_batch& out, stream_error& error) {
  auto& d = *impl_;
  out = fetch_batch{};
  if (!d.stream) {
    error = {stream_failure::unavailable, "not subscribed"};
    return false;
  }
  ev::FetchResponse resp;
  if (!d.stream->Read(&resp)) {
    auto status = d.stream->Finish();
    d.stream.reset();
    bool cancelled = false;
    {
      std::lock_guard<std::mutex> lock(d.mutex);
      cancelled = d.cancelled;
    }
    error = cancelled ? stream_error{stream_failure::unavailable, "cancelled"} : classify(status, *d.ctx);
    if (!cancelled && status.ok())
      error = {stream_failure::unavailable, "the server ended the stream"};
    return false;
  }
  out.pending = resp.pending_num_requested();
  if (auto latest = decode_replay_id(resp.latest_replay_id()))
    out.latest_replay_id = *latest;
  for (const auto& ce : resp.events()) {
    received_event r;
    auto id = decode_replay_id(ce.replay_id());
    if (!id) {
      error = {stream_failure::other, "an event without a valid replay id"};
      return false;
    }
    r.replay_id = *id;
    if (auto e = d.ensure_schema(ce.event().schema_id()))
      r.decode_error = *e;
    else if (auto e2 = d.decoder.decode(ce.event().schema_id(), ce.event().payload(), r.event))
      r.decode_error = *e2;
    out.events.push_back(std::move(r));
  }
  return true;
}

bool subscription::request(int n) {
  auto& d = *impl_;
  if (!d.stream || n <= 0)
    return d.stream != nullptr;
  ev::FetchRequest req;
  req.set_topic_name(d.cfg.topic);
  req.set_num_requested(n);
  return d.stream->Write(req);
}

void subscription::cancel() {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->cancelled = true;
  if (impl_->ctx)
    impl_->ctx->TryCancel();
}

} // namespace syncforce::pubsub

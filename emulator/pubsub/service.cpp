#include "emulator/pubsub/service.hpp"

#include "emulator/cdc/event_log.hpp"
#include "emulator/org.hpp"
#include "emulator/pubsub/avro_codec.hpp"
#include "emulator/server.hpp"

#include "eventbus/v1/pubsub_api.grpc.pb.h"

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <thread>

namespace sfemu::pubsub {

namespace {

constexpr std::string_view all_changes_topic = "/data/ChangeEvents";
constexpr std::string_view data_prefix = "/data/";
/// The path fault rules match for Subscribe batches (method GRPC).
const std::string subscribe_path = "/eventbus.v1.PubSub/Subscribe";
/// Events per FetchResponse at most (Salesforce sends batches of up to 100 too).
constexpr std::size_t batch_limit = 100;

std::string rpc_id() {
  static std::atomic<std::uint64_t> counter{0};
  static const std::uint64_t run = std::random_device{}();
  char buf[40];
  std::snprintf(buf, sizeof buf, "%08llx-%016llx", static_cast<unsigned long long>(run & 0xffffffffULL),
                static_cast<unsigned long long>(++counter));
  return buf;
}

std::string metadata(const grpc::ServerContext* ctx, const char* key) {
  auto& md = ctx->client_metadata();
  auto it = md.find(key);
  if (it == md.end())
    return {};
  return std::string(it->second.data(), it->second.size());
}

/// A resolved topic: every object, or one.
struct topic {
  std::string name;
  std::string object; ///< empty: /data/ChangeEvents
};

} // namespace

struct server::impl final : public eventbus::v1::PubSub::Service {
  explicit impl(route_context& c) : ctx(c) {}

  route_context& ctx;
  codec avro;
  std::unique_ptr<grpc::Server> grpc_server;
  std::atomic<bool> stopping{false};
  server_options options;

  // ---- helpers ----

  /// Checks the call's metadata against sfemu's sessions and org (error-code trailer as
  /// Salesforce sends it).
  grpc::Status authenticate(grpc::ServerContext* call) {
    auto fail = [&](const std::string& message) {
      call->AddTrailingMetadata("error-code", "sfdc.platform.eventbus.grpc.service.auth.error");
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, message);
    };
    std::string token = metadata(call, "accesstoken");
    std::string instance = metadata(call, "instanceurl");
    std::string tenant = metadata(call, "tenantid");
    if (token.empty() || instance.empty() || tenant.empty())
      return fail("authentication needs the metadata accesstoken, instanceurl and tenantid");
    if (!ctx.sessions().find(token, ctx.clock().now_ms()))
      return fail("the access token is invalid or expired");
    const std::string& org_id = ctx.model().org_id();
    if (tenant != org_id && tenant != org_id.substr(0, 15))
      return fail("tenantid " + tenant + " is not this org's id");
    if (instance.rfind("http://", 0) != 0 && instance.rfind("https://", 0) != 0)
      return fail("instanceurl must be the org's URL (http:// or https://)");
    return grpc::Status::OK;
  }

  /// Resolves a topic name; NOT_FOUND if it is not a change event topic of a selected object.
  grpc::Status resolve(const std::string& name, topic& out) {
    if (name.empty())
      return {grpc::StatusCode::INVALID_ARGUMENT, "topic_name is required"};
    out.name = name;
    if (name == all_changes_topic) {
      out.object.clear();
      return grpc::Status::OK;
    }
    if (name.rfind(data_prefix, 0) == 0) {
      std::string object = ctx.model().canonical_name(cdc::object_of_event(name.substr(data_prefix.size())));
      if (!object.empty() && cdc::event_name_of(object) == name.substr(data_prefix.size())) {
        if (!ctx.model().change_log().selected(object))
          return {grpc::StatusCode::NOT_FOUND,
                  "change data capture is not enabled for " + object + " (topic " + name + ")"};
        out.object = object;
        return grpc::Status::OK;
      }
    }
    return {grpc::StatusCode::NOT_FOUND, "topic " + name + " not found (sfemu serves /data/ChangeEvents and "
                                         "/data/<Object>ChangeEvent)"};
  }

  /// The events as ConsumerEvents; schemas looked up once per object.
  grpc::Status fill(const std::vector<cdc::change_event>& events, eventbus::v1::FetchResponse& out) {
    std::map<std::string, std::string> schema_ids;
    for (auto& ev : events) {
      auto it = schema_ids.find(ev.entity_name);
      if (it == schema_ids.end()) {
        auto def = ctx.model().object_definition(ev.entity_name);
        if (!def)
          return {grpc::StatusCode::INTERNAL, "object " + ev.entity_name + " no longer exists"};
        it = schema_ids.emplace(ev.entity_name, avro.schema_for(*def)).first;
      }
      auto* ce = out.add_events();
      ce->set_replay_id(encode_replay_id(ev.replay_id));
      auto* pe = ce->mutable_event();
      pe->set_id(ev.event_uuid);
      pe->set_schema_id(it->second);
      std::string payload, error;
      if (!avro.encode(ev, it->second, payload, error))
        return {grpc::StatusCode::INTERNAL, "encoding event " + std::to_string(ev.replay_id) + ": " + error};
      pe->set_payload(std::move(payload));
    }
    return grpc::Status::OK;
  }

  /// The gRPC status of a fault rule's action (docs/sfemu-cdc.md, "Faults"): what a
  /// subscriber sees when Salesforce's event bus fails or the connection breaks.
  static grpc::Status fault_status(const fault_injector::decision& d) {
    switch (d.act) {
      case fault_rule::action::drop:
        return {grpc::StatusCode::UNAVAILABLE, "the stream was dropped (injected fault)"};
      case fault_rule::action::unauthorized:
        return {grpc::StatusCode::UNAUTHENTICATED, "the access token is invalid or expired (injected fault)"};
      case fault_rule::action::limit:
        return {grpc::StatusCode::RESOURCE_EXHAUSTED, "event delivery allocation exceeded (injected fault)"};
      case fault_rule::action::error:
        return {grpc::StatusCode::UNAVAILABLE, d.error_code + ": " + d.message};
      case fault_rule::action::none: break;
    }
    return grpc::Status::OK;
  }

  /// The fault rules' decision for one batch of a Subscribe stream (method GRPC, path
  /// /eventbus.v1.PubSub/Subscribe); its latency is slept here.
  fault_injector::decision batch_fault(bool after) {
    auto d = ctx.faults().decide("GRPC", subscribe_path, after);
    if (d.latency_ms > 0)
      ctx.clock().time().sleep_for(std::chrono::milliseconds(d.latency_ms));
    return d;
  }

  static grpc::Status replay_error(grpc::ServerContext* call, const std::string& message) {
    call->AddTrailingMetadata("error-code", "sfdc.platform.eventbus.grpc.subscription.fetch.replayid.corrupted");
    return {grpc::StatusCode::INVALID_ARGUMENT, message};
  }

  // ---- RPCs ----

  grpc::Status GetTopic(grpc::ServerContext* call, const eventbus::v1::TopicRequest* req,
                        eventbus::v1::TopicInfo* out) override {
    if (auto s = authenticate(call); !s.ok())
      return s;
    topic t;
    if (auto s = resolve(req->topic_name(), t); !s.ok())
      return s;
    out->set_topic_name(t.name);
    out->set_tenant_guid(ctx.model().org_id());
    out->set_can_publish(false); // change events are published by Salesforce only
    out->set_can_subscribe(true);
    if (!t.object.empty())
      if (auto def = ctx.model().object_definition(t.object))
        out->set_schema_id(avro.schema_for(*def));
    out->set_rpc_id(rpc_id());
    return grpc::Status::OK;
  }

  grpc::Status GetSchema(grpc::ServerContext* call, const eventbus::v1::SchemaRequest* req,
                         eventbus::v1::SchemaInfo* out) override {
    if (auto s = authenticate(call); !s.ok())
      return s;
    auto json = avro.schema_json(req->schema_id());
    if (!json)
      return {grpc::StatusCode::NOT_FOUND, "no schema with id " + req->schema_id()};
    out->set_schema_json(*json);
    out->set_schema_id(req->schema_id());
    out->set_rpc_id(rpc_id());
    return grpc::Status::OK;
  }

  grpc::Status Publish(grpc::ServerContext* call, const eventbus::v1::PublishRequest* req,
                       eventbus::v1::PublishResponse*) override {
    if (auto s = authenticate(call); !s.ok())
      return s;
    topic t;
    if (auto s = resolve(req->topic_name(), t); !s.ok())
      return s;
    return {grpc::StatusCode::PERMISSION_DENIED, "publishing to " + t.name + " is not allowed: change events "
                                                 "are published by the org"};
  }

  grpc::Status PublishStream(grpc::ServerContext* call,
                             grpc::ServerReaderWriter<eventbus::v1::PublishResponse, eventbus::v1::PublishRequest>* stream)
      override {
    if (auto s = authenticate(call); !s.ok())
      return s;
    eventbus::v1::PublishRequest req;
    if (!stream->Read(&req))
      return grpc::Status::OK;
    topic t;
    if (auto s = resolve(req.topic_name(), t); !s.ok())
      return s;
    return {grpc::StatusCode::PERMISSION_DENIED, "publishing to " + t.name + " is not allowed: change events "
                                                 "are published by the org"};
  }

  grpc::Status ManagedSubscribe(
      grpc::ServerContext* call,
      grpc::ServerReaderWriter<eventbus::v1::ManagedFetchResponse, eventbus::v1::ManagedFetchRequest>*) override {
    if (auto s = authenticate(call); !s.ok())
      return s;
    return {grpc::StatusCode::UNIMPLEMENTED,
            "ManagedSubscribe (managed event subscriptions) is not emulated by sfemu; use Subscribe"};
  }

  grpc::Status Subscribe(grpc::ServerContext* call,
                         grpc::ServerReaderWriter<eventbus::v1::FetchResponse, eventbus::v1::FetchRequest>* stream)
      override {
    if (auto s = authenticate(call); !s.ok())
      return s;
    eventbus::v1::FetchRequest first;
    if (!stream->Read(&first))
      return grpc::Status::OK;
    topic t;
    if (auto s = resolve(first.topic_name(), t); !s.ok())
      return s;
    if (first.num_requested() < 0)
      return {grpc::StatusCode::INVALID_ARGUMENT, "num_requested must not be negative"};
    auto& log = ctx.model().change_log();

    // where to start: after `position`
    std::uint64_t position = 0;
    switch (first.replay_preset()) {
      case eventbus::v1::LATEST: position = log.latest(); break;
      case eventbus::v1::EARLIEST: position = log.earliest() - 1; break;
      case eventbus::v1::CUSTOM: {
        auto id = decode_replay_id(first.replay_id());
        if (!id)
          return replay_error(call, "The Replay ID validation failed: replay_id must be the 8 bytes of a replay id "
                                    "this org sent");
        auto check = log.read_after(*id, 0);
        if (check.what == cdc::read_result::status::too_old)
          return replay_error(call, "The Replay ID validation failed: replay id " + std::to_string(*id) +
                                        " is older than the events kept (72 hours)");
        if (check.what == cdc::read_result::status::unknown)
          return replay_error(call, "The Replay ID validation failed: replay id " + std::to_string(*id) +
                                        " is not a replay id of this org");
        position = *id;
        break;
      }
      default: return {grpc::StatusCode::INVALID_ARGUMENT, "unknown replay_preset"};
    }

    // The position is taken: events from now on reach this stream.
    log.stream_opened();

    // The reader adds to `pending` (flow control); this thread writes.
    std::mutex mutex;
    std::condition_variable wake;
    std::int64_t pending = first.num_requested();
    bool reader_done = false;
    std::string reader_error;
    std::thread reader([&] {
      eventbus::v1::FetchRequest req;
      while (stream->Read(&req)) {
        std::lock_guard<std::mutex> lock(mutex);
        if (!req.topic_name().empty() && req.topic_name() != t.name) {
          reader_error = "topic_name " + req.topic_name() + " differs from the subscription's " + t.name;
          break;
        }
        if (req.num_requested() > 0)
          pending += req.num_requested();
        wake.notify_all();
      }
      std::lock_guard<std::mutex> lock(mutex);
      reader_done = true;
      wake.notify_all();
    });

    grpc::Status result = grpc::Status::OK;
    auto last_write = ctx.clock().time().steady_now();
    const auto keepalive = std::chrono::seconds(std::max(1, options.keepalive_seconds));
    while (!stopping && !call->IsCancelled()) {
      std::int64_t want = 0;
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (!reader_error.empty()) {
          result = {grpc::StatusCode::INVALID_ARGUMENT, reader_error};
          break;
        }
        if (reader_done)
          break; // the client half-closed: nothing more will be requested
        want = pending;
      }
      if (want > 0) {
        auto r = log.read_after(position, std::min<std::size_t>(static_cast<std::size_t>(want), batch_limit), t.object);
        if (r.what != cdc::read_result::status::ok) {
          result = replay_error(call, "events after replay id " + std::to_string(position) +
                                          " are no longer kept; subscribe again");
          break;
        }
        if (!r.events.empty()) {
          eventbus::v1::FetchResponse resp;
          if (auto s = fill(r.events, resp); !s.ok()) {
            result = s;
            break;
          }
          // the whole log up to `latest` was scanned unless the batch filled up
          position = r.events.size() < std::min<std::size_t>(static_cast<std::size_t>(want), batch_limit)
                         ? r.latest
                         : r.events.back().replay_id;
          {
            std::lock_guard<std::mutex> lock(mutex);
            pending -= static_cast<std::int64_t>(r.events.size());
            resp.set_pending_num_requested(static_cast<std::int32_t>(std::max<std::int64_t>(pending, 0)));
          }
          resp.set_latest_replay_id(encode_replay_id(position));
          resp.set_rpc_id(rpc_id());
          // A fault before the batch: the events are not sent and the stream ends (the
          // subscriber resumes from the last replay id it stored).
          if (auto d = batch_fault(false); d.act != fault_rule::action::none) {
            result = fault_status(d);
            break;
          }
          if (!stream->Write(resp))
            break;
          last_write = ctx.clock().time().steady_now();
          // After: the batch went out, then the stream breaks (did the subscriber keep it?).
          if (auto d = batch_fault(true); d.act != fault_rule::action::none) {
            result = fault_status(d);
            break;
          }
          continue;
        }
        position = std::max(position, r.latest);
      }
      if (ctx.clock().time().steady_now() - last_write >= keepalive) {
        eventbus::v1::FetchResponse resp;
        resp.set_latest_replay_id(encode_replay_id(position));
        resp.set_rpc_id(rpc_id());
        {
          std::lock_guard<std::mutex> lock(mutex);
          resp.set_pending_num_requested(static_cast<std::int32_t>(std::max<std::int64_t>(pending, 0)));
        }
        if (!stream->Write(resp))
          break;
        last_write = ctx.clock().time().steady_now();
      }
      // wait for an event (when events are wanted) or for more requests
      if (want > 0) {
        log.wait_beyond(position, 200);
      } else {
        std::unique_lock<std::mutex> lock(mutex);
        wake.wait_for(lock, std::chrono::milliseconds(200), [&] { return pending > 0 || reader_done; });
      }
    }
    {
      std::lock_guard<std::mutex> lock(mutex);
      if (!reader_done)
        call->TryCancel(); // unblocks the reader: the client is still connected
    }
    reader.join();
    return result;
  }
};

server::server(route_context& ctx) : impl_(std::make_unique<impl>(ctx)) {}

server::~server() { stop(); }

std::optional<std::string> server::start(const server_options& options, int& port) {
  impl_->options = options;
  grpc::ServerBuilder builder;
  std::shared_ptr<grpc::ServerCredentials> creds;
  if (options.tls_cert_pem.empty()) {
    creds = grpc::InsecureServerCredentials();
  } else {
    grpc::SslServerCredentialsOptions ssl;
    ssl.pem_key_cert_pairs.push_back({options.tls_key_pem, options.tls_cert_pem});
    creds = grpc::SslServerCredentials(ssl);
  }
  int bound = 0;
  builder.AddListeningPort(options.host + ":" + std::to_string(options.port), creds, &bound);
  builder.RegisterService(impl_.get());
  impl_->grpc_server = builder.BuildAndStart();
  if (!impl_->grpc_server || bound <= 0)
    return "cannot listen for the Pub/Sub API on " + options.host + ":" + std::to_string(options.port);
  port = bound;
  return std::nullopt;
}

void server::stop() {
  if (!impl_ || !impl_->grpc_server)
    return;
  impl_->stopping = true;
  impl_->ctx.model().change_log().notify_all();
  impl_->grpc_server->Shutdown(impl_->ctx.clock().time().deadline_in(std::chrono::seconds(2)));
  impl_->grpc_server->Wait();
  impl_->grpc_server.reset();
}

} // namespace sfemu::pubsub

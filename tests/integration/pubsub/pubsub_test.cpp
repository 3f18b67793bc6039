// The real sfemu serving change events over the Pub/Sub API (gRPC over TLS), decoded
// with libavro against the schema GetSchema returns.
#include "tests/support/sfemu.hpp"

#include "eventbus/v1/pubsub_api.grpc.pb.h"

#include <avro.h>
#include <grpcpp/grpcpp.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <unistd.h>

using namespace syncforce::testing;
using nlohmann::json;
namespace ev = eventbus::v1;

namespace {

/// An Avro value as JSON (unions as their branch's value).
json to_json(avro_value_t* v) {
  switch (avro_value_get_type(v)) {
    case AVRO_NULL: return nullptr;
    case AVRO_BOOLEAN: {
      int b = 0;
      avro_value_get_boolean(v, &b);
      return b != 0;
    }
    case AVRO_INT32: {
      int32_t i = 0;
      avro_value_get_int(v, &i);
      return i;
    }
    case AVRO_INT64: {
      int64_t i = 0;
      avro_value_get_long(v, &i);
      return i;
    }
    case AVRO_DOUBLE: {
      double d = 0;
      avro_value_get_double(v, &d);
      return d;
    }
    case AVRO_STRING: {
      const char* s = nullptr;
      size_t n = 0;
      avro_value_get_string(v, &s, &n);
      return std::string(s, n ? n - 1 : 0);
    }
    case AVRO_ENUM: {
      int e = 0;
      avro_value_get_enum(v, &e);
      avro_schema_t schema = avro_value_get_schema(v);
      return std::string(avro_schema_enum_get(schema, e));
    }
    case AVRO_ARRAY: {
      json out = json::array();
      size_t n = 0;
      avro_value_get_size(v, &n);
      for (size_t i = 0; i < n; ++i) {
        avro_value_t el;
        avro_value_get_by_index(v, i, &el, nullptr);
        out.push_back(to_json(&el));
      }
      return out;
    }
    case AVRO_RECORD: {
      json out = json::object();
      size_t n = 0;
      avro_value_get_size(v, &n);
      for (size_t i = 0; i < n; ++i) {
        avro_value_t f;
        const char* name = nullptr;
        avro_value_get_by_index(v, i, &f, &name);
        out[name] = to_json(&f);
      }
      return out;
    }
    case AVRO_UNION: {
      avro_value_t branch;
      avro_value_get_current_branch(v, &branch);
      return to_json(&branch);
    }
    default: return "?";
  }
}

/// Decodes an Avro binary payload with a JSON schema; throws on failure.
json decode(const std::string& schema_json, const std::string& payload) {
  avro_schema_t schema = nullptr;
  if (avro_schema_from_json_length(schema_json.data(), schema_json.size(), &schema) != 0)
    throw std::runtime_error(std::string("bad schema: ") + avro_strerror());
  avro_value_iface_t* iface = avro_generic_class_from_schema(schema);
  avro_value_t value;
  avro_generic_value_new(iface, &value);
  avro_reader_t reader = avro_reader_memory(payload.data(), static_cast<int64_t>(payload.size()));
  int rc = avro_value_read(reader, &value);
  json out = rc == 0 ? to_json(&value) : json();
  avro_reader_free(reader);
  avro_value_decref(&value);
  avro_value_iface_decref(iface);
  avro_schema_decref(schema);
  if (rc != 0)
    throw std::runtime_error(std::string("bad payload: ") + avro_strerror());
  return out;
}

/// The field names a ChangeEventHeader bitmap ("0x..." hex, bit i = schema field i) stands for.
std::vector<std::string> bitmap_fields(const json& schema, const json& bitmaps) {
  std::vector<std::string> out;
  if (bitmaps.empty())
    return out;
  std::string hex = bitmaps[0].get<std::string>().substr(2);
  const auto& fields = schema["fields"];
  for (std::size_t d = 0; d < hex.size(); ++d) {
    int nibble = std::stoi(hex.substr(hex.size() - 1 - d, 1), nullptr, 16);
    for (int b = 0; b < 4; ++b)
      if (nibble & (1 << b))
        out.push_back(fields[d * 4 + static_cast<std::size_t>(b)]["name"].get<std::string>());
  }
  return out;
}

std::uint64_t replay_of(const std::string& bytes) {
  std::uint64_t id = 0;
  for (unsigned char c : bytes)
    id = (id << 8) | c;
  return id;
}
std::string replay_bytes(std::uint64_t id) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i, id >>= 8)
    out[static_cast<std::size_t>(i)] = static_cast<char>(id & 0xff);
  return out;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class pubsub_test : public ::testing::Test {
protected:
  void SetUp() override {
    cert_path_ = ::testing::TempDir() + "sfemu-pubsub-test-" + std::to_string(getpid()) + ".pem";
    emu_ = std::make_unique<sfemu_process>(
        std::vector<std::string>{"--pubsub-port", "0", "--tls", "--tls-cert-out", cert_path_,
                                 "--pubsub-keepalive-seconds", "1"});
    std::smatch m;
    std::string out = emu_->process().output();
    ASSERT_TRUE(std::regex_search(out, m, std::regex(R"(sfemu pubsub on 127\.0\.0\.1:(\d+) \(tls\))"))) << out;
    grpc_port_ = std::stoi(m[1].str());
    ASSERT_EQ(emu_->base_url().rfind("https://", 0), 0u) << emu_->base_url();
    cert_ = read_file(cert_path_);
    ASSERT_NE(cert_.find("BEGIN CERTIFICATE"), std::string::npos);

    http_ = std::make_unique<httplib::SSLClient>("127.0.0.1", emu_->port());
    http_->set_ca_cert_path(cert_path_.c_str());
    http_->enable_server_certificate_verification(true);
    auto r = http_->Post("/services/oauth2/token",
                         "grant_type=password&client_id=c&client_secret=s&username=admin@sfemu.local&password=sfemu",
                         "application/x-www-form-urlencoded");
    ASSERT_TRUE(r) << "HTTPS with the written certificate failed: " << httplib::to_string(r.error());
    ASSERT_EQ(r->status, 200) << r->body;
    auto token = json::parse(r->body);
    token_ = token["access_token"].get<std::string>();
    instance_url_ = token["instance_url"].get<std::string>();
    EXPECT_EQ(instance_url_.rfind("https://", 0), 0u) << instance_url_;
    org_id_ = org_id_of(token["id"].get<std::string>());

    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = cert_;
    channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(grpc_port_), grpc::SslCredentials(ssl));
    stub_ = ev::PubSub::NewStub(channel_);
  }
  void TearDown() override { std::remove(cert_path_.c_str()); }

  static std::string org_id_of(const std::string& identity_url) {
    // https://host/id/<orgId>/<userId>
    auto at = identity_url.find("/id/");
    return identity_url.substr(at + 4, 18);
  }

  void authorize(grpc::ClientContext& ctx, std::chrono::seconds timeout = std::chrono::seconds(30)) {
    ctx.AddMetadata("accesstoken", token_);
    ctx.AddMetadata("instanceurl", instance_url_);
    ctx.AddMetadata("tenantid", org_id_);
    ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  }

  /// A REST write with `Sforce-Call-Options: client=pubsub-test`.
  json rest(const std::string& method, const std::string& path, const json& body = nullptr) {
    httplib::Headers h = {{"Authorization", "Bearer " + token_}, {"Sforce-Call-Options", "client=pubsub-test"}};
    httplib::Result r = method == "POST"    ? http_->Post(path.c_str(), h, body.dump(), "application/json")
                        : method == "PATCH" ? http_->Patch(path.c_str(), h, body.dump(), "application/json")
                                            : http_->Delete(path.c_str(), h);
    EXPECT_TRUE(r);
    if (!r)
      return nullptr;
    EXPECT_LT(r->status, 300) << r->body;
    return r->body.empty() ? json() : json::parse(r->body);
  }

  std::string schema(const std::string& id) {
    grpc::ClientContext ctx;
    authorize(ctx);
    ev::SchemaRequest req;
    req.set_schema_id(id);
    ev::SchemaInfo info;
    auto s = stub_->GetSchema(&ctx, req, &info);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return info.schema_json();
  }

  /// Reads responses until `n` events arrived (keepalives skipped) or the deadline.
  std::vector<ev::ConsumerEvent> receive(grpc::ClientReaderWriter<ev::FetchRequest, ev::FetchResponse>& stream,
                                         std::size_t n, std::vector<int>* batch_sizes = nullptr) {
    std::vector<ev::ConsumerEvent> out;
    ev::FetchResponse resp;
    while (out.size() < n && stream.Read(&resp)) {
      if (batch_sizes && resp.events_size() > 0)
        batch_sizes->push_back(resp.events_size());
      for (auto& e : resp.events())
        out.push_back(e);
    }
    return out;
  }

  std::unique_ptr<sfemu_process> emu_;
  std::unique_ptr<httplib::SSLClient> http_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<ev::PubSub::Stub> stub_;
  std::string cert_path_, cert_, token_, instance_url_, org_id_;
  int grpc_port_ = 0;
};

TEST_F(pubsub_test, calls_without_a_valid_session_are_refused) {
  {
    grpc::ClientContext ctx;
    ev::TopicRequest req;
    req.set_topic_name("/data/AccountChangeEvent");
    ev::TopicInfo info;
    auto s = stub_->GetTopic(&ctx, req, &info);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << s.error_message();
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("accesstoken", "not-a-token");
    ctx.AddMetadata("instanceurl", instance_url_);
    ctx.AddMetadata("tenantid", org_id_);
    ev::TopicRequest req;
    req.set_topic_name("/data/AccountChangeEvent");
    ev::TopicInfo info;
    EXPECT_EQ(stub_->GetTopic(&ctx, req, &info).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    ctx.AddMetadata("accesstoken", token_);
    ctx.AddMetadata("instanceurl", instance_url_);
    ctx.AddMetadata("tenantid", "00D000000000001AAA");
    ev::TopicRequest req;
    req.set_topic_name("/data/AccountChangeEvent");
    ev::TopicInfo info;
    EXPECT_EQ(stub_->GetTopic(&ctx, req, &info).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  }
  {
    grpc::ClientContext ctx;
    authorize(ctx);
    ev::TopicRequest req;
    req.set_topic_name("/data/NoSuchThingChangeEvent");
    ev::TopicInfo info;
    EXPECT_EQ(stub_->GetTopic(&ctx, req, &info).error_code(), grpc::StatusCode::NOT_FOUND);
  }
}

TEST_F(pubsub_test, get_topic_and_schema_describe_the_change_event) {
  grpc::ClientContext ctx;
  authorize(ctx);
  ev::TopicRequest req;
  req.set_topic_name("/data/AccountChangeEvent");
  ev::TopicInfo info;
  auto s = stub_->GetTopic(&ctx, req, &info);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(info.topic_name(), "/data/AccountChangeEvent");
  EXPECT_EQ(info.tenant_guid(), org_id_);
  EXPECT_TRUE(info.can_subscribe());
  EXPECT_FALSE(info.can_publish());
  ASSERT_FALSE(info.schema_id().empty());
  auto j = json::parse(schema(info.schema_id()));
  EXPECT_EQ(j["name"], "AccountChangeEvent");
  EXPECT_EQ(j["namespace"], "com.sforce.eventbus");
  EXPECT_EQ(j["fields"][0]["name"], "ChangeEventHeader");
  bool name_found = false;
  for (auto& f : j["fields"]) {
    EXPECT_NE(f["name"], "SystemModstamp");
    EXPECT_NE(f["name"], "IsDeleted");
    if (f["name"] == "Name") {
      name_found = true;
      EXPECT_EQ(f["type"], json::parse(R"(["null","string"])"));
    }
  }
  EXPECT_TRUE(name_found);
}

TEST_F(pubsub_test, subscribe_receives_create_update_delete_and_replays_from_a_stored_id) {
  grpc::ClientContext ctx;
  authorize(ctx);
  auto stream = stub_->Subscribe(&ctx);
  ev::FetchRequest first;
  first.set_topic_name("/data/AccountChangeEvent");
  first.set_replay_preset(ev::LATEST);
  first.set_num_requested(10);
  ASSERT_TRUE(stream->Write(first));
  // A keepalive (1 s here) says the subscription is set up before the changes are made.
  ev::FetchResponse hello;
  ASSERT_TRUE(stream->Read(&hello));
  EXPECT_EQ(hello.events_size(), 0);
  EXPECT_EQ(hello.latest_replay_id().size(), 8u);

  auto created = rest("POST", "/services/data/v60.0/sobjects/Account", {{"Name", "Acme"}, {"Phone", "555"}});
  std::string id = created["id"];
  rest("PATCH", "/services/data/v60.0/sobjects/Account/" + id, {{"Name", "Acme 2"}, {"Phone", nullptr}});
  rest("DELETE", "/services/data/v60.0/sobjects/Account/" + id);
  // an object not subscribed to: not delivered on this topic
  rest("POST", "/services/data/v60.0/sobjects/Contact", {{"LastName", "Other"}});

  auto events = receive(*stream, 3);
  ASSERT_EQ(events.size(), 3u);
  auto schema_json = schema(events[0].event().schema_id());
  auto schema_doc = json::parse(schema_json);
  std::vector<json> decoded;
  for (auto& e : events)
    decoded.push_back(decode(schema_json, e.event().payload()));

  auto& c = decoded[0];
  EXPECT_EQ(c["ChangeEventHeader"]["changeType"], "CREATE");
  EXPECT_EQ(c["ChangeEventHeader"]["entityName"], "Account");
  EXPECT_EQ(c["ChangeEventHeader"]["recordIds"], json::array({id}));
  EXPECT_EQ(c["ChangeEventHeader"]["changeOrigin"], "com/salesforce/api/rest/60.0;client=pubsub-test");
  EXPECT_EQ(c["Name"], "Acme");
  EXPECT_EQ(c["Phone"], "555");
  EXPECT_TRUE(c["CreatedDate"].is_number());

  auto& u = decoded[1];
  EXPECT_EQ(u["ChangeEventHeader"]["changeType"], "UPDATE");
  EXPECT_EQ(u["Name"], "Acme 2");
  EXPECT_TRUE(u["Phone"].is_null());
  auto changed = bitmap_fields(schema_doc, u["ChangeEventHeader"]["changedFields"]);
  EXPECT_NE(std::find(changed.begin(), changed.end(), "Name"), changed.end());
  EXPECT_NE(std::find(changed.begin(), changed.end(), "Phone"), changed.end());
  EXPECT_NE(std::find(changed.begin(), changed.end(), "LastModifiedDate"), changed.end());
  EXPECT_EQ(bitmap_fields(schema_doc, u["ChangeEventHeader"]["nulledFields"]), std::vector<std::string>{"Phone"});

  EXPECT_EQ(decoded[2]["ChangeEventHeader"]["changeType"], "DELETE");
  EXPECT_EQ(decoded[2]["ChangeEventHeader"]["recordIds"], json::array({id}));
  EXPECT_TRUE(decoded[2]["Name"].is_null());
  EXPECT_LT(replay_of(events[0].replay_id()), replay_of(events[1].replay_id()));
  EXPECT_LT(replay_of(events[1].replay_id()), replay_of(events[2].replay_id()));
  ctx.TryCancel();

  // A new subscription from the stored replay id of the create: the update and the delete.
  grpc::ClientContext again;
  authorize(again);
  auto replay = stub_->Subscribe(&again);
  ev::FetchRequest from;
  from.set_topic_name("/data/AccountChangeEvent");
  from.set_replay_preset(ev::CUSTOM);
  from.set_replay_id(events[0].replay_id());
  from.set_num_requested(10);
  ASSERT_TRUE(replay->Write(from));
  auto replayed = receive(*replay, 2);
  ASSERT_EQ(replayed.size(), 2u);
  EXPECT_EQ(replayed[0].replay_id(), events[1].replay_id());
  EXPECT_EQ(replayed[1].replay_id(), events[2].replay_id());
  EXPECT_EQ(replayed[0].event().id(), events[1].event().id());
  again.TryCancel();
}

TEST_F(pubsub_test, flow_control_sends_no_more_than_requested_and_all_changes_from_earliest) {
  for (int i = 0; i < 3; ++i)
    rest("POST", "/services/data/v60.0/sobjects/Account", {{"Name", "A" + std::to_string(i)}});
  rest("POST", "/services/data/v60.0/sobjects/Contact", {{"LastName", "C"}});

  grpc::ClientContext ctx;
  authorize(ctx);
  auto stream = stub_->Subscribe(&ctx);
  ev::FetchRequest first;
  first.set_topic_name("/data/ChangeEvents");
  first.set_replay_preset(ev::EARLIEST);
  first.set_num_requested(1);
  ASSERT_TRUE(stream->Write(first));
  ev::FetchResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  ASSERT_EQ(resp.events_size(), 1); // one requested, four available
  EXPECT_EQ(resp.pending_num_requested(), 0);
  // nothing more until asked: the next responses are keepalives
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_EQ(resp.events_size(), 0);
  ev::FetchRequest more;
  more.set_num_requested(10);
  ASSERT_TRUE(stream->Write(more));
  auto rest_of = receive(*stream, 3);
  ASSERT_EQ(rest_of.size(), 3u);
  std::set<std::string> entities;
  for (auto& e : rest_of)
    entities.insert(json::parse(schema(e.event().schema_id()))["name"].get<std::string>());
  EXPECT_EQ(entities, (std::set<std::string>{"AccountChangeEvent", "ContactChangeEvent"}));

  // a different topic on the same stream is refused
  ev::FetchRequest other;
  other.set_topic_name("/data/AccountChangeEvent");
  other.set_num_requested(1);
  stream->Write(other);
  while (stream->Read(&resp)) {
  }
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(pubsub_test, a_drop_fault_ends_the_stream_mid_flow_and_a_resume_from_the_last_replay_id_loses_nothing) {
  for (int i = 0; i < 6; ++i)
    rest("POST", "/services/data/v60.0/sobjects/Account", {{"Name", "D" + std::to_string(i)}});
  std::vector<std::uint64_t> seen;
  std::uint64_t last = 0;
  {
    grpc::ClientContext ctx;
    authorize(ctx);
    auto stream = stub_->Subscribe(&ctx);
    ev::FetchRequest first;
    first.set_topic_name("/data/AccountChangeEvent");
    first.set_replay_preset(ev::EARLIEST);
    first.set_num_requested(1); // one event, then the fault, then more requested
    ASSERT_TRUE(stream->Write(first));
    auto got = receive(*stream, 1);
    ASSERT_EQ(got.size(), 1u);
    last = replay_of(got[0].replay_id());
    seen.push_back(last);
    // the next batch of a Subscribe stream is dropped before it is sent; HTTP is untouched
    auto r = http_->Post("/__sfemu/faults", json{{"route", "PubSub/Subscribe"}, {"action", "drop"}, {"count", 1}}.dump(),
                         "application/json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 201) << r->body;
    // a rule without a route hits HTTP only, never the streams
    r = http_->Post("/__sfemu/faults", json{{"route", ""}, {"method", "GRPC"}, {"action", "drop"}}.dump(),
                    "application/json");
    ASSERT_EQ(r->status, 201) << r->body;
    ev::FetchRequest more;
    more.set_num_requested(10);
    ASSERT_TRUE(stream->Write(more));
    ev::FetchResponse resp;
    int events_after_drop = 0;
    while (stream->Read(&resp))
      events_after_drop += resp.events_size();
    EXPECT_EQ(events_after_drop, 0);
    auto status = stream->Finish();
    // sfemu's synchronous gRPC server ends a stream whose client may still send by cancelling it
    // (docs/sfemu-cdc.md, Faults): the subscriber sees the stream end with an error, never OK.
    EXPECT_FALSE(status.ok());
    EXPECT_TRUE(status.error_code() == grpc::StatusCode::UNAVAILABLE ||
                status.error_code() == grpc::StatusCode::CANCELLED)
      << status.error_code() << " " << status.error_message();
  }
  // resumed from the stored replay id: the five others, once each, in order
  grpc::ClientContext ctx;
  authorize(ctx);
  auto stream = stub_->Subscribe(&ctx);
  ev::FetchRequest resume;
  resume.set_topic_name("/data/AccountChangeEvent");
  resume.set_replay_preset(ev::CUSTOM);
  resume.set_replay_id(replay_bytes(last));
  resume.set_num_requested(10);
  ASSERT_TRUE(stream->Write(resume));
  auto rest_of = receive(*stream, 5);
  ASSERT_EQ(rest_of.size(), 5u);
  for (auto& e : rest_of)
    seen.push_back(replay_of(e.replay_id()));
  for (std::size_t i = 1; i < seen.size(); ++i)
    EXPECT_GT(seen[i], seen[i - 1]) << "replay ids repeat or go back at " << i;
  std::set<std::string> names;
  for (auto& e : rest_of)
    names.insert(decode(schema(e.event().schema_id()), e.event().payload())["Name"].get<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"D1", "D2", "D3", "D4", "D5"}));
  ctx.TryCancel();
}

TEST_F(pubsub_test, a_replay_id_past_the_72_hour_retention_is_refused) {
  rest("POST", "/services/data/v60.0/sobjects/Account", {{"Name", "old"}});
  auto state = http_->Get("/__sfemu/cdc");
  ASSERT_TRUE(state && state->status == 200);
  auto stored = json::parse(state->body)["latest_replay_id"].get<std::uint64_t>();
  rest("POST", "/services/data/v60.0/sobjects/Account", {{"Name", "older than 72 h too"}});
  // (the control API over HTTPS with the written certificate)
  auto moved = http_->Post("/__sfemu/clock", json{{"advance_seconds", 73 * 3600}}.dump(), "application/json");
  ASSERT_TRUE(moved && moved->status == 200);
  // sessions live on the org clock too: log in again
  auto r = http_->Post("/services/oauth2/token",
                       "grant_type=password&client_id=c&client_secret=s&username=admin@sfemu.local&password=sfemu",
                       "application/x-www-form-urlencoded");
  ASSERT_TRUE(r && r->status == 200);
  token_ = json::parse(r->body)["access_token"];
  rest("POST", "/services/data/v60.0/sobjects/Account", {{"Name", "new"}});

  grpc::ClientContext ctx;
  authorize(ctx);
  auto stream = stub_->Subscribe(&ctx);
  ev::FetchRequest req;
  req.set_topic_name("/data/AccountChangeEvent");
  req.set_replay_preset(ev::CUSTOM);
  req.set_replay_id(replay_bytes(stored)); // the event after it expired
  req.set_num_requested(10);
  stream->Write(req);
  ev::FetchResponse resp;
  while (stream->Read(&resp)) {
  }
  auto s = stream->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(s.error_message().find("Replay ID validation failed"), std::string::npos) << s.error_message();
}

TEST_F(pubsub_test, publishing_to_a_change_event_topic_is_refused) {
  grpc::ClientContext ctx;
  authorize(ctx);
  ev::PublishRequest req;
  req.set_topic_name("/data/AccountChangeEvent");
  req.add_events()->set_payload("x");
  ev::PublishResponse resp;
  EXPECT_EQ(stub_->Publish(&ctx, req, &resp).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

} // namespace

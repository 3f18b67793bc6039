// The Streaming API of the real sfemu binary over HTTP: CometD long polling at
// /cometd/<version>, change events and a PushTopic made through REST, Salesforce's
// HTTP-level errors, and a shutdown that does not wait for a pending long poll.
#include "tests/support/sfemu.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <future>

using namespace syncforce::testing;
using nlohmann::json;

namespace {

class sfemu_streaming_test : public ::testing::Test {
protected:
  void SetUp() override {
    emu_ = std::make_unique<sfemu_process>(std::vector<std::string>{"--streaming-connect-timeout-ms", "800"});
    http_ = std::make_unique<httplib::Client>(emu_->base_url());
    http_->set_read_timeout(30, 0);
    auto r = http_->Post("/services/oauth2/token",
                         "grant_type=password&client_id=cid&client_secret=secret&username=admin@sfemu.local&password=sfemu",
                         "application/x-www-form-urlencoded");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    token_ = json::parse(r->body)["access_token"].get<std::string>();
  }
  httplib::Headers auth() const { return {{"Authorization", "OAuth " + token_}}; }

  /// POSTs Bayeux messages; the HTTP status and the reply array.
  std::pair<int, json> bayeux(const json& messages, const std::string& path = "/cometd/60.0") {
    auto r = http_->Post(path.c_str(), auth(), messages.dump(), "application/json");
    EXPECT_TRUE(r) << path;
    if (!r)
      return {0, json()};
    return {r->status, json::parse(r->body, nullptr, false)};
  }
  std::string create(const std::string& object, const json& fields) {
    auto r = http_->Post(("/services/data/v60.0/sobjects/" + object).c_str(), auth(), fields.dump(), "application/json");
    EXPECT_TRUE(r);
    EXPECT_EQ(r->status, 201) << r->body;
    return json::parse(r->body).value("id", "");
  }
  std::string handshake() {
    auto [status, r] = bayeux({{{"channel", "/meta/handshake"}, {"version", "1.0"},
                                {"supportedConnectionTypes", {"long-polling"}}, {"id", "1"}}});
    EXPECT_EQ(status, 200);
    EXPECT_EQ(r[0]["successful"], true) << r.dump();
    return r[0].value("clientId", "");
  }
  /// Connects (at least once) until `n` events arrived or 10 s passed; the events.
  json poll(const std::string& id, std::size_t n) {
    json events = json::array();
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    for (bool once = true; once || (events.size() < n && std::chrono::steady_clock::now() < deadline); once = false) {
      auto [status, r] = bayeux({{{"channel", "/meta/connect"}, {"clientId", id}, {"connectionType", "long-polling"}}});
      EXPECT_EQ(status, 200);
      for (auto& m : r) {
        if (m["channel"] == "/meta/connect")
          EXPECT_EQ(m["successful"], true) << m.dump();
        else
          events.push_back(m);
      }
    }
    return events;
  }

  std::unique_ptr<sfemu_process> emu_;
  std::unique_ptr<httplib::Client> http_;
  std::string token_;
};

TEST_F(sfemu_streaming_test, change_events_and_push_topic_events_over_long_polling) {
  create("PushTopic", {{"Name", "BigDeals"},
                       {"Query", "SELECT Id, Name, Amount FROM Opportunity WHERE Amount > 1000"},
                       {"ApiVersion", 60.0},
                       {"NotifyForFields", "Select"}});
  auto id = handshake();
  auto [status, subs] = bayeux(json::array(
      {{{"channel", "/meta/subscribe"}, {"clientId", id}, {"subscription", "/topic/BigDeals"}},
       {{"channel", "/meta/subscribe"}, {"clientId", id}, {"subscription", "/data/ChangeEvents"}}}));
  ASSERT_EQ(status, 200);
  ASSERT_EQ(subs.size(), 2u);
  for (auto& s : subs)
    EXPECT_EQ(s["successful"], true) << s.dump();
  poll(id, 0); // the first connect (answered at once)
  auto small = create("Opportunity", {{"Name", "Small"}, {"StageName", "Prospecting"}, {"CloseDate", "2030-01-01"},
                                      {"Amount", 10}});
  auto big = create("Opportunity", {{"Name", "Big"}, {"StageName", "Prospecting"}, {"CloseDate", "2030-01-01"},
                                    {"Amount", 5000}});
  auto events = poll(id, 3);
  ASSERT_EQ(events.size(), 3u) << events.dump();
  std::vector<std::string> cdc_ids;
  json topic_event;
  for (auto& e : events) {
    if (e["channel"] == "/data/ChangeEvents")
      cdc_ids.push_back(e["data"]["payload"]["ChangeEventHeader"]["recordIds"][0]);
    else
      topic_event = e;
  }
  EXPECT_EQ(cdc_ids, (std::vector<std::string>{small, big}));
  EXPECT_EQ(topic_event["channel"], "/topic/BigDeals");
  EXPECT_EQ(topic_event["data"]["event"]["type"], "created");
  EXPECT_EQ(topic_event["data"]["sobject"]["Id"], big);
  EXPECT_EQ(topic_event["data"]["sobject"]["Amount"], 5000.0);

  // The control API lists the client and the topic.
  auto state = emu_->control("GET", "streaming");
  ASSERT_EQ(state["clients"].size(), 1u);
  EXPECT_EQ(state["clients"][0]["clientId"], id);
  EXPECT_EQ(state["push_topics"][0]["name"], "BigDeals");
  EXPECT_EQ(state["push_topics"][0]["usable"], true);

  // Reset: a fresh org, clients start over.
  emu_->control("POST", "reset");
  auto [s2, r2] = bayeux({{{"channel", "/meta/connect"}, {"clientId", id}, {"connectionType", "long-polling"}}});
  EXPECT_EQ(r2[0]["error"], "403::Unknown client");
  auto again = handshake();
  auto [s3, r3] = bayeux({{{"channel", "/meta/subscribe"}, {"clientId", again}, {"subscription", "/topic/BigDeals"}}});
  EXPECT_EQ(r3[0]["error"], "400::The channel you requested to subscribe to does not exist {/topic/BigDeals}");
}

TEST_F(sfemu_streaming_test, http_level_errors_look_like_salesforce) {
  // A bad session: 401 with Bayeux replies advising not to reconnect.
  auto r = http_->Post("/cometd/60.0", {{"Authorization", "OAuth wrong"}},
                       json::array({{{"channel", "/meta/handshake"}, {"id", "1"}}}).dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  auto j = json::parse(r->body);
  EXPECT_EQ(j[0]["advice"]["reconnect"], "none");
  EXPECT_EQ(j[0]["ext"]["sfdc"]["failureReason"], "401::Authentication invalid");
  // Before API version 24.0 there is no Streaming API.
  auto [old_status, old_reply] = bayeux(json::array({{{"channel", "/meta/handshake"}}}), "/cometd/23.0");
  EXPECT_EQ(old_status, 400);
  // Not JSON.
  auto bad = http_->Post("/cometd/60.0", auth(), "{nope", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(json::parse(bad->body)[0]["successful"], false);
  // Bad control API input changes nothing.
  auto ctl = http_->Post("/__sfemu/streaming", json{{"connect_timeout_ms", -5}}.dump(), "application/json");
  ASSERT_TRUE(ctl);
  EXPECT_EQ(ctl->status, 400);
  EXPECT_EQ(emu_->control("GET", "streaming")["connect_timeout_ms"], 800);
  // The Streaming API does not spend daily API requests.
  auto before = emu_->control("GET", "counters");
  handshake();
  auto after = emu_->control("GET", "counters");
  EXPECT_EQ(before["daily"], after["daily"]) << after.dump();
}

TEST_F(sfemu_streaming_test, shutdown_does_not_wait_for_a_pending_long_poll) {
  emu_->control("POST", "streaming", {{"connect_timeout_ms", 600000}});
  auto id = handshake();
  bayeux({{{"channel", "/meta/subscribe"}, {"clientId", id}, {"subscription", "/data/AccountChangeEvent"}}});
  poll(id, 0);
  auto pending = std::async(std::launch::async, [&] {
    httplib::Client c(emu_->base_url());
    c.set_read_timeout(60, 0);
    return c.Post("/cometd/60.0", auth(),
                  json::array({{{"channel", "/meta/connect"}, {"clientId", id}, {"connectionType", "long-polling"}}}).dump(),
                  "application/json");
  });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool waiting = false;
  while (!(waiting = emu_->control("GET", "streaming")["clients"][0]["waiting"].get<bool>()) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  ASSERT_TRUE(waiting) << "the connect never started waiting";
  ASSERT_TRUE(emu_->process().signal(SIGTERM));
  auto code = emu_->process().wait_exit(std::chrono::seconds(10));
  ASSERT_TRUE(code.has_value()) << "sfemu still runs 10 s after SIGTERM with a long poll pending";
  EXPECT_EQ(*code, 0);
  pending.wait();
}

} // namespace

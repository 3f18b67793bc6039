// The Streaming API of sfemu without HTTP: Bayeux message handling against a
// scripted source, and PushTopic matching against a real org model.
#include "emulator/org.hpp"
#include "emulator/streaming/bayeux.hpp"
#include "emulator/streaming/push_topics.hpp"
#include "emulator/streaming/sources.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>

using namespace sfemu;
using namespace sfemu::streaming;
using nlohmann::json;

namespace {

// ---- Bayeux ----------------------------------------------------------------------------

/// A source of /test/<name> channels whose events the test appends.
class scripted_source final : public channel_source {
public:
  bool serves(std::string_view c) const override { return c.rfind("/test/", 0) == 0; }
  std::optional<std::string> check(std::string_view c) const override {
    if (c == "/test/missing")
      return unknown_channel_error(c);
    return std::nullopt;
  }
  read_result read(std::string_view c, std::uint64_t after, std::size_t max) const override {
    std::lock_guard<std::mutex> lock(mutex_);
    read_result r;
    if (after > next_ - 1) {
      r.what = read_result::status::unknown;
      return r;
    }
    if (after + 1 < first_) {
      r.what = read_result::status::too_old;
      return r;
    }
    for (auto& [id, ch, data] : events_)
      if (id > after && ch == c && r.events.size() < max)
        r.events.push_back({id, data});
    return r;
  }
  std::uint64_t latest() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return next_ - 1;
  }
  std::uint64_t earliest() const override {
    std::lock_guard<std::mutex> lock(mutex_);
    return first_;
  }
  std::uint64_t add(const std::string& channel, json data) {
    std::lock_guard<std::mutex> lock(mutex_);
    events_.emplace_back(next_, channel, std::move(data));
    return next_++;
  }
  /// Events up to `id` fall out of retention.
  void drop_through(std::uint64_t id) {
    std::lock_guard<std::mutex> lock(mutex_);
    first_ = id + 1;
    while (!events_.empty() && std::get<0>(events_.front()) <= id)
      events_.erase(events_.begin());
  }

private:
  mutable std::mutex mutex_;
  std::vector<std::tuple<std::uint64_t, std::string, json>> events_;
  std::uint64_t next_ = 1;
  std::uint64_t first_ = 1;
};

class bayeux_test : public ::testing::Test {
protected:
  bayeux_test() {
    bayeux_options o;
    o.connect_timeout_ms = 60000; // long: a connect that returns early did so for a reason
    server_ = std::make_unique<bayeux_server>(o);
    source_ = std::make_shared<scripted_source>();
    server_->add_source(source_);
  }
  json one(const json& m, const std::string& user = "005A") {
    auto r = server_->handle(m, user);
    EXPECT_TRUE(r.is_array());
    EXPECT_EQ(r.size(), 1u) << r.dump();
    return r.empty() ? json() : r[0];
  }
  std::string handshake(const std::string& user = "005A") {
    auto r = one({{"channel", "/meta/handshake"}, {"version", "1.0"}, {"supportedConnectionTypes", {"long-polling"}},
                  {"id", "1"}},
                 user);
    EXPECT_EQ(r["successful"], true) << r.dump();
    return r.value("clientId", "");
  }
  json subscribe(const std::string& id, const std::string& channel, std::optional<json> replay = std::nullopt) {
    json m = {{"channel", "/meta/subscribe"}, {"clientId", id}, {"subscription", channel}, {"id", "s"}};
    if (replay)
      m["ext"] = {{"replay", {{channel, *replay}}}};
    return one(m);
  }
  json connect(const std::string& id) {
    return server_->handle({{"channel", "/meta/connect"}, {"clientId", id}, {"connectionType", "long-polling"},
                            {"id", "c"}},
                           "005A");
  }
  static std::vector<std::uint64_t> replay_ids(const json& reply) {
    std::vector<std::uint64_t> out;
    for (const auto& m : reply)
      if (m["channel"] != "/meta/connect")
        out.push_back(m["data"]["n"].get<std::uint64_t>());
    return out;
  }

  std::unique_ptr<bayeux_server> server_;
  std::shared_ptr<scripted_source> source_;
};

TEST_F(bayeux_test, handshake_offers_long_polling_and_the_replay_extension) {
  auto r = one({{"channel", "/meta/handshake"}, {"version", "1.0"}, {"supportedConnectionTypes", {"long-polling"}},
                {"id", "7"}});
  EXPECT_EQ(r["successful"], true);
  EXPECT_EQ(r["id"], "7");
  EXPECT_EQ(r["supportedConnectionTypes"], json::array({"long-polling"}));
  EXPECT_EQ(r["ext"]["replay"], true);
  EXPECT_GE(r["clientId"].get<std::string>().size(), 20u);
  EXPECT_NE(handshake(), handshake()) << "client ids are unique";
  auto refused = one({{"channel", "/meta/handshake"}, {"supportedConnectionTypes", {"websocket"}}});
  EXPECT_EQ(refused["successful"], false);
}

TEST_F(bayeux_test, unknown_client_gets_403_with_handshake_advice) {
  for (auto channel : {"/meta/connect", "/meta/subscribe", "/meta/unsubscribe", "/meta/disconnect"}) {
    auto r = one({{"channel", channel}, {"clientId", "nope"}, {"subscription", "/test/a"}, {"id", "9"}});
    EXPECT_EQ(r["successful"], false) << channel;
    EXPECT_EQ(r["error"], "403::Unknown client") << channel;
    EXPECT_EQ(r["advice"]["reconnect"], "handshake") << channel;
    EXPECT_EQ(r["id"], "9");
  }
  // A client belongs to the session's user.
  auto id = handshake("005A");
  auto r = one({{"channel", "/meta/subscribe"}, {"clientId", id}, {"subscription", "/test/a"}}, "005B");
  EXPECT_EQ(r["error"], "403::Unknown client");
}

TEST_F(bayeux_test, first_connect_returns_at_once_with_advice_then_events_wake_a_waiting_connect) {
  auto id = handshake();
  ASSERT_EQ(subscribe(id, "/test/a")["successful"], true);
  auto first = connect(id);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0]["successful"], true);
  EXPECT_EQ(first[0]["advice"]["reconnect"], "retry");
  EXPECT_EQ(first[0]["advice"]["timeout"], 60000);

  auto waiting = std::async(std::launch::async, [&] { return connect(id); });
  // Not answered while there is nothing to deliver.
  EXPECT_EQ(waiting.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout);
  source_->add("/test/other", {{"n", 0}}); // not subscribed
  source_->add("/test/a", {{"n", 1}});
  source_->add("/test/a", {{"n", 2}});
  server_->notify();
  ASSERT_EQ(waiting.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto reply = waiting.get();
  EXPECT_EQ(replay_ids(reply), (std::vector<std::uint64_t>{1, 2}));
  EXPECT_EQ(reply.back()["channel"], "/meta/connect");
  EXPECT_EQ(reply.back()["successful"], true);
  EXPECT_FALSE(reply.back().contains("advice"));
  EXPECT_EQ(reply[0]["channel"], "/test/a");
  EXPECT_EQ(reply[0]["clientId"], id);
}

TEST_F(bayeux_test, connect_times_out_empty_and_expiry_ends_a_waiting_connect_with_403) {
  auto id = handshake();
  subscribe(id, "/test/a");
  connect(id);
  bayeux_options o = server_->options();
  o.connect_timeout_ms = 30;
  server_->set_options(o);
  auto empty = connect(id);
  ASSERT_EQ(empty.size(), 1u);
  EXPECT_EQ(empty[0]["successful"], true);

  o.connect_timeout_ms = 60000;
  server_->set_options(o);
  auto waiting = std::async(std::launch::async, [&] { return connect(id); });
  // Expire once the connect is waiting (the state says so).
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!server_->state()["clients"][0]["waiting"].get<bool>() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  EXPECT_EQ(server_->expire(id), 1u);
  ASSERT_EQ(waiting.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  auto r = waiting.get();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0]["error"], "403::Unknown client");
  EXPECT_EQ(r[0]["advice"]["reconnect"], "handshake");
}

TEST_F(bayeux_test, replay_extension_minus_one_minus_two_and_an_id) {
  source_->add("/test/a", {{"n", 1}});
  source_->add("/test/a", {{"n", 2}});
  source_->add("/test/a", {{"n", 3}});
  auto fresh = handshake();
  subscribe(fresh, "/test/a", json(-1));
  EXPECT_TRUE(replay_ids(connect(fresh)).empty());
  auto all = handshake();
  subscribe(all, "/test/a", json(-2));
  EXPECT_EQ(replay_ids(connect(all)), (std::vector<std::uint64_t>{1, 2, 3}));
  auto after = handshake();
  subscribe(after, "/test/a", json("1")); // numeric strings are accepted too
  EXPECT_EQ(replay_ids(connect(after)), (std::vector<std::uint64_t>{2, 3}));
  auto none = handshake();
  subscribe(none, "/test/a"); // no extension: new events only
  EXPECT_TRUE(replay_ids(connect(none)).empty());
}

TEST_F(bayeux_test, too_old_or_unknown_replay_ids_are_refused_as_salesforce_does) {
  for (int i = 0; i < 5; ++i)
    source_->add("/test/a", {{"n", i + 1}});
  source_->drop_through(3);
  auto id = handshake();
  auto old = subscribe(id, "/test/a", json(1));
  EXPECT_EQ(old["successful"], false);
  EXPECT_EQ(old["error"], invalid_replay_error(1));
  EXPECT_NE(old["error"].get<std::string>().find("400::The replayId {1} you provided was invalid"), std::string::npos);
  EXPECT_EQ(subscribe(id, "/test/a", json(99))["successful"], false);
  EXPECT_EQ(subscribe(id, "/test/a", json(-3))["successful"], false);
  EXPECT_EQ(subscribe(id, "/test/a", json("x"))["successful"], false);
  // Still subscribed to nothing: a refused subscribe changes nothing.
  EXPECT_TRUE(server_->state()["clients"][0]["subscriptions"].empty());
  EXPECT_EQ(subscribe(id, "/test/a", json(3))["successful"], true);
  EXPECT_EQ(replay_ids(connect(id)), (std::vector<std::uint64_t>{4, 5}));
}

TEST_F(bayeux_test, bad_channels_and_messages_get_clear_errors) {
  auto id = handshake();
  auto missing = subscribe(id, "/test/missing");
  EXPECT_EQ(missing["error"], "400::The channel you requested to subscribe to does not exist {/test/missing}");
  EXPECT_EQ(subscribe(id, "/nowhere/x")["successful"], false);
  EXPECT_EQ(one({{"channel", "/meta/subscribe"}, {"clientId", id}})["successful"], false);
  EXPECT_EQ(one({{"channel", "/test/a"}, {"clientId", id}, {"data", 1}})["error"].get<std::string>().substr(0, 5),
            "403::");
  EXPECT_EQ(one({{"channel", "/meta/bogus"}, {"clientId", id}})["successful"], false);
  EXPECT_EQ(one(json::array({json(5)}))["successful"], false);
  EXPECT_EQ(one(json::array())["successful"], false);
  auto denied = bayeux_server::unauthenticated(json::array({{{"channel", "/meta/connect"}, {"id", "3"}}}));
  EXPECT_EQ(denied[0]["error"], "401::Authentication invalid");
  EXPECT_EQ(denied[0]["advice"]["reconnect"], "none");
}

TEST_F(bayeux_test, batches_unsubscribe_and_disconnect) {
  auto id = handshake();
  auto r = server_->handle(json::array({{{"channel", "/meta/connect"}, {"clientId", id}, {"id", "1"}},
                                        {{"channel", "/meta/subscribe"}, {"clientId", id}, {"subscription", "/test/a"},
                                         {"id", "2"}}}),
                           "005A");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0]["channel"], "/meta/subscribe"); // the connect is answered last
  EXPECT_EQ(r[1]["channel"], "/meta/connect");
  source_->add("/test/a", {{"n", 1}});
  auto un = one({{"channel", "/meta/unsubscribe"}, {"clientId", id}, {"subscription", "/test/a"}});
  EXPECT_EQ(un["successful"], true);
  EXPECT_EQ(one({{"channel", "/meta/unsubscribe"}, {"clientId", id}, {"subscription", "/test/a"}})["successful"],
            false);
  EXPECT_EQ(one({{"channel", "/meta/disconnect"}, {"clientId", id}})["successful"], true);
  EXPECT_EQ(connect(id)[0]["error"], "403::Unknown client");
}

TEST_F(bayeux_test, a_client_silent_past_the_client_timeout_is_dropped) {
  bayeux_options o = server_->options();
  o.client_timeout_ms = 1;
  server_->set_options(o);
  auto id = handshake();
  // Only connects keep a client alive: poll with subscribes until the sweep (run on
  // every request) finds the client silent for over 1 ms.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  json r;
  do {
    r = subscribe(id, "/test/a");
  } while (r["successful"] == true && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(r["error"], "403::Unknown client");
}

// ---- PushTopics --------------------------------------------------------------------------

class push_topic_test : public ::testing::Test {
protected:
  push_topic_test() : model_(clock_), topics_(model_, [this] { ++wakes_; }) {
    clock_.freeze();
    clock_.set(1700000000000);
    admin_ = model_.find_user("admin@sfemu.local")->id;
    topics_.attach();
  }
  ~push_topic_test() override { model_.set_change_observer(nullptr); }

  write_result write(write_op::kind k, const std::string& object, const std::string& id, json fields = json::object()) {
    write_op o;
    o.op = k;
    o.object = object;
    o.id = id;
    o.fields = std::move(fields);
    return model_.write(o, admin_);
  }
  std::string topic(const std::string& name, const std::string& query, json extra = json::object()) {
    json f = {{"Name", name}, {"Query", query}, {"ApiVersion", 60.0}};
    f.update(extra);
    auto r = write(write_op::kind::create, "PushTopic", "", f);
    EXPECT_TRUE(r.success()) << (r.errors.empty() ? "" : r.errors[0].message);
    return r.id;
  }
  std::string account(json fields) {
    auto r = write(write_op::kind::create, "Account", "", std::move(fields));
    EXPECT_TRUE(r.success());
    return r.id;
  }
  std::vector<std::string> types(const std::string& name) {
    auto r = topics_.read_after(name, 0, 1000);
    EXPECT_EQ(r.what, push_topics::read_result::status::ok);
    std::vector<std::string> out;
    for (auto& e : r.events)
      out.push_back(e.data["event"]["type"].get<std::string>());
    return out;
  }

  sfemu::clock clock_;
  org model_;
  std::atomic<int> wakes_{0};
  push_topics topics_;
  std::string admin_;
};

using strings = std::vector<std::string>;

TEST_F(push_topic_test, matching_changes_become_created_updated_deleted_undeleted_events) {
  topic("Hot", "SELECT Id, Name, Rating FROM Account WHERE Rating = 'Hot'");
  auto t = topics_.find("hot");
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->query) << t->error;
  EXPECT_TRUE(t->active);
  EXPECT_EQ(t->fields, notify_fields::referenced);
  auto hot = account({{"Name", "H"}, {"Rating", "Hot"}});
  auto cold = account({{"Name", "C"}, {"Rating", "Cold"}});
  ASSERT_TRUE(write(write_op::kind::update, "", hot, {{"Name", "H2"}}).success());
  ASSERT_TRUE(write(write_op::kind::update, "", cold, {{"Name", "C2"}}).success());
  ASSERT_TRUE(write(write_op::kind::remove, "", hot).success());
  auto undone = model_.undelete({hot}, admin_);
  ASSERT_TRUE(undone[0].success());
  EXPECT_EQ(types("Hot"), (strings{"created", "updated", "deleted", "undeleted"}));
  auto r = topics_.read_after("Hot", 0, 10);
  EXPECT_EQ(r.events[0].data["sobject"], (json{{"Id", hot}, {"Name", "H"}, {"Rating", "Hot"}}));
  EXPECT_EQ(r.events[1].data["sobject"]["Name"], "H2");
  EXPECT_EQ(r.events[2].data["sobject"], (json{{"Id", hot}}));
  EXPECT_EQ(r.events[0].data["event"]["createdDate"], "2023-11-14T22:13:20.000Z");
  EXPECT_LT(r.events[0].replay_id, r.events[1].replay_id);
  EXPECT_GT(wakes_.load(), 0);
  // A record that stops matching sends nothing.
  ASSERT_TRUE(write(write_op::kind::update, "", hot, {{"Rating", "Cold"}}).success());
  EXPECT_EQ(types("Hot").size(), 4u);
}

TEST_F(push_topic_test, notify_for_fields_decides_which_updates_notify) {
  topic("All", "SELECT Id, Name FROM Account WHERE Rating = 'Hot'", {{"NotifyForFields", "All"}});
  topic("Ref", "SELECT Id, Name FROM Account WHERE Rating = 'Hot'", {{"NotifyForFields", "Referenced"}});
  topic("Sel", "SELECT Id, Name FROM Account WHERE Rating = 'Hot'", {{"NotifyForFields", "Select"}});
  topic("Whr", "SELECT Id, Name FROM Account WHERE Rating = 'Hot' OR Industry = 'Energy'",
        {{"NotifyForFields", "Where"}});
  auto id = account({{"Name", "A"}, {"Rating", "Hot"}});
  ASSERT_TRUE(write(write_op::kind::update, "", id, {{"Phone", "555"}}).success());    // no query field
  ASSERT_TRUE(write(write_op::kind::update, "", id, {{"Name", "B"}}).success());       // a SELECT field
  ASSERT_TRUE(write(write_op::kind::update, "", id, {{"Industry", "Energy"}}).success()); // a WHERE field
  EXPECT_EQ(types("All"), (strings{"created", "updated", "updated", "updated"}));
  EXPECT_EQ(types("Ref"), (strings{"created", "updated"})); // Industry is not referenced by Ref's query
  EXPECT_EQ(types("Sel"), (strings{"created", "updated"}));
  EXPECT_EQ(types("Whr"), (strings{"created", "updated"}));
  auto whr = topics_.read_after("Whr", 0, 10);
  EXPECT_EQ(whr.events[1].data["sobject"]["Name"], "B");
}

TEST_F(push_topic_test, operations_activity_and_topic_records_are_followed) {
  auto id = topic("NoCreate", "SELECT Id FROM Account", {{"NotifyForOperationCreate", false}, {"NotifyForFields", "All"}});
  auto a = account({{"Name", "A"}});
  ASSERT_TRUE(write(write_op::kind::update, "", a, {{"Name", "B"}}).success());
  EXPECT_EQ(types("NoCreate"), (strings{"updated"}));
  // Deactivated: no more events; deleted: the topic is gone.
  ASSERT_TRUE(write(write_op::kind::update, "", id, {{"IsActive", false}}).success());
  ASSERT_TRUE(write(write_op::kind::update, "", a, {{"Name", "C"}}).success());
  EXPECT_EQ(types("NoCreate").size(), 1u);
  EXPECT_FALSE(topics_.find("NoCreate")->active);
  ASSERT_TRUE(write(write_op::kind::remove, "", id).success());
  EXPECT_FALSE(topics_.find("NoCreate"));
}

TEST_F(push_topic_test, unusable_queries_are_kept_with_the_reason) {
  topic("NoId", "SELECT Name FROM Account");
  topic("Bad", "SELECT Id FROM Nothing__c");
  topic("Ordered", "SELECT Id FROM Account ORDER BY Name");
  for (auto name : {"NoId", "Bad", "Ordered"}) {
    auto t = topics_.find(name);
    ASSERT_TRUE(t) << name;
    EXPECT_FALSE(t->query) << name;
    EXPECT_FALSE(t->error.empty()) << name;
  }
  EXPECT_NE(topics_.find("NoId")->error.find("Id"), std::string::npos);
  push_topic_source source(topics_);
  EXPECT_TRUE(source.check("/topic/Bad"));
  EXPECT_TRUE(source.check("/topic/Unknown"));
  account({{"Name", "A"}});
  EXPECT_TRUE(types("NoId").empty());
}

TEST_F(push_topic_test, topics_work_without_change_data_capture_and_rollbacks_publish_nothing) {
  model_.change_log().set_enabled(false);
  topic("T", "SELECT Id, Name FROM Account");
  account({{"Name", "A"}});
  EXPECT_EQ(types("T"), (strings{"created"}));
  std::vector<write_op> ops(2);
  ops[0].op = write_op::kind::create;
  ops[0].object = "Account";
  ops[0].fields = {{"Name", "rolled back"}};
  ops[1].op = write_op::kind::create;
  ops[1].object = "Account";
  ops[1].fields = {{"NoSuchField__c", 1}};
  model_.write_batch(ops, true, admin_);
  EXPECT_EQ(types("T"), (strings{"created"}));
}

TEST_F(push_topic_test, events_expire_after_24_hours_and_old_ids_are_too_old) {
  topic("T", "SELECT Id FROM Account");
  account({{"Name", "A"}});
  auto first = topics_.read_after("T", 0, 10).events.at(0).replay_id;
  clock_.advance(25LL * 3600 * 1000);
  account({{"Name", "B"}});
  EXPECT_EQ(topics_.read_after("T", first - 1, 10).what, push_topics::read_result::status::too_old);
  EXPECT_EQ(topics_.read_after("T", first, 10).events.size(), 1u);
  EXPECT_EQ(topics_.read_after("T", 1000, 10).what, push_topics::read_result::status::unknown);
  push_topic_source source(topics_);
  EXPECT_EQ(source.earliest(), first + 1);
}

TEST(streaming_cdc, change_events_are_shaped_like_salesforce_cometd_json) {
  sfemu::clock clk;
  clk.freeze();
  clk.set(1700000000000);
  org model(clk);
  auto admin = model.find_user("admin@sfemu.local")->id;
  write_op o;
  o.op = write_op::kind::create;
  o.object = "Account";
  o.fields = {{"Name", "A"}};
  ASSERT_TRUE(model.write(o, admin).success());
  change_event_source source(model);
  EXPECT_FALSE(source.check("/data/AccountChangeEvent"));
  EXPECT_FALSE(source.check("/data/ChangeEvents"));
  EXPECT_TRUE(source.check("/data/NoSuchChangeEvent"));
  EXPECT_TRUE(source.check("/data/Account"));
  auto r = source.read("/data/AccountChangeEvent", 0, 10);
  ASSERT_EQ(r.events.size(), 1u);
  const json& d = r.events[0].data;
  EXPECT_EQ(d["payload"]["ChangeEventHeader"]["changeType"], "CREATE");
  EXPECT_EQ(d["payload"]["Name"], "A");
  EXPECT_EQ(d["payload"]["CreatedDate"], "2023-11-14T22:13:20.000Z");
  EXPECT_EQ(d["event"]["replayId"], r.events[0].replay_id);
  EXPECT_EQ(d["schema"].get<std::string>().size(), 22u);
  EXPECT_FALSE(d["payload"].contains("Id"));
  EXPECT_EQ(source.read("/data/ChangeEvents", 0, 10).events.size(), 1u);
  EXPECT_TRUE(source.read("/data/ContactChangeEvent", 0, 10).events.empty());
}

} // namespace

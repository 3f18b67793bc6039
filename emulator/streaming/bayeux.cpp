#include "emulator/streaming/bayeux.hpp"

#include <algorithm>
#include <random>

namespace sfemu::streaming {

namespace {

using nlohmann::json;

constexpr std::string_view meta_handshake = "/meta/handshake";
constexpr std::string_view meta_connect = "/meta/connect";
constexpr std::string_view meta_subscribe = "/meta/subscribe";
constexpr std::string_view meta_unsubscribe = "/meta/unsubscribe";
constexpr std::string_view meta_disconnect = "/meta/disconnect";

/// A reply to `m` on its channel, with its id echoed.
json reply_to(const json& m, std::string_view channel) {
  json r = {{"channel", std::string(channel)}};
  if (m.is_object() && m.contains("id"))
    r["id"] = m["id"];
  return r;
}

json failure(const json& m, std::string_view channel, const std::string& error) {
  json r = reply_to(m, channel);
  r["successful"] = false;
  r["error"] = error;
  return r;
}

/// Salesforce's answer to a message naming a client it does not know (expired,
/// disconnected, or never handshaken): handshake again.
json unknown_client(const json& m, std::string_view channel) {
  json r = failure(m, channel, "403::Unknown client");
  r["advice"] = {{"reconnect", "handshake"}, {"interval", 0}};
  return r;
}

/// The channels of a subscribe/unsubscribe: a string or an array of strings.
std::optional<std::vector<std::string>> subscriptions_of(const json& m) {
  if (!m.contains("subscription"))
    return std::nullopt;
  const json& s = m["subscription"];
  std::vector<std::string> out;
  if (s.is_string()) {
    out.push_back(s.get<std::string>());
  } else if (s.is_array() && !s.empty()) {
    for (const auto& e : s) {
      if (!e.is_string())
        return std::nullopt;
      out.push_back(e.get<std::string>());
    }
  } else {
    return std::nullopt;
  }
  for (const auto& c : out)
    if (c.empty() || c.front() != '/')
      return std::nullopt;
  return out;
}

/// A replay value of the replay extension: a number or a numeric string.
std::optional<long long> replay_value(const json& v) {
  if (v.is_number_integer())
    return v.get<long long>();
  if (v.is_number_float())
    return static_cast<long long>(v.get<double>());
  if (v.is_string()) {
    try {
      std::size_t used = 0;
      long long n = std::stoll(v.get<std::string>(), &used);
      if (used == v.get<std::string>().size())
        return n;
    } catch (const std::exception&) {
    }
  }
  return std::nullopt;
}

} // namespace

std::string invalid_replay_error(long long replay_id) {
  return "400::The replayId {" + std::to_string(replay_id) +
         "} you provided was invalid.  Please provide a valid ID, -2 to replay all events, or -1 to replay only "
         "new events.";
}

std::string unknown_channel_error(std::string_view channel) {
  return "400::The channel you requested to subscribe to does not exist {" + std::string(channel) + "}";
}

bayeux_server::bayeux_server(bayeux_options opts, std::shared_ptr<const syncforce::time_source> time)
  : opts_(opts), time_(time ? std::move(time) : syncforce::shared_real_time()) {}

bayeux_server::~bayeux_server() { shutdown(); }

void bayeux_server::add_source(std::shared_ptr<channel_source> source) {
  std::lock_guard<std::mutex> lock(mutex_);
  sources_.push_back(std::move(source));
}

void bayeux_server::set_options(const bayeux_options& opts) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    opts_ = opts;
  }
  notify();
}

bayeux_options bayeux_server::options() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return opts_;
}

channel_source* bayeux_server::source_of(std::string_view channel) const {
  for (const auto& s : sources_)
    if (s->serves(channel))
      return s.get();
  return nullptr;
}

std::string bayeux_server::new_client_id_locked() {
  // Salesforce's client ids are opaque base-36 strings; unguessable enough for a test
  // server, unique by the counter.
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string id;
  for (std::uint64_t n = ++id_counter_; n > 0; n /= 36)
    id += digits[n % 36];
  while (id.size() < 27)
    id += digits[rng() % 36];
  return id;
}

void bayeux_server::sweep_locked(steady::time_point now) {
  auto limit = std::chrono::milliseconds(opts_.client_timeout_ms);
  for (auto it = clients_.begin(); it != clients_.end();) {
    if (it->second.waiting == 0 && now - it->second.last_seen > limit)
      it = clients_.erase(it);
    else
      ++it;
  }
}

bayeux_server::client* bayeux_server::find_locked(const json& m, const std::string& user_id) {
  if (!m.contains("clientId") || !m["clientId"].is_string())
    return nullptr;
  auto it = clients_.find(m["clientId"].get<std::string>());
  // Another user's client is unknown to this session (Salesforce ties a client to it).
  if (it == clients_.end() || it->second.user_id != user_id)
    return nullptr;
  return &it->second;
}

json bayeux_server::handle(const json& messages, const std::string& user_id) {
  json list;
  if (messages.is_array())
    list = messages;
  else if (messages.is_object())
    list = json::array({messages});
  if (list.empty())
    return json::array({failure(json::object(), "/meta/unknown",
                                "400::The request body must be a Bayeux message or a JSON array of them")});
  {
    std::lock_guard<std::mutex> lock(mutex_);
    sweep_locked(time_->steady_now());
  }
  json out = json::array();
  std::vector<const json*> connects;
  for (const auto& m : list) {
    if (!m.is_object() || !m.contains("channel") || !m["channel"].is_string()) {
      out.push_back(failure(m, "/meta/unknown", "400::Each message must be a JSON object with a channel"));
      continue;
    }
    auto channel = m["channel"].get<std::string>();
    if (channel == meta_handshake)
      out.push_back(handshake(m, user_id));
    else if (channel == meta_connect)
      connects.push_back(&m); // after the rest of the batch: it may wait
    else if (channel == meta_subscribe)
      out.push_back(subscribe(m, user_id));
    else if (channel == meta_unsubscribe)
      out.push_back(unsubscribe(m, user_id));
    else if (channel == meta_disconnect)
      out.push_back(disconnect(m, user_id));
    else if (channel.rfind("/meta/", 0) == 0)
      out.push_back(failure(m, channel, "400::Unknown meta channel " + channel));
    else
      out.push_back(failure(m, channel, "403::Publish denied: clients cannot publish to " + channel));
  }
  for (const json* m : connects)
    out.push_back(connect(*m, user_id, out));
  return out;
}

json bayeux_server::unauthenticated(const json& messages) {
  json list = messages.is_array() ? messages : json::array({messages});
  json out = json::array();
  for (const auto& m : list) {
    std::string channel = m.is_object() && m.contains("channel") && m["channel"].is_string()
                              ? m["channel"].get<std::string>()
                              : std::string(meta_handshake);
    json r = failure(m, channel, channel == meta_handshake ? "403::Handshake denied" : "401::Authentication invalid");
    r["ext"] = {{"sfdc", {{"failureReason", "401::Authentication invalid"}}}};
    r["advice"] = {{"reconnect", "none"}};
    out.push_back(std::move(r));
  }
  if (out.empty())
    out.push_back(failure(json::object(), meta_handshake, "403::Handshake denied"));
  return out;
}

json bayeux_server::handshake(const json& m, const std::string& user_id) {
  if (m.contains("supportedConnectionTypes")) {
    const json& types = m["supportedConnectionTypes"];
    bool long_polling = types.is_array() &&
                        std::any_of(types.begin(), types.end(), [](const json& t) { return t == "long-polling"; });
    if (!long_polling)
      return failure(m, meta_handshake, "400::Unsupported connection types: only long-polling is offered");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  client c;
  c.id = new_client_id_locked();
  c.user_id = user_id;
  c.last_seen = time_->steady_now();
  json r = reply_to(m, meta_handshake);
  r["clientId"] = c.id;
  r["version"] = "1.0";
  r["minimumVersion"] = "1.0";
  r["supportedConnectionTypes"] = json::array({"long-polling"});
  r["successful"] = true;
  r["ext"] = {{"replay", true}, {"payload.format", true}};
  clients_.emplace(c.id, std::move(c));
  return r;
}

bool bayeux_server::collect(const std::string& client_id, json& out) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = clients_.find(client_id);
  if (it == clients_.end())
    return false;
  client& c = it->second;
  std::size_t room = opts_.max_batch;
  for (auto& [channel, cursor] : c.cursors) {
    if (room == 0)
      break;
    channel_source* src = source_of(channel);
    if (!src)
      continue;
    auto r = src->read(channel, cursor, room);
    if (r.what == channel_source::read_result::status::too_old) {
      // The subscriber fell behind the retention window between two polls: the events
      // are gone (as in Salesforce); go on from the oldest one kept.
      cursor = src->earliest() > 0 ? src->earliest() - 1 : 0;
      r = src->read(channel, cursor, room);
    }
    if (r.what != channel_source::read_result::status::ok)
      continue;
    for (auto& ev : r.events) {
      out.push_back({{"channel", channel}, {"clientId", client_id}, {"data", std::move(ev.data)}});
      cursor = ev.replay_id;
      --room;
    }
  }
  return true;
}

json bayeux_server::connect(const json& m, const std::string& user_id, json& out) {
  std::string id;
  std::uint64_t seq = 0;
  bool first = false;
  std::int64_t timeout_ms = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    client* c = find_locked(m, user_id);
    if (!c)
      return unknown_client(m, meta_connect);
    if (m.contains("connectionType") && m["connectionType"] != "long-polling")
      return failure(m, meta_connect, "400::Unsupported connection type: only long-polling is offered");
    id = c->id;
    first = !c->connected;
    c->connected = true;
    seq = ++c->connect_seq;
    ++c->waiting;
    c->last_seen = time_->steady_now();
    timeout_ms = opts_.connect_timeout_ms;
  }
  // A newer connect of the same client ends this one (CometD keeps one per client).
  notify();
  // Salesforce answers the first connect at once, with the advice; later ones wait.
  auto deadline = time_->steady_now() + std::chrono::milliseconds(first ? 0 : timeout_ms);
  bool gone = false;
  for (;;) {
    std::uint64_t gen;
    {
      std::lock_guard<std::mutex> wl(wake_mutex_);
      gen = generation_;
    }
    std::size_t before = out.size();
    if (!collect(id, out)) {
      gone = true;
      break;
    }
    if (out.size() > before || time_->steady_now() >= deadline)
      break;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = clients_.find(id);
      if (it == clients_.end()) {
        gone = true;
        break;
      }
      if (it->second.connect_seq != seq)
        break;
    }
    std::unique_lock<std::mutex> wl(wake_mutex_);
    if (stopping_)
      break;
    // The remaining time as the time source counts it (a condition variable
    // waits on the real clock, so it is handed a duration, not a time point).
    wake_.wait_for(wl, deadline - time_->steady_now(), [&] { return generation_ != gen || stopping_; });
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = clients_.find(id);
    if (it != clients_.end()) {
      --it->second.waiting;
      it->second.last_seen = time_->steady_now();
    } else {
      gone = true;
    }
  }
  if (gone)
    return unknown_client(m, meta_connect);
  json r = reply_to(m, meta_connect);
  r["clientId"] = id;
  r["successful"] = true;
  if (first)
    r["advice"] = {{"reconnect", "retry"}, {"interval", 0}, {"timeout", timeout_ms}};
  return r;
}

json bayeux_server::subscribe(const json& m, const std::string& user_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  client* c = find_locked(m, user_id);
  if (!c)
    return unknown_client(m, meta_subscribe);
  auto channels = subscriptions_of(m);
  json r = reply_to(m, meta_subscribe);
  r["clientId"] = c->id;
  if (!channels) {
    r["successful"] = false;
    r["error"] = "400::subscription must be a channel name or an array of them";
    return r;
  }
  r["subscription"] = m["subscription"];
  const json* replay = nullptr;
  if (m.contains("ext") && m["ext"].is_object() && m["ext"].contains("replay") && m["ext"]["replay"].is_object())
    replay = &m["ext"]["replay"];
  std::map<std::string, std::uint64_t> cursors;
  for (const auto& channel : *channels) {
    channel_source* src = source_of(channel);
    std::optional<std::string> err =
        src ? src->check(channel) : std::optional<std::string>(unknown_channel_error(channel));
    if (err) {
      r["successful"] = false;
      r["error"] = *err;
      return r;
    }
    long long from = -1;
    if (replay && replay->contains(channel)) {
      auto v = replay_value((*replay)[channel]);
      if (!v) {
        r["successful"] = false;
        r["error"] = "400::The replayId for " + channel + " must be a number";
        return r;
      }
      from = *v;
    }
    if (from == -1) {
      cursors[channel] = src->latest();
    } else if (from == -2) {
      auto e = src->earliest();
      cursors[channel] = e > 0 ? e - 1 : 0;
    } else if (from < 0 || src->read(channel, static_cast<std::uint64_t>(from), 0).what !=
                               channel_source::read_result::status::ok) {
      r["successful"] = false;
      r["error"] = invalid_replay_error(from);
      return r;
    } else {
      cursors[channel] = static_cast<std::uint64_t>(from);
    }
  }
  for (auto& [channel, cursor] : cursors)
    c->cursors[channel] = cursor;
  r["successful"] = true;
  {
    // A waiting connect looks again (a replay may have events for it at once).
    std::lock_guard<std::mutex> wl(wake_mutex_);
    ++generation_;
  }
  wake_.notify_all();
  return r;
}

json bayeux_server::unsubscribe(const json& m, const std::string& user_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  client* c = find_locked(m, user_id);
  if (!c)
    return unknown_client(m, meta_unsubscribe);
  auto channels = subscriptions_of(m);
  json r = reply_to(m, meta_unsubscribe);
  r["clientId"] = c->id;
  if (!channels) {
    r["successful"] = false;
    r["error"] = "400::subscription must be a channel name or an array of them";
    return r;
  }
  r["subscription"] = m["subscription"];
  for (const auto& channel : *channels)
    if (!c->cursors.count(channel)) {
      r["successful"] = false;
      r["error"] = "400::Not subscribed to " + channel;
      return r;
    }
  for (const auto& channel : *channels)
    c->cursors.erase(channel);
  r["successful"] = true;
  return r;
}

json bayeux_server::disconnect(const json& m, const std::string& user_id) {
  json r = reply_to(m, meta_disconnect);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    client* c = find_locked(m, user_id);
    if (!c)
      return unknown_client(m, meta_disconnect);
    r["clientId"] = c->id;
    r["successful"] = true;
    clients_.erase(std::string(c->id));
  }
  notify(); // its waiting connect ends
  return r;
}

void bayeux_server::notify() {
  {
    std::lock_guard<std::mutex> wl(wake_mutex_);
    ++generation_;
  }
  wake_.notify_all();
}

std::size_t bayeux_server::expire(const std::string& client_id) {
  std::size_t n = 0;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (client_id.empty()) {
      n = clients_.size();
      clients_.clear();
    } else {
      n = clients_.erase(client_id);
    }
  }
  notify();
  return n;
}

void bayeux_server::shutdown() {
  {
    std::lock_guard<std::mutex> wl(wake_mutex_);
    stopping_ = true;
    ++generation_;
  }
  wake_.notify_all();
}

json bayeux_server::state() const {
  std::lock_guard<std::mutex> lock(mutex_);
  json clients = json::array();
  for (const auto& [id, c] : clients_) {
    json subs = json::object();
    for (const auto& [channel, cursor] : c.cursors)
      subs[channel] = cursor;
    clients.push_back({{"clientId", id}, {"userId", c.user_id}, {"subscriptions", subs},
                       {"connected", c.connected}, {"waiting", c.waiting > 0}});
  }
  return {{"clients", clients},
          {"connect_timeout_ms", opts_.connect_timeout_ms},
          {"client_timeout_ms", opts_.client_timeout_ms}};
}

} // namespace sfemu::streaming

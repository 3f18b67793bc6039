#include "tests/sim/sim_change_stream.hpp"

#include "actors/atoms.hpp"
#include "actors/change_subscriber.hpp"
#include "salesforce/pubsub/subscription.hpp"

#include <algorithm>

namespace syncforce::sim {

using actors::change_batch;

struct change_streams::stream_state {
  actors::change_subscriber_hdl owner;
  std::string topic;
  std::string object;
  std::string own_client;
  std::size_t batch = 100;
  std::optional<std::uint64_t> replay;
  std::uint64_t generation = 0;
  std::uint64_t after = 0; ///< the last replay id handed over (the server's position)
  bool started = false;
  bool positioned = false;
  bool at_actor = false; ///< a batch was sent and not acknowledged
  bool stopped = false;
};

namespace {

/// One stream: the subscriber's handle on its stream_state (the driver pumps it).
class sim_stream final : public actors::change_stream {
public:
  explicit sim_stream(std::shared_ptr<change_streams::stream_state> s) : s_(std::move(s)) {}
  ~sim_stream() override { stop(); }
  void start() override { s_->started = true; }
  void ack(std::size_t) override { s_->at_actor = false; }
  void stop() override { s_->stopped = true; }

private:
  std::shared_ptr<change_streams::stream_state> s_;
};

/// A body value as the decoder gives it (change_event_decoder: datetimes as
/// epoch ms, numbers as numbers, strings as strings).
nlohmann::json decoded(const sfemu::cdc::body_field& f) {
  using sfemu::field_type;
  if (f.v.is_null())
    return nullptr;
  switch (f.type) {
    case field_type::boolean: return f.v.as_bool();
    case field_type::int_:
    case field_type::date:
    case field_type::datetime:
    case field_type::time: return f.v.as_int();
    case field_type::double_:
    case field_type::currency:
    case field_type::percent: return f.v.as_real();
    default: return std::string(f.v.as_string());
  }
}

/// sfemu's event as the engine's decoder hands it over (what the Avro round trip gives).
pubsub::received_event received(const sfemu::cdc::change_event& e) {
  pubsub::received_event r;
  r.replay_id = e.replay_id;
  auto& d = r.event;
  d.entity_name = e.entity_name;
  d.change_type = std::string(sfemu::cdc::to_string(e.type));
  d.record_ids = e.record_ids;
  d.change_origin = e.change_origin;
  d.transaction_key = e.transaction_key;
  d.sequence_number = e.sequence_number;
  d.commit_timestamp = e.commit_timestamp;
  d.commit_number = static_cast<std::int64_t>(e.commit_number);
  d.commit_user = e.commit_user;
  d.changed_fields = e.changed_fields;
  d.nulled_fields = e.nulled_fields;
  d.diff_fields = e.diff_fields;
  for (const auto& f : e.fields)
    if (!f.v.is_null())
      d.fields[f.name] = decoded(f);
  return r;
}

void ended(const change_streams::stream_state& s, pubsub::stream_failure kind, const std::string& message) {
  caf::anon_send(s.owner, actors::cdc_ended_atom::value, static_cast<std::int32_t>(kind), message, s.generation);
}

} // namespace

actors::change_stream_factory change_streams::factory() {
  return [this](actors::change_stream_args a) -> std::unique_ptr<actors::change_stream> {
    auto s = std::make_shared<stream_state>();
    s->owner = std::move(a.owner);
    s->topic = std::move(a.topic);
    s->object = a.job.config.object_name;
    s->own_client = a.cfg->own_client;
    s->batch = static_cast<std::size_t>(std::max(1, a.cfg->batch));
    s->replay = a.replay;
    s->generation = a.generation;
    open_.push_back(s);
    ++opened;
    return std::make_unique<sim_stream>(std::move(s));
  };
}

void change_streams::pump() {
  open_.erase(std::remove_if(open_.begin(), open_.end(), [](const auto& s) { return s->stopped; }), open_.end());
  std::vector<std::shared_ptr<stream_state>> ready;
  for (const auto& s : open_)
    if (s->started && !s->at_actor)
      ready.push_back(s);
  for (const auto& s : ready)
    if (w_.chance(0.7))
      deliver(*s);
}

void change_streams::deliver(stream_state& s) {
  auto& log = w_.org().change_log();
  if (!s.positioned) {
    // Subscribe: LATEST is the newest event now; a stored replay id must
    // still be in the log (emulator/pubsub/service.cpp answers the same).
    s.positioned = true;
    s.after = s.replay.value_or(log.latest());
  }
  auto read = log.read_after(s.after, s.batch, s.object);
  using status = sfemu::cdc::read_result::status;
  if (read.what != status::ok) {
    s.stopped = true;
    w_.note("change events of " + s.object + ": replay id " + std::to_string(s.after) +
            (read.what == status::too_old ? " too old" : " unknown"));
    ended(s, pubsub::stream_failure::replay_invalid,
          "replay id " + std::to_string(s.after) + (read.what == status::too_old ? " is too old" : " is unknown"));
    return;
  }
  if (w_.chance(w_.faults.stream_drop)) { // reset before the batch: its events come again from the next stream
    s.stopped = true;
    ++drops;
    w_.note("change event stream of " + s.object + " drops before a batch");
    ended(s, pubsub::stream_failure::unavailable, "sim: stream reset");
    return;
  }
  if (read.events.empty())
    return; // a keepalive: nothing to hand over
  auto b = std::make_shared<change_batch>();
  b->topic = s.topic;
  b->own_client = s.own_client;
  for (const auto& e : read.events) {
    auto r = received(e);
    if (w_.chance(w_.faults.undecodable))
      r.decode_error = "sim: the payload does not match schema"; // the subscriber asks for a catch-up poll
    b->events.push_back(std::move(r));
  }
  s.after = read.events.back().replay_id;
  s.at_actor = true;
  ++batches;
  w_.note("change events of " + s.object + ": " + std::to_string(b->events.size()) + " up to replay id " +
          std::to_string(s.after));
  caf::anon_send(s.owner, actors::cdc_events_atom::value, std::move(b), s.generation);
  if (w_.chance(w_.faults.stream_drop)) { // reset right after the batch
    s.stopped = true;
    ++drops;
    w_.note("change event stream of " + s.object + " drops after a batch");
    ended(s, pubsub::stream_failure::unavailable, "sim: stream reset");
  }
}

} // namespace syncforce::sim

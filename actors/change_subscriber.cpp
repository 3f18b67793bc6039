#include "actors/change_subscriber.hpp"

#include "actors/atoms.hpp"
#include "actors/errors.hpp"
#include "actors/log.hpp"
#include "salesforce/pubsub/subscription.hpp"
#include "salesforce/shared_session.hpp"

#include <mutex>
#include <thread>

namespace syncforce::actors {

std::string change_event_topic(const std::string& object_name) {
  std::string name = object_name;
  // Custom objects: `Widget__c` -> `Widget__ChangeEvent` (Salesforce's naming).
  if (name.size() > 3 && (name.compare(name.size() - 3, 3, "__c") == 0 || name.compare(name.size() - 3, 3, "__C") == 0))
    name.resize(name.size() - 1);
  return "/data/" + name + "ChangeEvent";
}

// ---- the stream's own thread ---------------------------------------------------

/// Reads one Subscribe stream on its own thread. One batch at a time is at the
/// actor; what arrives meanwhile is gathered and goes as the next batch the
/// moment the actor acknowledges the one before (so a busy stream is applied in
/// large batches, not one small FetchResponse per transaction). More events are
/// asked for as they are acknowledged (FetchRequest flow control: at most
/// `batch` events wait in the node, gathered or at the actor).
class subscription_runner {
public:
  subscription_runner(caf::actor owner, std::shared_ptr<const change_event_settings> cfg, mapping_job job,
                      std::string topic, std::optional<std::uint64_t> replay, std::uint64_t generation)
      : owner_(std::move(owner)), cfg_(std::move(cfg)), job_(std::move(job)), topic_(std::move(topic)),
        replay_(replay), generation_(generation) {}

  ~subscription_runner() { stop(); }

  void start() {
    thread_ = std::thread([this] { run(); });
  }

  /// The actor applied the batch it was sent (`n` events): ask for as many more,
  /// and hand over what was gathered meanwhile. Called on the actor's thread; the
  /// stream allows this one writer beside its reader.
  void ack(std::size_t n) {
    std::lock_guard<std::mutex> lock(mutex_);
    at_actor_ = false;
    if (stopped_ || !sub_)
      return;
    sub_->request(static_cast<int>(n)); // a failed request shows as the stream's end in the reader
    hand_over_locked();
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopped_ = true;
      if (sub_)
        sub_->cancel();
    }
    if (thread_.joinable())
      thread_.join();
  }

private:
  /// Sends the gathered events as one batch unless one is at the actor (mutex_ held).
  void hand_over_locked() {
    if (at_actor_ || gathered_.empty())
      return;
    auto batch = std::make_shared<change_batch>();
    batch->topic = topic_;
    batch->own_client = cfg_->own_client;
    batch->events = std::move(gathered_);
    gathered_.clear();
    at_actor_ = true;
    caf::anon_send(owner_, cdc_events_atom::value, std::move(batch), generation_);
  }

  void ended(pubsub::stream_failure kind, const std::string& message) {
    caf::anon_send(owner_, cdc_ended_atom::value, static_cast<std::int32_t>(kind), message, generation_);
  }

  bool stopped() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stopped_;
  }

  void run() {
    auto session = job_.user->session->get();
    if (!session) {
      ended(pubsub::stream_failure::unavailable, "login: " + session.error().describe());
      return;
    }
    for (int attempt = 1; attempt <= 2 && !stopped(); ++attempt) {
      pubsub::subscription_config sc;
      sc.target = cfg_->target;
      sc.tls = cfg_->tls;
      sc.ca_pem = cfg_->ca_pem;
      sc.access_token = session->access_token.reveal();
      sc.instance_url = session->instance_url;
      sc.tenant_id = session->org_id;
      sc.topic = topic_;
      sc.replay_after = replay_;
      sc.batch = cfg_->batch;
      pubsub::subscription sub(sc);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopped_)
          return;
        sub_ = &sub;
      }
      auto failure = sub.start();
      bool received = false;
      pubsub::stream_error error;
      if (failure)
        error = *failure;
      while (!failure) {
        pubsub::fetch_batch b;
        if (!sub.next(b, error))
          break;
        if (b.events.empty())
          continue; // a keepalive
        received = true;
        replay_ = b.events.back().replay_id;
        std::lock_guard<std::mutex> lock(mutex_);
        if (stopped_)
          break;
        for (auto& e : b.events)
          gathered_.push_back(std::move(e));
        hand_over_locked();
      }
      {
        // Events gathered but not handed over are dropped with the stream: the
        // next one starts after the last replay id the actor applied.
        std::lock_guard<std::mutex> lock(mutex_);
        sub_ = nullptr;
        gathered_.clear();
        if (stopped_)
          return;
      }
      // An expired session: log in again once and resubscribe at once.
      if (error.kind == pubsub::stream_failure::unauthenticated && attempt == 1 && !received) {
        auto fresh = job_.user->session->refresh(*session);
        if (fresh) {
          session = std::move(fresh);
          continue;
        }
      }
      ended(error.kind, error.message);
      return;
    }
  }

  caf::actor owner_;
  std::shared_ptr<const change_event_settings> cfg_;
  mapping_job job_;
  std::string topic_;
  std::optional<std::uint64_t> replay_;
  std::uint64_t generation_;
  std::mutex mutex_;
  /// Events received while a batch was at the actor, in replay order.
  std::vector<pubsub::received_event> gathered_;
  bool at_actor_ = false; ///< a batch was sent and not acknowledged yet
  bool stopped_ = false;
  pubsub::subscription* sub_ = nullptr;
  std::thread thread_;
};

// ---- the actor -------------------------------------------------------------------

namespace {

using subscriber_ptr = caf::stateful_actor<change_subscriber_state>*;

void log_subscriber(subscriber_ptr self, spdlog::level::level_enum level, const std::string& event,
                    std::initializer_list<std::pair<std::string, std::string>> extras = {}) {
  auto& st = self->state;
  log_event ev{event, "mapping", st.job.mapping_id, "DATA_SYNCED"};
  ev.addon(st.job.connection_id).with("object_name", st.job.config.object_name).with("topic", st.topic);
  for (const auto& [k, v] : extras)
    ev.with(k, v);
  log(level, ev);
}

/// Runs a job on the pool under the mapping's lease; `next` with its outcome.
void run_job(subscriber_ptr self, std::string name, std::function<job_outcome(worker_context&)> fn,
             std::function<void(job_outcome&)> next) {
  auto& st = self->state;
  self->request(st.pool, caf::infinite, run_job_atom::value, job{std::move(name), std::move(fn), st.fence})
    .then([next](job_outcome& o) { next(o); }, [self](caf::error& err) { self->quit(err); });
}

/// A job that did not go through: stop on a lost lease or a fatal error, else
/// run `again` after a backoff. False when the job succeeded.
bool failed(subscriber_ptr self, job_outcome& o, std::function<void()> again) {
  auto& st = self->state;
  switch (o.kind) {
    case outcome_kind::ok: return false;
    case outcome_kind::fenced: self->quit(make_error(engine_errc::lease_lost, o.error)); return true;
    case outcome_kind::fatal:
      self->quit(caf::make_error(caf::sec::runtime_error, "change events: " + o.error));
      return true;
    default: break;
  }
  ++st.failures;
  auto wait = st.cfg->retry.delay(st.failures);
  log_subscriber(self, spdlog::level::warn, "Change events delayed, will retry",
                 {{"reason", o.error}, {"retry_in_ms", std::to_string(wait.count())}});
  st.retry_step = std::move(again);
  self->delayed_send(self, wait, retry_atom::value);
  return true;
}

void subscribe(subscriber_ptr self);

void applied(subscriber_ptr self) {
  auto& st = self->state;
  st.applying = false;
  if (st.resubscribe_after_apply) {
    st.resubscribe_after_apply = false;
    subscribe(self);
  }
}

void apply(subscriber_ptr self, std::shared_ptr<change_batch> batch, std::uint64_t generation) {
  auto& st = self->state;
  st.applying = true;
  auto io = st.io;
  auto j = st.job;
  run_job(self, batch->forget_mark ? "change_events_forget" : "change_events",
          [io, j, batch](worker_context& ctx) { return io->apply_change_events(ctx, j, *batch); },
          [self, batch, generation](job_outcome& o) {
            if (failed(self, o, [self, batch, generation] { apply(self, batch, generation); }))
              return;
            auto& st = self->state;
            st.failures = 0;
            st.replay = o.replay_id;
            if (o.needs_catch_up)
              self->send(st.mapping, catch_up_atom::value);
            if (st.runner && st.generation == generation && !batch->events.empty())
              st.runner->ack(batch->events.size());
            applied(self);
          });
}

/// Starts a stream after `replay` (none: from the newest event), once no batch is being applied.
void subscribe(subscriber_ptr self) {
  auto& st = self->state;
  if (st.applying) {
    st.resubscribe_after_apply = true;
    return;
  }
  if (st.runner)
    st.runner->stop();
  ++st.generation;
  st.runner = std::make_shared<subscription_runner>(caf::actor_cast<caf::actor>(self), st.cfg, st.job, st.topic,
                                                    st.replay, st.generation);
  st.runner->start();
  log_subscriber(self, spdlog::level::info, "Subscribed to change events",
                 {{"replay_from", st.replay ? std::to_string(*st.replay) : std::string{"latest"}}});
  // From the newest event on: what changed before it (since the last poll) is the poll's.
  if (!st.replay)
    self->send(st.mapping, catch_up_atom::value);
}

void load_mark(subscriber_ptr self) {
  auto io = self->state.io;
  auto j = self->state.job;
  run_job(self, "load_change_mark", [io, j](worker_context& ctx) { return io->load_change_mark(ctx, j); },
          [self](job_outcome& o) {
            if (failed(self, o, [self] { load_mark(self); }))
              return;
            self->state.replay = o.replay_id;
            subscribe(self);
          });
}

} // namespace

caf::behavior change_subscriber(caf::stateful_actor<change_subscriber_state>* self,
                                std::shared_ptr<const change_event_settings> cfg, mapping_job job,
                                std::shared_ptr<const lease_fence> fence, std::shared_ptr<sync_io> io, caf::actor pool,
                                caf::actor mapping) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.job = std::move(job);
  st.fence = std::move(fence);
  st.io = std::move(io);
  st.pool = std::move(pool);
  st.mapping = std::move(mapping);
  st.topic = change_event_topic(st.job.config.object_name);
  // The stream's thread must end with the actor, however it ends.
  self->attach_functor([self] {
    if (self->state.runner)
      self->state.runner->stop();
  });
  load_mark(self);
  return {
    [self](cdc_events_atom, std::shared_ptr<change_batch>& batch, std::uint64_t generation) {
      if (generation != self->state.generation)
        return; // a stream already replaced: its events come again from the new one
      apply(self, std::move(batch), generation);
    },
    [self](cdc_ended_atom, std::int32_t kind, const std::string& message, std::uint64_t generation) {
      auto& st = self->state;
      if (generation != st.generation)
        return;
      st.runner.reset(); // its thread has ended (joined here)
      auto failure = static_cast<pubsub::stream_failure>(kind);
      if (failure == pubsub::stream_failure::replay_invalid) {
        // The stored replay id expired (or the org does not know it): the
        // events after it are gone. Forget it, start from the newest event, and
        // let a keyset poll read everything since the poll's own mark.
        log_subscriber(self, spdlog::level::warn, "Change event replay id too old, catching up by poll",
                       {{"replay_id", st.replay ? std::to_string(*st.replay) : std::string{"none"}},
                        {"reason", message}});
        auto forget = std::make_shared<change_batch>();
        forget->topic = st.topic;
        forget->forget_mark = true;
        apply(self, forget, st.generation);
        self->state.resubscribe_after_apply = true;
        return;
      }
      ++st.failures;
      auto wait = failure == pubsub::stream_failure::not_found ? st.cfg->retry.max
                                                                : st.cfg->retry.delay(st.failures);
      log_subscriber(self, failure == pubsub::stream_failure::unavailable ? spdlog::level::info : spdlog::level::warn,
                     "Change event stream ended, will resubscribe",
                     {{"reason", message}, {"retry_in_ms", std::to_string(wait.count())}});
      // From the last replay id applied (after the batch being applied, if any).
      self->delayed_send(self, wait, start_atom::value);
    },
    [self](start_atom) { subscribe(self); },
    [self](retry_atom) {
      auto step = std::move(self->state.retry_step);
      self->state.retry_step = nullptr;
      if (step)
        step();
    },
  };
}

} // namespace syncforce::actors

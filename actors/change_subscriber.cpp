#include "actors/change_subscriber.hpp"

#include "actors/atoms.hpp"
#include "actors/errors.hpp"
#include "actors/log.hpp"
#include "sync/change_event.hpp"

namespace syncforce::actors {

std::string change_event_topic(const std::string& object_name) {
  std::string name = object_name;
  // Custom objects: `Widget__c` -> `Widget__ChangeEvent` (Salesforce's naming).
  if (name.size() > 3 && (name.compare(name.size() - 3, 3, "__c") == 0 || name.compare(name.size() - 3, 3, "__C") == 0))
    name.resize(name.size() - 1);
  return "/data/" + name + "ChangeEvent";
}

// ---- the actor -------------------------------------------------------------------

namespace {

using subscriber_ptr = change_subscriber_impl::stateful_pointer<change_subscriber_state>;

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
  change_stream_args args{caf::actor_cast<change_subscriber_hdl>(self), st.cfg, st.job, st.topic, st.replay, st.generation};
  st.runner = st.cfg->streams(std::move(args)); // set: the mapping spawns no subscriber without it
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

change_subscriber_impl::behavior_type change_subscriber(change_subscriber_impl::stateful_pointer<change_subscriber_state> self,
                                                        std::shared_ptr<const change_event_settings> cfg,
                                                        mapping_job job, std::shared_ptr<const lease_fence> fence,
                                                        std::shared_ptr<sync_io> io, caf::actor pool,
                                                        catch_up_target mapping) {
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.job = std::move(job);
  st.fence = std::move(fence);
  st.io = std::move(io);
  st.pool = std::move(pool);
  st.mapping = std::move(mapping);
  st.topic = change_event_topic(st.job.config.object_name);
  // The stream ends with the actor, however it ends: CAF destroys the state
  // on exit (stateful_actor::on_exit), and a change_stream stops when it is
  // destroyed. (Not an attached functor: those run after the state is gone.)
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
      auto failure = static_cast<stream_failure>(kind);
      if (failure == stream_failure::replay_invalid) {
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
      auto wait = failure == stream_failure::not_found ? st.cfg->retry.max
                                                                : st.cfg->retry.delay(st.failures);
      log_subscriber(self, failure == stream_failure::unavailable ? spdlog::level::info : spdlog::level::warn,
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

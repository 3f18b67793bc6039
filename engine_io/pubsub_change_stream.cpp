#include "engine_io/pubsub_change_stream.hpp"

#include "actors/atoms.hpp"
#include "actors/change_subscriber.hpp"
#include "salesforce/pubsub/subscription.hpp"
#include "engine_io/sf_login.hpp"
#include "salesforce/shared_session.hpp"

#include <mutex>
#include <thread>

namespace syncforce::engine_io {

using namespace actors;

namespace {

/// Reads one Subscribe stream on its own thread. One batch at a time is at the
/// actor; what arrives meanwhile is gathered and goes as the next batch the
/// moment the actor acknowledges the one before (so a busy stream is applied in
/// large batches, not one small FetchResponse per transaction). More events are
/// asked for as they are acknowledged (FetchRequest flow control: at most
/// `batch` events wait in the node, gathered or at the actor).
class subscription_runner final : public change_stream {
public:
  explicit subscription_runner(change_stream_args a)
      : owner_(std::move(a.owner)), cfg_(std::move(a.cfg)), job_(std::move(a.job)), topic_(std::move(a.topic)),
        replay_(a.replay), generation_(a.generation) {}

  ~subscription_runner() override { stop(); }

  void start() override {
    thread_ = std::thread([this] { run(); });
  }

  /// The actor applied the batch it was sent (`n` events): ask for as many more,
  /// and hand over what was gathered meanwhile. Called on the actor's thread; the
  /// stream allows this one writer beside its reader.
  void ack(std::size_t n) override {
    std::lock_guard<std::mutex> lock(mutex_);
    at_actor_ = false;
    if (stopped_ || !sub_)
      return;
    sub_->request(static_cast<int>(n)); // a failed request shows as the stream's end in the reader
    hand_over_locked();
  }

  void stop() override {
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
    const auto* login = dynamic_cast<const salesforce_login*>(job_.user->login.get());
    if (login == nullptr) {
      ended(pubsub::stream_failure::other, "no Salesforce login for " + job_.user->username);
      return;
    }
    auto session = login->session->get();
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
        auto fresh = login->session->refresh(*session);
        if (fresh) {
          session = std::move(fresh);
          continue;
        }
      }
      ended(error.kind, error.message);
      return;
    }
  }

  change_subscriber_hdl owner_;
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

} // namespace

std::unique_ptr<change_stream> make_pubsub_change_stream(change_stream_args args) {
  return std::make_unique<subscription_runner>(std::move(args));
}

} // namespace syncforce::engine_io

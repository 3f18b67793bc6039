// The node's local view of its lease (sync/lease_fence): a deadline before the
// expiry written, and fences that never come back once the lease lapsed.

#include "sync/lease_fence.hpp"

#include <gtest/gtest.h>

using namespace syncforce;
using namespace std::chrono_literals;

TEST(lease_validity, valid_until_the_deadline_before_the_written_expiry) {
  lease_validity v;
  lease_validity::clock::time_point t0{std::chrono::seconds(1000)};
  EXPECT_FALSE(v.valid(v.generation(), t0)) << "nothing is valid before the first heartbeat";
  EXPECT_FALSE(v.renew(t0, 10s, 2s, t0 + 5ms));
  auto g = v.generation();
  EXPECT_TRUE(v.valid(g, t0 + 7999ms));
  EXPECT_FALSE(v.valid(g, t0 + 8s)) << "the margin comes off the time to live";
}

TEST(lease_validity, a_heartbeat_after_the_deadline_ends_every_earlier_fence) {
  lease_validity v;
  lease_validity::clock::time_point t0{std::chrono::seconds(1000)};
  v.renew(t0, 10s, 2s, t0);
  auto old = v.generation();
  // Frozen for a minute: the heartbeat that finally gets through must not revive old fences.
  EXPECT_TRUE(v.renew(t0 + 60s, 10s, 2s, t0 + 60s + 1ms));
  EXPECT_FALSE(v.valid(old, t0 + 60s + 2ms));
  EXPECT_TRUE(v.valid(v.generation(), t0 + 60s + 2ms));
}

TEST(lease_validity, lapse_ends_the_generation_at_once) {
  lease_validity v;
  lease_validity::clock::time_point t0{std::chrono::seconds(1000)};
  v.renew(t0, 10s, 2s, t0);
  auto g = v.generation();
  v.lapse();
  EXPECT_FALSE(v.valid(g, t0 + 1ms));
  EXPECT_FALSE(v.valid(v.generation(), t0 + 1ms)) << "no deadline until the next heartbeat";
}

TEST(lease_validity, a_fence_refuses_work_once_its_lease_is_gone) {
  auto v = std::make_shared<lease_validity>();
  auto now = lease_validity::clock::now();
  v->renew(now, 60s, 1s, now);
  lease_fence f{"mapping", "m1", "node-a", 3, "c1", v->generation(), v};
  EXPECT_TRUE(f.valid_now());
  EXPECT_NO_THROW(f.require_valid("commit"));
  v->lapse();
  EXPECT_FALSE(f.valid_now());
  EXPECT_THROW(f.require_valid("commit"), fenced_out);
}

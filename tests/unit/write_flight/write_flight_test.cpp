#include "sync/write_flight.hpp"

#include <gtest/gtest.h>

using namespace syncforce;

namespace {

write_item item(std::int64_t record_id, std::optional<std::string> sfid = std::nullopt) {
  write_item i;
  i.entry_id = record_id * 10;
  i.record_id = record_id;
  i.sfid = std::move(sfid);
  return i;
}

write_batch batch(std::string table, write_action action, std::vector<write_item> items,
                  write_transport transport = write_transport::collection) {
  write_batch b;
  b.table = std::move(table);
  b.action = action;
  b.operation = action == write_action::insert   ? write_operation::create
                : action == write_action::update ? write_operation::update
                                                 : write_operation::remove;
  b.transport = transport;
  b.items = std::move(items);
  return b;
}

const flight_table plain{};

} // namespace

TEST(write_flight, nothing_in_flight_always_allows_a_batch) {
  write_plan p;
  p.batches.push_back(batch("contact", write_action::insert, {item(1)}, write_transport::bulk));
  EXPECT_TRUE(may_fly_with(p, {}, 0, write_mode::ordered, flight_table{true}));
}

TEST(write_flight, merged_writes_of_one_table_and_disjoint_records_fly_together_up_to_the_limit) {
  write_plan p;
  for (std::int64_t b = 0; b < 6; ++b)
    p.batches.push_back(batch("contact", write_action::insert, {item(2 * b), item(2 * b + 1)}));
  EXPECT_TRUE(may_fly_with(p, {0}, 1, write_mode::merged, plain));
  EXPECT_TRUE(may_fly_with(p, {0, 1, 2}, 3, write_mode::merged, plain));
  EXPECT_FALSE(may_fly_with(p, {0, 1, 2, 3}, 4, write_mode::merged, plain));
  EXPECT_TRUE(may_fly_with(p, {0, 1, 2, 3}, 4, write_mode::merged, plain, 5));
}

TEST(write_flight, two_changes_of_one_record_never_fly_together) {
  write_plan p;
  p.batches.push_back(batch("contact", write_action::update, {item(1, "003A"), item(2, "003B")}));
  p.batches.push_back(batch("contact", write_action::update, {item(3, "003C"), item(2, "003B")}));
  p.batches.push_back(batch("contact", write_action::remove, {item(4, "003D")}));
  EXPECT_FALSE(may_fly_with(p, {0}, 1, write_mode::ordered, plain));
  EXPECT_FALSE(may_fly_with(p, {0}, 1, write_mode::merged, plain));
  EXPECT_TRUE(may_fly_with(p, {0}, 2, write_mode::ordered, plain));
  // Known only by sfid (recaptured by hand without a row id): the same record.
  write_plan q;
  auto by_sfid = item(0, "003B");
  by_sfid.record_id.reset();
  q.batches.push_back(batch("contact", write_action::update, {item(2, "003B")}));
  q.batches.push_back(batch("contact", write_action::update, {by_sfid}));
  EXPECT_FALSE(may_fly_with(q, {0}, 1, write_mode::merged, plain));
}

TEST(write_flight, another_table_waits_for_every_answer_in_flight) {
  write_plan p;
  p.batches.push_back(batch("account", write_action::insert, {item(1)}));
  p.batches.push_back(batch("contact", write_action::insert, {item(1)}));
  p.batches.push_back(batch("account", write_action::update, {item(2, "001B")}));
  EXPECT_FALSE(may_fly_with(p, {0}, 1, write_mode::merged, plain));
  EXPECT_FALSE(may_fly_with(p, {0}, 1, write_mode::ordered, plain));
  EXPECT_FALSE(may_fly_with(p, {0, 1}, 2, write_mode::merged, plain));
}

TEST(write_flight, ordered_writes_send_nothing_of_a_table_while_its_insert_is_unanswered) {
  // A failed INSERT stops the table's queue: what follows it must not be on the wire.
  write_plan p;
  p.batches.push_back(batch("contact", write_action::insert, {item(1)}));
  p.batches.push_back(batch("contact", write_action::insert, {item(2)}));
  p.batches.push_back(batch("contact", write_action::update, {item(3, "003C")}));
  p.batches.push_back(batch("contact", write_action::insert, {item(4)}));
  EXPECT_FALSE(may_fly_with(p, {0}, 1, write_mode::ordered, plain));
  EXPECT_TRUE(may_fly_with(p, {0}, 1, write_mode::merged, plain));
  // Updates in flight do not stop a queue: an INSERT after them may go.
  EXPECT_TRUE(may_fly_with(p, {2}, 3, write_mode::ordered, plain));
}

TEST(write_flight, a_table_with_relationship_columns_sends_one_call_at_a_time) {
  write_plan p;
  p.batches.push_back(batch("account", write_action::insert, {item(1)}));
  p.batches.push_back(batch("account", write_action::insert, {item(2)}));
  EXPECT_FALSE(may_fly_with(p, {0}, 1, write_mode::merged, flight_table{true}));
  EXPECT_TRUE(has_relationship_columns({"name", "parent__r__ext_id__c"}));
  EXPECT_FALSE(has_relationship_columns({"name", "parentid", "ext_id__c"}));
}

TEST(write_flight, bulk_jobs_never_share_the_wire) {
  write_plan p;
  p.batches.push_back(batch("contact", write_action::update, {item(1, "003A")}));
  p.batches.push_back(batch("contact", write_action::update, {item(2, "003B")}, write_transport::bulk));
  p.batches.push_back(batch("contact", write_action::update, {item(3, "003C")}));
  EXPECT_FALSE(may_fly_with(p, {0}, 1, write_mode::merged, plain));
  EXPECT_FALSE(may_fly_with(p, {1}, 2, write_mode::merged, plain));
}

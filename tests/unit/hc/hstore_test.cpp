#include "sync/hstore.hpp"

#include <gtest/gtest.h>

using namespace syncforce;

TEST(hstore, parses_postgres_output) {
  auto r = parse_hstore(R"("a"=>"1", "b"=>NULL, "name"=>"O'Brien")");
  ASSERT_TRUE(r.ok()) << r.error.message;
  const auto& h = *r.value;
  ASSERT_EQ(h.size(), 3u);
  EXPECT_EQ(h.entries()[0].key, "a");
  EXPECT_EQ(h.get("a"), "1");
  EXPECT_TRUE(h.contains("b"));
  EXPECT_EQ(h.get("b"), std::nullopt);
  EXPECT_EQ(h.find("b")->value, std::nullopt);
  EXPECT_EQ(h.get("name"), "O'Brien");
  EXPECT_FALSE(h.contains("c"));
}

TEST(hstore, escapes_round_trip) {
  hstore h;
  h.set("quote\"key", std::string{"va\\lue \"x\""});
  h.set("empty", std::string{});
  h.set("null", std::nullopt);
  h.set("text NULL", std::string{"NULL"});
  h.set("multi", std::string{"line1\nline2\t=> ,"});
  h.set("utf8", std::string{"M\xC3\xBCller"});
  auto text = to_hstore_text(h);
  EXPECT_NE(text.find(R"("quote\"key"=>"va\\lue \"x\"")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("null"=>NULL)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("text NULL"=>"NULL")"), std::string::npos) << text;
  auto back = parse_hstore(text);
  ASSERT_TRUE(back.ok()) << back.error.message;
  EXPECT_EQ(*back.value, h);
  EXPECT_EQ(back.value->get("text NULL"), "NULL"); // quoted NULL is a string
  EXPECT_EQ(back.value->get("null"), std::nullopt);
}

TEST(hstore, bare_tokens_and_spacing) {
  auto r = parse_hstore("  a => b ,c=>NuLL,  \"d\"=>\"\"  ");
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(r.value->get("a"), "b");
  EXPECT_TRUE(r.value->contains("c"));
  EXPECT_EQ(r.value->get("c"), std::nullopt);
  EXPECT_EQ(r.value->get("d"), "");
}

TEST(hstore, empty_and_duplicates) {
  auto empty = parse_hstore("");
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty.value->empty());
  EXPECT_EQ(to_hstore_text(*empty.value), "");
  auto dup = parse_hstore(R"("a"=>"1", "a"=>"2")");
  ASSERT_TRUE(dup.ok());
  EXPECT_EQ(dup.value->size(), 1u);
  EXPECT_EQ(dup.value->get("a"), "1");
}

// Keys in PostgreSQL's own order (shorter first, then bytewise) are taken without a look-up; a duplicate
// can only come after the order breaks, and is found there, with few pairs and with many.
TEST(hstore, duplicates_are_found_wherever_the_order_breaks) {
  for (int width : {4, 40}) {
    std::string text;
    for (int i = 0; i < width; ++i)
      text += (i ? ", " : "") + std::string{"\"k"} + std::to_string(100 + i) + "\"=>\"v" + std::to_string(i) + "\"";
    // In order up to here; then a key out of order that is new, then two repeats.
    text += R"(, "a"=>"new", "k101"=>"again", "k100"=>"again")";
    auto r = parse_hstore(text);
    ASSERT_TRUE(r.ok()) << r.error.message;
    EXPECT_EQ(r.value->size(), static_cast<std::size_t>(width) + 1) << width;
    EXPECT_EQ(r.value->get("k101"), "v1") << width;
    EXPECT_EQ(r.value->get("k100"), "v0") << width;
    EXPECT_EQ(r.value->get("a"), "new") << width;
  }
  // A repeat right after its first, and one of a key that was itself out of order.
  auto r = parse_hstore(R"("b"=>"1", "b"=>"2", "a"=>"3", "c"=>"4", "a"=>"5")");
  ASSERT_TRUE(r.ok()) << r.error.message;
  EXPECT_EQ(r.value->size(), 3u);
  EXPECT_EQ(r.value->get("b"), "1");
  EXPECT_EQ(r.value->get("a"), "3");
}

TEST(hstore, rejects_malformed_text_with_position) {
  for (const char* bad : {R"("a"=>"1)", R"("a"="1")", R"("a"=>"1" "b"=>"2")", R"("a"=>"1",)",
                          R"("a")", R"(=>"x")", R"("a"=>"1\)"}) {
    auto r = parse_hstore(bad);
    EXPECT_FALSE(r.ok()) << bad;
    EXPECT_FALSE(r.error.message.empty()) << bad;
    EXPECT_LE(r.error.position, std::string_view{bad}.size()) << bad;
  }
  auto r = parse_hstore(R"("a"=>"1" "b")");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error.position, 9u);
}

TEST(hstore, set_erase_and_equality_ignores_order) {
  hstore a;
  a.set("x", std::string{"1"});
  a.set("y", std::nullopt);
  hstore b;
  b.set("y", std::nullopt);
  b.set("x", std::string{"1"});
  EXPECT_EQ(a, b);
  b.set("x", std::string{"2"});
  EXPECT_NE(a, b);
  EXPECT_TRUE(b.erase("x"));
  EXPECT_FALSE(b.erase("x"));
  EXPECT_EQ(b.size(), 1u);
}

TEST(hstore, wide_rows_keep_first_duplicate_and_order) {
  std::string text;
  for (int i = 0; i < 100; ++i)
    text += (i ? ", " : "") + std::string{"\"k"} + std::to_string(i % 60) + "\"=>\"v" + std::to_string(i) + "\"";
  auto r = parse_hstore(text);
  ASSERT_TRUE(r.ok()) << r.error.message;
  ASSERT_EQ(r.value->size(), 60u);
  EXPECT_EQ(r.value->entries()[59].key, "k59");
  EXPECT_EQ(r.value->get("k5"), "v5"); // not v65
  EXPECT_EQ(r.value->get("k59"), "v59");
}

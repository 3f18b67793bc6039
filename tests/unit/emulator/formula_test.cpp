#include "emulator/formula.hpp"

#include <gtest/gtest.h>

#include <map>

using namespace sfemu;

namespace {

struct fake_resolver : formula_resolver {
  std::map<std::string, fvalue> values;
  fvalue field(const std::vector<std::string>& path) const override {
    std::string key;
    for (auto& p : path)
      key += (key.empty() ? "" : ".") + p;
    auto it = values.find(key);
    return it == values.end() ? fvalue::null() : it->second;
  }
  std::int64_t now_ms() const override { return 86400000LL * 10 + 5000; }
};

fvalue eval(const std::string& text, const fake_resolver& r) {
  std::string err;
  auto f = formula::parse(text, err);
  EXPECT_TRUE(f) << text << ": " << err;
  if (!f)
    return {};
  return f->evaluate(r);
}

} // namespace

TEST(formula, concatenation_and_parent_paths) {
  fake_resolver r;
  r.values["Name"] = fvalue::text("Widget");
  r.values["Account.Name"] = fvalue::text("Acme");
  auto v = eval("Account.Name & ' / ' & Name", r);
  EXPECT_EQ(v.k, fvalue::kind::text);
  EXPECT_EQ(v.s, "Acme / Widget");
  std::string err;
  auto f = formula::parse("Account.Owner.Name & Name", err);
  ASSERT_TRUE(f);
  ASSERT_EQ(f->references().size(), 2u);
  EXPECT_EQ(f->references()[0], (std::vector<std::string>{"Account", "Owner", "Name"}));
}

TEST(formula, arithmetic_and_functions) {
  fake_resolver r;
  r.values["Price__c"] = fvalue::number(10);
  r.values["Qty__c"] = fvalue::number(3);
  EXPECT_DOUBLE_EQ(eval("Price__c * Qty__c + 1", r).n, 31);
  EXPECT_DOUBLE_EQ(eval("(Price__c + 2) / 4", r).n, 3);
  EXPECT_DOUBLE_EQ(eval("2 ^ 3 ^ 2", r).n, 512);
  EXPECT_DOUBLE_EQ(eval("-Price__c", r).n, -10);
  EXPECT_EQ(eval("IF(Price__c > 5, 'big', 'small')", r).s, "big");
  EXPECT_EQ(eval("UPPER('abc') & LOWER('DEF')", r).s, "ABCdef");
  EXPECT_EQ(eval("TEXT(Price__c)", r).s, "10");
  EXPECT_TRUE(eval("ISBLANK(Missing__c)", r).b);
  EXPECT_FALSE(eval("ISBLANK(Price__c)", r).b);
  EXPECT_EQ(eval("BLANKVALUE(Missing__c, 'none')", r).s, "none");
  EXPECT_EQ(eval("CASE(Qty__c, 1, 'one', 3, 'three', 'many')", r).s, "three");
  EXPECT_EQ(eval("LEFT('abcdef', 2) & MID('abcdef', 3, 2) & RIGHT('abcdef', 1)", r).s, "abcdf");
  EXPECT_TRUE(eval("AND(Price__c = 10, NOT(Qty__c = 4)) && CONTAINS('hello', 'ell')", r).b);
  EXPECT_DOUBLE_EQ(eval("ROUND(2.346, 2)", r).n, 2.35);
  EXPECT_EQ(eval("TODAY()", r).t, 10);
}

TEST(formula, null_propagation) {
  fake_resolver r;
  EXPECT_EQ(eval("Missing__c + 1", r).k, fvalue::kind::null);
  EXPECT_EQ(eval("Missing__c & 'x'", r).s, "x");
  EXPECT_EQ(eval("1 / 0", r).k, fvalue::kind::null);
}

TEST(formula, syntax_errors_are_reported) {
  std::string err;
  EXPECT_FALSE(formula::parse("IF(Name = 'x', 1", err));
  EXPECT_FALSE(err.empty());
  EXPECT_FALSE(formula::parse("FOO(1)", err));
  EXPECT_NE(err.find("FOO"), std::string::npos);
  EXPECT_FALSE(formula::parse("'unterminated", err));
  EXPECT_FALSE(formula::parse("1 +", err));
  EXPECT_FALSE(formula::parse("a..b", err));
}

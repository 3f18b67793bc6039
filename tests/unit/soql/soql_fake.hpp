#pragma once

// A tiny in-memory schema and record store for the SOQL engine's unit tests.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "emulator/soql/soql.hpp"

namespace soql_fake {

using namespace sfemu::soql;

/// Schema: Account, Contact, User with a few typed fields each.
class schema final : public schema_view {
public:
  schema() {
    auto ref = [](std::string name, std::uint32_t slot, std::string rel, std::string target) {
      field_info f{std::move(name), field_type::reference, slot};
      f.relationship_name = std::move(rel);
      f.reference_to = {std::move(target)};
      return f;
    };
    std::vector<field_info> account{
      {"Id", field_type::id, 0},
      {"Name", field_type::string, 1},
      {"IsDeleted", field_type::boolean, 2},
      {"AnnualRevenue", field_type::currency, 3},
      {"NumberOfEmployees", field_type::integer, 4},
      {"Industry", field_type::picklist, 5},
      {"CreatedDate", field_type::datetime, 6},
      {"SystemModstamp", field_type::datetime, 7},
      {"LastActivityDate", field_type::date, 8},
      ref("OwnerId", 9, "Owner", "User"),
      ref("ParentId", 10, "Parent", "Account"),
      {"Tags__c", field_type::multipicklist, 11},
      {"Rating__c", field_type::double_, 12},
    };
    field_info notes{"Notes__c", field_type::textarea, 13};
    notes.filterable = false;
    notes.sortable = false;
    account.push_back(notes);
    account.push_back({"OpenTime__c", field_type::time, 14});
    objects_.push_back(std::make_unique<basic_object_info>("Account", std::move(account)));
    objects_.push_back(std::make_unique<basic_object_info>(
      "Contact", std::vector<field_info>{
                   {"Id", field_type::id, 0},
                   {"LastName", field_type::string, 1},
                   ref("AccountId", 2, "Account", "Account"),
                   {"Email", field_type::email, 3},
                   {"Birthdate", field_type::date, 4},
                 }));
    objects_.push_back(std::make_unique<basic_object_info>(
      "User", std::vector<field_info>{
                {"Id", field_type::id, 0},
                {"Name", field_type::string, 1},
                {"IsActive", field_type::boolean, 2},
              }));
  }

  const object_info* find_object(std::string_view name) const override {
    for (const auto& o : objects_)
      if (iequals(o->name(), name))
        return o.get();
    return nullptr;
  }

private:
  std::vector<std::unique_ptr<basic_object_info>> objects_;
};

/// One stored cell.
struct cell {
  value_kind kind = value_kind::null;
  std::string s;
  std::int64_t i = 0;
  double d = 0;
};

/// A record: object name and cells by slot.
struct record {
  std::string object;
  std::map<std::uint32_t, cell> cells;
};

/// Records by id; views follow references through it.
class store {
public:
  explicit store(const schema& s) : schema_(s) {}

  /// Adds a record of `object` with `id`; returns it for set().
  record& add(const std::string& object, const std::string& id) {
    auto& r = records_[id];
    r.object = object;
    set(r, "Id", id);
    return r;
  }

  void set(record& r, const std::string& field, const std::string& s) {
    cell c;
    c.kind = value_kind::string;
    c.s = s;
    r.cells[slot(r, field)] = c;
  }
  void set_int(record& r, const std::string& field, std::int64_t i) { put(r, field, value_kind::integer, i, 0); }
  void set_double(record& r, const std::string& field, double d) { put(r, field, value_kind::decimal, 0, d); }
  void set_bool(record& r, const std::string& field, bool b) { put(r, field, value_kind::boolean, b ? 1 : 0, 0); }
  void set_date(record& r, const std::string& field, std::int64_t days) { put(r, field, value_kind::date, days, 0); }
  void set_datetime(record& r, const std::string& field, std::int64_t ms) {
    put(r, field, value_kind::datetime, ms, 0);
  }

  const record* find(const std::string& id) const {
    auto i = records_.find(id);
    return i == records_.end() ? nullptr : &i->second;
  }

  const std::map<std::string, record>& records() const { return records_; }

private:
  std::uint32_t slot(const record& r, const std::string& field) const {
    return schema_.find_object(r.object)->find_field(field)->slot;
  }
  void put(record& r, const std::string& field, value_kind k, std::int64_t i, double d) {
    cell c;
    c.kind = k;
    c.i = i;
    c.d = d;
    r.cells[slot(r, field)] = c;
  }

  const schema& schema_;
  std::map<std::string, record> records_;
};

/// record_view over the store.
class view final : public record_view {
public:
  view(const store& s, const record& r) : store_(&s), record_(&r) {}

  value get(const field_handle& h) const override {
    const record* r = record_;
    for (const auto& hop : h.hops) {
      auto c = r->cells.find(hop.reference.slot);
      if (c == r->cells.end() || c->second.kind != value_kind::string)
        return value::null();
      r = store_->find(c->second.s);
      if (r == nullptr)
        return value::null();
    }
    auto c = r->cells.find(h.field.slot);
    if (c == r->cells.end())
      return value::null();
    const cell& x = c->second;
    switch (x.kind) {
      case value_kind::string: return value::string(x.s);
      case value_kind::integer: return value::integer(x.i);
      case value_kind::decimal: return value::decimal(x.d);
      case value_kind::boolean: return value::boolean(x.i != 0);
      case value_kind::date: return value::date(x.i);
      case value_kind::datetime: return value::datetime(x.i);
      default: return value::null();
    }
  }

private:
  const store* store_;
  const record* record_;
};

} // namespace soql_fake

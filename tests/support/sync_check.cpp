#include "tests/support/sync_check.hpp"

#include "salesforce/client.hpp"

#include <pqxx/pqxx>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <sstream>

namespace syncforce::testing {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

using values = std::vector<std::optional<std::string>>; // normalised, in `fields` order

void note(sync_comparison& c, const std::string& what) {
  if (c.examples.size() < 12)
    c.examples.push_back(what);
}

std::string show(const std::optional<std::string>& v) {
  return v ? "'" + *v + "'" : std::string("NULL");
}

} // namespace

std::string normalise_value(field_kind kind, const std::string& text) {
  switch (kind) {
  case field_kind::text:
  case field_kind::date:
    return text;
  case field_kind::boolean: {
    auto l = lower(text);
    return l == "t" || l == "true" ? "true" : l == "f" || l == "false" ? "false" : text;
  }
  case field_kind::number: {
    char* end = nullptr;
    double d = std::strtod(text.c_str(), &end);
    if (end == text.c_str())
      return text;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.10g", d);
    return buf;
  }
  case field_kind::datetime: {
    // "2024-03-01T10:11:12.000+0000" (Salesforce) and "2024-03-01 10:11:12.5" (timestamp, UTC)
    // both become "2024-03-01T10:11:12.500".
    if (text.size() < 19)
      return text;
    std::string out = text.substr(0, 10) + "T" + text.substr(11, 8);
    std::string ms;
    if (text.size() > 19 && text[19] == '.')
      for (std::size_t i = 20; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i)
        ms += text[i];
    ms = (ms + "000").substr(0, 3);
    return out + "." + ms;
  }
  }
  return text;
}

bool sync_comparison::equal() const {
  return sf_records == pg_rows && pg_without_sfid == 0 && pg_duplicate_sfids == 0 && sf_duplicate_keys == 0 &&
         missing_in_pg == 0 && missing_in_sf == 0 && value_mismatches == 0;
}

std::string sync_comparison::describe() const {
  std::ostringstream out;
  out << "Salesforce " << sf_records << " records, PostgreSQL " << pg_rows << " rows (" << pg_without_sfid
      << " without sfid, " << pg_duplicate_sfids << " duplicate sfids); Salesforce duplicates " << sf_duplicate_keys
      << "; only in Salesforce " << missing_in_pg << ", only in PostgreSQL " << missing_in_sf
      << "; records with different values " << value_mismatches;
  for (const auto& e : examples)
    out << "\n  " << e;
  return out.str();
}

sync_comparison compare_sync(salesforce::client& sf, const std::string& database_url, const std::string& object,
                             const std::string& schema, const std::string& table,
                             const std::vector<compared_field>& fields, const std::string& identity_key) {
  sync_comparison c;
  std::size_t key_index = fields.size();
  std::string soql = "SELECT Id";
  for (std::size_t i = 0; i < fields.size(); ++i) {
    soql += ", " + fields[i].name;
    if (fields[i].name == identity_key)
      key_index = i;
  }
  soql += " FROM " + object;

  // ---- Salesforce -------------------------------------------------------------
  std::map<std::string, values> sf_side;
  std::map<std::string, std::vector<std::string>> by_key;
  auto cursor = sf.query(soql);
  while (!cursor.done()) {
    auto page = cursor.next_page();
    if (!page) {
      note(c, "Salesforce query failed: " + page.error().describe());
      c.value_mismatches = -1; // never equal
      return c;
    }
    for (const auto& r : page->records) {
      values v;
      for (const auto& f : fields) {
        const auto* fv = r.find(f.name);
        if (fv == nullptr || fv->is_null())
          v.emplace_back();
        else
          v.emplace_back(normalise_value(f.kind, fv->text));
      }
      std::string id(r.text("Id"));
      if (key_index < fields.size() && v[key_index])
        by_key[*v[key_index]].push_back(id);
      sf_side[id.substr(0, 18)] = std::move(v);
      ++c.sf_records;
    }
  }
  for (const auto& [key, ids] : by_key) {
    if (ids.size() < 2)
      continue;
    c.sf_duplicate_keys += static_cast<long>(ids.size()) - 1;
    std::string list;
    for (const auto& id : ids)
      list += (list.empty() ? "" : ", ") + id;
    note(c, "duplicate in Salesforce: " + identity_key + " '" + key + "' on " + list);
  }

  // ---- PostgreSQL -------------------------------------------------------------
  pqxx::connection conn(database_url);
  pqxx::nontransaction tx(conn);
  std::string sql = "SELECT sfid";
  for (const auto& f : fields)
    sql += ", " + tx.quote_name(lower(f.name)) + "::text";
  sql += " FROM " + tx.quote_name(schema) + "." + tx.quote_name(table);
  std::map<std::string, int> seen;
  for (const auto& row : tx.exec(sql)) {
    ++c.pg_rows;
    if (row[0].is_null()) {
      ++c.pg_without_sfid;
      auto key_column = static_cast<pqxx::row::size_type>(key_index + 1);
      std::string key =
        key_index < fields.size() && !row[key_column].is_null() ? row[key_column].as<std::string>() : std::string("?");
      note(c, "row without sfid in PostgreSQL: " + identity_key + " '" + key + "'");
      continue;
    }
    auto sfid = row[0].as<std::string>();
    if (++seen[sfid] == 2) {
      ++c.pg_duplicate_sfids;
      note(c, "sfid " + sfid + " on more than one row in PostgreSQL");
    }
    auto it = sf_side.find(sfid);
    if (it == sf_side.end()) {
      ++c.missing_in_sf;
      note(c, "only in PostgreSQL: sfid " + sfid);
      continue;
    }
    bool differs = false;
    for (std::size_t i = 0; i < fields.size(); ++i) {
      auto column = static_cast<pqxx::row::size_type>(i + 1);
      std::optional<std::string> pg;
      if (!row[column].is_null())
        pg = normalise_value(fields[i].kind, row[column].as<std::string>());
      if (pg != it->second[i]) {
        if (!differs)
          note(c, "sfid " + sfid + " " + fields[i].name + ": Salesforce " + show(it->second[i]) + ", PostgreSQL " +
                    show(pg));
        differs = true;
      }
    }
    if (differs)
      ++c.value_mismatches;
  }
  for (const auto& [id, v] : sf_side) {
    if (seen.count(id))
      continue;
    ++c.missing_in_pg;
    note(c, "only in Salesforce: " + id +
              (key_index < fields.size() && v[key_index] ? " (" + identity_key + " '" + *v[key_index] + "')" : ""));
  }
  return c;
}

} // namespace syncforce::testing

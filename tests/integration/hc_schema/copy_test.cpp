#include "hc_fixture.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <thread>

using namespace syncforce;
using namespace syncforce::hc_test;
using namespace std::chrono_literals;

namespace {

/// One field of every Salesforce type the type table covers.
std::vector<sf_field_info> all_types_describe() {
  return {{"Id", sf_field_type::id, 18},
          {"Name", sf_field_type::string, 80},
          {"Description", sf_field_type::textarea, 32000},
          {"Short_Text__c", sf_field_type::textarea, 255},
          {"Stage__c", sf_field_type::picklist, 40},
          {"Tags__c", sf_field_type::multipicklist, 4099},
          {"Combo__c", sf_field_type::combobox, 255},
          {"Email__c", sf_field_type::email, 80},
          {"Phone__c", sf_field_type::phone, 40},
          {"Site__c", sf_field_type::url, 255},
          {"Secret__c", sf_field_type::encryptedstring, 175},
          {"AccountId", sf_field_type::reference, 18},
          {"Active__c", sf_field_type::boolean, 0},
          {"Count__c", sf_field_type::int_, 0},
          {"Big__c", sf_field_type::long_, 0},
          {"Amount__c", sf_field_type::currency, 0},
          {"Ratio__c", sf_field_type::percent, 0},
          {"Score__c", sf_field_type::double_, 0},
          {"Birthdate__c", sf_field_type::date, 0},
          {"SystemModstamp", sf_field_type::datetime, 0},
          {"Alarm__c", sf_field_type::time, 0},
          {"Loc__c", sf_field_type::location, 0},
          {"Payload__c", sf_field_type::any_type, 0},
          {"IsDeleted", sf_field_type::boolean, 0}};
}

hc_table_spec all_types_spec(const std::string& schema) {
  mapping_config m;
  m.object_name = "Everything__c";
  m.access = mapping_access::read_write;
  for (const auto& f : all_types_describe())
    m.fields.push_back(f.name);
  auto r = make_table_spec(schema, m, all_types_describe());
  EXPECT_TRUE(r.ok());
  return *r.spec;
}

std::string pad(long v, int width) {
  std::string s = std::to_string(v);
  while (static_cast<int>(s.size()) < width)
    s.insert(s.begin(), '0');
  return s;
}

/// The wire value Salesforce would send for column `c` of record `i` (nullopt: null).
std::optional<std::string> wire_value(const pg_column& c, long i) {
  if (c.name != "sfid" && i % 97 == 3)
    return std::nullopt; // some nulls everywhere
  if (c.name == "sfid" || c.name == "accountid")
    return "a0B" + pad(i, 12) + "AAA";
  switch (c.kind) {
    case pg_value_kind::boolean:
      return c.name == "isdeleted" ? "false" : (i % 2 ? "true" : "false");
    case pg_value_kind::double_precision:
      if (c.name == "loc__latitude__s")
        return std::to_string(-90 + (i % 180)) + ".25";
      return std::to_string(i * 3) + "." + std::to_string(i % 8 * 125);
    case pg_value_kind::date:
      return std::to_string(1950 + i % 70) + "-" + pad(1 + i % 12, 2) + "-" + pad(1 + i % 28, 2);
    case pg_value_kind::timestamp:
      return std::to_string(2000 + i % 25) + "-" + pad(1 + i % 12, 2) + "-" + pad(1 + i % 28, 2) + "T"
             + pad(i % 24, 2) + ":" + pad(i % 60, 2) + ":" + pad((i * 7) % 60, 2) + "."
             + pad(i % 1000, 3) + "+0000";
    case pg_value_kind::time:
      return pad(i % 24, 2) + ":" + pad(i % 60, 2) + ":00.000Z";
    default:
      break;
  }
  if (c.name == "description")
    return "Line one\nline two\twith tab \\ backslash \"quote\" 'single' caf\xC3\xA9 #" + std::to_string(i);
  if (c.name == "tags__c")
    return "A;B;C" + std::to_string(i % 5);
  std::string s = c.name.substr(0, 3) + "-" + std::to_string(i);
  if (c.max_length && static_cast<std::int64_t>(s.size()) > *c.max_length)
    s.resize(static_cast<std::size_t>(*c.max_length));
  return s;
}

/// What PostgreSQL returns for the converted value (trims trailing zeros of fractions).
std::string expected_text(const pg_column& c, const std::string& converted) {
  return converted;
}

} // namespace

TEST_F(hc_fixture, copy_load_of_50000_rows_with_every_type_round_trips) {
  const auto spec = all_types_spec(schema_);
  apply(spec);
  constexpr long rows = 50000;
  std::vector<std::string> columns;
  for (const auto& c : spec.columns)
    columns.push_back(c.name);

  auto start = std::chrono::steady_clock::now();
  {
    pqxx::work tx{*engine_};
    store::copy_writer writer{tx, schema_, spec.table, columns};
    pg_row row(columns.size());
    // The first rows one by one, the rest as lines sent in blocks (write_lines,
    // as a load page is): both must arrive whole, in many blocks.
    constexpr long one_by_one = 1000;
    std::vector<std::string> lines;
    std::string line;
    for (long i = 0; i < rows; ++i) {
      for (std::size_t k = 0; k < spec.columns.size(); ++k) {
        auto w = wire_value(spec.columns[k], i);
        auto v = convert_wire_value(spec.columns[k].kind, w.value_or(""), !w.has_value());
        ASSERT_TRUE(v.ok()) << v.error;
        row[k] = std::move(v.text);
      }
      if (i < one_by_one) {
        writer.write(row);
        continue;
      }
      store::copy_writer::format_line(row, line);
      lines.push_back(line);
    }
    writer.write_lines(lines, 0, lines.size() / 3);
    writer.write_lines(lines, lines.size() / 3, lines.size());
    EXPECT_EQ(writer.complete(), static_cast<std::size_t>(rows));
    tx.commit();
  }
  auto secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[ info ] COPY of %ld rows x %zu columns: %.2f s (%.0f rows/s)\n", rows, columns.size(), secs,
              rows / secs);

  EXPECT_EQ(count("SELECT count(*) FROM salesforce.everything__c"), rows);
  EXPECT_EQ(count("SELECT count(*) FROM salesforce._trigger_log"), 0); // engine writes are not captured
  EXPECT_EQ(count("SELECT count(*) FROM salesforce.everything__c WHERE _hc_lastop IS DISTINCT FROM 'SYNCED'"), 0);

  // Read every value back as text and compare with the conversion of the wire value.
  std::string select;
  for (const auto& c : columns)
    select += (select.empty() ? "" : ", ") + user_->quote_name(c);
  pqxx::work tx{*user_};
  auto result = tx.exec("SELECT " + select + " FROM salesforce.everything__c ORDER BY sfid");
  ASSERT_EQ(result.size(), static_cast<std::size_t>(rows));
  long mismatches = 0;
  for (long i = 0; i < rows; ++i) {
    const auto& r = result[static_cast<pqxx::result::size_type>(i)];
    for (std::size_t k = 0; k < spec.columns.size(); ++k) {
      const auto& c = spec.columns[k];
      auto w = wire_value(c, i);
      auto v = convert_wire_value(c.kind, w.value_or(""), !w.has_value());
      const auto& f = r[static_cast<pqxx::row::size_type>(k)];
      bool same = false;
      if (!v.text) {
        same = f.is_null();
      } else if (f.is_null()) {
        same = false;
      } else if (c.kind == pg_value_kind::double_precision) {
        same = std::fabs(f.as<double>() - std::stod(*v.text)) < 1e-9;
      } else {
        same = f.as<std::string>() == expected_text(c, *v.text);
      }
      if (!same && ++mismatches < 10)
        ADD_FAILURE() << "row " << i << " column " << c.name << ": got '" << (f.is_null() ? "NULL" : f.c_str())
                      << "' expected '" << v.text.value_or("NULL") << "'";
    }
  }
  EXPECT_EQ(mismatches, 0);
}

TEST_F(hc_fixture, upsert_inserts_updates_adopts_and_deletes) {
  auto spec = contact_spec();
  apply(spec);
  engine_exec("INSERT INTO salesforce.contact (sfid, name, systemmodstamp, external_id__c) VALUES "
              "('003A', 'Old A', '2024-01-01 00:00:00', 'ea'), "
              "('003B', 'Old B', '2024-01-01 00:00:00', 'eb'), "
              "('003D', 'To delete', '2024-01-01 00:00:00', 'ed'), "
              "('003S', 'Newer here', '2024-06-01 00:00:00', 'es')");
  // A row inserted in PostgreSQL, not yet written back (no sfid).
  user_exec("INSERT INTO salesforce.contact (name, external_id__c) VALUES ('Local C', 'ec')");
  auto local_id = query("SELECT id FROM salesforce.contact WHERE external_id__c = 'ec'")[0][0].as<long>();
  auto log_before = count("SELECT count(*) FROM salesforce._trigger_log");

  store::upsert_target target{schema_, "contact", {"sfid", "name", "systemmodstamp", "isdeleted", "external_id__c"},
                       std::string{"external_id__c"}};
  auto full = store::upsert_target_for(spec);
  EXPECT_EQ(full.columns.size(), spec.columns.size());
  EXPECT_EQ(full.upsert_column, "external_id__c");
  EXPECT_EQ(full.table, "contact");
  store::upsert_stats stats;
  {
    pqxx::work tx{*engine_};
    store::upsert_loader loader{tx, target};
    auto row = [](const char* sfid, const char* name, const char* stamp, const char* deleted, const char* ext) {
      return pg_row{std::string{sfid}, std::string{name}, std::string{stamp}, std::string{deleted}, std::string{ext}};
    };
    loader.write(row("003A", "A v1", "2024-02-01 00:00:00", "f", "ea"));
    loader.write(row("003A", "A v2", "2024-02-02 00:00:00", "f", "ea")); // later page wins
    loader.write(row("003C", "C from SF", "2024-02-01 00:00:00", "f", "ec"));  // adopts the local row
    loader.write(row("003D", "To delete", "2024-02-01 00:00:00", "t", "ed"));  // IsDeleted
    loader.write(row("003N", "New N", "2024-02-01 00:00:00", "f", "en"));      // new
    loader.write(row("003S", "Stale", "2024-02-01 00:00:00", "f", "es"));      // older than ours
    stats = loader.finish();
    tx.commit();
  }
  EXPECT_EQ(stats.staged, 6u);
  EXPECT_EQ(stats.deleted, 1u);
  EXPECT_EQ(stats.adopted, 1u);
  EXPECT_EQ(stats.inserted, 1u);
  EXPECT_EQ(stats.updated, 1u);
  EXPECT_EQ(stats.skipped, 1u);
  auto rows = query("SELECT sfid, name, _hc_lastop, id FROM salesforce.contact ORDER BY sfid");
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0][1].as<std::string>(), "A v2");
  EXPECT_EQ(rows[1][0].as<std::string>(), "003B");
  EXPECT_EQ(rows[2][0].as<std::string>(), "003C");
  EXPECT_EQ(rows[2][1].as<std::string>(), "C from SF");
  EXPECT_EQ(rows[2][3].as<long>(), local_id); // adopted, not duplicated
  EXPECT_EQ(rows[3][0].as<std::string>(), "003N");
  EXPECT_EQ(rows[4][1].as<std::string>(), "Newer here");
  for (const auto& r : rows)
    EXPECT_EQ(r[2].as<std::string>(), "SYNCED") << r[0].c_str();
  EXPECT_EQ(count("SELECT count(*) FROM salesforce._trigger_log"), log_before);
}

TEST_F(hc_fixture, upsert_leaves_unchanged_rows_alone) {
  apply(contact_spec());
  engine_exec("INSERT INTO salesforce.contact (sfid, name, systemmodstamp) VALUES "
              "('003A', 'Same', '2024-01-01 00:00:00'), ('003B', 'Before', '2024-01-01 00:00:00')");
  auto xmin_before = query("SELECT xmin::text FROM salesforce.contact WHERE sfid = '003A'")[0][0].as<std::string>();
  store::upsert_target target{schema_, "contact", {"sfid", "name", "systemmodstamp"}, std::nullopt};
  pqxx::work tx{*engine_};
  store::upsert_loader loader{tx, target};
  // A poll re-reads the record at its high-water mark: same values, same stamp.
  loader.write(pg_row{std::string{"003A"}, std::string{"Same"}, std::string{"2024-01-01 00:00:00"}});
  // Same stamp, new value (two changes within one millisecond): still applied.
  loader.write(pg_row{std::string{"003B"}, std::string{"After"}, std::string{"2024-01-01 00:00:00"}});
  auto stats = loader.finish();
  tx.commit();
  EXPECT_EQ(stats.updated, 1u);
  EXPECT_EQ(stats.skipped, 1u);
  EXPECT_EQ(query("SELECT xmin::text FROM salesforce.contact WHERE sfid = '003A'")[0][0].as<std::string>(),
            xmin_before)
    << "an unchanged row must not be rewritten";
  EXPECT_EQ(query("SELECT name FROM salesforce.contact WHERE sfid = '003B'")[0][0].as<std::string>(), "After");
}

TEST_F(hc_fixture, event_values_compare_the_stamp_but_stamp_a_changed_row_just_below_it) {
  // Change events: within one second nothing orders an event against a
  // version a poll read, so an event still wins a tie, but the row it changes
  // must not claim the record's stamp: read repair's sweep (comparing stamps)
  // then fetches the record whole, should the event have been the older one.
  apply(contact_spec());
  engine_exec("INSERT INTO salesforce.contact (sfid, name, systemmodstamp) VALUES "
              "('003T', 'Read by a poll', '2024-01-01 00:00:47'), "
              "('003O', 'Newer here', '2024-01-01 00:00:47'), "
              "('003S', 'Same', '2024-01-01 00:00:10')");
  store::upsert_target target{schema_, "contact", {"sfid", "systemmodstamp", "name"}, std::nullopt, true};
  target.event_values = true;
  auto xmin_same = query("SELECT xmin::text FROM salesforce.contact WHERE sfid = '003S'")[0][0].as<std::string>();
  store::upsert_stats stats;
  {
    pqxx::work tx{*engine_};
    store::upsert_loader loader{tx, target};
    loader.write(pg_row{std::string{"003T"}, std::string{"2024-01-01 00:00:47"}, std::string{"Event, same second"}});
    loader.write(pg_row{std::string{"003O"}, std::string{"2024-01-01 00:00:46"}, std::string{"Older event"}});
    loader.write(pg_row{std::string{"003S"}, std::string{"2024-01-01 00:00:47"}, std::string{"Same"}});
    loader.write(pg_row{std::string{"003N"}, std::string{"2024-01-01 00:00:47"}, std::string{"Created"}});
    stats = loader.finish();
    tx.commit();
  }
  EXPECT_EQ(stats.inserted, 1u);
  EXPECT_EQ(stats.updated, 1u);
  EXPECT_EQ(stats.skipped, 2u);
  auto stamp_of = [&](const char* sfid) {
    return query(std::string{"SELECT to_char(systemmodstamp, 'YYYY-MM-DD HH24:MI:SS.MS'), name FROM "
                             "salesforce.contact WHERE sfid = '"} + sfid + "'")[0];
  };
  // The tie is applied, stamped 1 ms below the event.
  EXPECT_EQ(stamp_of("003T")[1].as<std::string>(), "Event, same second");
  EXPECT_EQ(stamp_of("003T")[0].as<std::string>(), "2024-01-01 00:00:46.999");
  // An older event changes nothing.
  EXPECT_EQ(stamp_of("003O")[1].as<std::string>(), "Newer here");
  EXPECT_EQ(stamp_of("003O")[0].as<std::string>(), "2024-01-01 00:00:47.000");
  // Equal values: the row is not rewritten, even for a newer stamp.
  EXPECT_EQ(stamp_of("003S")[0].as<std::string>(), "2024-01-01 00:00:10.000");
  EXPECT_EQ(query("SELECT xmin::text FROM salesforce.contact WHERE sfid = '003S'")[0][0].as<std::string>(),
            xmin_same);
  // A new row gets the event's own stamp.
  EXPECT_EQ(stamp_of("003N")[0].as<std::string>(), "2024-01-01 00:00:47.000");

  // A later change of the same second still applies over the row stamped below it,
  // and a whole read (a poll, the sweep's fetch) gives the row its stamp back.
  {
    pqxx::work tx{*engine_};
    store::upsert_loader loader{tx, target};
    loader.write(pg_row{std::string{"003T"}, std::string{"2024-01-01 00:00:47"}, std::string{"Later, same second"}});
    loader.finish();
    tx.commit();
  }
  EXPECT_EQ(stamp_of("003T")[1].as<std::string>(), "Later, same second");
  {
    pqxx::work tx{*engine_};
    target.event_values = false;
    store::upsert_loader loader{tx, target};
    loader.write(pg_row{std::string{"003T"}, std::string{"2024-01-01 00:00:47"}, std::string{"Read whole"}});
    loader.finish();
    tx.commit();
  }
  EXPECT_EQ(stamp_of("003T")[1].as<std::string>(), "Read whole");
  EXPECT_EQ(stamp_of("003T")[0].as<std::string>(), "2024-01-01 00:00:47.000");
}

TEST_F(hc_fixture, upsert_can_protect_pending_local_changes) {
  apply(contact_spec());
  engine_exec("INSERT INTO salesforce.contact (sfid, name) VALUES ('003A', 'Synced')");
  user_exec("UPDATE salesforce.contact SET name = 'Local edit'");
  store::upsert_target target{schema_, "contact", {"sfid", "name"}, std::nullopt, true};
  pqxx::work tx{*engine_};
  store::upsert_loader loader{tx, target};
  loader.write(pg_row{std::string{"003A"}, std::string{"Echo"}});
  auto stats = loader.finish();
  tx.commit();
  EXPECT_EQ(stats.skipped, 1u);
  EXPECT_EQ(query("SELECT name, _hc_lastop FROM salesforce.contact")[0][0].as<std::string>(), "Local edit");
}

TEST_F(hc_fixture, protected_upsert_adopts_a_pending_local_row_without_taking_its_values) {
  auto spec = contact_spec();
  apply(spec);
  engine_exec("INSERT INTO salesforce.contact (sfid, name, external_id__c) VALUES ('003A', 'Synced', 'ea')");
  // A local insert not yet written back, and a synced row with a change still in the log
  // (its _hc_lastop was already set back to SYNCED by an engine write).
  user_exec("INSERT INTO salesforce.contact (name, external_id__c) VALUES ('Local C', 'ec')");
  user_exec("UPDATE salesforce.contact SET name = 'Local A' WHERE sfid = '003A'");
  engine_exec("UPDATE salesforce.contact SET _hc_lastop = 'SYNCED' WHERE sfid = '003A'");
  store::upsert_target target{schema_, "contact", {"sfid", "name", "external_id__c"}, std::string{"external_id__c"}, true};
  pqxx::work tx{*engine_};
  store::upsert_loader loader{tx, target};
  loader.write(pg_row{std::string{"003A"}, std::string{"Echo A"}, std::string{"ea"}});
  loader.write(pg_row{std::string{"003C"}, std::string{"Echo C"}, std::string{"ec"}});
  auto stats = loader.finish();
  tx.commit();
  EXPECT_EQ(stats.adopted, 1u);
  EXPECT_EQ(stats.skipped, 1u);
  auto rows = query("SELECT sfid, name FROM salesforce.contact ORDER BY external_id__c");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0][1].as<std::string>(), "Local A") << "a change waiting in _trigger_log is protected";
  EXPECT_EQ(rows[1][0].as<std::string>(), "003C") << "the pending local row learns its sfid";
  EXPECT_EQ(rows[1][1].as<std::string>(), "Local C") << "and keeps its values";
}

namespace {

void load_rows(pqxx::connection& conn, const std::string& schema, const std::string& table, long n,
               const std::string& prefix) {
  pqxx::work tx{conn};
  store::copy_writer w{tx, schema, table, {"sfid", "name", "external_id__c"}};
  for (long i = 0; i < n; ++i)
    w.write(pg_row{prefix + std::to_string(i), "Name " + std::to_string(i), prefix + "e" + std::to_string(i)});
  w.complete();
  tx.commit();
}

/// A reload of `spec`: a fresh shadow table, `n` generated rows in it, swapped in.
store::reload_swap_result reload_with_rows(pqxx::connection& conn, const std::string& schema,
                                           const hc_table_spec& spec, long n, const std::string& prefix) {
  {
    pqxx::work tx{conn};
    store::create_reload_table(tx, spec);
    tx.commit();
  }
  load_rows(conn, schema, store::reload_table_name(spec.table), n, prefix);
  pqxx::work tx{conn};
  auto swapped = store::swap_reload_table(tx, spec);
  tx.commit();
  return swapped;
}

} // namespace

TEST_F(hc_fixture, reload_swap_keeps_ids_local_rows_and_pending_changes) {
  const auto spec = contact_spec();
  apply(spec);
  engine_exec("INSERT INTO salesforce.contact (sfid, name, external_id__c) VALUES "
              "('003A', 'A old', 'ea'), ('003B', 'B old', 'eb'), ('003G', 'Gone from Salesforce', 'eg')");
  user_exec("INSERT INTO salesforce.contact (name, external_id__c) VALUES ('Local only', 'el')");
  user_exec("UPDATE salesforce.contact SET name = 'B edited here' WHERE sfid = '003B'");
  auto id_of = [&](const std::string& where) {
    return query("SELECT id FROM salesforce.contact WHERE " + where)[0][0].as<long>();
  };
  auto id_a = id_of("sfid = '003A'");
  auto id_b = id_of("sfid = '003B'");
  auto id_local = id_of("external_id__c = 'el'");
  {
    pqxx::work tx{*engine_};
    store::create_reload_table(tx, spec);
    tx.commit();
  }
  {
    pqxx::work tx{*engine_};
    store::copy_writer w{tx, schema_, store::reload_table_name("contact"), {"sfid", "name", "external_id__c"}};
    w.write(pg_row{std::string{"003C"}, std::string{"C new"}, std::string{"ec"}});
    w.write(pg_row{std::string{"003A"}, std::string{"A new"}, std::string{"ea"}});
    w.write(pg_row{std::string{"003B"}, std::string{"B from Salesforce"}, std::string{"eb"}});
    w.complete();
    tx.commit();
  }
  {
    pqxx::work tx{*engine_};
    store::swap_reload_table(tx, spec);
    tx.commit();
  }
  EXPECT_EQ(id_of("sfid = '003A'"), id_a) << "ids survive a reload";
  EXPECT_EQ(query("SELECT name FROM salesforce.contact WHERE sfid = '003A'")[0][0].as<std::string>(), "A new");
  EXPECT_EQ(id_of("external_id__c = 'el'"), id_local) << "a row not yet written back is kept";
  EXPECT_EQ(id_of("sfid = '003B'"), id_b);
  auto b = query("SELECT name, _hc_lastop FROM salesforce.contact WHERE sfid = '003B'");
  EXPECT_EQ(b[0][0].as<std::string>(), "B edited here") << "a pending local change keeps its value";
  EXPECT_EQ(b[0][1].as<std::string>(), "PENDING");
  EXPECT_EQ(count("SELECT count(*) FROM salesforce.contact WHERE sfid = '003G'"), 0);
  EXPECT_GT(id_of("sfid = '003C'"), std::max({id_a, id_b, id_local}));
  // New rows continue above every id, and the table is captured again.
  user_exec("INSERT INTO salesforce.contact (name, external_id__c) VALUES ('After', 'ez')");
  EXPECT_GT(id_of("external_id__c = 'ez'"), id_of("sfid = '003C'"));
  EXPECT_EQ(count("SELECT count(*) FROM salesforce._trigger_log WHERE record_id = " +
                  std::to_string(id_of("external_id__c = 'ez'"))),
            1);
}

TEST_F(hc_fixture, reload_swap_never_shows_a_partial_table) {
  const auto spec = contact_spec();
  apply(spec);
  constexpr long old_rows = 20000;
  constexpr long new_rows = 30000;
  load_rows(*engine_, schema_, "contact", old_rows, "003O");

  std::atomic<bool> stop{false};
  std::atomic<long> reads{0};
  std::atomic<long> bad{0};
  std::atomic<long> last{0};
  std::thread reader([&] {
    pqxx::connection c{db_->url()};
    while (!stop) {
      pqxx::nontransaction tx{c};
      auto n = tx.exec1("SELECT count(*) FROM salesforce.contact")[0].as<long>();
      if (n != old_rows && n != new_rows)
        ++bad;
      last = n;
      ++reads;
    }
  });
  ASSERT_TRUE(syncforce::testing::wait_until([&] { return reads > 5; }, 10000ms));

  // Build the shadow while the reader keeps reading the live table.
  auto swapped = reload_with_rows(*engine_, schema_, spec, new_rows, "003N");
  EXPECT_TRUE(swapped.renamed);
  EXPECT_EQ(swapped.rows, static_cast<std::size_t>(new_rows));
  auto reads_at_swap = reads.load();
  EXPECT_TRUE(syncforce::testing::wait_until([&] { return last == new_rows && reads > reads_at_swap + 5; }, 10000ms));
  stop = true;
  reader.join();
  EXPECT_EQ(bad, 0);

  // The new table has the live names, triggers, and captures writes.
  auto idx = query("SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'contact'");
  EXPECT_EQ(idx[0][0].as<std::string>(),
            "contact_pkey,hc_idx_contact_systemmodstamp,hcu_idx_contact_external_id__c,hcu_idx_contact_sfid");
  EXPECT_EQ(query("SELECT pg_get_serial_sequence('salesforce.contact', 'id')")[0][0].as<std::string>(),
            "salesforce.contact_id_seq");
  EXPECT_EQ(count("SELECT count(*) FROM pg_class WHERE relname LIKE '%reload%'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM salesforce.contact WHERE _hc_lastop IS DISTINCT FROM 'SYNCED'"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM pg_attrdef WHERE adrelid = 'salesforce.contact'::regclass"), 1); // only id
  user_exec("INSERT INTO salesforce.contact (name) VALUES ('after swap')");
  EXPECT_EQ(count("SELECT count(*) FROM salesforce._trigger_log WHERE table_name = 'contact'"), 1);
  EXPECT_EQ(query("SELECT _hc_lastop FROM salesforce.contact WHERE name = 'after swap'")[0][0].as<std::string>(),
            "PENDING");
  // Applying the DDL again after a swap changes nothing.
  EXPECT_FALSE(apply(spec).changed());
}

TEST_F(hc_fixture, reload_swap_keeps_dependent_views_and_grants) {
  const auto spec = contact_spec();
  apply(spec);
  load_rows(*engine_, schema_, "contact", 10, "003O");
  user_exec("CREATE VIEW public.contact_names AS SELECT name FROM salesforce.contact");
  auto swapped = reload_with_rows(*engine_, schema_, spec, 25, "003N");
  EXPECT_FALSE(swapped.renamed); // rows copied so the view keeps working
  EXPECT_EQ(count("SELECT count(*) FROM public.contact_names"), 25);
  EXPECT_EQ(count("SELECT count(*) FROM salesforce._trigger_log"), 0);
  EXPECT_EQ(count("SELECT count(*) FROM pg_class WHERE relname LIKE '%reload%'"), 0);
  user_exec("INSERT INTO salesforce.contact (name) VALUES ('next')");
  EXPECT_GT(query("SELECT id FROM salesforce.contact WHERE name = 'next'")[0][0].as<long>(), 25);

  // Without the view, grants carry over to the renamed-in table.
  user_exec("DROP VIEW public.contact_names; GRANT SELECT ON salesforce.contact TO PUBLIC");
  {
    pqxx::work tx{*engine_};
    store::create_reload_table(tx, spec);
    tx.commit();
  }
  {
    pqxx::work tx{*engine_};
    EXPECT_TRUE(store::swap_reload_table(tx, spec).renamed);
    tx.commit();
  }
  EXPECT_EQ(count("SELECT count(*) FROM information_schema.role_table_grants WHERE table_schema = 'salesforce' "
                  "AND table_name = 'contact' AND grantee = 'PUBLIC' AND privilege_type = 'SELECT'"), 1);
}

TEST_F(hc_fixture, reload_swap_keeps_the_id_sequence_another_table_draws_from) {
  // An application's table numbered from the synced table's id sequence: dropping
  // the live table (and the sequence it owns) would fail the swap, or break that table.
  const auto spec = contact_spec();
  apply(spec);
  load_rows(*engine_, schema_, "contact", 10, "003O");
  user_exec("CREATE TABLE public.contact_notes (n bigint DEFAULT nextval('salesforce.contact_id_seq'), note text)");
  user_exec("INSERT INTO public.contact_notes (note) SELECT 'before' FROM generate_series(1, 100)");
  store::reload_swap_result swapped;
  ASSERT_NO_THROW(swapped = reload_with_rows(*engine_, schema_, spec, 25, "003N"));
  EXPECT_FALSE(swapped.renamed) << "the live table and its sequence are kept";
  EXPECT_EQ(count("SELECT count(*) FROM salesforce.contact"), 25);
  EXPECT_EQ(count("SELECT count(*) FROM pg_class WHERE relname LIKE '%reload%'"), 0);
  user_exec("INSERT INTO public.contact_notes (note) VALUES ('still numbered')");
  user_exec("INSERT INTO salesforce.contact (name) VALUES ('next')");
  EXPECT_EQ(count("SELECT count(DISTINCT n) FROM public.contact_notes"), 101)
    << "the swap did not move the sequence back under numbers already drawn";
  EXPECT_GT(query("SELECT id FROM salesforce.contact WHERE name = 'next'")[0][0].as<long>(),
            query("SELECT max(n) FROM public.contact_notes")[0][0].as<long>())
    << "both keep drawing from the one sequence";
}

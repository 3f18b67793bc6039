#include "store/cutover_catalog.hpp"

#include "store/hc_schema.hpp"
#include "store/sql_arrays.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

namespace syncforce::store {

namespace {

bool identifier_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '$';
}

std::string quoted(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"')
      out += '"';
    out += c;
  }
  return out + "\"";
}

/// The spellings PostgreSQL may print for `schema.table` (plain where plain is valid, or quoted).
std::vector<std::string> spellings(const std::string& schema, const std::string& table) {
  std::vector<std::string> out;
  for (const auto& s : {schema, quoted(schema)})
    for (const auto& t : {table, quoted(table)})
      out.push_back(s + "." + t);
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::string pg_array_text(const std::vector<std::string>& values) { return text_array(values); }

std::string oid_array(const std::vector<std::string>& oids) {
  std::string out = "{";
  for (std::size_t i = 0; i < oids.size(); ++i)
    out += (i == 0 ? "" : ",") + oids[i];
  return out + "}";
}

std::string text_of(const pqxx::field& f) { return f.is_null() ? std::string{} : f.as<std::string>(); }

/// GRANT statements for the ACL rows (privilege, grantee, grantable) on `target`.
std::vector<std::string> grant_statements(const pqxx::result& acl, const std::string& object_kind,
                                          const std::string& target) {
  std::map<std::pair<std::string, bool>, std::vector<std::string>> by_grantee;
  for (const auto& r : acl)
    by_grantee[{r[1].as<std::string>(), r[2].as<bool>()}].push_back(r[0].as<std::string>());
  std::vector<std::string> out;
  for (const auto& [who, privileges] : by_grantee) {
    std::string list;
    for (const auto& p : privileges)
      list += (list.empty() ? "" : ", ") + p;
    out.push_back("GRANT " + list + " ON " + object_kind + " " + target + " TO " + who.first +
                  (who.second ? " WITH GRANT OPTION" : ""));
  }
  return out;
}

constexpr const char* acl_query_tail =
  " a.privilege_type, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END, "
  "a.is_grantable";

/// The search_path items of a setting, split at top-level commas (quoted items keep their quotes).
std::vector<std::string> path_items(const std::string& path) {
  std::vector<std::string> items;
  std::string cur;
  bool in_quotes = false;
  for (char c : path) {
    if (c == '"')
      in_quotes = !in_quotes;
    if (c == ',' && !in_quotes) {
      items.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  items.push_back(cur);
  for (auto& i : items) {
    auto b = i.find_first_not_of(" \t");
    auto e = i.find_last_not_of(" \t");
    i = b == std::string::npos ? std::string{} : i.substr(b, e - b + 1);
  }
  items.erase(std::remove(items.begin(), items.end(), std::string{}), items.end());
  return items;
}

/// The schema an item names (unquoted; unquoted names fold to lower case).
std::string item_schema(const std::string& item) {
  if (item.size() >= 2 && item.front() == '"' && item.back() == '"') {
    std::string out;
    for (std::size_t i = 1; i + 1 < item.size(); ++i) {
      out += item[i];
      if (item[i] == '"' && i + 2 < item.size() && item[i + 1] == '"')
        ++i;
    }
    return out;
  }
  return lower(item);
}

} // namespace

std::string retarget(const std::string& text, const std::string& source_schema, const std::string& target_schema,
                     const std::vector<cutover_table>& tables) {
  std::string out = text;
  for (const auto& t : tables) {
    const auto replacement = quoted(target_schema) + "." + quoted(t.table);
    for (const auto& from : spellings(source_schema, t.table)) {
      std::size_t pos = 0;
      while ((pos = out.find(from, pos)) != std::string::npos) {
        const auto end = pos + from.size();
        const bool starts = pos == 0 || (!identifier_char(out[pos - 1]) && out[pos - 1] != '"' && out[pos - 1] != '.');
        const bool ends = end >= out.size() || (!identifier_char(out[end]) && out[end] != '"');
        if (starts && ends) {
          out.replace(pos, from.size(), replacement);
          pos += replacement.size();
        } else {
          pos = end;
        }
      }
    }
  }
  return out;
}

std::string search_path_with(const std::string& path, const std::string& source, const std::string& target) {
  auto items = path_items(path);
  std::size_t source_at = items.size();
  std::size_t target_at = items.size();
  for (std::size_t i = 0; i < items.size(); ++i) {
    const auto s = item_schema(items[i]);
    if (s == source && source_at == items.size())
      source_at = i;
    if (s == target && target_at == items.size())
      target_at = i;
  }
  if (source_at == items.size() || target_at < source_at)
    return path;
  if (target_at != items.size())
    items.erase(items.begin() + static_cast<std::ptrdiff_t>(target_at));
  items.insert(items.begin() + static_cast<std::ptrdiff_t>(source_at), quoted(target));
  std::string out;
  for (const auto& i : items)
    out += (out.empty() ? "" : ", ") + i;
  return out;
}

std::vector<std::string> carry_statements(const std::vector<dependent_object>& objects, carry_phase phase) {
  std::vector<std::string> out;
  for (auto it = objects.rbegin(); it != objects.rend(); ++it)
    if (it->phase == phase)
      for (const auto& s : it->drop_sql)
        out.push_back(s);
  for (const auto& o : objects)
    if (o.phase == phase)
      for (const auto& s : o.create_sql)
        out.push_back(s);
  return out;
}

std::vector<dependent_object> find_dependents(pqxx::transaction_base& tx, const std::string& source_schema,
                                              const std::string& target_schema,
                                              const std::vector<cutover_table>& tables,
                                              const std::vector<std::string>& roles, bool move_tables) {
  std::vector<dependent_object> out;
  // Where the switch's dependents point: the target schema, or (tables moved) the source
  // schema's same names, which then are the target's tables.
  const auto& final_schema = move_tables ? source_schema : target_schema;
  const auto fin = quoted(final_schema);
  std::vector<std::string> names;
  for (const auto& t : tables)
    names.push_back(t.table);
  const auto src = quoted(source_schema);
  const auto dst = quoted(target_schema);
  // Catalog printers (pg_get_viewdef and friends) qualify every name that the
  // search_path would not find: with an empty path, every name is qualified,
  // so references to the moved tables can be retargeted exactly.
  const auto saved_path = tx.exec1("SELECT current_setting('search_path')")[0].as<std::string>();
  tx.exec("SELECT set_config('search_path', '', true)");

  std::vector<std::string> oids;
  for (const auto& r : tx.exec_params("SELECT c.oid::text FROM pg_class c JOIN pg_namespace n ON n.oid = "
                                      "c.relnamespace WHERE n.nspname = $1 AND c.relname = ANY($2::text[]) "
                                      "AND c.relkind IN ('r', 'p')",
                                      source_schema, pg_array_text(names)))
    oids.push_back(r[0].as<std::string>());
  const auto moved = oid_array(oids);

  // -- grants: the schema, each table and its id sequence (prepare) --
  {
    auto acl = tx.exec_params(std::string{"SELECT"} + acl_query_tail +
                                " FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.nspname = $1 "
                                "AND a.grantee <> n.nspowner ORDER BY 2, 1",
                              source_schema);
    if (!acl.empty()) {
      dependent_object o{"grant", "schema " + target_schema, "", carry_phase::prepare, {},
                         grant_statements(acl, "SCHEMA", dst), ""};
      o.action = "schema " + source_schema + "'s grants given on schema " + target_schema + " before the fence";
      out.push_back(std::move(o));
    }
  }
  // The trigger log too: the capture triggers write to it as the application's role.
  auto granted = tables;
  if (!tx.exec_params1("SELECT to_regclass($1) IS NULL", dst + "._trigger_log")[0].as<bool>())
    granted.push_back({"", "_trigger_log", "", ""});
  for (const auto& t : granted) {
    auto acl = tx.exec_params(std::string{"SELECT"} + acl_query_tail +
                                " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace, aclexplode(c.relacl) a "
                                "WHERE n.nspname = $1 AND c.relname = $2 AND a.grantee <> c.relowner ORDER BY 2, 1",
                              source_schema, t.table);
    auto seq_acl = tx.exec_params(
      std::string{"SELECT"} + acl_query_tail +
        " FROM pg_class s, aclexplode(s.relacl) a WHERE s.oid = to_regclass(pg_get_serial_sequence($1, 'id')) "
        "AND a.grantee <> s.relowner ORDER BY 2, 1",
      src + "." + quoted(t.table));
    if (acl.empty() && seq_acl.empty())
      continue;
    dependent_object o{"grant", target_schema + "." + t.table, "", carry_phase::prepare, {},
                       grant_statements(acl, "TABLE", dst + "." + quoted(t.table)), ""};
    if (!seq_acl.empty()) {
      const auto seq = tx.exec_params1("SELECT coalesce(pg_get_serial_sequence($1, 'id'), '')",
                                       dst + "." + quoted(t.table))[0]
                         .as<std::string>();
      if (!seq.empty())
        for (auto& g : grant_statements(seq_acl, "SEQUENCE", seq))
          o.create_sql.push_back(std::move(g));
    }
    o.action = "the grants on " + source_schema + "." + t.table + " (and its id sequence) given on " + target_schema +
               "." + t.table + " before the fence";
    out.push_back(std::move(o));
  }

  // -- indexes the application added (prepare: built while it still writes) --
  for (const auto& r : tx.exec_params(
         "SELECT i.relname, pg_get_indexdef(i.oid), c.relname, "
         "EXISTS (SELECT 1 FROM pg_class o JOIN pg_namespace on2 ON on2.oid = o.relnamespace "
         "        WHERE on2.nspname = $3 AND o.relname = i.relname) "
         "FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid "
         "WHERE x.indrelid = ANY($1::oid[]) AND NOT x.indisprimary "
         "AND i.relname NOT LIKE 'hc\\_idx\\_%' AND i.relname NOT LIKE 'hcu\\_idx\\_%' "
         "AND i.relname NOT LIKE $2 ORDER BY 3, 1",
         moved, "%\\_\\_reload%", target_schema)) {
    const auto index = r[0].as<std::string>();
    dependent_object o{"index", source_schema + "." + index, "", carry_phase::prepare, {}, {}, ""};
    if (r[3].as<bool>()) {
      o.phase = carry_phase::none;
      o.action = "already in schema " + target_schema + " (a relation named " + index + " exists there)";
    } else {
      o.create_sql.push_back(retarget(r[1].as<std::string>(), source_schema, target_schema, tables));
      o.action = "built on " + target_schema + "." + r[2].as<std::string>() + " before the fence";
    }
    out.push_back(std::move(o));
  }

  // -- views over the moved tables, and views over those (dropped and created again in the switch) --
  for (const auto& r : tx.exec_params(
         "WITH RECURSIVE v(oid, depth) AS ("
         "  SELECT r.ev_class, 1 FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid "
         "  WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass "
         "    AND d.refobjid = ANY($1::oid[]) AND r.ev_class <> d.refobjid "
         "  UNION ALL "
         "  SELECT r.ev_class, v.depth + 1 FROM v JOIN pg_depend d ON d.refobjid = v.oid "
         "    AND d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass "
         "    JOIN pg_rewrite r ON r.oid = d.objid WHERE r.ev_class <> v.oid AND v.depth < 50) "
         "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relkind, pg_get_viewdef(c.oid), "
         "  quote_ident(pg_get_userbyid(c.relowner)), pg_get_userbyid(c.relowner) = current_user, "
         "  coalesce(array_to_string(c.reloptions, ', '), ''), c.oid::text, max(v.depth) "
         "FROM v JOIN pg_class c ON c.oid = v.oid JOIN pg_namespace n ON n.oid = c.relnamespace "
         "GROUP BY c.oid, n.nspname, c.relname, c.relkind, c.relowner, c.reloptions ORDER BY max(v.depth), 1",
         moved)) {
    const auto name = r[0].as<std::string>();
    dependent_object o{"view", name, "", carry_phase::in_switch, {}, {}, ""};
    if (r[1].as<std::string>() == "m") {
      o.kind = "materialized_view";
      o.phase = carry_phase::none;
      o.blocker = "a materialized view over a moved table cannot be carried without refilling it during the "
                  "downtime; drop it before the cutover and create it again after";
      out.push_back(std::move(o));
      continue;
    }
    auto def = r[2].as<std::string>();
    while (!def.empty() && (def.back() == ';' || std::isspace(static_cast<unsigned char>(def.back()))))
      def.pop_back();
    const auto options = r[5].as<std::string>();
    o.drop_sql.push_back("DROP VIEW " + name);
    o.create_sql.push_back("CREATE VIEW " + name + (options.empty() ? "" : " WITH (" + options + ")") + " AS " +
                           retarget(def, source_schema, final_schema, tables));
    if (!r[4].as<bool>())
      o.create_sql.push_back("ALTER VIEW " + name + " OWNER TO " + r[3].as<std::string>());
    auto acl = tx.exec_params(std::string{"SELECT"} + acl_query_tail +
                                " FROM pg_class c, aclexplode(c.relacl) a WHERE c.oid = $1::oid "
                                "AND a.grantee <> c.relowner ORDER BY 2, 1",
                              r[6].as<std::string>());
    for (auto& g : grant_statements(acl, "TABLE", name))
      o.create_sql.push_back(std::move(g));
    o.action = move_tables ? "dropped and created again in the switch over the tables moved into " + source_schema +
                               " (same name, owner and grants)"
                           : "dropped and created again over " + target_schema +
                               " in the switch (same name, owner and grants)";
    out.push_back(std::move(o));
  }

  // -- functions and procedures that name a moved table --
  {
    std::string words;
    for (const auto& t : tables) {
      std::string escaped;
      for (char c : t.table)
        escaped += identifier_char(c) ? std::string(1, c) : std::string{"\\"} + c;
      words += (words.empty() ? "" : "|") + escaped;
    }
    for (const auto& r : tx.exec_params(
           "SELECT quote_ident(n.nspname) || '.' || quote_ident(p.proname) || '(' || "
           "  pg_get_function_identity_arguments(p.oid) || ')', p.prosrc, pg_get_functiondef(p.oid), "
           "  coalesce(array_to_string(p.proconfig, ', '), ''), "
           "  EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid "
           "          AND d.refclassid = 'pg_class'::regclass AND d.refobjid = ANY($4::oid[])) "
           "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_language l ON l.oid = p.prolang "
           "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'syncforce') AND n.nspname NOT LIKE 'pg\\_%' "
           "  AND p.prokind IN ('f', 'p') AND l.lanname IN ('sql', 'plpgsql') "
           "  AND NOT (n.nspname IN ($1, $2) AND (p.proname LIKE 'hc\\_%' OR p.proname LIKE 'tlog\\_%')) "
           "  AND p.proname <> 'get_xmlbinary' "
           "  AND (p.prosrc ~* ('\\m(' || $3 || ')\\M') OR EXISTS (SELECT 1 FROM pg_depend d WHERE "
           "       d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.refclassid = 'pg_class'::regclass "
           "       AND d.refobjid = ANY($4::oid[]))) ORDER BY 1",
           source_schema, target_schema, words, moved)) {
      const auto name = r[0].as<std::string>();
      const auto body = lower(text_of(r[1]));
      const auto def = r[2].as<std::string>();
      const auto config = r[3].as<std::string>();
      const bool bound = r[4].as<bool>(); // an SQL-standard body: bound to the table itself
      bool qualified = bound;
      for (const auto& t : tables)
        for (const auto& s : spellings(lower(source_schema), lower(t.table)))
          if (body.find(s) != std::string::npos)
            qualified = true;
      dependent_object o{"function", name, "", carry_phase::none, {}, {}, ""};
      if (move_tables) {
        if (bound) {
          // An SQL-standard body is bound to the table's OID: made again over the same name.
          o.phase = carry_phase::in_switch;
          o.create_sql.push_back(def);
          o.action = "its SQL-standard body is bound to the table itself: replaced in the switch with the same "
                     "body, over the table moved into " + source_schema;
        } else {
          o.action = "left as is: the names it uses find the table moved into " + source_schema +
                     " under the same name";
        }
      } else if (qualified) {
        auto retargeted = retarget(def, source_schema, target_schema, tables);
        if (!bound) // plpgsql/sql text bodies may spell the schema in any case
          for (const auto& t : tables)
            for (const auto& s : spellings(lower(source_schema), lower(t.table)))
              for (std::size_t pos = lower(retargeted).find(s); pos != std::string::npos;
                   pos = lower(retargeted).find(s, pos + 1))
                retargeted.replace(pos, s.size(), dst + "." + quoted(t.table));
        o.phase = carry_phase::in_switch;
        o.create_sql.push_back(retargeted);
        o.action = "names " + source_schema + ".<table> itself: replaced in the switch with the same body over " +
                   target_schema;
      } else if (config.find("search_path") != std::string::npos &&
                 search_path_with(config.substr(config.find("search_path=") + 12), source_schema, target_schema) !=
                   config.substr(config.find("search_path=") + 12)) {
        o.action = "left as is: it sets its own search_path (" + config +
                   "), so it keeps reading schema " + source_schema + " until you change that setting";
      } else {
        o.action = "left as is: it names the tables without a schema, so the caller's search_path finds " +
                   target_schema + " after the switch";
      }
      out.push_back(std::move(o));
    }
  }

  // -- triggers the application put on the moved tables (created on the target tables in the switch) --
  for (const auto& r : tx.exec_params(
         "SELECT t.tgname, pg_get_triggerdef(t.oid), c.relname, t.tgenabled, "
         "EXISTS (SELECT 1 FROM pg_trigger t2 JOIN pg_class c2 ON c2.oid = t2.tgrelid JOIN pg_namespace n2 ON "
         "        n2.oid = c2.relnamespace WHERE n2.nspname = $2 AND c2.relname = c.relname AND t2.tgname = t.tgname) "
         "FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
         "WHERE t.tgrelid = ANY($1::oid[]) AND NOT t.tgisinternal AND t.tgname NOT LIKE 'hc\\_%' "
         "AND t.tgname NOT IN ($3, $4) ORDER BY 3, 1",
         moved, target_schema, std::string{fence_trigger}, std::string{fence_truncate_trigger})) {
    const auto trigger = r[0].as<std::string>();
    const auto table = r[2].as<std::string>();
    dependent_object o{"trigger", source_schema + "." + table + " " + trigger, "", carry_phase::in_switch, {}, {}, ""};
    if (r[4].as<bool>()) {
      o.phase = carry_phase::none;
      o.action = "already on " + target_schema + "." + table;
    } else {
      o.create_sql.push_back(retarget(r[1].as<std::string>(), source_schema, final_schema, tables));
      if (r[3].as<std::string>() == "D")
        o.create_sql.push_back("ALTER TABLE " + fin + "." + quoted(table) + " DISABLE TRIGGER " + quoted(trigger));
      o.action = move_tables ? "created in the switch on the table moved into " + source_schema + "." + table +
                                 " (not before: it would fire on the target's initial load)"
                             : "created on " + target_schema + "." + table +
                                 " in the switch (not before: it would fire on the target's initial load)";
    }
    out.push_back(std::move(o));
  }

  // -- foreign keys: other tables referencing a moved table, and a moved table's own references --
  for (const auto& r : tx.exec_params(
         "SELECT k.conname, quote_ident(rn.nspname) || '.' || quote_ident(r.relname), pg_get_constraintdef(k.oid), "
         "  f.relname, k.confrelid = ANY($1::oid[]), k.conrelid = ANY($1::oid[]), "
         "  EXISTS (SELECT 1 FROM unnest(k.confkey) a JOIN pg_attribute att ON att.attrelid = k.confrelid AND "
         "          att.attnum = a WHERE att.attname = 'id'), "
         "  EXISTS (SELECT 1 FROM pg_constraint k2 JOIN pg_class c2 ON c2.oid = k2.conrelid JOIN pg_namespace n2 "
         "          ON n2.oid = c2.relnamespace WHERE n2.nspname = $2 AND c2.relname = r.relname AND "
         "          k2.conname = k.conname) "
         "FROM pg_constraint k JOIN pg_class r ON r.oid = k.conrelid JOIN pg_namespace rn ON rn.oid = r.relnamespace "
         "JOIN pg_class f ON f.oid = k.confrelid "
         "WHERE k.contype = 'f' AND (k.confrelid = ANY($1::oid[]) OR k.conrelid = ANY($1::oid[])) ORDER BY 2, 1",
         moved, target_schema)) {
    const auto constraint = r[0].as<std::string>();
    const auto owner_table = r[1].as<std::string>();
    const auto def = retarget(r[2].as<std::string>(), source_schema, final_schema, tables);
    const bool inbound = r[4].as<bool>();
    const bool outbound = r[5].as<bool>();
    dependent_object o{"foreign_key", owner_table + " " + constraint, "", carry_phase::in_switch, {}, {}, ""};
    if (inbound && r[6].as<bool>()) {
      o.phase = carry_phase::none;
      o.blocker = "references " + source_schema + "." + r[3].as<std::string>() +
                  "(id): the id column is numbered anew in schema " + target_schema +
                  ", so the references would point at other rows; reference sfid or an external id instead";
    } else if (outbound) {
      // The moved table's own reference: added to the target table (checked against its rows).
      if (r[7].as<bool>()) {
        o.phase = carry_phase::none;
        o.action = "already on the " + target_schema + " table";
      } else {
        o.create_sql.push_back("ALTER TABLE " + retarget(owner_table, source_schema, final_schema, tables) +
                               " ADD CONSTRAINT " + quoted(constraint) + " " + def);
        o.action = "added to the " + target_schema + " table in the switch";
      }
    } else {
      o.drop_sql.push_back("ALTER TABLE " + owner_table + " DROP CONSTRAINT " + quoted(constraint));
      o.create_sql.push_back("ALTER TABLE " + owner_table + " ADD CONSTRAINT " + quoted(constraint) + " " + def);
      o.action = "pointed at " + final_schema + "." + r[3].as<std::string>() +
                 (move_tables ? " (the moved table)" : "") +
                 " in the switch (dropped and added again: the rows are checked)";
    }
    out.push_back(std::move(o));
  }

  if (move_tables) {
    // The tables keep their names: no search_path changes.
    tx.exec_params("SELECT set_config('search_path', $1, true)", saved_path);
    return out;
  }

  // -- search_path: role and database settings that name the source schema --
  // Roles whose search_path the plan already handles; the others named with --roles get one.
  std::set<std::string> roles_done;
  bool any_setting = false;
  for (const auto& r : tx.exec(
         "SELECT coalesce(quote_ident(ro.rolname), ''), coalesce(ro.rolname, ''), s.setdatabase <> 0, "
         "  substr(cfg, length('search_path=') + 1), quote_ident(current_database()) "
         "FROM pg_db_role_setting s LEFT JOIN pg_roles ro ON ro.oid = s.setrole, unnest(s.setconfig) cfg "
         "WHERE s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database())) "
         "AND cfg LIKE 'search\\_path=%' ORDER BY 2, 3 DESC")) {
    const auto role_q = r[0].as<std::string>();
    const auto role = r[1].as<std::string>();
    const bool in_database = r[2].as<bool>();
    const auto path = r[3].as<std::string>();
    const auto next = search_path_with(path, source_schema, target_schema);
    any_setting = true;
    if (next == path) {
      bool names_source = false;
      for (const auto& item : path_items(path))
        names_source = names_source || item_schema(item) == source_schema;
      if (names_source && !role.empty())
        roles_done.insert(role);
      if (names_source) // already puts the target first (a cutover run again, or set by hand)
        out.push_back(dependent_object{"search_path", role.empty() ? "this database" : "role " + role,
                                       "search_path " + path + " already puts " + target_schema + " first",
                                       carry_phase::none, {}, {}, ""});
      continue;
    }
    std::string statement;
    std::string what;
    if (role.empty()) {
      statement = "ALTER DATABASE " + r[4].as<std::string>() + " SET search_path = " + next;
      what = "database " + r[4].as<std::string>();
    } else {
      statement = "ALTER ROLE " + role_q + (in_database ? " IN DATABASE " + r[4].as<std::string>() : "") +
                  " SET search_path = " + next;
      what = "role " + role + (in_database ? " in this database" : "");
    }
    if (!role.empty())
      roles_done.insert(role);
    dependent_object o{"search_path", what, "", carry_phase::in_switch, {}, {statement}, ""};
    o.action = "search_path " + path + " becomes " + next + " in the switch (new sessions take it)";
    out.push_back(std::move(o));
  }
  for (const auto& role : roles) {
    if (roles_done.count(role))
      continue;
    const auto exists = tx.exec_params1("SELECT count(*) FROM pg_roles WHERE rolname = $1", role)[0].as<int>() > 0;
    const auto path = "\"$user\", " + dst + ", " + src + ", public";
    dependent_object o{"search_path", "role " + role, "", carry_phase::in_switch, {}, {}, ""};
    if (!exists) {
      o.phase = carry_phase::none;
      o.blocker = "there is no role named " + role;
    } else {
      o.create_sql.push_back("ALTER ROLE " + quoted(role) + " SET search_path = " + path);
      o.action = "search_path set to " + path + " in the switch (new sessions take it)";
    }
    out.push_back(std::move(o));
  }
  bool any_path = std::any_of(out.begin(), out.end(), [](const dependent_object& o) { return o.kind == "search_path"; });
  if (!any_path) {
    // Without one, the application could not find the target schema's tables after the switch.
    const bool already = any_setting;
    dependent_object o{"search_path", "application roles", "", carry_phase::none, {}, {}, ""};
    o.blocker = already ? "no role or database setting puts schema " + source_schema +
                            " on the search_path; name the application roles with --roles"
                        : "no role or database setting names a search_path; name the application roles with --roles "
                          "(their search_path becomes \"$user\", " + target_schema + ", " + source_schema + ", public)";
    out.push_back(std::move(o));
  }

  tx.exec_params("SELECT set_config('search_path', $1, true)", saved_path);
  return out;
}

std::string aside_schema(const std::string& source_schema, const std::string& target_schema) {
  return source_schema + "_before_" + target_schema;
}

std::vector<dependent_object> move_table_objects(pqxx::transaction_base& tx, const std::string& source_schema,
                                                 const std::string& target_schema,
                                                 const std::vector<cutover_table>& tables) {
  std::vector<dependent_object> out;
  const auto aside = aside_schema(source_schema, target_schema);
  const auto src_log = qualified_name(tx, source_schema, "_trigger_log");
  const auto dst_log = qualified_name(tx, target_schema, "_trigger_log");
  const auto src_seq = qualified_name(tx, source_schema, "_trigger_log_id_seq");
  const auto dst_seq = qualified_name(tx, target_schema, "_trigger_log_id_seq");
  auto replace_all = [](std::string text, const std::string& from, const std::string& to) {
    for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos + to.size()))
      text.replace(pos, from.size(), to);
    return text;
  };
  bool first = true;
  for (const auto& t : tables) {
    const auto names = hc_names_for(t.table);
    const auto from = qualified_name(tx, source_schema, t.table);
    const auto to = qualified_name(tx, target_schema, t.table);
    dependent_object o{"table", source_schema + "." + t.table, "", carry_phase::in_switch, {}, {}, ""};
    if (tx.exec_params1("SELECT to_regclass($1) IS NOT NULL", qualified_name(tx, aside, t.table))[0].as<bool>()) {
      o.phase = carry_phase::none;
      o.blocker = "schema " + aside + " already holds a table " + t.table + " (set aside by an earlier cutover); drop "
                  "or rename it first";
      out.push_back(std::move(o));
      continue;
    }
    if (tx.exec_params1("SELECT to_regclass($1) IS NULL", src_log)[0].as<bool>()) {
      o.phase = carry_phase::none;
      o.blocker = "schema " + source_schema + " has no _trigger_log for the moved table's changes";
      out.push_back(std::move(o));
      continue;
    }
    // The target's capture functions, as its mapping made them (read-only or read-write),
    // made again in the source schema writing to the source's _trigger_log.
    std::vector<std::string> functions;
    bool missing = false;
    for (const auto& fn : {names.logger, names.status}) {
      auto r = tx.exec_params("SELECT p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                              "WHERE n.nspname = $1 AND p.proname = $2 AND p.pronargs = 0",
                              target_schema, fn);
      if (r.empty()) {
        missing = true;
        break;
      }
      auto body = replace_all(replace_all(r[0][0].as<std::string>(), dst_seq, src_seq), dst_log, src_log);
      functions.push_back("CREATE OR REPLACE FUNCTION " + qualified_name(tx, source_schema, fn) +
                          "() RETURNS trigger LANGUAGE plpgsql AS $syncforce$" + body + "$syncforce$");
    }
    if (missing) {
      o.phase = carry_phase::none;
      o.blocker = "the capture functions of " + target_schema + "." + t.table + " (" + names.logger + ", " +
                  names.status + ") are missing; its mapping must be in sync";
      out.push_back(std::move(o));
      continue;
    }
    if (first)
      o.create_sql.push_back("CREATE SCHEMA IF NOT EXISTS " + quoted(aside));
    first = false;
    o.create_sql.push_back("ALTER TABLE " + from + " SET SCHEMA " + quoted(aside));
    o.create_sql.push_back("ALTER TABLE " + to + " SET SCHEMA " + quoted(source_schema));
    for (auto& f : functions)
      o.create_sql.push_back(std::move(f));
    const auto logger = qualified_name(tx, source_schema, names.logger);
    const auto status = qualified_name(tx, source_schema, names.status);
    o.create_sql.push_back("DROP TRIGGER " + quoted(names.log_trigger) + " ON " + from);
    o.create_sql.push_back("DROP TRIGGER " + quoted(names.status_trigger) + " ON " + from);
    o.create_sql.push_back("CREATE TRIGGER " + quoted(names.log_trigger) + " AFTER INSERT OR DELETE OR UPDATE ON " +
                           from + " FOR EACH ROW WHEN ((public.get_xmlbinary())::text = 'base64'::text) "
                           "EXECUTE FUNCTION " + logger + "()");
    o.create_sql.push_back("CREATE TRIGGER " + quoted(names.status_trigger) + " BEFORE INSERT OR UPDATE ON " + from +
                           " FOR EACH ROW EXECUTE FUNCTION " + status + "()");
    o.create_sql.push_back("DROP FUNCTION " + qualified_name(tx, target_schema, names.logger) + "()");
    o.create_sql.push_back("DROP FUNCTION " + qualified_name(tx, target_schema, names.status) + "()");
    o.action = target_schema + "." + t.table + " moved into " + source_schema + " under its name in the switch, its "
               "changes captured in " + source_schema + "._trigger_log; " + source_schema + "'s table set aside in "
               "schema " + aside + " with its rows, still fenced (drop it when you no longer need it)";
    out.push_back(std::move(o));
  }
  return out;
}

} // namespace syncforce::store

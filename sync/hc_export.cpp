#include "sync/hc_export.hpp"

#include "sync/type_mapping.hpp"

#include <algorithm>

namespace syncforce {

namespace {

bool same_name(const std::string& a, const std::string& b) {
  return column_name_for(a) == column_name_for(b);
}

} // namespace

mapping_config with_table_indexes(mapping_config m) {
  std::vector<mapping_index> out;
  auto add = [&](const std::string& field, bool unique) {
    auto own = std::find_if(m.indexes.begin(), m.indexes.end(),
                            [&](const mapping_index& i) { return same_name(i.field, field); });
    if (own != m.indexes.end())
      return; // the mapping's own entry (in its place below)
    if (std::none_of(out.begin(), out.end(), [&](const mapping_index& i) { return same_name(i.field, field); }))
      out.push_back(mapping_index{field, unique});
  };
  add("Id", true);
  auto stamp = std::find_if(m.fields.begin(), m.fields.end(),
                            [](const std::string& f) { return same_name(f, "SystemModstamp"); });
  if (stamp != m.fields.end())
    add(*stamp, false);
  if (m.upsert_field)
    add(*m.upsert_field, true);
  out.insert(out.end(), m.indexes.begin(), m.indexes.end());
  m.indexes = std::move(out);
  return m;
}

mapping_config export_mapping(mapping_config m, std::optional<std::string> applied_at) {
  m = with_table_indexes(std::move(m));
  if (!m.sf_max_daily_api_calls)
    m.sf_max_daily_api_calls = hc_default_max_daily_api_calls;
  m.applied_at = std::move(applied_at);
  m.revision.reset();
  return m;
}

bool same_exported_mapping(const mapping_config& a, const mapping_config& b) {
  auto x = export_mapping(a, std::nullopt);
  auto y = export_mapping(b, std::nullopt);
  auto by_name = [](const mapping_index& l, const mapping_index& r) {
    return column_name_for(l.field) < column_name_for(r.field);
  };
  std::sort(x.indexes.begin(), x.indexes.end(), by_name);
  std::sort(y.indexes.begin(), y.indexes.end(), by_name);
  auto fields = [](std::vector<std::string> f) {
    std::sort(f.begin(), f.end());
    return f;
  };
  if (x.indexes.size() != y.indexes.size())
    return false;
  for (std::size_t i = 0; i < x.indexes.size(); ++i)
    if (!same_name(x.indexes[i].field, y.indexes[i].field) || x.indexes[i].unique != y.indexes[i].unique)
      return false;
  x.indexes = y.indexes;
  x.fields = fields(x.fields);
  y.fields = fields(y.fields);
  return x == y;
}

} // namespace syncforce

#include "emulator/soql/schema.hpp"

#include <utility>


namespace sfemu::soql {

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z')
      x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z')
      y = static_cast<char>(y - 'A' + 'a');
    if (x != y)
      return false;
  }
  return true;
}

basic_object_info::basic_object_info(std::string name, std::vector<field_info> fields)
  : name_(std::move(name)), fields_(std::move(fields)) {
  for (std::size_t i = 0; i < fields_.size(); ++i) {
    by_name_.emplace(to_lower(fields_[i].name), i);
    if (!fields_[i].relationship_name.empty())
      by_relationship_.emplace(to_lower(fields_[i].relationship_name), i);
  }
}

const field_info* basic_object_info::find_field(std::string_view name) const {
  auto i = by_name_.find(to_lower(name));
  return i == by_name_.end() ? nullptr : &fields_[i->second];
}

const field_info* basic_object_info::find_relationship(std::string_view relationship_name) const {
  auto i = by_relationship_.find(to_lower(relationship_name));
  return i == by_relationship_.end() ? nullptr : &fields_[i->second];
}

} // namespace sfemu::soql

#include "sync/json_input.hpp"

#include <string>
#include <unordered_set>

namespace syncforce {

namespace {

using ojson = nlohmann::ordered_json;

/// Builds the DOM through nlohmann's SAX interface so that every problem knows
/// the path it was found at, and so that the limits stop the parse early.
class path_builder {
public:
  path_builder(const json_input_limits& limits, std::vector<config_problem>& errors)
    : limits_(limits), errors_(errors) {}

  bool null() { return add(ojson(nullptr)); }
  bool boolean(bool v) { return add(ojson(v)); }
  bool number_integer(ojson::number_integer_t v) { return add(ojson(v)); }
  bool number_unsigned(ojson::number_unsigned_t v) { return add(ojson(v)); }
  bool number_float(ojson::number_float_t v, const std::string&) { return add(ojson(v)); }
  bool string(std::string& v) { return add(ojson(std::move(v))); }
  bool binary(ojson::binary_t&) { return fail(path(), "binary values are not JSON"); }

  bool start_object(std::size_t) { return open(ojson::object()); }
  bool start_array(std::size_t) { return open(ojson::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }

  bool key(std::string& k) {
    auto& top = levels_.back();
    if (!top.keys.insert(k).second)
      return fail(path_with(k), "is given twice in the same object");
    top.key = std::move(k);
    return true;
  }

  bool parse_error(std::size_t position, const std::string& token, const nlohmann::detail::exception& e) {
    std::string message;
    if (e.id == 406) // out_of_range.406: a number beyond a double's range
      message = "the number " + shorten(token) + " is out of range";
    else
      message = "not valid JSON at byte " + std::to_string(position) + ": " + without_prefix(e.what());
    fail(path(), std::move(message));
    return false;
  }

  std::optional<ojson> take() {
    if (!done_)
      return std::nullopt;
    return std::move(root_);
  }

private:
  struct level {
    ojson value;
    std::string key;                     ///< the member being read (objects)
    std::unordered_set<std::string> keys; ///< keys seen so far (objects)
  };

  static std::string shorten(const std::string& s) { return s.size() > 40 ? s.substr(0, 37) + "..." : s; }

  /// "[json.exception.parse_error.101] parse error at line 1, ..." -> "parse error at line 1, ...".
  static std::string without_prefix(const char* what) {
    std::string s = what;
    if (!s.empty() && s.front() == '[') {
      auto close = s.find("] ");
      if (close != std::string::npos)
        s = s.substr(close + 2);
    }
    return s;
  }

  /// The path of the value being read: `mappings[2].config.fields`.
  std::string path() const {
    std::string out;
    for (const auto& l : levels_) {
      if (l.value.is_array()) {
        out += "[" + std::to_string(l.value.size()) + "]";
      } else if (!l.key.empty()) {
        if (!out.empty())
          out += '.';
        out += l.key;
      }
    }
    return out;
  }

  std::string path_with(const std::string& k) const {
    auto p = path_of_container();
    return p.empty() ? k : p + "." + k;
  }

  /// The path of the innermost open container itself.
  std::string path_of_container() const {
    std::string out;
    for (std::size_t i = 0; i + 1 < levels_.size(); ++i) {
      const auto& l = levels_[i];
      if (l.value.is_array()) {
        out += "[" + std::to_string(l.value.size()) + "]";
      } else {
        if (!out.empty())
          out += '.';
        out += l.key;
      }
    }
    return out;
  }

  bool fail(std::string where, std::string message) {
    errors_.push_back(config_problem{std::move(where), std::move(message)});
    return false;
  }

  bool add(ojson v) {
    if (levels_.empty()) {
      root_ = std::move(v);
      done_ = true;
      return true;
    }
    auto& top = levels_.back();
    if (top.value.size() >= limits_.max_members)
      return fail(path_of_container(), "has more than " + std::to_string(limits_.max_members) + " members");
    if (top.value.is_array()) {
      top.value.get_ref<ojson::array_t&>().push_back(std::move(v));
    } else {
      // Keys are unique (checked in key()), so append without ordered_map's linear search.
      top.value.get_ref<ojson::object_t&>().push_back({std::move(top.key), std::move(v)});
      top.key.clear();
    }
    return true;
  }

  bool open(ojson container) {
    if (levels_.size() >= limits_.max_depth)
      return fail(path(), "nests objects and arrays deeper than " + std::to_string(limits_.max_depth) + " levels");
    levels_.push_back(level{std::move(container), {}, {}});
    return true;
  }

  bool close() {
    auto done = std::move(levels_.back().value);
    levels_.pop_back();
    return add(std::move(done));
  }

  const json_input_limits& limits_;
  std::vector<config_problem>& errors_;
  std::vector<level> levels_;
  ojson root_;
  bool done_ = false;
};

} // namespace

json_input_result parse_json_input(std::string_view text, const json_input_limits& limits) {
  json_input_result r;
  path_builder builder(limits, r.errors);
  bool ok = false;
  try {
    ok = ojson::sax_parse(text.begin(), text.end(), &builder, ojson::input_format_t::json, true, false);
  } catch (const std::exception& e) {
    // sax_parse reports through parse_error(); this is only a safety net (e.g. out of memory).
    r.errors.push_back(config_problem{"", std::string{"cannot be read: "} + e.what()});
  }
  if (ok && r.errors.empty())
    r.value = builder.take();
  if (!r.value && r.errors.empty())
    r.errors.push_back(config_problem{"", "not valid JSON"});
  return r;
}

} // namespace syncforce

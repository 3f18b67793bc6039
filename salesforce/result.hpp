#pragma once

#include "salesforce/error.hpp"

#include <utility>
#include <variant>

namespace syncforce::salesforce {

/// Either a value or the error Salesforce (or the wire) gave instead: expected
/// failures travel as values, never as exceptions.
template <class T>
class result {
public:
  result(T value) : data_(std::in_place_index<0>, std::move(value)) {}
  result(sf_error error) : data_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(data_); }
  const T& value() const& { return std::get<0>(data_); }
  T&& value() && { return std::get<0>(std::move(data_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const sf_error& error() const { return std::get<1>(data_); }
  sf_error& error() { return std::get<1>(data_); }

private:
  std::variant<T, sf_error> data_;
};

/// The value of a call that returns nothing but may fail.
struct done_t {};

using status = result<done_t>;

} // namespace syncforce::salesforce

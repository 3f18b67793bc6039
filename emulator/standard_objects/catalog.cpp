// The standard objects of a fresh org, in describeGlobal order.
#include "emulator/standard_objects/builder.hpp"
#include "emulator/streaming/push_topics.hpp"

namespace sfemu {

std::vector<object_def> standard_objects() {
  std::vector<object_def> out;
  for (auto* area : {&standard::sales_objects, &standard::service_objects, &standard::commerce_objects,
                     &standard::user_objects, &standard::streaming_objects})
    for (auto& o : area())
      out.push_back(std::move(o));
  return out;
}

} // namespace sfemu

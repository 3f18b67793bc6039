// The PushTopic sObject (Streaming API): a query whose matching record changes are
// published on /topic/<Name>. Fields as in Salesforce's object reference.
#include "emulator/standard_objects/builder.hpp"
#include "emulator/streaming/push_topics.hpp"

namespace sfemu::standard {

std::vector<object_def> streaming_objects() {
  object_def def = build_object({"PushTopic", "Push Topic", "Push Topics", "0IF",
      std::vector<field_spec>{
          {"Name", "string", 25, "rnU", "Topic Name"},
          {"Query", "textarea", 1300, "r", "SOQL Query"},
          {"ApiVersion", "double", 18, "r", "API Version", {}, 1},
          {"IsActive", "boolean", 0, "d", "Is Active"},
          {"NotifyForFields", "picklist", 40, "rdp", "Notify For Fields", "All|*Referenced|Select|Where"},
          {"NotifyForOperationCreate", "boolean", 0, "d", "Create"},
          {"NotifyForOperationUpdate", "boolean", 0, "d", "Update"},
          {"NotifyForOperationDelete", "boolean", 0, "d", "Delete"},
          {"NotifyForOperationUndelete", "boolean", 0, "d", "Undelete"},
          {"NotifyForOperations", "picklist", 40, "x", "Notify For Operations", "All|Create|Extended|Update"},
          {"Description", "string", 400, "", "Description"},
      }});
  // Salesforce's defaults: active, and every operation notifies.
  for (auto& f : def.fields)
    if (f.name == "IsActive" || f.name.rfind("NotifyForOperation", 0) == 0)
      if (f.type == field_type::boolean)
        f.default_value = value::of_bool(true);
  return {std::move(def)};
}

} // namespace sfemu::standard

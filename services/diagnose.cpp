#include "services/diagnose.hpp"

namespace syncforce::services {

void run_diagnose(pqxx::transaction_base&, const store::connection_row&, const std::string&, const secret_lookup&,
                  syncforce::v1::DiagnoseReport&) {
  // TODO(diagnose helper)
}

} // namespace syncforce::services

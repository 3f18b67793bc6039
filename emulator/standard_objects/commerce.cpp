// Product2, Pricebook2, PricebookEntry, Order: standard fields as in Salesforce's object reference.
#include "emulator/standard_objects/builder.hpp"

namespace sfemu::standard {

std::vector<object_def> commerce_objects() {
  std::vector<object_def> out;
  out.push_back(build_object({"Product2", "Product", "Products", "01t",
      std::vector<field_spec>{
          {"Name", "string", 255, "rni", "Product Name"},
          {"ProductCode", "string", 255, "", "Product Code"},
          {"Description", "textarea", 4000, "", "Product Description"},
          {"IsActive", "boolean", 0, "", "Active"},
          {"Family", "picklist", 255, "", "Product Family", "None"},
          {"ExternalId", "string", 255, "", "External ID"},
          {"DisplayUrl", "url", 1000, "", "Display URL"},
          {"QuantityUnitOfMeasure", "picklist", 255, "", "Quantity Unit Of Measure", "Each"},
          {"IsArchived", "boolean", 0, "x", "Archived"},
          {"StockKeepingUnit", "string", 180, "", "Product SKU"},
      } + recently_viewed()}));

  out.push_back(build_object({"Pricebook2", "Price Book", "Price Books", "01s",
      std::vector<field_spec>{
          {"Name", "string", 255, "rni", "Price Book Name"},
          {"IsActive", "boolean", 0, "", "Active"},
          {"IsArchived", "boolean", 0, "x", "Archived"},
          {"Description", "string", 255, "", "Description"},
          {"IsStandard", "boolean", 0, "x", "Is Standard Price Book"},
      } + recently_viewed()}));

  out.push_back(build_object({"PricebookEntry", "Price Book Entry", "Price Book Entries", "01u",
      std::vector<field_spec>{
          {"Name", "string", 255, "xn", "Product Name"},
          {"Pricebook2Id", "reference", 0, "ru", "Price Book ID", "Pricebook2"},
          {"Product2Id", "reference", 0, "ru", "Product ID", "Product2"},
          {"UnitPrice", "currency", 18, "r", "List Price", {}, 2},
          {"IsActive", "boolean", 0, "", "Active"},
          {"UseStandardPrice", "boolean", 0, "", "Use Standard Price"},
          {"ProductCode", "string", 255, "x", "Product Code"},
          {"IsArchived", "boolean", 0, "x", "Archived"},
      }}));

  out.push_back(build_object({"Order", "Order", "Orders", "801",
      std::vector<field_spec>{
          {"OwnerId", "reference", 0, "rd", "Owner ID", "Group,User>Owner"},
          {"ContractId", "reference", 0, "", "Contract ID", "Contract"},
          {"AccountId", "reference", 0, "", "Account ID", "Account"},
          {"Pricebook2Id", "reference", 0, "", "Price Book ID", "Pricebook2"},
          {"OriginalOrderId", "reference", 0, "u", "Original Order ID", "Order"},
          {"EffectiveDate", "date", 0, "r", "Order Start Date"},
          {"EndDate", "date", 0, "", "Order End Date"},
          {"IsReductionOrder", "boolean", 0, "u", "Reduction Order"},
          {"Status", "picklist", 255, "r", "Status", "*Draft|Activated"},
          {"Description", "textarea", 32000, "", "Description"},
          {"CustomerAuthorizedById", "reference", 0, "", "Customer Authorized By ID", "Contact"},
          {"CustomerAuthorizedDate", "date", 0, "", "Customer Authorized Date"},
          {"CompanyAuthorizedById", "reference", 0, "", "Company Authorized By ID", "User"},
          {"CompanyAuthorizedDate", "date", 0, "", "Company Authorized Date"},
          {"Type", "picklist", 255, "", "Order Type", {}},
      } + address("Billing") + address("Shipping") + std::vector<field_spec>{
          {"Name", "string", 80, "", "Order Name"},
          {"PoDate", "date", 0, "", "PO Date"},
          {"PoNumber", "string", 80, "", "PO Number"},
          {"OrderReferenceNumber", "string", 80, "", "Order Reference Number"},
          {"BillToContactId", "reference", 0, "", "Bill To Contact ID", "Contact"},
          {"ShipToContactId", "reference", 0, "", "Ship To Contact ID", "Contact"},
          {"ActivatedDate", "datetime", 0, "", "Activated Date"},
          {"ActivatedById", "reference", 0, "", "Activated By ID", "User"},
          {"StatusCode", "picklist", 255, "xrdp", "Status Category", "*Draft|Activated|Canceled|Expired"},
          {"OrderNumber", "string", 30, "xrdni", "Order Number"},
          {"TotalAmount", "currency", 18, "x", "Order Amount", {}, 2},
      } + recently_viewed()}));
  return out;
}

} // namespace sfemu::standard

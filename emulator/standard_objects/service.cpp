// Case, Task, Event, Asset, Contract: standard fields as in Salesforce's object reference.
#include "emulator/standard_objects/builder.hpp"

namespace sfemu::standard {

namespace {

/// What an activity's WhatId may point at (the standard objects sfemu has).
constexpr std::string_view activity_what =
    "Account,Asset,Campaign,Case,Contract,Opportunity,Order,Product2>What";

std::vector<field_spec> reminder() {
  return {{"ReminderDateTime", "datetime", 0, "", "Reminder Date/Time"},
          {"IsReminderSet", "boolean", 0, "", "Reminder Set"}};
}

} // namespace

std::vector<object_def> service_objects() {
  std::vector<object_def> out;
  out.push_back(build_object({"Case", "Case", "Cases", "500",
      std::vector<field_spec>{
          {"MasterRecordId", "reference", 0, "x", "Master Record ID", "Case"},
          {"CaseNumber", "string", 30, "xrdni", "Case Number"},
          {"ContactId", "reference", 0, "", "Contact ID", "Contact"},
          {"AccountId", "reference", 0, "", "Account ID", "Account"},
          {"AssetId", "reference", 0, "", "Asset ID", "Asset"},
          {"ParentId", "reference", 0, "", "Parent Case ID", "Case"},
          {"SuppliedName", "string", 80, "", "Name"},
          {"SuppliedEmail", "email", 80, "", "Email Address"},
          {"SuppliedPhone", "string", 40, "", "Phone"},
          {"SuppliedCompany", "string", 80, "", "Company"},
          {"Type", "picklist", 255, "", "Case Type", "Mechanical|Electrical|Electronic|Structural|Other"},
          {"Status", "picklist", 255, "", "Status", "*New|Working|Escalated|Closed"},
          {"Reason", "picklist", 255, "", "Case Reason",
           "Installation|Equipment Complexity|Performance|Breakdown|Equipment Design|Feedback|Other"},
          {"Origin", "picklist", 255, "", "Case Origin", "Phone|Email|Web"},
          {"Subject", "string", 255, "", "Subject"},
          {"Priority", "picklist", 255, "", "Priority", "High|*Medium|Low"},
          {"Description", "textarea", 32000, "", "Description"},
          {"IsClosed", "boolean", 0, "x", "Closed"},
          {"ClosedDate", "datetime", 0, "x", "Closed Date"},
          {"IsEscalated", "boolean", 0, "", "Escalated"},
          {"OwnerId", "reference", 0, "rd", "Owner ID", "Group,User>Owner"},
          {"ContactPhone", "phone", 40, "x", "Contact Phone"},
          {"ContactMobile", "phone", 40, "x", "Contact Mobile"},
          {"ContactEmail", "email", 80, "x", "Contact Email"},
          {"ContactFax", "phone", 40, "x", "Contact Fax"},
          {"Comments", "textarea", 4000, "u", "Internal Comments"},
      } + recently_viewed()}));

  out.push_back(build_object({"Task", "Task", "Tasks", "00T",
      std::vector<field_spec>{
          {"WhoId", "reference", 0, "", "Name ID", "Contact,Lead>Who"},
          {"WhatId", "reference", 0, "", "Related To ID", activity_what},
          {"Subject", "combobox", 255, "n", "Subject", "Call|Send Letter|Send Quote|Other"},
          {"ActivityDate", "date", 0, "", "Due Date Only"},
          {"Status", "picklist", 255, "r", "Status",
           "*Not Started|In Progress|Completed|Waiting on someone else|Deferred"},
          {"Priority", "picklist", 255, "r", "Priority", "High|*Normal|Low"},
          {"IsHighPriority", "boolean", 0, "x", "High Priority"},
          {"OwnerId", "reference", 0, "rd", "Assigned To ID", "Group,User>Owner"},
          {"Description", "textarea", 32000, "", "Description"},
          {"Type", "picklist", 255, "", "Type", "Call|Email|Meeting|Other"},
          {"IsClosed", "boolean", 0, "x", "Closed"},
          {"AccountId", "reference", 0, "x", "Account ID", "Account"},
          {"IsArchived", "boolean", 0, "x", "Archived"},
          {"CallDurationInSeconds", "int", 8, "", "Call Duration"},
          {"CallType", "picklist", 255, "p", "Call Type", "Internal|Inbound|Outbound"},
          {"CallDisposition", "string", 255, "", "Call Result"},
          {"CallObject", "string", 255, "", "Call Object Identifier"},
      } + reminder() + std::vector<field_spec>{
          {"CompletedDateTime", "datetime", 0, "x", "Completed Date/Time"},
          {"TaskSubtype", "picklist", 40, "pu", "Task Subtype", "Task|Email|ListEmail|Cadence|Call|LinkedIn"},
      }}));

  out.push_back(build_object({"Event", "Event", "Events", "00U",
      std::vector<field_spec>{
          {"WhoId", "reference", 0, "", "Name ID", "Contact,Lead>Who"},
          {"WhatId", "reference", 0, "", "Related To ID", activity_what},
          {"Subject", "combobox", 255, "n", "Subject", "Call|Email|Meeting|Send Letter/Quote|Other"},
          {"Location", "string", 255, "", "Location"},
          {"IsAllDayEvent", "boolean", 0, "", "All-Day Event"},
          {"ActivityDateTime", "datetime", 0, "", "Due Date Time"},
          {"ActivityDate", "date", 0, "", "Due Date Only"},
          {"DurationInMinutes", "int", 8, "", "Duration"},
          {"StartDateTime", "datetime", 0, "", "Start Date Time"},
          {"EndDateTime", "datetime", 0, "", "End Date Time"},
          {"EndDate", "date", 0, "x", "End Date"},
          {"Description", "textarea", 32000, "", "Description"},
          {"AccountId", "reference", 0, "x", "Account ID", "Account"},
          {"OwnerId", "reference", 0, "rd", "Assigned To ID", "Calendar,User>Owner"},
          {"Type", "picklist", 255, "", "Type", "Call|Email|Meeting|Other"},
          {"IsPrivate", "boolean", 0, "", "Private"},
          {"ShowAs", "picklist", 40, "p", "Show Time As", "*Busy|OutOfOffice|Free"},
          {"IsChild", "boolean", 0, "x", "Is Child"},
          {"IsGroupEvent", "boolean", 0, "x", "Is Group Event"},
          {"GroupEventType", "picklist", 40, "px", "Group Event Type", "0|1|2|3"},
          {"IsArchived", "boolean", 0, "x", "Archived"},
      } + reminder() + std::vector<field_spec>{
          {"EventSubtype", "picklist", 40, "pu", "Event Subtype", "Event"},
      }}));

  out.push_back(build_object({"Asset", "Asset", "Assets", "02i",
      std::vector<field_spec>{
          {"ContactId", "reference", 0, "", "Contact ID", "Contact"},
          {"AccountId", "reference", 0, "", "Account ID", "Account"},
          {"ParentId", "reference", 0, "", "Parent Asset ID", "Asset"},
          {"RootAssetId", "reference", 0, "x", "Root Asset ID", "Asset"},
          {"Product2Id", "reference", 0, "", "Product ID", "Product2"},
          {"ProductCode", "string", 255, "x", "Product Code"},
          {"IsCompetitorProduct", "boolean", 0, "", "Competitor Asset"},
          {"Name", "string", 255, "rni", "Asset Name"},
          {"SerialNumber", "string", 80, "", "Serial Number"},
          {"InstallDate", "date", 0, "", "Install Date"},
          {"PurchaseDate", "date", 0, "", "Purchase Date"},
          {"UsageEndDate", "date", 0, "", "Usage End Date"},
          {"Status", "picklist", 255, "", "Status", "Purchased|Shipped|Installed|Registered|Obsolete"},
          {"Price", "currency", 18, "", "Price", {}, 2},
          {"Quantity", "double", 18, "", "Quantity", {}, 2},
          {"Description", "textarea", 32000, "", "Description"},
          {"OwnerId", "reference", 0, "rd", "Owner ID", "User"},
          {"AssetProvidedById", "reference", 0, "", "Provided By ID", "Account"},
          {"AssetServicedById", "reference", 0, "", "Serviced By ID", "Account"},
          {"StockKeepingUnit", "string", 180, "x", "Product SKU"},
      } + recently_viewed()}));

  out.push_back(build_object({"Contract", "Contract", "Contracts", "800",
      std::vector<field_spec>{
          {"AccountId", "reference", 0, "r", "Account ID", "Account"},
          {"Pricebook2Id", "reference", 0, "", "Price Book ID", "Pricebook2"},
          {"OwnerExpirationNotice", "picklist", 255, "", "Owner Expiration Notice", "15|30|45|60|90|120"},
          {"StartDate", "date", 0, "", "Contract Start Date"},
          {"EndDate", "date", 0, "x", "Contract End Date"},
      } + address("Billing") + std::vector<field_spec>{
          {"ContractTerm", "int", 4, "", "Contract Term"},
          {"OwnerId", "reference", 0, "rd", "Owner ID", "User"},
          {"Status", "picklist", 255, "r", "Status", "*Draft|In Approval Process|Activated"},
          {"CompanySignedId", "reference", 0, "", "Company Signed By ID", "User>CompanySigned"},
          {"CompanySignedDate", "date", 0, "", "Company Signed Date"},
          {"CustomerSignedId", "reference", 0, "", "Customer Signed By ID", "Contact>CustomerSigned"},
          {"CustomerSignedTitle", "string", 40, "", "Customer Signed Title"},
          {"CustomerSignedDate", "date", 0, "", "Customer Signed Date"},
          {"SpecialTerms", "textarea", 4000, "", "Special Terms"},
          {"ActivatedById", "reference", 0, "x", "Activated By ID", "User"},
          {"ActivatedDate", "datetime", 0, "x", "Activated Date"},
          {"StatusCode", "picklist", 255, "xrdp", "Status Category", "*Draft|InApproval|Activated|Terminated|Expired"},
          {"Description", "textarea", 32000, "", "Description"},
          {"ContractNumber", "string", 30, "xrdni", "Contract Number"},
          {"LastApprovedDate", "datetime", 0, "x", "Last Approved Date"},
          {"LastActivityDate", "date", 0, "x", "Last Activity"},
      } + recently_viewed()}));
  return out;
}

} // namespace sfemu::standard

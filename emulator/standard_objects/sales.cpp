// Account, Contact, Lead, Opportunity, OpportunityLineItem, Campaign, CampaignMember:
// their standard fields as Salesforce's object reference describes them (compound
// address/name fields are represented by their components; see docs/sfemu.md).
#include "emulator/standard_objects/builder.hpp"

namespace sfemu::standard {

namespace {

constexpr std::string_view lead_source = "Web|Phone Inquiry|Partner Referral|Purchased List|Other";
constexpr std::string_view industry =
    "Agriculture|Apparel|Banking|Biotechnology|Chemicals|Communications|Construction|Consulting|Education|"
    "Electronics|Energy|Engineering|Entertainment|Environmental|Finance|Food & Beverage|Government|Healthcare|"
    "Hospitality|Insurance|Machinery|Manufacturing|Media|Not For Profit|Recreation|Retail|Shipping|Technology|"
    "Telecommunications|Transportation|Utilities|Other";
constexpr std::string_view rating = "Hot|Warm|Cold";
constexpr std::string_view salutation = "Mr.|Ms.|Mrs.|Dr.|Prof.";
constexpr std::string_view stage =
    "Prospecting|Qualification|Needs Analysis|Value Proposition|Id. Decision Makers|Perception Analysis|"
    "Proposal/Price Quote|Negotiation/Review|Closed Won|Closed Lost";

} // namespace

std::vector<object_def> sales_objects() {
  std::vector<object_def> out;
  out.push_back(build_object({"Account", "Account", "Accounts", "001",
      std::vector<field_spec>{
          {"MasterRecordId", "reference", 0, "x", "Master Record ID", "Account"},
          {"Name", "string", 255, "rni", "Account Name"},
          {"Type", "picklist", 255, "", "Account Type",
           "Prospect|Customer - Direct|Customer - Channel|Channel Partner / Reseller|Installation Partner|"
           "Technology Partner|Other"},
          {"ParentId", "reference", 0, "", "Parent Account ID", "Account"},
      } + address("Billing") + address("Shipping") + std::vector<field_spec>{
          {"Phone", "phone", 40, "", "Account Phone"},
          {"Fax", "phone", 40, "", "Account Fax"},
          {"AccountNumber", "string", 40, "", "Account Number"},
          {"Website", "url", 255, "", "Website"},
          {"PhotoUrl", "url", 255, "x", "Photo URL"},
          {"Sic", "string", 20, "", "SIC Code"},
          {"Industry", "picklist", 255, "", "Industry", industry},
          {"AnnualRevenue", "currency", 18, "", "Annual Revenue"},
          {"NumberOfEmployees", "int", 8, "", "Employees"},
          {"Ownership", "picklist", 255, "", "Ownership", "Public|Private|Subsidiary|Other"},
          {"TickerSymbol", "string", 20, "", "Ticker Symbol"},
          {"Description", "textarea", 32000, "", "Account Description"},
          {"Rating", "picklist", 255, "", "Account Rating", rating},
          {"Site", "string", 80, "", "Account Site"},
          {"OwnerId", "reference", 0, "rd", "Owner ID", "User"},
          {"LastActivityDate", "date", 0, "x", "Last Activity"},
      } + recently_viewed() + std::vector<field_spec>{
          {"Jigsaw", "string", 20, "", "Data.com Key"},
          {"JigsawCompanyId", "string", 20, "x", "Jigsaw Company ID"},
          {"AccountSource", "picklist", 255, "", "Account Source",
           "Advertisement|Employee Referral|External Referral|Partner|Public Relations|Seminar - Internal|"
           "Seminar - Partner|Trade Show|Web|Word of mouth|Other"},
          {"SicDesc", "string", 80, "", "SIC Description"},
      }}));

  out.push_back(build_object({"Contact", "Contact", "Contacts", "003",
      std::vector<field_spec>{
          {"MasterRecordId", "reference", 0, "x", "Master Record ID", "Contact"},
          {"AccountId", "reference", 0, "", "Account ID", "Account"},
          {"LastName", "string", 80, "r", "Last Name"},
          {"FirstName", "string", 40, "", "First Name"},
          {"Salutation", "picklist", 255, "", "Salutation", salutation},
          {"Name", "string", 121, "xnF", "Full Name"},
      } + address("Other") + address("Mailing") + std::vector<field_spec>{
          {"Phone", "phone", 40, "", "Business Phone"},
          {"Fax", "phone", 40, "", "Business Fax"},
          {"MobilePhone", "phone", 40, "", "Mobile Phone"},
          {"HomePhone", "phone", 40, "", "Home Phone"},
          {"OtherPhone", "phone", 40, "", "Other Phone"},
          {"AssistantPhone", "phone", 40, "", "Asst. Phone"},
          {"ReportsToId", "reference", 0, "", "Reports To ID", "Contact"},
          {"Email", "email", 80, "i", "Email"},
          {"Title", "string", 128, "", "Title"},
          {"Department", "string", 80, "", "Department"},
          {"AssistantName", "string", 40, "", "Assistant's Name"},
          {"LeadSource", "picklist", 255, "", "Lead Source", lead_source},
          {"Birthdate", "date", 0, "", "Birthdate"},
          {"Description", "textarea", 32000, "", "Contact Description"},
          {"OwnerId", "reference", 0, "rd", "Owner ID", "User"},
          {"HasOptedOutOfEmail", "boolean", 0, "", "Email Opt Out"},
          {"HasOptedOutOfFax", "boolean", 0, "", "Fax Opt Out"},
          {"DoNotCall", "boolean", 0, "", "Do Not Call"},
          {"LastActivityDate", "date", 0, "x", "Last Activity"},
          {"LastCURequestDate", "datetime", 0, "x", "Last Stay-in-Touch Request Date"},
          {"LastCUUpdateDate", "datetime", 0, "x", "Last Stay-in-Touch Save Date"},
      } + recently_viewed() + std::vector<field_spec>{
          {"EmailBouncedReason", "string", 255, "", "Email Bounced Reason"},
          {"EmailBouncedDate", "datetime", 0, "", "Email Bounced Date"},
          {"IsEmailBounced", "boolean", 0, "x", "Is Email Bounced"},
          {"PhotoUrl", "url", 255, "x", "Photo URL"},
          {"Jigsaw", "string", 20, "", "Data.com Key"},
          {"JigsawContactId", "string", 20, "x", "Jigsaw Contact ID"},
      }}));

  out.push_back(build_object({"Lead", "Lead", "Leads", "00Q",
      std::vector<field_spec>{
          {"MasterRecordId", "reference", 0, "x", "Master Record ID", "Lead"},
          {"LastName", "string", 80, "r", "Last Name"},
          {"FirstName", "string", 40, "", "First Name"},
          {"Salutation", "picklist", 255, "", "Salutation", salutation},
          {"Name", "string", 121, "xnF", "Full Name"},
          {"Title", "string", 128, "", "Title"},
          {"Company", "string", 255, "r", "Company"},
      } + address("") + std::vector<field_spec>{
          {"Phone", "phone", 40, "", "Phone"},
          {"MobilePhone", "phone", 40, "", "Mobile Phone"},
          {"Fax", "phone", 40, "", "Fax"},
          {"Email", "email", 80, "i", "Email"},
          {"Website", "url", 255, "", "Website"},
          {"PhotoUrl", "url", 255, "x", "Photo URL"},
          {"Description", "textarea", 32000, "", "Description"},
          {"LeadSource", "picklist", 255, "", "Lead Source", lead_source},
          {"Status", "picklist", 255, "rp", "Lead Status",
           "*Open - Not Contacted|Working - Contacted|Closed - Converted|Closed - Not Converted"},
          {"Industry", "picklist", 255, "", "Industry", industry},
          {"Rating", "picklist", 255, "", "Rating", rating},
          {"AnnualRevenue", "currency", 18, "", "Annual Revenue"},
          {"NumberOfEmployees", "int", 8, "", "Employees"},
          {"OwnerId", "reference", 0, "rd", "Owner ID", "Group,User>Owner"},
          {"HasOptedOutOfEmail", "boolean", 0, "", "Email Opt Out"},
          {"IsConverted", "boolean", 0, "u", "Converted"},
          {"ConvertedDate", "date", 0, "x", "Converted Date"},
          {"ConvertedAccountId", "reference", 0, "x", "Converted Account ID", "Account"},
          {"ConvertedContactId", "reference", 0, "x", "Converted Contact ID", "Contact"},
          {"ConvertedOpportunityId", "reference", 0, "x", "Converted Opportunity ID", "Opportunity"},
          {"IsUnreadByOwner", "boolean", 0, "", "Unread By Owner"},
          {"DoNotCall", "boolean", 0, "", "Do Not Call"},
          {"HasOptedOutOfFax", "boolean", 0, "", "Fax Opt Out"},
          {"LastActivityDate", "date", 0, "x", "Last Activity"},
      } + recently_viewed() + std::vector<field_spec>{
          {"Jigsaw", "string", 20, "", "Data.com Key"},
          {"JigsawContactId", "string", 20, "x", "Jigsaw Contact ID"},
          {"EmailBouncedReason", "string", 255, "", "Email Bounced Reason"},
          {"EmailBouncedDate", "datetime", 0, "", "Email Bounced Date"},
      }}));

  out.push_back(build_object({"Opportunity", "Opportunity", "Opportunities", "006",
      std::vector<field_spec>{
          {"AccountId", "reference", 0, "", "Account ID", "Account"},
          {"IsPrivate", "boolean", 0, "", "Private"},
          {"Name", "string", 120, "rn", "Name"},
          {"Description", "textarea", 32000, "", "Description"},
          {"StageName", "picklist", 255, "rp", "Stage", stage},
          {"Amount", "currency", 18, "", "Amount", {}, 2},
          {"Probability", "percent", 3, "d", "Probability (%)"},
          {"ExpectedRevenue", "currency", 18, "x", "Expected Amount", {}, 2},
          {"TotalOpportunityQuantity", "double", 18, "", "Quantity", {}, 2},
          {"CloseDate", "date", 0, "r", "Close Date"},
          {"Type", "picklist", 255, "", "Opportunity Type",
           "Existing Customer - Upgrade|Existing Customer - Replacement|Existing Customer - Downgrade|New Customer"},
          {"NextStep", "string", 255, "", "Next Step"},
          {"LeadSource", "picklist", 255, "", "Lead Source", lead_source},
          {"IsClosed", "boolean", 0, "x", "Closed"},
          {"IsWon", "boolean", 0, "x", "Won"},
          {"ForecastCategory", "picklist", 40, "rx", "Forecast Category", "Omitted|Pipeline|BestCase|Forecast|Closed"},
          {"ForecastCategoryName", "picklist", 255, "d", "Forecast Category",
           "Omitted|Pipeline|Best Case|Commit|Closed"},
          {"CampaignId", "reference", 0, "", "Campaign ID", "Campaign"},
          {"HasOpportunityLineItem", "boolean", 0, "x", "Has Line Item"},
          {"Pricebook2Id", "reference", 0, "", "Price Book ID", "Pricebook2"},
          {"OwnerId", "reference", 0, "rd", "Owner ID", "User"},
          {"LastActivityDate", "date", 0, "x", "Last Activity"},
          {"FiscalQuarter", "int", 11, "x", "Fiscal Quarter"},
          {"FiscalYear", "int", 11, "x", "Fiscal Year"},
          {"Fiscal", "string", 6, "x", "Fiscal Period"},
          {"ContactId", "reference", 0, "", "Contact ID", "Contact"},
      } + recently_viewed() + std::vector<field_spec>{
          {"LastStageChangeDate", "datetime", 0, "x", "Last Stage Change Date"},
          {"HasOpenActivity", "boolean", 0, "x", "Has Open Activity"},
          {"HasOverdueTask", "boolean", 0, "x", "Has Overdue Task"},
      }}));

  out.push_back(build_object({"OpportunityLineItem", "Opportunity Product", "Opportunity Products", "00k",
      std::vector<field_spec>{
          {"OpportunityId", "reference", 0, "ru", "Opportunity ID", "Opportunity"},
          {"SortOrder", "int", 9, "", "Sort Order"},
          {"PricebookEntryId", "reference", 0, "u", "Price Book Entry ID", "PricebookEntry"},
          {"Product2Id", "reference", 0, "u", "Product ID", "Product2"},
          {"ProductCode", "string", 255, "x", "Product Code"},
          {"Name", "string", 376, "xn", "Opportunity Product Name"},
          {"Quantity", "double", 12, "r", "Quantity", {}, 2},
          {"TotalPrice", "currency", 16, "", "Total Price", {}, 2},
          {"UnitPrice", "currency", 16, "", "Sales Price", {}, 2},
          {"ListPrice", "currency", 16, "x", "List Price", {}, 2},
          {"ServiceDate", "date", 0, "", "Date"},
          {"Description", "string", 255, "", "Line Description"},
      } + recently_viewed()}));

  out.push_back(build_object({"Campaign", "Campaign", "Campaigns", "701",
      std::vector<field_spec>{
          {"Name", "string", 80, "rni", "Name"},
          {"ParentId", "reference", 0, "", "Parent Campaign ID", "Campaign"},
          {"Type", "picklist", 255, "", "Type",
           "Conference|Webinar|Trade Show|Public Relations|Partners|Referral Program|Advertisement|Banner Ads|"
           "Direct Mail|Email|Telemarketing|Other"},
          {"Status", "picklist", 255, "", "Status", "Planned|In Progress|Completed|Aborted"},
          {"StartDate", "date", 0, "", "Start Date"},
          {"EndDate", "date", 0, "", "End Date"},
          {"ExpectedRevenue", "currency", 18, "", "Expected Revenue in Campaign"},
          {"BudgetedCost", "currency", 18, "", "Budgeted Cost in Campaign"},
          {"ActualCost", "currency", 18, "", "Actual Cost in Campaign"},
          {"ExpectedResponse", "percent", 10, "", "Expected Response (%)", {}, 2},
          {"NumberSent", "double", 18, "", "Num Sent in Campaign"},
          {"IsActive", "boolean", 0, "", "Active"},
          {"Description", "textarea", 32000, "", "Description"},
          {"NumberOfLeads", "int", 9, "x", "Leads in Campaign"},
          {"NumberOfConvertedLeads", "int", 9, "x", "Converted Leads in Campaign"},
          {"NumberOfContacts", "int", 9, "x", "Contacts in Campaign"},
          {"NumberOfResponses", "int", 9, "x", "Responses in Campaign"},
          {"NumberOfOpportunities", "int", 9, "x", "Opportunities in Campaign"},
          {"NumberOfWonOpportunities", "int", 9, "x", "Won Opportunities in Campaign"},
          {"AmountAllOpportunities", "currency", 18, "x", "Value Opportunities in Campaign"},
          {"AmountWonOpportunities", "currency", 18, "x", "Value Won Opportunities in Campaign"},
          {"OwnerId", "reference", 0, "rd", "Owner ID", "User"},
          {"LastActivityDate", "date", 0, "x", "Last Activity"},
      } + recently_viewed()}));

  out.push_back(build_object({"CampaignMember", "Campaign Member", "Campaign Members", "00v",
      std::vector<field_spec>{
          {"CampaignId", "reference", 0, "ru", "Campaign ID", "Campaign"},
          {"LeadId", "reference", 0, "u", "Lead ID", "Lead"},
          {"ContactId", "reference", 0, "u", "Contact ID", "Contact"},
          {"Status", "picklist", 40, "", "Status", "*Sent|Responded"},
          {"HasResponded", "boolean", 0, "x", "Responded"},
          {"FirstRespondedDate", "date", 0, "x", "First Responded Date"},
          {"Salutation", "picklist", 40, "x", "Salutation", salutation},
          {"Name", "string", 121, "x", "Name"},
          {"FirstName", "string", 40, "x", "First Name"},
          {"LastName", "string", 80, "x", "Last Name"},
          {"Title", "string", 128, "x", "Title"},
          {"Street", "textarea", 255, "x", "Street"},
          {"City", "string", 40, "x", "City"},
          {"State", "string", 80, "x", "State"},
          {"PostalCode", "string", 20, "x", "Zip"},
          {"Country", "string", 80, "x", "Country"},
          {"Email", "email", 80, "x", "Email"},
          {"Phone", "phone", 40, "x", "Phone"},
          {"Fax", "phone", 40, "x", "Fax"},
          {"MobilePhone", "phone", 40, "x", "Mobile"},
          {"Description", "textarea", 32000, "x", "Description"},
          {"DoNotCall", "boolean", 0, "x", "Do Not Call"},
          {"HasOptedOutOfEmail", "boolean", 0, "x", "Email Opt Out"},
          {"HasOptedOutOfFax", "boolean", 0, "x", "Fax Opt Out"},
          {"LeadSource", "picklist", 255, "x", "Lead Source", lead_source},
          {"CompanyOrAccount", "string", 255, "x", "Company (Account)"},
          {"Type", "string", 40, "x", "Type"},
          {"LeadOrContactId", "reference", 0, "x", "Contact or Lead ID", "Contact,Lead>"},
          {"LeadOrContactOwnerId", "reference", 0, "x", "Lead or Contact Owner ID", "Group,User>"},
      }}));
  return out;
}

} // namespace sfemu::standard

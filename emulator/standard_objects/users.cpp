// User, Profile, UserRole: standard fields as in Salesforce's object reference, and the
// records every fresh org has (profiles, the standard price book).
#include "emulator/standard_objects/builder.hpp"

namespace sfemu::standard {

namespace {

// Salesforce's lists are long (every IANA zone, every locale); these are the common
// values. The fields are restricted picklists, as in Salesforce.
constexpr std::string_view time_zones =
    "Pacific/Kiritimati|Pacific/Auckland|Australia/Sydney|Asia/Tokyo|Asia/Seoul|Asia/Shanghai|Asia/Hong_Kong|"
    "Asia/Singapore|Asia/Kolkata|Asia/Dubai|Europe/Moscow|Africa/Johannesburg|Europe/Athens|Europe/Berlin|"
    "Europe/Paris|Europe/Amsterdam|Europe/Madrid|Europe/Rome|Europe/London|Europe/Dublin|Europe/Lisbon|GMT|"
    "Atlantic/Azores|America/Sao_Paulo|America/Argentina/Buenos_Aires|America/Halifax|America/New_York|"
    "America/Toronto|America/Chicago|America/Mexico_City|America/Denver|America/Phoenix|America/Los_Angeles|"
    "America/Anchorage|Pacific/Honolulu";
constexpr std::string_view locales =
    "en_US|en_GB|en_CA|en_AU|en_IE|en_IN|fr_FR|fr_CA|de_DE|de_AT|de_CH|es_ES|es_MX|it_IT|nl_NL|pt_BR|pt_PT|"
    "sv_SE|da_DK|fi_FI|no_NO|pl_PL|ja_JP|ko_KR|zh_CN|zh_TW";
constexpr std::string_view languages =
    "en_US|en_GB|de|es|es_MX|fr|it|ja|ko|nl_NL|pt_BR|ru|sv|da|fi|no|zh_CN|zh_TW|th";
constexpr std::string_view email_encodings = "UTF-8|ISO-8859-1|Shift_JIS|ISO-2022-JP|EUC-JP|ks_c_5601-1987|Big5|GB2312|Big5-HKSCS|x-SJIS_0213";
constexpr std::string_view user_types =
    "Standard|PowerPartner|PowerCustomerSuccess|CustomerSuccess|Guest|CspLitePortal|CsnOnly|SelfService";
constexpr std::string_view access_level = "None|Read|Edit";

} // namespace

std::vector<object_def> user_objects() {
  std::vector<object_def> out;
  object_spec user{"User", "User", "Users", "005",
      std::vector<field_spec>{
          {"Username", "string", 80, "rUi", "Username"},
          {"LastName", "string", 80, "r", "Last Name"},
          {"FirstName", "string", 40, "", "First Name"},
          {"MiddleName", "string", 40, "", "Middle Name"},
          {"Suffix", "string", 40, "", "Suffix"},
          {"Name", "string", 121, "xnF", "Full Name"},
          {"CompanyName", "string", 80, "", "Company Name"},
          {"Division", "string", 80, "", "Division"},
          {"Department", "string", 80, "", "Department"},
          {"Title", "string", 80, "", "Title"},
      } + address("") + std::vector<field_spec>{
          {"Email", "email", 128, "r", "Email"},
          {"SenderEmail", "email", 80, "", "Email Sender Address"},
          {"SenderName", "string", 80, "", "Email Sender Name"},
          {"Signature", "textarea", 1333, "", "Email Signature"},
          {"Phone", "phone", 40, "", "Phone"},
          {"Fax", "phone", 40, "", "Fax"},
          {"MobilePhone", "phone", 40, "", "Mobile"},
          {"Extension", "phone", 40, "", "Extension"},
          {"Alias", "string", 8, "r", "Alias"},
          {"CommunityNickname", "string", 40, "rd", "Nickname"},
          {"IsActive", "boolean", 0, "", "Active"},
          {"TimeZoneSidKey", "picklist", 40, "rp", "Time Zone", time_zones},
          {"UserRoleId", "reference", 0, "", "Role ID", "UserRole"},
          {"LocaleSidKey", "picklist", 40, "rp", "Locale", locales},
          {"ReceivesInfoEmails", "boolean", 0, "", "Info Emails"},
          {"ReceivesAdminInfoEmails", "boolean", 0, "", "Admin Info Emails"},
          {"EmailEncodingKey", "picklist", 40, "rp", "Email Encoding", email_encodings},
          {"ProfileId", "reference", 0, "r", "Profile ID", "Profile"},
          {"UserType", "picklist", 40, "xp", "User Type", user_types},
          {"LanguageLocaleKey", "picklist", 40, "rp", "Language", languages},
          {"EmployeeNumber", "string", 20, "", "Employee Number"},
          {"DelegatedApproverId", "reference", 0, "", "Delegated Approver ID", "Group,User>"},
          {"ManagerId", "reference", 0, "", "Manager ID", "User"},
          {"LastLoginDate", "datetime", 0, "x", "Last Login"},
          {"LastPasswordChangeDate", "datetime", 0, "x", "Last Password Change or Reset"},
          {"ForecastEnabled", "boolean", 0, "", "Allow Forecasting"},
          {"ContactId", "reference", 0, "u", "Contact ID", "Contact"},
          {"AccountId", "reference", 0, "x", "Account ID", "Account"},
          {"AboutMe", "textarea", 1000, "", "About Me"},
          {"FederationIdentifier", "string", 512, "", "SAML Federation ID"},
      } + recently_viewed()};
  user.has_is_deleted = false;              // User has no IsDeleted and cannot be deleted
  user.deletable = false;
  out.push_back(build_object(user));
  // New users are active unless told otherwise (Salesforce's IsActive default).
  auto& active = out.back().fields[static_cast<std::size_t>(out.back().field_index("IsActive"))];
  active.default_value = value::of_bool(true);

  object_spec profile{"Profile", "Profile", "Profiles", "00e",
      {{"Name", "string", 255, "rn", "Name"},
       {"UserType", "picklist", 40, "xp", "User Type", user_types},
       {"Description", "string", 255, "", "Description"}}};
  profile.has_is_deleted = false;
  out.push_back(build_object(profile));

  object_spec role{"UserRole", "Role", "Roles", "00E",
      {{"Name", "string", 80, "rn", "Name"},
       {"ParentRoleId", "reference", 0, "", "Parent Role ID", "UserRole"},
       {"RollupDescription", "string", 80, "", "Description"},
       {"OpportunityAccessForAccountOwner", "picklist", 40, "rdp", "Opportunity Access Level for Account Owner",
        "*None|Read|Edit"},
       {"CaseAccessForAccountOwner", "picklist", 40, "dp", "Case Access Level for Account Owner", access_level},
       {"ContactAccessForAccountOwner", "picklist", 40, "dp", "Contact Access Level for Account Owner",
        access_level},
       {"ForecastUserId", "reference", 0, "", "User ID", "User"},
       {"MayForecastManagerShare", "boolean", 0, "", "May Forecast Manager Share"},
       {"DeveloperName", "string", 80, "d", "Developer Name"}}};
  role.has_is_deleted = false;
  out.push_back(build_object(role));
  return out;
}

const std::vector<seed_record>& seed_records() {
  static const std::vector<seed_record> records = {
      {"Profile", {{"Name", "System Administrator"}, {"UserType", "Standard"}}},
      {"Profile", {{"Name", "Standard User"}, {"UserType", "Standard"}}},
      {"Profile", {{"Name", "Read Only"}, {"UserType", "Standard"}}},
      {"Pricebook2", {{"Name", "Standard Price Book"}, {"IsActive", "true"}, {"IsStandard", "true"}}},
  };
  return records;
}

} // namespace sfemu::standard

// Why: see call_sheet.h. The grammar is deliberately forgiving: labels are matched without case,
// values may sit on the label line or on the following lines (bullets allowed) up to a blank line
// or the next label.
#include "domain/call_sheet.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>
#include <map>

namespace sot::domain {
namespace {

enum class Field {
  kDate,
  kCall,
  kTitle,
  kLocation,
  kBase,
  kSceneType,
  kScenes,
  kEquipment,
  kContacts,
  kSafety,
  kNotes
};

struct Label {
  const char* text;
  Field field;
};

// Longest labels first so "call time" wins over "call" and "base location" over "location".
const std::vector<Label>& labels() {
  static const std::vector<Label> kLabels = [] {
    std::vector<Label> l = {
        {"shooting date", Field::kDate},
        {"shoot date", Field::kDate},
        {"date", Field::kDate},
        {"data zdjęć", Field::kDate},
        {"data", Field::kDate},
        {"general crew call", Field::kCall},
        {"crew call", Field::kCall},
        {"general call", Field::kCall},
        {"call time", Field::kCall},
        {"call", Field::kCall},
        {"godzina wezwania", Field::kCall},
        {"wezwanie", Field::kCall},
        {"production", Field::kTitle},
        {"title", Field::kTitle},
        {"project", Field::kTitle},
        {"produkcja", Field::kTitle},
        {"shooting location", Field::kLocation},
        {"set location", Field::kLocation},
        {"location", Field::kLocation},
        {"lokalizacja", Field::kLocation},
        {"miejsce", Field::kLocation},
        {"set", Field::kLocation},
        {"base location", Field::kBase},
        {"unit base", Field::kBase},
        {"base", Field::kBase},
        {"baza", Field::kBase},
        {"scene type", Field::kSceneType},
        {"typ sceny", Field::kSceneType},
        {"int/ext", Field::kSceneType},
        {"scenes", Field::kScenes},
        {"scene", Field::kScenes},
        {"sceny", Field::kScenes},
        {"equipment", Field::kEquipment},
        {"sprzęt", Field::kEquipment},
        {"contacts", Field::kContacts},
        {"contact", Field::kContacts},
        {"kontakty", Field::kContacts},
        {"safety notes", Field::kSafety},
        {"safety", Field::kSafety},
        {"bhp", Field::kSafety},
        {"notes", Field::kNotes},
        {"uwagi", Field::kNotes},
    };
    std::stable_sort(l.begin(), l.end(), [](const Label& a, const Label& b) {
      return std::string_view(a.text).size() > std::string_view(b.text).size();
    });
    return l;
  }();
  return kLabels;
}

std::string trim(std::string_view s) {
  std::size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string strip_bullet(std::string s) {
  s = trim(s);
  while (!s.empty() && (s[0] == '-' || s[0] == '*' || s[0] == '+')) s = trim(s.substr(1));
  if (s.rfind("\xE2\x80\xA2", 0) == 0) s = trim(s.substr(3));  // U+2022 bullet
  return s;
}

// "Label: value" -> (field, value). Only a label at the start of the line followed by ':' counts.
std::optional<std::pair<Field, std::string>> match_label(const std::string& line) {
  const std::string l = lower(line);
  for (const auto& label : labels()) {
    const std::string_view t = label.text;
    if (l.rfind(t, 0) != 0) continue;
    std::size_t i = t.size();
    while (i < l.size() && (l[i] == ' ' || l[i] == '\t')) ++i;
    if (i < l.size() && l[i] == ':') return std::make_pair(label.field, trim(std::string_view(line).substr(i + 1)));
  }
  return std::nullopt;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::string current;
  for (char c : text) {
    if (c == ',' || c == ';' || c == '\n') {
      if (auto t = strip_bullet(current); !t.empty()) out.push_back(t);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (auto t = strip_bullet(current); !t.empty()) out.push_back(t);
  return out;
}

bool looks_like_phone(const std::string& s) {
  int digits = 0;
  for (char c : s) {
    if (std::isdigit(static_cast<unsigned char>(c)))
      ++digits;
    else if (c != '+' && c != ' ' && c != '-' && c != '(' && c != ')' && c != '.')
      return false;
  }
  return digits >= 6;
}

Contact parse_contact(const std::string& line) {
  // Accepts "Name - Role - Phone", "Name | Role | Phone", "Role: Name, Phone", "Name (Role) Phone".
  std::vector<std::string> parts;
  std::string text = line;
  for (const char* sep : {" \xE2\x80\x93 ", " - ", " | ", "|", ", "}) {
    std::size_t pos = 0;
    while ((pos = text.find(sep, pos)) != std::string::npos) {
      text.replace(pos, std::string_view(sep).size(), "\x1f");
      pos += 1;
    }
  }
  std::string current;
  for (char c : text) {
    if (c == '\x1f') {
      parts.push_back(trim(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  parts.push_back(trim(current));
  parts.erase(std::remove(parts.begin(), parts.end(), std::string()), parts.end());
  Contact contact;
  std::vector<std::string> rest;
  for (auto& p : parts) {
    if (contact.phone.empty() && looks_like_phone(p))
      contact.phone = p;
    else
      rest.push_back(p);
  }
  if (!rest.empty()) {
    const auto colon = rest[0].find(':');
    if (colon != std::string::npos) {  // "Role: Name"
      contact.role = trim(rest[0].substr(0, colon));
      contact.name = trim(rest[0].substr(colon + 1));
      rest.erase(rest.begin());
    } else {
      contact.name = rest[0];
      rest.erase(rest.begin());
    }
  }
  for (auto& r : rest) contact.role += (contact.role.empty() ? "" : ", ") + r;
  // A trailing phone glued to the name ("Anna Nowak +48 600 100 200").
  if (contact.phone.empty()) {
    const auto plus = contact.name.find('+');
    if (plus != std::string::npos && looks_like_phone(contact.name.substr(plus))) {
      contact.phone = trim(contact.name.substr(plus));
      contact.name = trim(contact.name.substr(0, plus));
    }
  }
  return contact;
}

int month_from_name(std::string_view name) {
  static const std::array<std::pair<const char*, int>, 24> kMonths = {{
      {"jan", 1}, {"feb", 2},  {"mar", 3},  {"apr", 4},  {"may", 5},  {"jun", 6},  {"jul", 7},  {"aug", 8},
      {"sep", 9}, {"oct", 10}, {"nov", 11}, {"dec", 12}, {"sty", 1},  {"lut", 2},  {"kwi", 4},  {"maj", 5},
      {"cze", 6}, {"lip", 7},  {"sie", 8},  {"wrz", 9},  {"paź", 10}, {"paz", 10}, {"lis", 11}, {"gru", 12},
  }};
  const std::string l = lower(name);
  for (const auto& [prefix, month] : kMonths) {
    if (l.rfind(prefix, 0) == 0) return month;
  }
  return 0;
}

}  // namespace

std::optional<Date> parse_date_loose(std::string_view text) {
  const std::string s = trim(text);
  int a = 0, b = 0, c = 0;
  char sep1 = 0, sep2 = 0;
  // ISO first: 2024-03-15
  if (std::sscanf(s.c_str(), "%4d-%2d-%2d", &a, &b, &c) == 3 && a > 1900) {
    Date d{a, b, c};
    if (valid_date(d)) return d;
  }
  // 15.03.2024, 15/03/2024, 15-03-2024 (day first, as European call sheets write it)
  if (std::sscanf(s.c_str(), "%2d%c%2d%c%4d", &a, &sep1, &b, &sep2, &c) == 5 && sep1 == sep2 &&
      (sep1 == '.' || sep1 == '/' || sep1 == '-') && c > 1900) {
    Date d{c, b, a};
    if (valid_date(d)) return d;
  }
  // "15 March 2024", "Friday, 15 March 2024", "March 15, 2024"
  std::vector<std::string> words;
  std::string current;
  for (char ch : s) {
    if (std::isspace(static_cast<unsigned char>(ch)) || ch == ',') {
      if (!current.empty()) words.push_back(current);
      current.clear();
    } else {
      current.push_back(ch);
    }
  }
  if (!current.empty()) words.push_back(current);
  int day = 0, month = 0, year = 0;
  for (const auto& w : words) {
    std::string digits = w;
    while (!digits.empty() && !std::isdigit(static_cast<unsigned char>(digits.back()))) digits.pop_back();  // 15th
    const bool numeric = !digits.empty() && std::all_of(digits.begin(), digits.end(), [](char ch) {
      return std::isdigit(static_cast<unsigned char>(ch));
    });
    // A day or a year has at most four digits; longer numbers (a phone number, a
    // reference) are neither, and would overflow stoi.
    if (numeric && digits.size() <= 4) {
      const int v = std::stoi(digits);
      if (v > 1900)
        year = v;
      else if (v >= 1 && v <= 31 && day == 0)
        day = v;
    } else if (month == 0 && w.size() >= 3) {
      month = month_from_name(w);
    }
  }
  if (day && month && year) {
    Date d{year, month, day};
    if (valid_date(d)) return d;
  }
  return std::nullopt;
}

std::optional<int> parse_time_loose(std::string_view text) {
  std::string s = lower(trim(text));
  int h = 0, m = 0;
  char sep = 0;
  int consumed = 0;
  if (std::sscanf(s.c_str(), "%2d%c%2d%n", &h, &sep, &m, &consumed) == 3 && (sep == ':' || sep == '.')) {
    std::string rest = trim(s.substr(static_cast<std::size_t>(consumed)));
    if (rest.rfind("pm", 0) == 0 || rest.rfind("p.m", 0) == 0) {
      if (h < 12) h += 12;
    } else if (rest.rfind("am", 0) == 0 || rest.rfind("a.m", 0) == 0) {
      if (h == 12) h = 0;
    }
    if (h >= 0 && h <= 23 && m >= 0 && m <= 59) return h * 60 + m;
  }
  if (std::sscanf(s.c_str(), "%2d%n", &h, &consumed) == 1) {  // "6 am"
    std::string rest = trim(s.substr(static_cast<std::size_t>(consumed)));
    if (rest.rfind("am", 0) == 0 && h >= 1 && h <= 12) return (h % 12) * 60;
    if (rest.rfind("pm", 0) == 0 && h >= 1 && h <= 12) return (h % 12 + 12) * 60;
  }
  return std::nullopt;
}

ParsedCallSheet parse_call_sheet(std::string_view input) {
  std::string text(input);
  text.erase(std::remove(text.begin(), text.end(), '\r'), text.end());
  std::vector<std::string> lines;
  {
    std::size_t start = 0;
    while (start <= text.size()) {
      const auto nl = text.find('\n', start);
      lines.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
      if (nl == std::string::npos) break;
      start = nl + 1;
    }
  }
  std::map<Field, std::vector<std::string>> values;  // field -> lines of value
  std::optional<Field> current;
  for (const auto& raw : lines) {
    const std::string line = trim(raw);
    if (line.empty()) {
      current.reset();
      continue;
    }
    if (auto labelled = match_label(line)) {
      auto& v = values[labelled->first];
      if (!v.empty() && labelled->first != Field::kContacts && labelled->first != Field::kSafety) {
        current.reset();  // keep the first occurrence of single-valued fields
        continue;
      }
      if (!labelled->second.empty()) v.push_back(labelled->second);
      current = labelled->first;
      continue;
    }
    if (current) values[*current].push_back(strip_bullet(line));
  }

  ParsedCallSheet out;
  CallSheet& sheet = out.sheet;
  auto joined = [&](Field f, const char* sep) {
    std::string s;
    for (const auto& v : values[f]) s += (s.empty() ? "" : sep) + v;
    return s;
  };
  if (!values[Field::kDate].empty()) sheet.shooting_date = parse_date_loose(values[Field::kDate].front());
  if (!values[Field::kCall].empty()) sheet.call_time = parse_time_loose(values[Field::kCall].front());
  sheet.title = joined(Field::kTitle, " ");
  sheet.location = joined(Field::kLocation, ", ");
  sheet.base_location = joined(Field::kBase, ", ");
  sheet.scene_type = joined(Field::kSceneType, " ");
  sheet.scenes = split_list(joined(Field::kScenes, ","));
  sheet.equipment = split_list(joined(Field::kEquipment, ","));
  for (const auto& v : values[Field::kSafety]) {
    if (auto s = strip_bullet(v); !s.empty()) sheet.safety_notes.push_back(s);
  }
  for (const auto& v : values[Field::kContacts]) {
    std::size_t start = 0;
    while (start <= v.size()) {  // several contacts on one line are separated by ';'
      const auto semi = v.find(';', start);
      Contact c =
          parse_contact(strip_bullet(v.substr(start, semi == std::string::npos ? std::string::npos : semi - start)));
      if (!c.name.empty() || !c.phone.empty()) sheet.contacts.push_back(std::move(c));
      if (semi == std::string::npos) break;
      start = semi + 1;
    }
  }
  sheet.notes = joined(Field::kNotes, "\n");
  if (!sheet.shooting_date) out.missing.push_back("shootingDate");
  if (!sheet.call_time) out.missing.push_back("callTime");
  if (sheet.location.empty()) out.missing.push_back("location");
  return out;
}

nlohmann::json to_json(const Contact& c) {
  return {{"name", c.name}, {"role", c.role}, {"phone", c.phone}};
}

}  // namespace sot::domain

// Headers: an ordered list of fields; lookups compare names ignoring ASCII case.
#include <torsion/http/headers.hpp>

#include <algorithm>

#include "http_chars.hpp"

namespace torsion::http {

void validateHeaderName(std::string_view name) {
  if (name.empty()) throw InvalidHeaderError("Invalid HTTP header name: the name is empty");
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!detail::isTokenChar(name[i])) {
      throw InvalidHeaderError("Invalid HTTP header name \"" + detail::printable(name) + "\": byte " +
                               std::to_string(i) + " (" + detail::describeByte(name[i]) +
                               ") is not allowed in a token (RFC 9110 §5.1)");
    }
  }
}

void validateHeaderValue(std::string_view value) {
  const auto bad = value.find_first_of(std::string_view("\r\n\0", 3));
  if (bad != std::string_view::npos) {
    throw InvalidHeaderError("Invalid HTTP header value \"" + detail::printable(value) + "\": byte " +
                             std::to_string(bad) + " is " + detail::describeByte(value[bad]) +
                             ", which could end the header early");
  }
}

bool equalsIgnoringCase(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return detail::lower(x) == detail::lower(y); });
}

void Headers::add(std::string_view name, std::string_view value) {
  validateHeaderName(name);
  validateHeaderValue(value);
  fields_.push_back(HeaderField{std::string(name), std::string(value)});
}

void Headers::set(std::string_view name, std::string_view value) {
  validateHeaderName(name);
  validateHeaderValue(value);
  auto first = std::find_if(fields_.begin(), fields_.end(),
                            [&](const HeaderField& field) { return equalsIgnoringCase(field.name, name); });
  if (first == fields_.end()) {
    fields_.push_back(HeaderField{std::string(name), std::string(value)});
    return;
  }
  *first = HeaderField{std::string(name), std::string(value)};
  fields_.erase(std::remove_if(std::next(first), fields_.end(),
                               [&](const HeaderField& field) { return equalsIgnoringCase(field.name, name); }),
                fields_.end());
}

std::size_t Headers::remove(std::string_view name) {
  const auto before = fields_.size();
  fields_.erase(std::remove_if(fields_.begin(), fields_.end(),
                               [&](const HeaderField& field) { return equalsIgnoringCase(field.name, name); }),
                fields_.end());
  return before - fields_.size();
}

std::optional<std::string> Headers::get(std::string_view name) const {
  for (const auto& field : fields_) {
    if (equalsIgnoringCase(field.name, name)) return field.value;
  }
  return std::nullopt;
}

std::vector<std::string> Headers::getAll(std::string_view name) const {
  std::vector<std::string> values;
  for (const auto& field : fields_) {
    if (equalsIgnoringCase(field.name, name)) values.push_back(field.value);
  }
  return values;
}

bool Headers::has(std::string_view name) const {
  return std::any_of(fields_.begin(), fields_.end(),
                     [&](const HeaderField& field) { return equalsIgnoringCase(field.name, name); });
}

bool operator==(const Headers& a, const Headers& b) noexcept {
  return std::equal(a.fields_.begin(), a.fields_.end(), b.fields_.begin(), b.fields_.end(),
                    [](const HeaderField& x, const HeaderField& y) {
                      return equalsIgnoringCase(x.name, y.name) && x.value == y.value;
                    });
}

}  // namespace torsion::http

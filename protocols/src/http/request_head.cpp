// How a request's head is written: the request line, Host, the user's headers, framing.
#include <torsion/http/client_protocol.hpp>

#include "http_chars.hpp"

#include <array>
#include <string>

namespace torsion::http {

void validateMethod(std::string_view method) {
  if (method.empty()) throw InvalidHeaderError("The HTTP method is empty");
  for (char c : method) {
    if (!detail::isTokenChar(c)) {
      throw InvalidHeaderError("The HTTP method \"" + detail::printable(method) + "\" holds " +
                               detail::describeByte(c) + ", which a method (an RFC 9110 token) cannot");
    }
  }
}

bool isIdempotent(std::string_view method) noexcept {
  static constexpr std::array<std::string_view, 6> idempotent{"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"};
  for (auto m : idempotent) {
    if (m == method) return true;
  }
  return false;
}

std::string formatRequestHead(const Request& request) {
  validateMethod(request.method);
  std::string head;
  head.reserve(256);
  head += request.method;
  head += ' ';
  head += request.absoluteForm ? request.url.toString() : request.url.requestTarget();
  head += " HTTP/1.1\r\n";
  if (!request.headers.has("Host")) {
    head += "Host: ";
    head += request.url.authority();
    head += "\r\n";
  }
  for (const auto& field : request.headers) {
    // The framing is the body producer's to say: a user's length could smuggle a request.
    if (equalsIgnoringCase(field.name, "Content-Length") || equalsIgnoringCase(field.name, "Transfer-Encoding")) {
      continue;
    }
    head += field.name;
    head += ": ";
    head += field.value;
    head += "\r\n";
  }
  if (request.body) {
    if (auto length = request.body->length()) {
      head += "Content-Length: " + std::to_string(*length) + "\r\n";
    } else {
      head += "Transfer-Encoding: chunked\r\n";
    }
  } else if (request.method == "POST" || request.method == "PUT" || request.method == "PATCH") {
    head += "Content-Length: 0\r\n";
  }
  head += "\r\n";
  return head;
}

}  // namespace torsion::http

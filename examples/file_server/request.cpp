#include "request.hpp"

namespace file_transfer {
namespace {

std::string pathField(const nlohmann::json& header, bool optional) {
  if (optional && !header.contains("path")) return ".";
  std::string path = stringField(header, "path");
  if (path.size() > kMaxPath) throw ProtocolError("path too long");
  return path;
}

bool flagField(const nlohmann::json& header, const char* name) {
  const auto found = header.find(name);
  if (found == header.end()) return false;
  if (!found->is_boolean()) throw ProtocolError(std::string("field '") + name + "' is not true or false");
  return found->get<bool>();
}

}  // namespace

Request parseRequest(const Message& message) {
  const std::string type = message.type();
  const auto& header = message.header;
  Request request;
  if (!message.data.empty() && type != "data") throw ProtocolError("unexpected data after a '" + type + "' header");
  if (type == "login") {
    request.kind = Request::Kind::login;
    request.user = stringField(header, "user");
    request.answer = stringField(header, "answer");
  } else if (type == "ls") {
    request.kind = Request::Kind::ls;
    request.path = pathField(header, true);
  } else if (type == "mkdir" || type == "rm") {
    request.kind = type == "mkdir" ? Request::Kind::mkdir : Request::Kind::rm;
    request.path = pathField(header, false);
  } else if (type == "put") {
    request.kind = Request::Kind::put;
    request.path = pathField(header, false);
    request.size = numberField(header, "size", 0);
    request.resume = flagField(header, "resume");
  } else if (type == "get") {
    request.kind = Request::Kind::get;
    request.path = pathField(header, false);
    request.offset = numberField(header, "offset", 0);
  } else if (type == "data") {
    request.kind = Request::Kind::data;
    request.data = message.data;
  } else if (type == "end") {
    request.kind = Request::Kind::end;
    request.sha256 = stringField(header, "sha256");
  } else {
    throw ProtocolError("unknown message type '" + printable(type) + "'");
  }
  return request;
}

}  // namespace file_transfer

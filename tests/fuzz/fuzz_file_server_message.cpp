// Fuzzes the file server's message parsing (examples/file_server: decodeMessage and
// parseRequest): any payload is either refused with ProtocolError or accepted, never
// anything else; an accepted message encodes back to one that decodes to the same
// header and data, and parses to the same request kind.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>

#include "request.hpp"
#include "wire.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz property violated: %s\n", what);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace file_transfer;
  const std::string_view payload(reinterpret_cast<const char*>(data), size);
  Message message;
  try {
    message = decodeMessage(payload);
  } catch (const ProtocolError&) {
    return 0;
  } catch (...) {
    fail("decodeMessage threw something other than ProtocolError");
  }
  if (!message.header.is_object() || !message.header.at("type").is_string()) fail("accepted a header without type");
  if (message.data.size() > kMaxData) fail("accepted data over the limit");

  bool parsed = false;
  Request request;
  try {
    request = parseRequest(message);
    parsed = true;
  } catch (const ProtocolError&) {
  } catch (...) {
    fail("parseRequest threw something other than ProtocolError");
  }
  if (parsed && request.path.size() > kMaxPath) fail("accepted a path over the limit");

  std::string again;
  try {
    again = encodeMessage(message.header, message.data);
  } catch (const ProtocolError&) {
    return 0;  // the re-dumped header can be longer than the original (numbers, escapes)
  } catch (...) {
    fail("encodeMessage threw something other than ProtocolError");
  }
  const Message second = decodeMessage(again);
  if (second.header != message.header || second.data != message.data) fail("encode/decode round trip differs");
  if (parsed && parseRequest(second).kind != request.kind) fail("the round trip changed the request");
  return 0;
}

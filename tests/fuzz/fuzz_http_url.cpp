// Fuzzes Url: what parse accepts prints back to a URL that parses to the same value,
// with no byte a request line or Host header could be split with; what resolve returns
// does too, and an absolute reference resolves alike against any base; nothing but
// InvalidUrlError (UnsupportedSchemeError included) escapes.
#include <torsion/http/url.hpp>

#include <string>

#include "fuzz_support.hpp"

namespace torsion::fuzz {
namespace {

void checkSafe(const std::string& text) {
  for (char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte <= 0x20 || byte >= 0x7f) fail("a control, space or non-ASCII byte in an accepted URL");
  }
}

void checkRoundTrip(const http::Url& url) {
  const auto text = url.toString();
  checkSafe(text);
  checkSafe(url.authority());
  checkSafe(url.requestTarget());
  if (url.requestTarget().empty() || url.requestTarget().front() != '/') fail("a request target without '/'");
  if (url.port() == 0) fail("port 0 accepted");
  try {
    if (!(http::Url::parse(text) == url)) fail("toString does not parse back to the same URL");
  } catch (const http::InvalidUrlError&) {
    fail("toString of an accepted URL is refused");
  }
}

}  // namespace
}  // namespace torsion::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace torsion;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto newline = text.find('\n');
  const auto base = text.substr(0, newline);
  const auto reference = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
  try {
    const auto url = http::Url::parse(base);
    fuzz::checkRoundTrip(url);
    try {
      const auto resolved = url.resolve(reference);
      fuzz::checkRoundTrip(resolved);
      // An absolute reference does not depend on the base, and resolving is idempotent
      // (its dot segments are removed once; parse itself keeps paths as given).
      const auto again = url.resolve(resolved.toString());
      fuzz::checkRoundTrip(again);
      if (!(http::Url::parse("https://other:1/x/y").resolve(resolved.toString()) == again)) {
        fuzz::fail("resolving an absolute URL depends on the base");
      }
      if (!(url.resolve(again.toString()) == again)) fuzz::fail("resolving is not idempotent");
    } catch (const http::InvalidUrlError&) {
    }
  } catch (const http::InvalidUrlError&) {
  } catch (...) {
    fuzz::fail("an exception that is not an InvalidUrlError");
  }
  return 0;
}

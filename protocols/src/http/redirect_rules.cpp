// Internal. The redirect rules: which status changes the method, what crosses origins.
#include "redirect_rules.hpp"

#include <torsion/http/errors.hpp>

#include <array>
#include <string_view>

namespace torsion::http::detail {

bool isRedirect(int code) noexcept { return code == 301 || code == 302 || code == 303 || code == 307 || code == 308; }

bool sameOrigin(const Url& a, const Url& b) noexcept {
  return a.scheme() == b.scheme() && a.host() == b.host() && a.port() == b.port();
}

RedirectTarget redirectTarget(int code, const std::string& method, const Url& url, const Headers& headers,
                              std::shared_ptr<BodyProducer> body, const Headers& responseHeaders) {
  auto location = responseHeaders.get("Location");
  if (!location || location->empty()) {
    throw RedirectLocationError("A " + std::to_string(code) + " redirect from " + url.toString() +
                                " has no Location header");
  }
  RedirectTarget target{method, url.resolve(*location), headers, std::move(body)};
  // 303: GET (HEAD stays HEAD), never a body; 301/302 after POST: GET, as browsers do;
  // 307/308, and 301/302 with another method: as is.
  const bool dropBody = code == 303 || ((code == 301 || code == 302) && method == "POST");
  if (dropBody) {
    if (method != "HEAD") target.method = "GET";
    target.body.reset();
    for (std::string_view name : {"Content-Type", "Content-Encoding", "Content-Language", "Content-Location"}) {
      target.headers.remove(name);
    }
  }
  if (!sameOrigin(url, target.url)) {
    for (std::string_view name : {"Authorization", "Cookie", "Proxy-Authorization"}) target.headers.remove(name);
  }
  // The Host header the user set named the old target; the new one gets its own.
  target.headers.remove("Host");
  return target;
}

}  // namespace torsion::http::detail

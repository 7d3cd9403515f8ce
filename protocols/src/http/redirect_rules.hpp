// Internal. Which redirects the Agent follows and how the next request is made.
#pragma once

#include <torsion/http/body_producer.hpp>
#include <torsion/http/headers.hpp>
#include <torsion/http/url.hpp>

#include <memory>
#include <string>

namespace torsion::http::detail {

/// True for 301, 302, 303, 307 and 308.
bool isRedirect(int code) noexcept;

/// True when two URLs share scheme, host and port.
bool sameOrigin(const Url& a, const Url& b) noexcept;

/// The request a redirect leads to.
struct RedirectTarget {
  std::string method;
  Url url;
  Headers headers;
  std::shared_ptr<BodyProducer> body;
};

/// Applies the redirect rules (see Agent) to a request answered by `code` with
/// `location`: resolves the Location against `url`, chooses the method and the body,
/// drops the body's headers when the body is dropped and the credentials when the
/// origin changes.
/// @throws RedirectLocationError without a Location; UnsupportedSchemeError or
///         InvalidUrlError for a target that is not an http(s) URL.
RedirectTarget redirectTarget(int code, const std::string& method, const Url& url, const Headers& headers,
                              std::shared_ptr<BodyProducer> body, const Headers& responseHeaders);

}  // namespace torsion::http::detail

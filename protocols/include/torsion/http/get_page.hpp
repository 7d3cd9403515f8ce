// Public. getPage and downloadPage: one call for one page, read whole or streamed to a file.
#pragma once

#include <torsion/deferred.hpp>
#include <torsion/http/agent.hpp>
#include <torsion/http/body_producer.hpp>
#include <torsion/http/headers.hpp>
#include <torsion/http/response.hpp>
#include <torsion/reactor_interfaces.hpp>

#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace torsion::http {

/// What getPage and downloadPage send, and their caps.
///
/// Thread safety: a value type: safe to copy between threads; not to share mutably.
struct PageOptions {
  std::string method = "GET";          ///< the request method
  Headers headers;                     ///< the request headers
  std::shared_ptr<BodyProducer> body;  ///< the request body, or nullptr
  /// getPage's cap on the body (ResponseTooLargeError past it); downloadPage's cap on
  /// the file's size.
  std::uint64_t maxBodyBytes = defaultMaxBodyBytes;
  AgentOptions agent;  ///< timeouts, redirects, decoding, proxy of the Agent used
};

/// Fetches one page and reads its body (Twisted's `getPage`, returning the response).
/// Uses an Agent and a pool of its own, closed when the page is read.
/// @param reactor connects.
/// @param clock runs the timers.
/// @param url an absolute http or https URL.
/// @param options method, headers, body, caps, Agent options.
/// @return the response, `body` filled in; fails as Agent::request and readBody do.
Deferred<Response> getPage(IReactorTCP& reactor, IReactorTime& clock, std::string_view url, PageOptions options = {});

/// Fetches one page on a reactor that is also a clock (a torsion::Reactor).
/// @code
/// torsion::http::getPage(reactor, "http://127.0.0.1:8080/index.html")
///     .addCallback([](const torsion::http::Response& r) { fmt::print("{} {}\n", r.code, r.body.size()); });
/// @endcode
/// @param reactor connects and runs the timers.
/// @param url an absolute http or https URL.
/// @param options method, headers, body, caps, Agent options.
template <class R>
requires std::derived_from<R, IReactorTCP> && std::derived_from<R, IReactorTime> Deferred<Response> getPage(
    R& reactor, std::string_view url, PageOptions options = {}) {
  return getPage(static_cast<IReactorTCP&>(reactor), static_cast<IReactorTime&>(reactor), url, std::move(options));
}

/// Told of a download's progress: bytes written so far, and the total when the response
/// said it (Content-Length).
using DownloadProgress = std::function<void(std::uint64_t soFar, std::optional<std::uint64_t> total)>;

/// Streams a page's body to a file (Twisted's `downloadPage`), never holding it in
/// memory: it is written to `path` + ".part" as it arrives and renamed to `path` once
/// whole, so a failed download (any status counts as success; a cut body, a cap, a
/// write error do not) leaves no file at `path` and removes the partial one.
/// @param reactor connects.
/// @param clock runs the timers.
/// @param url an absolute http or https URL.
/// @param path the file to write.
/// @param progress called after each write (may be empty).
/// @param options method, headers, body, caps, Agent options.
/// @return the response (`body` empty) once the file is complete.
Deferred<Response> downloadPage(IReactorTCP& reactor, IReactorTime& clock, std::string_view url, std::string path,
                                DownloadProgress progress = nullptr, PageOptions options = {});

/// downloadPage on a reactor that is also a clock (a torsion::Reactor).
/// @param reactor connects and runs the timers.
/// @param url an absolute http or https URL.
/// @param path the file to write.
/// @param progress called after each write (may be empty).
/// @param options method, headers, body, caps, Agent options.
template <class R>
requires std::derived_from<R, IReactorTCP> && std::derived_from<R, IReactorTime> Deferred<Response> downloadPage(
    R& reactor, std::string_view url, std::string path, DownloadProgress progress = nullptr, PageOptions options = {}) {
  return downloadPage(static_cast<IReactorTCP&>(reactor), static_cast<IReactorTime&>(reactor), url, std::move(path),
                      std::move(progress), std::move(options));
}

}  // namespace torsion::http

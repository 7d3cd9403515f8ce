// Internal. Decoding Content-Encoding gzip/deflate on the way to the user (Twisted's
// ContentDecoderAgent).
#pragma once

#include <torsion/http/response.hpp>

#include <cstdint>

namespace torsion::http::detail {

/// If `response` has Content-Encoding gzip, x-gzip or deflate, returns it with a body
/// stream that decodes (at most `maxDecodedBytes`), without Content-Encoding and
/// Content-Length; returns it unchanged otherwise.
Response decodeContent(Response response, std::uint64_t maxDecodedBytes);

}  // namespace torsion::http::detail

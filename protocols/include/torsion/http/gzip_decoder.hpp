// Public. GzipDecoder: streaming decoding of Content-Encoding gzip and deflate (zlib).
#pragma once

#include <torsion/bytes.hpp>
#include <torsion/http/errors.hpp>

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string_view>

namespace torsion::http {

/// Decodes a body compressed with `Content-Encoding: gzip` or `deflate` as it arrives
/// (Twisted's `ContentDecoderAgent`), with a cap on the decoded size against zip bombs.
///
/// - gzip (also `x-gzip`): one or more gzip members, one after the other;
/// - deflate: a zlib stream (RFC 1950) as the standard says, or a raw deflate stream
///   (RFC 1951) as some servers send and browsers accept; the first two bytes decide.
///
/// Decoded bytes go to the output function as views of the decoder's own buffer (valid
/// during the call), at most 16 KiB at a time, so memory does not grow with the body.
///
/// @code
/// std::string text;
/// torsion::http::GzipDecoder decoder(torsion::http::GzipDecoder::Format::gzip,
///                                    [&](torsion::Bytes part) { text.append(part); }, 1 << 20);
/// decoder.decode(compressedPart);  // as many times as parts arrive
/// decoder.finish();                // throws if the stream was cut short
/// @endcode
///
/// Thread safety: not synchronised: use each decoder from one thread at a time; separate decoders are independent.
class GzipDecoder {
 public:
  /// The compressed format.
  enum class Format {
    gzip,     ///< RFC 1952, one or more members
    deflate,  ///< RFC 1950 (zlib) or a raw RFC 1951 stream
  };

  /// Receives decoded bytes.
  using Output = std::function<void(Bytes)>;

  /// The format of a Content-Encoding value ("gzip", "x-gzip", "deflate", in any case),
  /// or nullopt for any other (identity included).
  /// @param contentEncoding one coding, as named in the header.
  static std::optional<Format> formatFor(std::string_view contentEncoding) noexcept;

  /// @param format the compressed format.
  /// @param output receives the decoded bytes.
  /// @param maxOutputBytes the cap on the decoded size (ResponseTooLargeError when passed).
  GzipDecoder(Format format, Output output, std::uint64_t maxOutputBytes = std::numeric_limits<std::uint64_t>::max());
  ~GzipDecoder();
  GzipDecoder(const GzipDecoder&) = delete;
  GzipDecoder& operator=(const GzipDecoder&) = delete;

  /// Decodes the next compressed bytes, calling the output with what they decode to.
  /// @param data the next part of the compressed body.
  /// @throws DecompressionError when the data is corrupt, or follows the end of a
  ///         deflate stream.
  /// @throws ResponseTooLargeError when the decoded size passes the cap (the output
  ///         receives the bytes up to the cap, none past it).
  void decode(Bytes data);

  /// The compressed body ended.
  /// @throws DecompressionError when the compressed stream had not ended.
  void finish();

  /// Decoded bytes delivered so far.
  std::uint64_t outputBytes() const noexcept { return outputBytes_; }

 private:
  struct Stream;
  /// Where the compressed stream is.
  enum class State { start, inStream, betweenMembers, ended, failed };

  void begin(bool raw);
  void inflateSome(Bytes& data);
  void emit(std::size_t size);
  [[noreturn]] void fail(const std::string& message);

  Format format_;
  Output output_;
  std::uint64_t maxOutputBytes_;
  std::uint64_t outputBytes_ = 0;
  State state_ = State::start;
  std::unique_ptr<Stream> stream_;
};

}  // namespace torsion::http

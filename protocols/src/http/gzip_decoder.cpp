// GzipDecoder: zlib's inflate, fed as the body arrives, through one 16 KiB output buffer.
#include <torsion/http/gzip_decoder.hpp>

#include <zlib.h>

#include <utility>

#include <torsion/http/headers.hpp>

#include "http_chars.hpp"

namespace torsion::http {

struct GzipDecoder::Stream {
  z_stream z{};
  bool initialised = false;
  std::string head;  // the first byte of a deflate body, until the second says which kind
  unsigned char out[16 * 1024];
};

std::optional<GzipDecoder::Format> GzipDecoder::formatFor(std::string_view contentEncoding) noexcept {
  contentEncoding = detail::trimWhitespace(contentEncoding);
  if (equalsIgnoringCase(contentEncoding, "gzip") || equalsIgnoringCase(contentEncoding, "x-gzip")) {
    return Format::gzip;
  }
  if (equalsIgnoringCase(contentEncoding, "deflate")) return Format::deflate;
  return std::nullopt;
}

GzipDecoder::GzipDecoder(Format format, Output output, std::uint64_t maxOutputBytes)
    : format_(format),
      output_(std::move(output)),
      maxOutputBytes_(maxOutputBytes),
      stream_(std::make_unique<Stream>()) {}

GzipDecoder::~GzipDecoder() {
  if (stream_->initialised) inflateEnd(&stream_->z);
}

void GzipDecoder::begin(bool raw) {
  const int windowBits = format_ == Format::gzip ? 15 + 16 : (raw ? -15 : 15);
  if (inflateInit2(&stream_->z, windowBits) != Z_OK) fail("zlib could not be initialised");
  stream_->initialised = true;
  state_ = State::inStream;
}

void GzipDecoder::decode(Bytes data) {
  if (state_ == State::failed) throw DecompressionError("The compressed body could not be decoded earlier");
  try {
    if (state_ == State::start && format_ == Format::deflate) {
      // A zlib stream starts with CMF (method 8) and FLG, CMF*256+FLG a multiple of 31;
      // anything else is taken for raw deflate, as browsers do.
      auto& head = stream_->head;
      while (head.size() < 2 && !data.empty()) {
        head += data.front();
        data.remove_prefix(1);
      }
      if (head.size() < 2) return;
      const auto cmf = static_cast<unsigned char>(head[0]);
      const auto flg = static_cast<unsigned char>(head[1]);
      begin(!((cmf & 0x0f) == 8 && (cmf * 256 + flg) % 31 == 0));
      Bytes first = head;
      inflateSome(first);
      if (!first.empty() || state_ != State::inStream) {
        if (!data.empty()) fail("data follows the end of the deflate stream");
        return;
      }
    }
    while (!data.empty()) {
      switch (state_) {
        case State::start: begin(false); break;
        case State::betweenMembers:
          // Another gzip member follows (RFC 1952 allows several, one after the other).
          if (inflateReset(&stream_->z) != Z_OK) fail("zlib could not be reset");
          state_ = State::inStream;
          break;
        case State::ended: fail("data follows the end of the deflate stream");
        default: break;
      }
      inflateSome(data);
    }
  } catch (...) {
    state_ = State::failed;
    throw;
  }
}

void GzipDecoder::inflateSome(Bytes& data) {
  z_stream& z = stream_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  while (true) {
    z.next_out = stream_->out;
    z.avail_out = sizeof stream_->out;
    const auto before = z.avail_in;
    const int status = inflate(&z, Z_NO_FLUSH);
    const std::size_t produced = sizeof stream_->out - z.avail_out;
    // What was decoded before a corrupt spot goes out first, so that the output before
    // the error is the same however the input is cut.
    emit(produced);
    if (status == Z_NEED_DICT) fail("the deflate stream needs a preset dictionary");
    if (status == Z_DATA_ERROR || status == Z_STREAM_ERROR || status == Z_MEM_ERROR) {
      fail(z.msg != nullptr ? z.msg : "the compressed data is corrupt");
    }
    if (status == Z_STREAM_END) {
      state_ = format_ == Format::gzip ? State::betweenMembers : State::ended;
      break;
    }
    if (z.avail_out != 0 && (z.avail_in == 0 || (produced == 0 && z.avail_in == before))) break;
  }
  data.remove_prefix(data.size() - z.avail_in);
}

void GzipDecoder::emit(std::size_t size) {
  // Up to the cap, then the error: the output is the same however the input is cut.
  const std::uint64_t allowed = maxOutputBytes_ - outputBytes_;
  const bool over = size > allowed;
  if (over) size = static_cast<std::size_t>(allowed);
  outputBytes_ += size;
  if (size != 0) output_(Bytes(reinterpret_cast<const char*>(stream_->out), size));
  if (over) throw ResponseTooLargeError("decoded body", maxOutputBytes_);
}

void GzipDecoder::finish() {
  switch (state_) {
    case State::failed: throw DecompressionError("The compressed body could not be decoded earlier");
    case State::inStream: state_ = State::failed; fail("the compressed body ended before its stream did");
    case State::start:
      if (!stream_->head.empty()) {
        state_ = State::failed;
        fail("the compressed body ended after one byte");
      }
      return;
    default: return;
  }
}

void GzipDecoder::fail(const std::string& message) {
  state_ = State::failed;
  throw DecompressionError(std::string("Could not decode the ") + (format_ == Format::gzip ? "gzip" : "deflate") +
                           " body: " + message);
}

}  // namespace torsion::http

// Fuzzes GzipDecoder: random compressed bodies decode to the same bytes and the same
// error whether fed whole or cut at random points, never past the cap, with only
// DecompressionError or ResponseTooLargeError escaping; and what zlib compresses
// decodes back to itself.
#include <torsion/http/gzip_decoder.hpp>

#include <zlib.h>

#include <string>

#include "fuzz_support.hpp"

namespace torsion::fuzz {
namespace {

using http::GzipDecoder;

std::string decode(GzipDecoder::Format format, const std::vector<std::string_view>& pieces, std::uint64_t cap) {
  std::string out;
  GzipDecoder decoder(
      format, [&](Bytes part) { out.append(part); }, cap);
  try {
    for (auto piece : pieces) decoder.decode(piece);
    decoder.finish();
    out += "|END";
  } catch (const http::DecompressionError&) {
    out += "|DecompressionError";
  } catch (const http::ResponseTooLargeError&) {
    if (decoder.outputBytes() != cap) fail("the decoder stopped before or after its cap");
    out += "|TooLarge";
  } catch (...) {
    fail("an exception that is neither DecompressionError nor ResponseTooLargeError");
  }
  if (decoder.outputBytes() > cap) fail("decoded past the cap");
  return out;
}

std::string compress(std::string_view data, int windowBits) {
  z_stream z{};
  if (deflateInit2(&z, 1, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY) != Z_OK) fail("deflateInit2");
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) fail("deflate");
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

}  // namespace
}  // namespace torsion::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace torsion::fuzz;
  using Format = torsion::http::GzipDecoder::Format;
  Input input(data, size);
  const auto flags = input.byte();
  const auto format = (flags & 1) ? Format::deflate : Format::gzip;
  const std::uint64_t cap = (flags & 2) ? input.byte() * 64u : UINT64_MAX;
  const auto seed = input.byte();
  const auto stream = input.rest();
  if (decode(format, {stream}, cap) != decode(format, chunks(stream, seed), cap)) {
    fail("whole and split decoding disagree");
  }
  const int bits = format == Format::gzip ? 31 : ((flags & 4) ? -15 : 15);
  const auto compressed = compress(stream, bits);
  if (decode(format, chunks(compressed, seed), UINT64_MAX) != std::string(stream) + "|END") {
    fail("a zlib-compressed stream does not decode to itself");
  }
  return 0;
}

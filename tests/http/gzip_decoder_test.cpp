// GzipDecoder: gzip, zlib and raw deflate bodies decoded as they arrive, a cap on the
// decoded size, and corrupt or cut streams reported.
#include <torsion/http/gzip_decoder.hpp>

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>

namespace {

using torsion::http::DecompressionError;
using torsion::http::GzipDecoder;
using torsion::http::ResponseTooLargeError;
using Format = GzipDecoder::Format;

// Compresses with zlib: windowBits 15+16 gzip, 15 zlib, -15 raw deflate.
std::string compress(std::string_view data, int windowBits) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 6, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string sampleText() {
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "line " + std::to_string(i * 7919 % 1000) + " of the sample body\n";
  return text;
}

// Decodes `compressed` fed in pieces of `piece` bytes.
std::string decodeAll(Format format, std::string_view compressed, std::size_t piece, std::uint64_t cap = UINT64_MAX) {
  std::string out;
  GzipDecoder decoder(
      format, [&](torsion::Bytes part) { out.append(part); }, cap);
  for (std::size_t i = 0; i < compressed.size(); i += piece) decoder.decode(compressed.substr(i, piece));
  decoder.finish();
  EXPECT_EQ(decoder.outputBytes(), out.size());
  return out;
}

TEST(GzipDecoder, DecodesGzipZlibAndRawDeflateInAnyPieces) {
  const auto text = sampleText();
  const std::pair<Format, int> kinds[] = {{Format::gzip, 31}, {Format::deflate, 15}, {Format::deflate, -15}};
  for (const auto& [format, bits] : kinds) {
    const auto compressed = compress(text, bits);
    for (std::size_t piece : {std::size_t{1}, std::size_t{3}, std::size_t{1000}, compressed.size()}) {
      EXPECT_EQ(decodeAll(format, compressed, piece), text) << bits << " piece " << piece;
    }
  }
}

TEST(GzipDecoder, DecodesSeveralGzipMembers) {
  const auto body = compress("first,", 31) + compress("second", 31);
  EXPECT_EQ(decodeAll(Format::gzip, body, 1), "first,second");
  EXPECT_EQ(decodeAll(Format::gzip, body, body.size()), "first,second");
}

TEST(GzipDecoder, AnEmptyBodyIsEmpty) { EXPECT_EQ(decodeAll(Format::gzip, "", 1), ""); }

TEST(GzipDecoder, CorruptDataIsADecompressionError) {
  auto body = compress(sampleText(), 31);
  body[body.size() / 2] = static_cast<char>(body[body.size() / 2] ^ 0x55);
  body[body.size() / 2 + 1] = static_cast<char>(body[body.size() / 2 + 1] ^ 0x55);
  EXPECT_THROW(decodeAll(Format::gzip, body, 100), DecompressionError);
  EXPECT_THROW(decodeAll(Format::gzip, "not gzip at all", 100), DecompressionError);
  auto badCrc = compress("hello", 31);
  badCrc[badCrc.size() - 8] = static_cast<char>(badCrc[badCrc.size() - 8] ^ 1);
  EXPECT_THROW(decodeAll(Format::gzip, badCrc, 100), DecompressionError);
}

TEST(GzipDecoder, OutputBeforeACorruptSpotIsTheSameHoweverCut) {
  std::string text;
  for (int i = 0; i < 20; ++i) text += "The quick brown fox jumps over the lazy dog. ";
  auto body = compress(text, 31);
  for (std::size_t i = 20; i < 30; ++i) body[i] = static_cast<char>(body[i] ^ 0x55);
  std::string previous;
  for (std::size_t piece : {body.size(), std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
    std::string out;
    GzipDecoder decoder(Format::gzip, [&](torsion::Bytes part) { out.append(part); });
    try {
      for (std::size_t i = 0; i < body.size(); i += piece) decoder.decode(std::string_view(body).substr(i, piece));
      decoder.finish();
      ADD_FAILURE() << "no error";
    } catch (const DecompressionError&) {
    }
    EXPECT_GT(out.size(), 0u) << piece;
    if (piece != body.size()) {
      EXPECT_EQ(out, previous) << piece;
    }
    previous = out;
  }
}

TEST(GzipDecoder, ATruncatedStreamFailsAtFinish) {
  for (const auto& kind : {std::pair{Format::gzip, 31}, std::pair{Format::deflate, 15}}) {
    const auto body = compress(sampleText(), kind.second);
    std::string out;
    GzipDecoder decoder(kind.first, [&](torsion::Bytes part) { out.append(part); });
    decoder.decode(std::string_view(body).substr(0, body.size() - 5));
    try {
      decoder.finish();
      FAIL() << "no error";
    } catch (const DecompressionError& error) {
      EXPECT_NE(std::string(error.what()).find("ended before"), std::string::npos) << error.what();
    }
  }
  GzipDecoder oneByte(Format::deflate, [](torsion::Bytes) {});
  oneByte.decode("x");
  EXPECT_THROW(oneByte.finish(), DecompressionError);
}

TEST(GzipDecoder, DataAfterADeflateStreamIsAnError) {
  EXPECT_THROW(decodeAll(Format::deflate, compress("abc", 15) + "junk", 1), DecompressionError);
  EXPECT_THROW(decodeAll(Format::deflate, compress("abc", -15) + "junk", 100), DecompressionError);
  EXPECT_THROW(decodeAll(Format::gzip, compress("abc", 31) + "junk", 100), DecompressionError);
}

TEST(GzipDecoder, AZipBombStopsAtTheCap) {
  const std::string zeros(16 * 1024 * 1024, '\0');
  const auto bomb = compress(zeros, 31);
  ASSERT_LT(bomb.size(), 64u * 1024);
  const std::uint64_t cap = 1024 * 1024;
  std::uint64_t delivered = 0;
  GzipDecoder decoder(
      Format::gzip, [&](torsion::Bytes part) { delivered += part.size(); }, cap);
  try {
    decoder.decode(bomb);
    FAIL() << "no error";
  } catch (const ResponseTooLargeError& error) {
    EXPECT_EQ(error.limit(), cap);
    EXPECT_NE(std::string(error.what()).find("decoded body"), std::string::npos) << error.what();
  }
  EXPECT_EQ(delivered, cap);                              // up to the cap, not a byte more
  EXPECT_THROW(decoder.decode("x"), DecompressionError);  // failed for good
  EXPECT_EQ(decodeAll(Format::gzip, compress(std::string(cap, 'a'), 31), 4096, cap).size(), cap);  // at the cap
}

TEST(GzipDecoder, FormatForContentEncoding) {
  EXPECT_EQ(GzipDecoder::formatFor("gzip"), Format::gzip);
  EXPECT_EQ(GzipDecoder::formatFor("X-GZIP"), Format::gzip);
  EXPECT_EQ(GzipDecoder::formatFor(" Deflate "), Format::deflate);
  EXPECT_EQ(GzipDecoder::formatFor("identity"), std::nullopt);
  EXPECT_EQ(GzipDecoder::formatFor("br"), std::nullopt);
}

}  // namespace

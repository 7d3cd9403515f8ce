// Fuzzes the TLS wrapper (torsion::tls's TlsProtocol) on the server side over a
// StringTransport. Every byte goes to OpenSSL (torsion parses no TLS record itself), so the
// target is the wrapper around it: random bytes, random record-shaped input, and a real
// ClientHello with fuzzed bytes after or inside it, cut into random reads. Properties: no
// crash or sanitizer report, the user protocol is told of the end exactly once, and nothing
// reaches it in plain text without a completed handshake.
#include <unistd.h>

#include <torsion/tls.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>

#include "fuzz_support.hpp"

namespace torsion::fuzz {
namespace {

// A throwaway self-signed certificate for the fuzzed server (test data, never trusted).
constexpr const char* kCertificate = R"(
-----BEGIN CERTIFICATE-----
MIIBgDCCASWgAwIBAgIUDk9yTyr7CROWzKVY95gMhJ92LN8wCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEzMDA5MDYzNFoYDzIxMjYxMTA2
MDkwNjM0WjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAAQy0U9J/TMEu5VhPOiIsyQHu6Sh9ioo9pKZOHIj6P14LrT3njlveSUC
TbXyZVYRkysyHa7PmPmLRLvY+YX2suVlo1MwUTAdBgNVHQ4EFgQU5KCnbKgN619N
4+BC08DqquXuarYwHwYDVR0jBBgwFoAU5KCnbKgN619N4+BC08DqquXuarYwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEA3TCHViB4nE1P2iljzCO9
tNbwgX46NcHWoGHw5pbtXysCIQD161OhjkZe7LnFoJnc7md/o+o65es9IqiRK/IJ
P+141Q==
-----END CERTIFICATE-----
)";
constexpr const char* kKey = R"(
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgKVUL3AhQB02RQc+X
SiPn6P6QKUDZC1zGCyGt29fIc6WhRANCAAQy0U9J/TMEu5VhPOiIsyQHu6Sh9ioo
9pKZOHIj6P14LrT3njlveSUCTbXyZVYRkysyHa7PmPmLRLvY+YX2suVl
-----END PRIVATE KEY-----
)";

struct Files {
  Files() {
    dir = std::filesystem::temp_directory_path() / ("torsion-fuzz-tls-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "cert.pem") << kCertificate;
    std::ofstream(dir / "key.pem") << kKey;
  }
  ~Files() {
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  std::filesystem::path dir;
};

const tls::ServerTLSOptions& serverOptions() {
  static const Files files;
  static const tls::ServerTLSOptions options(
      tls::PrivateCertificate{(files.dir / "cert.pem").string(), (files.dir / "key.pem").string()});
  return options;
}

// A real ClientHello, made once by a client wrapper over a StringTransport.
const std::string& clientHello() {
  static const std::string hello = [] {
    class Quiet : public Protocol {};
    auto transport = std::make_shared<testing::StringTransport>();
    auto client = tls::wrapClientProtocol(tls::optionsForClientTLS("localhost"), std::make_shared<Quiet>());
    transport->makeConnection(*client);
    std::string bytes = transport->value();
    transport->reportConnectionLost();
    return bytes;
  }();
  return hello;
}

class Watcher : public Protocol, public tls::IHandshakeListener {
 public:
  void handshakeCompleted() override { handshake = true; }
  void dataReceived(Bytes data) override {
    if (!handshake) fail("application data before the handshake completed");
    received += data.size();
  }
  void connectionLost(const Failure&) override {
    if (++lost > 1) fail("connectionLost twice");
  }
  bool handshake = false;
  std::size_t received = 0;
  int lost = 0;
};

// Frames `bytes` as TLS records of fuzzed types and lengths.
std::string records(Input& input, std::string_view bytes) {
  static constexpr unsigned char kTypes[] = {20, 21, 22, 23, 24, 0};
  std::string out;
  while (!bytes.empty()) {
    const std::size_t length = std::min<std::size_t>(bytes.size(), 1 + input.byte() * 4);
    out += static_cast<char>(kTypes[input.byte() % sizeof kTypes]);
    out += '\x03';
    out += static_cast<char>(input.byte() % 5);  // 0x0300..0x0304
    out += static_cast<char>(length >> 8);
    out += static_cast<char>(length & 0xff);
    out.append(bytes.substr(0, length));
    bytes.remove_prefix(length);
  }
  return out;
}

}  // namespace
}  // namespace torsion::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace torsion;
  fuzz::silenceLogs();
  fuzz::Input input(data, size);
  const std::uint8_t mode = input.byte() % 4;
  const std::uint32_t seed = input.byte();
  std::string stream;
  switch (mode) {
    case 0: stream = std::string(input.rest()); break;                        // raw bytes
    case 1: stream = fuzz::records(input, input.rest()); break;               // record-shaped
    case 2: stream = fuzz::clientHello() + std::string(input.rest()); break;  // a hello, then noise
    default: {                                                                // a hello with bytes flipped
      stream = fuzz::clientHello();
      for (std::size_t i = 0; i + 1 < input.rest().size(); i += 2) {
        stream[static_cast<std::uint8_t>(input.rest()[i]) * 7 % stream.size()] ^= input.rest()[i + 1];
      }
    }
  }
  auto watcher = std::make_shared<fuzz::Watcher>();
  auto inner = std::make_shared<Factory>();
  // Handed out once: a factory keeping it would form a cycle with its `factory` pointer.
  inner->protocol = [slot = std::make_shared<std::shared_ptr<Protocol>>(watcher)] {
    return std::exchange(*slot, nullptr);
  };
  auto factory = std::make_shared<tls::TLSMemoryBIOFactory>(fuzz::serverOptions(), inner);
  auto transport = std::make_shared<testing::StringTransport>();
  auto server = factory->buildProtocol(transport->getPeer());
  transport->makeConnection(*server);
  for (std::string_view piece : fuzz::chunks(stream, seed)) {
    if (!transport->connected() || transport->disconnecting()) break;
    transport->receive(piece);
  }
  if (watcher->received > 0 && !watcher->handshake) fuzz::fail("data without a handshake");
  transport->reportConnectionLost();
  if (watcher->lost != 1) fuzz::fail("connectionLost not called exactly once");
  return 0;
}

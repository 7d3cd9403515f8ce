// Conformance: a pull producer (registerProducer(p, false)) is asked again after every
// chunk whatever write path the chunk took. The framings send through writeSequence, so
// each framing's send path streams 10 MiB here, byte-exact, on every backend.
#include <torsion/protocols/int_n_string_receiver.hpp>
#include <torsion/protocols/line_receiver.hpp>
#include <torsion/protocols/netstring_receiver.hpp>
#include <torsion/reactor.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "conformance_names.hpp"

namespace {

constexpr std::size_t kStreamBytes = 10u << 20;

// Payload bytes without '\r' or '\n', so the same source serves the line framing.
std::string letters(std::size_t size) {
  std::string bytes = torsion_test::patternBytes(size, 7);
  for (char& c : bytes) c = static_cast<char>('a' + static_cast<unsigned char>(c) % 26);
  return bytes;
}

// A pull producer whose every resumeProducing sends one framed chunk.
class ChunkProducer : public torsion::IPullProducer {
 public:
  explicit ChunkProducer(std::function<void()> sendNext) : sendNext_(std::move(sendNext)) {}
  void resumeProducing() override { sendNext_(); }
  void stopProducing() override {}

 private:
  std::function<void()> sendNext_;
};

// A receiver of framing `Base` that, once connected, streams `source` in chunks of
// `chunk` bytes through `send` (the framing's own send path), driven by a pull producer,
// then closes.
template <class Base>
class Streamer : public Base {
 public:
  using Send = std::function<void(Base&, torsion::Bytes)>;
  Streamer(const std::string& source, std::size_t chunk, Send send)
      : source_(source), chunk_(chunk), send_(std::move(send)) {}

  void connectionMade() override {
    this->transport().registerProducer(std::make_shared<ChunkProducer>([this] { sendNext(); }), false);
  }

 private:
  void sendNext() {
    if (offset_ >= source_.size()) {
      this->transport().unregisterProducer();
      this->transport().loseConnection();
      return;
    }
    const std::size_t size = std::min(chunk_, source_.size() - offset_);
    send_(*this, torsion::Bytes(source_.data() + offset_, size));
    offset_ += size;
  }

  const std::string& source_;
  std::size_t chunk_;
  Send send_;
  std::size_t offset_ = 0;
};

// Serves one Streamer<Base>, reads everything a raw client receives until the close,
// and checks it is exactly `expected`.
template <class Base>
void streamAndCheck(const std::string& backend, std::size_t chunk, typename Streamer<Base>::Send send,
                    const std::function<std::string(const std::string&)>& frame) {
  const std::string source = letters(kStreamBytes);
  std::string expected;
  for (std::size_t offset = 0; offset < source.size(); offset += chunk) expected += frame(source.substr(offset, chunk));

  auto owner = torsion_test::makeReactor(backend);

  torsion::Reactor& reactor = *owner;
  auto factory = std::make_shared<torsion::Factory>();
  factory->protocol = [&] { return std::make_shared<Streamer<Base>>(source, chunk, send); };
  auto port = reactor.listenTCP(0, factory, 50, "127.0.0.1");
  Fd client = torsion_test::connectLoopback(port->getHost().port);
  std::string received;
  bool open = true;
  ASSERT_TRUE(runUntil(
      reactor, [&] { return !(open = open && torsion_test::drain(client.get(), received)); }, 30,
      "the whole stream and the close"))
      << received.size() << " of " << expected.size() << " bytes arrived";
  EXPECT_EQ(received.size(), expected.size());
  EXPECT_TRUE(received == expected) << "the stream arrived with the right length but different bytes";
}

std::string bigEndian(std::uint64_t value, std::size_t width) {
  std::string bytes(width, '\0');
  for (std::size_t i = 0; i < width; ++i, value >>= 8) bytes[width - 1 - i] = static_cast<char>(value & 0xff);
  return bytes;
}

// The framings with their receive hooks filled in (the server only sends).
struct LineServer : torsion::protocols::LineReceiver {
  void lineReceived(torsion::Bytes) override {}
};
struct Int8Server : torsion::protocols::Int8StringReceiver {
  void stringReceived(torsion::Bytes) override {}
};
struct Int16Server : torsion::protocols::Int16StringReceiver {
  void stringReceived(torsion::Bytes) override {}
};
struct Int32Server : torsion::protocols::Int32StringReceiver {
  void stringReceived(torsion::Bytes) override {}
};
struct NetstringServer : torsion::protocols::NetstringReceiver {
  void stringReceived(torsion::Bytes) override {}
};

class PullProducerFraming : public BackendTest {};

TEST_P(PullProducerFraming, LineReceiverSendLineStreams10MiB) {
  streamAndCheck<LineServer>(
      backend(), 4000, [](LineServer& p, torsion::Bytes line) { p.sendLine(line); },
      [](const std::string& line) { return line + "\r\n"; });
}

TEST_P(PullProducerFraming, Int8StringReceiverSendStringStreams10MiB) {
  streamAndCheck<Int8Server>(
      backend(), 255, [](Int8Server& p, torsion::Bytes s) { p.sendString(s); },
      [](const std::string& s) { return bigEndian(s.size(), 1) + s; });
}

TEST_P(PullProducerFraming, Int16StringReceiverSendStringStreams10MiB) {
  streamAndCheck<Int16Server>(
      backend(), 4000, [](Int16Server& p, torsion::Bytes s) { p.sendString(s); },
      [](const std::string& s) { return bigEndian(s.size(), 2) + s; });
}

TEST_P(PullProducerFraming, Int32StringReceiverSendStringStreams10MiB) {
  streamAndCheck<Int32Server>(
      backend(), 64000, [](Int32Server& p, torsion::Bytes s) { p.sendString(s); },
      [](const std::string& s) { return bigEndian(s.size(), 4) + s; });
}

TEST_P(PullProducerFraming, NetstringReceiverSendStringStreams10MiB) {
  streamAndCheck<NetstringServer>(
      backend(), 4000, [](NetstringServer& p, torsion::Bytes s) { p.sendString(s); },
      [](const std::string& s) { return std::to_string(s.size()) + ":" + s + ","; });
}

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(PullProducerFraming);

}  // namespace

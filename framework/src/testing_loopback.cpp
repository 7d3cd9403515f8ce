#include <torsion/errors.hpp>
#include <torsion/testing/loopback.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

namespace torsion::testing {

namespace {
// What a side sees when its peer went away: a reset if the peer aborted, else a clean
// close.
Failure peerGoneReason(const StringTransport& peer) {
  return peer.aborted() ? Failure(ConnectionLost()) : Failure(ConnectionDone());
}
}  // namespace

IOPump::IOPump(std::shared_ptr<Protocol> client, std::shared_ptr<Protocol> server,
               std::shared_ptr<StringTransport> clientTransport, std::shared_ptr<StringTransport> serverTransport,
               std::size_t chunkSize, Clock* clock)
    : client_{std::move(client), std::move(clientTransport)},
      server_{std::move(server), std::move(serverTransport)},
      chunkSize_(chunkSize),
      clock_(clock) {
  if (!client_.protocol || !server_.protocol || !client_.transport || !server_.transport) {
    throw std::invalid_argument("IOPump: both protocols and both transports are needed");
  }
}

std::string IOPump::take(Side& side) {
  StringTransport& transport = *side.transport;
  // A registered pull producer is asked for more at every pump, as a transport asks it
  // each time its queue drains (Twisted's iosim does the same); flush() does exactly
  // that, and moves nothing else while writes are not blocked.
  if (transport.connected() && !transport.writesBlocked()) transport.flush();
  std::string data = transport.value();
  transport.clear();
  // A lost or aborted side's unmoved bytes never reach the wire.
  if (!transport.connected() || transport.aborted()) data.clear();
  return data;
}

void IOPump::deliver(Side& to, const std::string& data) {
  std::size_t at = 0;
  while (at < data.size() && to.transport->connected()) {
    std::size_t length = data.size() - at;
    if (chunkSize_ != 0) length = std::min(length, chunkSize_);
    if (plannedFailure_) length = std::min(length, plannedFailure_->bytesLeft);
    if (length > 0) {
      to.transport->receive(Bytes(data.data() + at, length));
      at += length;
      delivered_ += length;
    }
    if (plannedFailure_ && (plannedFailure_->bytesLeft -= length) == 0) {
      Failure reason = std::move(plannedFailure_->reason);
      plannedFailure_.reset();
      failConnection(reason);
    }
  }
}

bool IOPump::moveEndOfFile(Side& from, Side& to) {
  if (from.eofSent || !from.transport->writeConnectionClosed()) return false;
  if (!from.transport->connected() || !to.transport->connected()) return false;
  from.eofSent = true;
  if (auto* halfCloseable = dynamic_cast<HalfCloseableProtocol*>(from.protocol.get())) {
    halfCloseable->writeConnectionLost();
  }
  to.transport->receiveEof();
  return true;
}

bool IOPump::moveClose() {
  StringTransport& server = *server_.transport;
  StringTransport& client = *client_.transport;
  const bool serverLost = !server.connected();
  const bool clientLost = !client.connected();
  if (serverLost && clientLost) return false;
  if (!serverLost && !clientLost) {
    // Twisted's order: the peer of the side that closed hears it first.
    if (server.disconnecting()) {
      client.reportConnectionLost(peerGoneReason(server));
      return true;
    }
    if (client.disconnecting()) {
      server.reportConnectionLost(peerGoneReason(client));
      return true;
    }
    return false;
  }
  // One side is gone: the other hears of it now, with its own reason if it closed.
  StringTransport& survivor = serverLost ? client : server;
  StringTransport& gone = serverLost ? server : client;
  if (survivor.disconnecting()) {
    survivor.reportConnectionLost();
  } else {
    survivor.reportConnectionLost(peerGoneReason(gone));
  }
  return true;
}

bool IOPump::pump() {
  if (clock_ != nullptr) clock_->advance(0);
  const std::string fromServer = take(server_);
  const std::string fromClient = take(client_);
  if (!fromClient.empty()) deliver(server_, fromClient);
  if (!fromServer.empty()) deliver(client_, fromServer);
  if (!fromClient.empty() || !fromServer.empty()) return true;
  return moveEndOfFile(server_, client_) || moveEndOfFile(client_, server_) || moveClose();
}

bool IOPump::flush(std::size_t maxPumps) {
  bool moved = false;
  for (std::size_t i = 0; i < maxPumps; ++i) {
    if (!pump()) return moved;
    moved = true;
  }
  throw std::logic_error("IOPump::flush: still moving after " + std::to_string(maxPumps) +
                         " pumps (protocols that answer each other forever, or a pull producer that never "
                         "unregisters?)");
}

void IOPump::failAfter(std::size_t bytes, Failure reason) {
  if (bytes == 0) {
    failConnection(reason);
    return;
  }
  plannedFailure_ = PlannedFailure{bytes, std::move(reason)};
}

void IOPump::failConnection(const Failure& reason) {
  plannedFailure_.reset();
  server_.transport->reportConnectionLost(reason);  // each does nothing if already lost
  client_.transport->reportConnectionLost(reason);
}

IOPump connectProtocols(std::shared_ptr<Protocol> server, std::shared_ptr<Protocol> client,
                        const LoopbackOptions& options) {
  if (!server || !client) throw std::invalid_argument("connectProtocols: both protocols are needed");
  auto serverTransport = std::make_shared<StringTransport>(options.serverAddress, options.clientAddress);
  auto clientTransport = std::make_shared<StringTransport>(options.clientAddress, options.serverAddress);
  serverTransport->makeConnection(*server);
  clientTransport->makeConnection(*client);
  IOPump pump(std::move(client), std::move(server), std::move(clientTransport), std::move(serverTransport),
              options.chunkSize, options.clock);
  if (options.greet) pump.flush();
  return pump;
}

}  // namespace torsion::testing

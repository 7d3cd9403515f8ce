#include "udp_port.hpp"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <torsion/errors.hpp>
#include <torsion/log.hpp>

#include <algorithm>
#include <cerrno>
#include <stdexcept>
#include <string>

namespace torsion {

DatagramTransport& DatagramProtocol::transport() const {
  if (!transport_) throw std::logic_error("DatagramProtocol::transport() called before the port was opened");
  return *transport_;
}

void DatagramProtocol::makeConnection(std::shared_ptr<DatagramTransport> transport) {
  transport_ = std::move(transport);
  startProtocol();
}

}  // namespace torsion

namespace torsion::detail {

std::shared_ptr<DatagramPort> DatagramPort::open(ReactorCore& core, std::uint16_t port,
                                                 std::shared_ptr<DatagramProtocol> protocol,
                                                 const std::string& interface, std::size_t maxPacketSize) {
  int fd = openBoundSocket(interface, port, SOCK_DGRAM);
  auto result = std::make_shared<DatagramPort>(core, fd, std::move(protocol), maxPacketSize);
  try {
    core.setInterest(*result, kReadable);
  } catch (const std::exception& error) {
    throw CannotListenError(interface, port, error.what());
  }
  core.adopt(result);
  core.catchStopSignalsEarly();
  try {
    result->protocol_->makeConnection(result);
  } catch (...) {
    ReactorCore::logUnhandled("startProtocol", std::current_exception());
  }
  return result;
}

DatagramPort::DatagramPort(ReactorCore& core, int fd, std::shared_ptr<DatagramProtocol> protocol,
                           std::size_t maxPacketSize)
    : core_(core),
      fd_(fd),
      protocol_(std::move(protocol)),
      maxPacketSize_(std::clamp<std::size_t>(maxPacketSize, 1, ReactorCore::kReadBufferSize)),
      host_(localAddress(fd)) {}

DatagramPort::~DatagramPort() {
  if (fd_ >= 0) {
    core_.forget(*this);
    ::close(fd_);
  }
}

void DatagramPort::doRead() {
  char* buffer = core_.readBuffer();
  for (int i = 0; i < kReadsPerEvent && fd_ >= 0; ++i) {
    SocketAddress from;
    iovec part{buffer, maxPacketSize_};
    msghdr message{};
    message.msg_name = from.get();
    message.msg_namelen = sizeof from.storage;
    message.msg_iov = &part;
    message.msg_iovlen = 1;
#if defined(__linux__)
    constexpr int flags = MSG_TRUNC;  // Linux then returns the datagram's real length
#else
    constexpr int flags = 0;
#endif
    ssize_t received = ::recvmsg(fd_, &message, flags);
    from.length = message.msg_namelen;
    if (received < 0) {
      int error = errno;
      if (error == EINTR) continue;
      // A refusal whose error the backend's wait consumed (libkqueue) reads as "nothing
      // to read"; the reactor kept it.
      if (error == EAGAIN || error == EWOULDBLOCK) error = core_.takeCarriedError(fd_);
      if (error == 0) return;
      if (error == ECONNREFUSED) {
        if (connectedTo_) {
          try {
            protocol_->connectionRefused();
          } catch (...) {
            ReactorCore::logUnhandled("connectionRefused", std::current_exception());
          }
        }
        continue;
      }
      log::warn("UDP receive on {} failed: {}", host_.toString(), errorText(error));
      return;
    }
    const Address sender = connectedTo_ ? connectedAddress_ : toAddress(from.get(), from.length);
    if ((message.msg_flags & MSG_TRUNC) != 0) {
      // Cut to maxPacketSize by the kernel: handing on the start of it as if it were the
      // whole datagram would corrupt the protocol's input silently. Drop it, loudly.
      log::warn("UDP datagram from {} on {} dropped: {} bytes, longer than maxPacketSize ({} bytes)", sender.toString(),
                host_.toString(),
                static_cast<std::size_t>(received) > maxPacketSize_ ? std::to_string(received) : std::string("more"),
                maxPacketSize_);
      continue;
    }
    // An exception from one datagram's handler is logged; the port keeps serving others.
    try {
      protocol_->datagramReceived(Bytes(buffer, static_cast<std::size_t>(received)), sender);
    } catch (...) {
      ReactorCore::logUnhandled("datagramReceived", std::current_exception());
    }
  }
}

void DatagramPort::write(Bytes data, const Address& to) {
  if (connectedTo_) {
    if (to != connectedAddress_) throw std::logic_error("DatagramTransport::write: connected to another address");
    send(data, nullptr);
    return;
  }
  auto address = numericAddress(to.host, to.port);
  if (!address) throw std::invalid_argument("DatagramTransport::write: '" + to.host + "' is not a numeric address");
  send(data, &*address);
}

void DatagramPort::write(Bytes data) {
  if (!connectedTo_) throw std::logic_error("DatagramTransport::write without an address: not connected");
  send(data, nullptr);
}

void DatagramPort::send(Bytes data, const SocketAddress* to) {
  if (fd_ < 0) return;
  for (;;) {
#if defined(MSG_NOSIGNAL)
    constexpr int flags = MSG_NOSIGNAL;
#else
    constexpr int flags = 0;
#endif
    ssize_t sent = to ? ::sendto(fd_, data.data(), data.size(), flags, to->get(), to->length)
                      : ::send(fd_, data.data(), data.size(), flags);
    if (sent >= 0) return;
    switch (errno) {
      case EINTR: continue;
      case EMSGSIZE: throw MessageLengthError("datagram of " + std::to_string(data.size()) + " bytes is too long");
      case ECONNREFUSED:
        if (connectedTo_) {
          auto self = shared_from_this();
          core_.callSoon([self] {
            if (self->fd_ >= 0) self->protocol_->connectionRefused();
          });
        }
        return;
      default:  // EAGAIN, ENOBUFS: the datagram is dropped, as UDP allows
        log::debug("UDP datagram dropped on {}: {}", host_.toString(), errorText(errno));
        return;
    }
  }
}

void DatagramPort::connect(const Address& address) {
  auto target = numericAddress(address.host, address.port);
  if (!target) throw std::invalid_argument("DatagramTransport::connect: '" + address.host + "' is not numeric");
  if (::connect(fd_, target->get(), target->length) < 0) {
    throw std::invalid_argument("DatagramTransport::connect to " + address.toString() + ": " + errorText(errno));
  }
  connectedTo_ = *target;
  connectedAddress_ = toAddress(target->get(), target->length);
}

void DatagramPort::stopListening() {
  if (fd_ < 0) return;
  core_.forget(*this);
  ::close(fd_);
  fd_ = -1;
  core_.release(*this);  // we live on in the release list until the end of the pass
  try {
    protocol_->stopProtocol();
  } catch (...) {
    ReactorCore::logUnhandled("stopProtocol", std::current_exception());
  }
  // The protocol holds its transport (us): let go of it to break the cycle, later in the
  // pass, since stopListening may be running inside one of the protocol's own methods.
  core_.callSoon([protocol = std::move(protocol_)] {});
}

}  // namespace torsion::detail

#include <torsion/protocols/line_receiver.hpp>

#include "receiver_support.hpp"

#include <fmt/format.h>

#include <stdexcept>

namespace torsion::protocols {

using detail::LineScan;

// Inline, and defined before its one caller, so that it compiles into the loop of
// detail::receive as the hand-written loops it replaced did.
inline bool LineReceiver::parseNext() {
  const Bytes available = input_.unconsumed();
  if (available.empty()) return false;
  if (!lineMode_) {
    input_.consumeAll();
    scan_.scanned = 0;
    rawDataReceived(available);
    return true;
  }
  const LineScan found = detail::scanLine(available, delimiter, MAX_LENGTH, scan_);
  switch (found.kind) {
    case LineScan::Kind::incomplete: return false;
    case LineScan::Kind::tooLong:
      input_.consumeAll();
      lineLengthExceeded(available);
      return true;
    case LineScan::Kind::line:
      // Consumed before the call, so that a mode switch or clearLineBuffer inside
      // lineReceived acts on what follows this line.
      input_.consume(found.length + delimiter.size());
      lineReceived(available.substr(0, found.length));
      return true;
  }
  return false;
}

void LineReceiver::dataReceived(Bytes data) {
  detail::receive(*this, input_, data, [this] { return parseNext(); });
}

void LineReceiver::rawDataReceived(Bytes) {
  throw std::logic_error("LineReceiver: setRawMode was called but rawDataReceived is not overridden");
}

void LineReceiver::lineLengthExceeded(Bytes) {
  detail::refuseInput(*this, "LineReceiver", fmt::format("line longer than MAX_LENGTH ({} bytes)", MAX_LENGTH));
}

void LineReceiver::sendLine(Bytes line) {
  const Bytes parts[] = {line, delimiter};
  transport().writeSequence(parts);
}

void LineReceiver::setRawMode() { lineMode_ = false; }

void LineReceiver::setLineMode(Bytes extra) {
  lineMode_ = true;
  if (extra.empty()) return;
  if (input_.busy()) {
    input_.giveBack(extra);
  } else {
    dataReceived(extra);
  }
}

std::string LineReceiver::clearLineBuffer() {
  scan_.scanned = 0;
  return input_.takeAll();
}

inline bool LineOnlyReceiver::parseNext() {
  const Bytes available = input_.unconsumed();
  const LineScan found = detail::scanLine(available, delimiter, MAX_LENGTH, scan_);
  if (found.kind == LineScan::Kind::incomplete) return false;
  if (found.kind == LineScan::Kind::tooLong) {
    input_.consumeAll();
    lineLengthExceeded(available);
    return true;
  }
  input_.consume(found.length + delimiter.size());
  lineReceived(available.substr(0, found.length));
  return true;
}

void LineOnlyReceiver::dataReceived(Bytes data) {
  detail::receive(*this, input_, data, [this] { return parseNext(); });
}

void LineOnlyReceiver::lineLengthExceeded(Bytes) {
  detail::refuseInput(*this, "LineOnlyReceiver", fmt::format("line longer than MAX_LENGTH ({} bytes)", MAX_LENGTH));
}

void LineOnlyReceiver::sendLine(Bytes line) {
  const Bytes parts[] = {line, delimiter};
  transport().writeSequence(parts);
}

}  // namespace torsion::protocols

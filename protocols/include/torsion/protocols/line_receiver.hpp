// Public. LineReceiver and LineOnlyReceiver: a byte stream cut into lines.
#pragma once

#include <torsion/bytes.hpp>
#include <torsion/protocol.hpp>
#include <torsion/protocols/detail/line_scan.hpp>
#include <torsion/protocols/detail/receive_buffer.hpp>
#include <torsion/protocols/pausable_receiver.hpp>

#include <cstddef>
#include <string>

namespace torsion::protocols {

/// Cuts the byte stream into lines ended by `delimiter`, and can switch to raw mode for
/// the bytes in between (Twisted's `LineReceiver`), for line-based protocols with a
/// binary body such as HTTP, SMTP or memcached.
///
/// Lines are handed to lineReceived without the delimiter, as a view that is valid only
/// during the call (copy what you keep). Parsing does not allocate per line: lines are
/// views into the read buffer, and only a partial line at the end of a read is copied.
///
/// Inside lineReceived the protocol may call setRawMode (the rest of the data goes to
/// rawDataReceived), pauseProducing (no further line until resumeProducing),
/// transport().loseConnection() (no further line at all), clearLineBuffer, or
/// dataReceived itself (the bytes are parsed after those already received).
///
/// A line longer than MAX_LENGTH calls lineLengthExceeded, which by default logs the
/// reason and drops the connection.
///
/// @code
/// class Greeter : public torsion::protocols::LineReceiver {
///   void lineReceived(torsion::Bytes line) override {
///     sendLine(fmt::format("hello, {}", line));
///   }
/// };
/// @endcode
///
/// Thread safety: use only on the thread that runs its reactor.
class LineReceiver : public PausableReceiver {
 public:
  /// The bytes that end a line; "\r\n" by default. Set it before data arrives (in the
  /// constructor or connectionMade); it must not be empty.
  std::string delimiter = "\r\n";

  /// The longest line accepted, in bytes without the delimiter; 16384 by default.
  std::size_t MAX_LENGTH = 16384;

  /// Called with each complete line, delimiter removed.
  /// @param line the line; valid only during this call.
  virtual void lineReceived(Bytes line) = 0;

  /// Called in raw mode with each chunk of data, as it arrives.
  /// @param data the bytes; valid only during this call.
  /// @throws std::logic_error unless overridden (raw mode needs an override).
  virtual void rawDataReceived(Bytes data);

  /// Called when a line is longer than MAX_LENGTH; by default logs a warning and closes
  /// the connection. Before the call the buffer is cleared; an override that keeps the
  /// connection open may hand back the bytes it wants parsed with setLineMode(extra).
  /// @param line the rest of the buffered data, starting with the line that is too long
  /// (which may be incomplete); valid only during this call.
  virtual void lineLengthExceeded(Bytes line);

  /// Sends `line` followed by the delimiter, in one gathered write.
  void sendLine(Bytes line);

  /// Sends what follows to rawDataReceived, including the rest of the data being parsed
  /// when called from lineReceived.
  void setRawMode();

  /// Sends what follows to lineReceived again. From rawDataReceived, pass the part of
  /// its data that belongs to the line stream as `extra`: it is parsed for lines before
  /// any later data. From elsewhere, `extra` is parsed as if just received.
  /// @param extra bytes to parse as lines, copied before this returns.
  void setLineMode(Bytes extra = {});

  /// True in line mode (the initial mode), false in raw mode.
  bool lineMode() const noexcept { return lineMode_; }

  /// Removes and returns every byte received and not yet delivered: a partial line, or,
  /// from inside lineReceived, the rest of the data after the current line.
  std::string clearLineBuffer();

  /// Parses `data` into lines or raw chunks; called by the transport.
  void dataReceived(Bytes data) override;

 private:
  bool parseNext();  // one message at most; false: needs more input

  detail::ReceiveBuffer input_;
  detail::LineScanState scan_;
  bool lineMode_ = true;
};

/// A LineReceiver without raw mode or pausing (Twisted's `LineOnlyReceiver`), for
/// protocols that are lines and nothing else.
///
/// Lines are views valid only during lineReceived. After the transport's
/// loseConnection, no further line is delivered. A line longer than MAX_LENGTH calls
/// lineLengthExceeded, which by default logs the reason and drops the connection.
///
/// @code
/// class Shout : public torsion::protocols::LineOnlyReceiver {
///   void lineReceived(torsion::Bytes line) override { sendLine(toUpper(line)); }
/// };
/// @endcode
///
/// Thread safety: use only on the thread that runs its reactor.
class LineOnlyReceiver : public Protocol {
 public:
  /// The bytes that end a line; "\r\n" by default; must not be empty.
  std::string delimiter = "\r\n";

  /// The longest line accepted, in bytes without the delimiter; 16384 by default.
  std::size_t MAX_LENGTH = 16384;

  /// Called with each complete line, delimiter removed.
  /// @param line the line; valid only during this call.
  virtual void lineReceived(Bytes line) = 0;

  /// Called when a line is longer than MAX_LENGTH; by default logs a warning and closes
  /// the connection. The buffered data is discarded before the call.
  /// @param line the rest of the buffered data, starting with the line that is too long;
  /// valid only during this call.
  virtual void lineLengthExceeded(Bytes line);

  /// Sends `line` followed by the delimiter, in one gathered write.
  void sendLine(Bytes line);

  /// Parses `data` into lines; called by the transport.
  void dataReceived(Bytes data) override;

 private:
  bool parseNext();  // one line at most; false: needs more input

  detail::ReceiveBuffer input_;
  detail::LineScanState scan_;
};

}  // namespace torsion::protocols

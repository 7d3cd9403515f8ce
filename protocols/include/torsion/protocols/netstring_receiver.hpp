// Public. NetstringReceiver: messages framed as netstrings ("5:hello,").
#pragma once

#include <torsion/bytes.hpp>
#include <torsion/errors.hpp>
#include <torsion/protocols/detail/receive_buffer.hpp>
#include <torsion/protocols/pausable_receiver.hpp>

#include <cstddef>
#include <string>

namespace torsion::protocols {

/// The peer sent something that is not a valid netstring (Twisted's
/// `NetstringParseError`); what() says what was wrong.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class NetstringParseError : public Error {
 public:
  /// What was wrong with the input.
  enum class Kind {
    missingLength,  ///< the netstring does not start with a digit
    leadingZero,    ///< the length has a leading zero ("01:"), which the format forbids
    tooLong,        ///< the length is larger than MAX_LENGTH
    missingColon,   ///< the length is not followed by ':'
    missingComma,   ///< the payload is not followed by ','
  };

  /// @param kind what was wrong.
  /// @param message the explanation, for logs.
  NetstringParseError(Kind kind, const std::string& message) : Error(message), kind_(kind) {}

  /// What was wrong.
  Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

/// Cuts the byte stream into netstrings, D.J.\ Bernstein's `<length>:<bytes>,` format
/// (Twisted's `NetstringReceiver`): "5:hello," carries "hello", "0:," the empty string.
///
/// Messages are handed to stringReceived as a view valid only during the call. The
/// length is checked digit by digit as it arrives, so a peer announcing a length
/// larger than MAX_LENGTH is refused before sending the payload, and nothing is ever
/// reserved for an announced length.
///
/// Invalid input (see NetstringParseError::Kind) calls handleParseError, which by
/// default logs the reason and drops the connection. A netstring stream cannot be
/// resynchronised after an error, so from then on brokenPeer() is true and every
/// further byte is ignored, even by an override that keeps the connection open.
///
/// @code
/// class Echo : public torsion::protocols::NetstringReceiver {
///   void stringReceived(torsion::Bytes message) override { sendString(message); }
/// };
/// @endcode
///
/// Thread safety: use only on the thread that runs its reactor.
class NetstringReceiver : public PausableReceiver {
 public:
  /// The longest payload accepted, in bytes; 99999 by default (as in Twisted).
  std::size_t MAX_LENGTH = 99999;

  /// Called with each complete netstring's payload.
  /// @param message the payload; valid only during this call.
  virtual void stringReceived(Bytes message) = 0;

  /// Called once when the input is not a valid netstring; by default logs a warning
  /// and closes the connection.
  /// @param error what was wrong.
  virtual void handleParseError(const NetstringParseError& error);

  /// Sends `message` as a netstring, in one gathered write.
  void sendString(Bytes message);

  /// True once invalid input was received; all input is ignored from then on.
  bool brokenPeer() const noexcept { return brokenPeer_; }

  /// Parses `data` into netstrings; called by the transport.
  void dataReceived(Bytes data) override;

 private:
  bool parseNext();  // one message at most; false: needs more input
  bool parseLength();
  void fail(NetstringParseError::Kind kind, const std::string& message);

  detail::ReceiveBuffer input_;
  std::size_t length_ = 0;  // the length read so far, or the whole length in the payload
  std::size_t digits_ = 0;  // how many digits of the length were read
  bool inPayload_ = false;
  bool brokenPeer_ = false;
};

}  // namespace torsion::protocols

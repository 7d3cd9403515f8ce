// Public. IntNStringReceiver and Int8/16/32StringReceiver: length-prefixed messages.
#pragma once

#include <torsion/bytes.hpp>
#include <torsion/errors.hpp>
#include <torsion/protocols/detail/receive_buffer.hpp>
#include <torsion/protocols/pausable_receiver.hpp>

#include <cstddef>
#include <cstdint>

namespace torsion::protocols {

/// sendString was given a message longer than the length prefix can express (Twisted's
/// `StringTooLongError`). Nothing was sent.
///
/// Thread safety: an exception value: safe to copy between threads; not to share mutably.
class StringTooLongError : public Error {
 public:
  using Error::Error;
};

/// The byte order of a length prefix.
enum class ByteOrder {
  network,  ///< big-endian, most significant byte first (the default, as in Twisted)
  little,   ///< little-endian, least significant byte first
};

/// Cuts the byte stream into messages, each preceded by its length as an unsigned
/// integer of prefixLength() bytes (Twisted's `IntNStringReceiver`). Use the
/// Int8StringReceiver, Int16StringReceiver or Int32StringReceiver subclasses, or give
/// the width to the constructor.
///
/// Messages are handed to stringReceived without the prefix, as a view that is valid
/// only during the call. A message that arrives whole in one read is not copied at all;
/// one that straddles reads is collected in a buffer that keeps its capacity.
///
/// A prefix announcing more than MAX_LENGTH calls lengthLimitExceeded as soon as the
/// prefix arrives; by default it logs the reason and drops the connection. Nothing is
/// reserved for an announced length: a peer announcing 4 GiB costs only the bytes it
/// really sends. An override that keeps the connection open gets consistent parsing:
/// the oversized message's bytes are discarded as they arrive (never buffered), parsing
/// resumes at the prefix after it, and no message is ever delivered twice.
///
/// Inside stringReceived the protocol may call pauseProducing (no further message
/// until resumeProducing) or transport().loseConnection() (no further message at all).
///
/// @code
/// class Echo32 : public torsion::protocols::Int32StringReceiver {
///   void stringReceived(torsion::Bytes message) override { sendString(message); }
/// };
/// @endcode
///
/// Thread safety: use only on the thread that runs its reactor.
class IntNStringReceiver : public PausableReceiver {
 public:
  /// A receiver whose prefixes are `prefixLength` bytes in `byteOrder`.
  /// @param prefixLength the prefix width in bytes, 1 to 8.
  /// @param byteOrder the prefix's byte order; network (big-endian) by default.
  /// @throws std::invalid_argument if prefixLength is not between 1 and 8.
  explicit IntNStringReceiver(std::size_t prefixLength, ByteOrder byteOrder = ByteOrder::network);

  /// The longest message accepted, in bytes; 99999 by default (as in Twisted).
  std::size_t MAX_LENGTH = 99999;

  /// Called with each complete message, prefix removed.
  /// @param message the message; valid only during this call.
  virtual void stringReceived(Bytes message) = 0;

  /// Called when a prefix announces more than MAX_LENGTH bytes; by default logs a
  /// warning and closes the connection. If an override keeps the connection open, the
  /// announced bytes are skipped as they arrive and parsing goes on after them.
  /// @param length the announced length.
  virtual void lengthLimitExceeded(std::uint64_t length);

  /// Sends `message` preceded by its length, in one gathered write.
  /// @throws StringTooLongError if the length does not fit the prefix (for example
  /// more than 255 bytes with a 1-byte prefix); nothing is sent then.
  void sendString(Bytes message);

  /// The width of the length prefix in bytes.
  std::size_t prefixLength() const noexcept { return prefixLength_; }

  /// The byte order of the length prefix.
  ByteOrder byteOrder() const noexcept { return byteOrder_; }

  /// The largest length the prefix can express: 2^(8 * prefixLength()) - 1.
  std::uint64_t maxPrefixValue() const noexcept;

  /// Parses `data` into messages; called by the transport.
  void dataReceived(Bytes data) override;

 private:
  bool parseNext();  // one message at most; false: needs more input
  std::uint64_t decodePrefix(Bytes prefix) const noexcept;

  detail::ReceiveBuffer input_;
  std::uint64_t skipping_ = 0;  // bytes of a refused message still to discard
  std::size_t prefixLength_;
  ByteOrder byteOrder_;
};

/// Messages prefixed by their length in 1 byte, so at most 255 bytes long.
class Int8StringReceiver : public IntNStringReceiver {
 public:
  /// A receiver with a 1-byte length prefix.
  Int8StringReceiver() : IntNStringReceiver(1) {}
};

/// Messages prefixed by their length in 2 bytes, network byte order by default.
class Int16StringReceiver : public IntNStringReceiver {
 public:
  /// A receiver with a 2-byte length prefix in `byteOrder`.
  explicit Int16StringReceiver(ByteOrder byteOrder = ByteOrder::network) : IntNStringReceiver(2, byteOrder) {}
};

/// Messages prefixed by their length in 4 bytes, network byte order by default.
class Int32StringReceiver : public IntNStringReceiver {
 public:
  /// A receiver with a 4-byte length prefix in `byteOrder`.
  explicit Int32StringReceiver(ByteOrder byteOrder = ByteOrder::network) : IntNStringReceiver(4, byteOrder) {}
};

}  // namespace torsion::protocols

// Public only because the framing receivers hold one by value: the input buffer they
// share. Not part of the API; it may change without notice.
#pragma once

#include <torsion/bytes.hpp>

#include <cstddef>
#include <string>

namespace torsion::protocols::detail {

/// The unparsed input of a framing receiver, with reentrancy handled once for all of them.
///
/// A parse pass runs between begin() and end(). During a pass the receiver reads
/// unconsumed() and calls consume(); the bytes it hands to user callbacks are views into
/// that input, so the storage behind them never moves until the pass ends:
///
/// ```
///   begin(data):  buffer_ empty?  view_ = data (zero copy)
///                 otherwise       buffer_ += data, view_ = buffer_
///   view_  [ consumed ... | unconsumed ......................... ]
///                         ^used_
///   data arriving during the pass (a callback calling dataReceived, setLineMode(extra))
///   goes to pending_, and is parsed after the current view by refill().
///   end():        buffer_ = unconsumed + pending_   (capacity kept, no allocation in
///                 steady state)
/// ```
class ReceiveBuffer {
 public:
  /// Starts a parse pass over the stored bytes followed by `data`. Returns false, having
  /// queued `data` to be parsed after what the running pass has, if a pass is running.
  bool begin(Bytes data);

  /// Ends the pass: stores what was not consumed, followed by the queued bytes.
  void end();

  /// True between begin() and end().
  bool busy() const noexcept { return busy_; }

  /// The input of this pass not consumed yet; valid until the pass ends.
  Bytes unconsumed() const noexcept { return view_.substr(used_); }

  /// Marks the first `n` bytes of unconsumed() as parsed.
  void consume(std::size_t n) noexcept { used_ += n; }

  /// Marks everything in this pass as parsed (the queued bytes stay).
  void consumeAll() noexcept { used_ = view_.size(); }

  /// If bytes were queued during the pass, moves them behind the unconsumed input and
  /// returns true: the receiver goes on parsing. Returns false if there was nothing.
  bool refill();

  /// Hands bytes back to the running pass, to be parsed next (LineReceiver's
  /// setLineMode(extra) from rawDataReceived). When `bytes` is the tail of this pass's
  /// input and nothing is queued, which is the usual case, the bytes are only marked
  /// unparsed again: no copy, and no quadratic cost for a protocol that flips modes
  /// often. Otherwise they are queued like data arriving during the pass.
  /// @pre busy()
  void giveBack(Bytes bytes);

  /// Removes and returns every byte not parsed yet, queued ones included.
  std::string takeAll();

  /// Drops every byte not parsed yet, queued ones included.
  void discardAll() noexcept;

  /// How many bytes wait to be parsed (unconsumed plus queued during a pass; stored
  /// outside one).
  std::size_t size() const noexcept;

 private:
  void stash();

  std::string buffer_;
  std::string pending_;
  Bytes view_;
  std::size_t used_ = 0;
  bool external_ = false;
  bool busy_ = false;
};

/// Runs begin() in its constructor and end() in its destructor, so that the buffer is
/// consistent again even when a user callback throws.
class ReceivePass {
 public:
  /// Starts a pass on `buffer`; active() is false if one was already running.
  ReceivePass(ReceiveBuffer& buffer, Bytes data) : buffer_(buffer), active_(buffer.begin(data)) {}
  ~ReceivePass() {
    if (active_) buffer_.end();
  }
  ReceivePass(const ReceivePass&) = delete;             ///< Not copyable.
  ReceivePass& operator=(const ReceivePass&) = delete;  ///< Not copyable.

  /// False if the data was queued for a pass already running further up the stack.
  bool active() const noexcept { return active_; }

 private:
  ReceiveBuffer& buffer_;
  bool active_;
};

}  // namespace torsion::protocols::detail

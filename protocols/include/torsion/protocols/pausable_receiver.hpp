// Public. PausableReceiver: a framing protocol that is also the producer of what it parses.
#pragma once

#include <torsion/producer.hpp>
#include <torsion/protocol.hpp>

namespace torsion::protocols {

/// The base of LineReceiver, IntNStringReceiver and NetstringReceiver (Twisted's
/// `_PauseableMixin`): a Protocol that is also an IPushProducer of the messages it
/// parses, so that message delivery can be paused from inside a message callback.
///
/// Pausing the receiver (not just its transport) matters because one read may hold many
/// messages: after pauseProducing() returns, no further message of the data already
/// read is delivered until resumeProducing(); the transport stops reading meanwhile.
///
/// @code
/// void lineReceived(torsion::Bytes line) override {
///   pauseProducing();                                   // no more lines for now
///   startSlowJob(line, [this] { resumeProducing(); });  // buffered lines follow then
/// }
/// @endcode
///
/// Thread safety: use only on the thread that runs its reactor.
class PausableReceiver : public Protocol, public IPushProducer {
 public:
  /// Stops delivering messages and pauses the transport's reading (if connected).
  void pauseProducing() override;

  /// Unpauses: resumes the transport's reading, then delivers the messages already
  /// buffered, before returning (unless a callback pauses again).
  void resumeProducing() override;

  /// Stops delivering messages and tells the transport to stop producing for good.
  void stopProducing() override;

  /// True after pauseProducing or stopProducing, until resumeProducing.
  bool paused() const noexcept { return paused_; }

 private:
  bool paused_ = false;
};

}  // namespace torsion::protocols

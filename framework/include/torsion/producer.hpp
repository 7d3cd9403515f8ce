// Public. Producer interfaces for flow control, as twisted.internet.interfaces' producers.
#pragma once

namespace torsion {

/// A producer the consumer asks for data, one chunk at a time (Twisted's
/// IPullProducer): the consumer calls resumeProducing whenever it wants more.
///
/// Thread safety: its methods are called, and it is registered, on the thread that runs the transport's reactor.
class IPullProducer {
 public:
  virtual ~IPullProducer() = default;
  /// Produce some data now (a pull producer writes one chunk per call).
  virtual void resumeProducing() = 0;
  /// Stop for good: the consumer is going away; release what you hold.
  virtual void stopProducing() = 0;
};

/// A producer that writes on its own until told to pause (Twisted's IPushProducer).
/// A transport is itself a push producer of the bytes it reads.
///
/// Thread safety: its methods are called, and it is registered, on the thread that runs the transport's reactor.
class IPushProducer : public IPullProducer {
 public:
  /// Stop producing until resumeProducing is called (back-pressure).
  virtual void pauseProducing() = 0;
};

}  // namespace torsion

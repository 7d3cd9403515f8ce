// Internal. What the framing receivers share: when to stop delivering, how to refuse input.
#pragma once

#include <torsion/protocol.hpp>
#include <torsion/protocols/detail/receive_buffer.hpp>
#include <torsion/protocols/pausable_receiver.hpp>

#include <string_view>

namespace torsion::protocols::detail {

/// True once the connection is closing or gone. Messages that follow the one whose
/// callback closed the connection are not delivered (as Twisted's LineReceiver does):
/// a peer must not get work done after a request that ended the conversation.
inline bool deliveryStopped(const Protocol& protocol) {
  const auto& transport = protocol.transportPtr();
  return transport && (transport->disconnecting() || !transport->connected());
}

/// Whether `receiver` may deliver another message now: not once delivery stopped, nor
/// while a PausableReceiver is paused (the overload below).
inline bool mayDeliver(const Protocol& receiver) { return !deliveryStopped(receiver); }
inline bool mayDeliver(const PausableReceiver& receiver) { return !receiver.paused() && !deliveryStopped(receiver); }

/// The dataReceived of every framing receiver: starts a parse pass over the stored input
/// followed by `data` (or, inside a callback of a pass further up the stack, queues
/// `data` for that pass and returns), then calls `parseNext` while the receiver may
/// deliver, taking in bytes that arrived during the pass, until the input is used up.
/// `parseNext` parses (and delivers) at most one message from `input.unconsumed()` and
/// returns false when it needs more input. A template, so that the loop inlines into
/// each receiver as its hand-written copies did.
template <class Receiver, class ParseNext>
void receive(Receiver& receiver, ReceiveBuffer& input, Bytes data, ParseNext&& parseNext) {
  ReceivePass pass(input, data);
  if (!pass.active()) return;  // queued: the pass further up the stack parses it next
  do {
    while (mayDeliver(receiver) && parseNext()) {
    }
  } while (mayDeliver(receiver) && input.refill());
}

/// Logs why `receiver` refuses the peer's input, naming the peer, and closes the
/// connection (if there is one).
void refuseInput(Protocol& protocol, std::string_view receiver, std::string_view reason);

}  // namespace torsion::protocols::detail

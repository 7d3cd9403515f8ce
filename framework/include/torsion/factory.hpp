// Public. Factory and ClientFactory: what makes Protocols for new connections.
#pragma once

#include <torsion/address.hpp>
#include <torsion/detail/block_cache.hpp>
#include <torsion/failure.hpp>
#include <torsion/protocol.hpp>

#include <functional>
#include <memory>
#include <tuple>
#include <type_traits>
#include <utility>

namespace torsion {

class Connector;

namespace detail {

template <class T>
inline constexpr bool isReferenceWrapper = false;
template <class T>
inline constexpr bool isReferenceWrapper<std::reference_wrapper<T>> = true;

/// What forProtocol keeps of one argument: a reference for std::ref and for lvalues
/// that cannot be copied, else a copy (or the moved rvalue).
template <class A>
auto keepProtocolArgument(A&& argument) {
  using Value = std::decay_t<A>;
  if constexpr (isReferenceWrapper<Value>) {
    return Value(argument);
  } else if constexpr (std::is_lvalue_reference_v<A> && !std::is_copy_constructible_v<Value>) {
    return std::reference_wrapper<std::remove_reference_t<A>>(argument);
  } else {
    return Value(std::forward<A>(argument));
  }
}

/// How a kept argument reaches the protocol's constructor: T& for a reference, const T&
/// for a copy.
template <class Kept>
decltype(auto) passProtocolArgument(const Kept& kept) {
  if constexpr (isReferenceWrapper<Kept>) {
    return kept.get();
  } else {
    return (kept);
  }
}

}  // namespace detail

/// Builds a Protocol for each connection (Twisted's Factory). Either set `protocol`
/// (or use forProtocol), or override buildProtocol. Factories are always held by
/// std::shared_ptr; a listening port keeps its factory alive.
///
/// @code
/// auto factory = torsion::Factory::forProtocol<Echo>();
/// reactor.listenTCP(8000, factory);
/// @endcode
///
/// Thread safety: use only on the thread that runs its reactor.
class Factory : public std::enable_shared_from_this<Factory> {
 public:
  virtual ~Factory() = default;

  /// Makes one protocol instance; what the default buildProtocol calls.
  std::function<std::shared_ptr<Protocol>()> protocol;

  /// Makes the protocol for a connection from `address`, sets its `factory`, and
  /// returns it. Returning nullptr refuses the connection: it is closed at once.
  /// @throws std::logic_error if `protocol` is unset and buildProtocol not overridden.
  virtual std::shared_ptr<Protocol> buildProtocol(const Address& address);

  /// Called once before the first port or connector starts using this factory.
  virtual void startFactory() {}

  /// Called once after the last port or connector stops using this factory.
  virtual void stopFactory() {}

  /// Counts one more user; calls startFactory on the first. Called by ports and
  /// connectors.
  void doStart();

  /// Counts one user fewer; calls stopFactory on the last. Called by ports and
  /// connectors.
  void doStop();

  /// How many ports and connectors are using this factory now.
  int numPorts() const noexcept { return numPorts_; }

  /// A factory whose protocols are `P(args...)`, each made with std::allocate_shared in
  /// one block (reused from a per-thread cache of freed blocks once connections churn).
  ///
  /// How the arguments are kept, for every protocol the factory will make:
  /// - an rvalue is moved into the factory, and an lvalue of a copyable type is copied
  ///   into it; P's constructor receives that copy as a `const T&` (so a value the
  ///   caller changes later is not seen, and a protocol cannot change the factory's);
  /// - an lvalue of a type that cannot be copied (a Reactor, a testing::Clock, a
  ///   stream) is kept by reference, and so is any lvalue wrapped in std::ref or
  ///   std::cref; P's constructor receives a `T&` (`const T&` for std::cref or a const
  ///   lvalue) to the caller's object, which must outlive the factory and every protocol
  ///   it builds.
  ///
  /// A P that cannot be constructed from the arguments so passed is a compile error
  /// that says so.
  /// @code
  /// std::size_t connections = 0;
  /// auto factory = torsion::Factory::forProtocol<Greeter>(reactor, std::string("hello"), std::ref(connections));
  /// // Greeter(torsion::Reactor&, const std::string&, std::size_t&)
  /// @endcode
  template <class P, class... Args>
  static std::shared_ptr<Factory> forProtocol(Args&&... args) {
    auto factory = std::make_shared<Factory>();
    factory->protocol = makeProtocolMaker<P>(std::forward<Args>(args)...);
    return factory;
  }

 protected:
  /// A function that constructs `P` from the arguments kept as forProtocol describes.
  template <class P, class... Args>
  static std::function<std::shared_ptr<Protocol>()> makeProtocolMaker(Args&&... args) {
    static_assert(std::is_base_of_v<Protocol, P>, "forProtocol<P>: P must derive from torsion::Protocol");
    using Saved = std::tuple<decltype(detail::keepProtocolArgument(std::declval<Args>()))...>;
    static_assert(std::is_constructible_v<
                      P, decltype(detail::passProtocolArgument(
                             std::declval<const decltype(detail::keepProtocolArgument(std::declval<Args>()))&>()))...>,
                  "forProtocol<P>(args...): P has no constructor taking these arguments as forProtocol passes them: "
                  "copyable lvalues and rvalues as `const T&` to a copy kept in the factory, non-copyable lvalues and "
                  "std::ref(x) as `T&`. Wrap an lvalue in std::ref to pass it by reference");
    // Shared, so that std::function (which copies) also takes move-only arguments.
    auto saved = std::make_shared<const Saved>(detail::keepProtocolArgument(std::forward<Args>(args))...);
    return [saved]() {
      return std::apply(
          [](const auto&... a) {
            // From the per-thread block cache, as the transport's block: connections
            // churn in bursts, and malloc's slow path was a tenth of a connection's cost.
            return std::shared_ptr<Protocol>(
                std::allocate_shared<P>(detail::CachedBlockAllocator<P>(), detail::passProtocolArgument(a)...));
          },
          *saved);
    };
  }

 private:
  int numPorts_ = 0;
};

/// A factory for outgoing connections (Twisted's ClientFactory), told how each
/// attempt went.
///
/// Thread safety: use only on the thread that runs its reactor.
class ClientFactory : public Factory {
 public:
  /// A connection attempt has started.
  virtual void startedConnecting(Connector& connector) { (void)connector; }

  /// The attempt failed: `reason` is ConnectionRefusedError, TimeoutError,
  /// DNSLookupError, ConnectingCancelledError or another ConnectError.
  virtual void clientConnectionFailed(Connector& connector, const Failure& reason) {
    (void)connector;
    (void)reason;
  }

  /// An established connection was lost (after the protocol's connectionLost).
  virtual void clientConnectionLost(Connector& connector, const Failure& reason) {
    (void)connector;
    (void)reason;
  }

  /// A client factory whose protocols are `P(args...)`, the arguments kept as
  /// Factory::forProtocol describes.
  template <class P, class... Args>
  static std::shared_ptr<ClientFactory> forProtocol(Args&&... args) {
    auto factory = std::make_shared<ClientFactory>();
    factory->protocol = makeProtocolMaker<P>(std::forward<Args>(args)...);
    return factory;
  }
};

}  // namespace torsion

// Public. attachToIoContext: a torsion reactor living on an asio::io_context you own.
// Declares Asio's io_context without including Asio; include <asio.hpp> yourself.
#pragma once

#include <torsion/reactor.hpp>

#include <memory>

namespace asio {
class io_context;
}

namespace torsion {

/// Makes a reactor that lives on `context`, an io_context your program already runs,
/// so that torsion protocols and Asio code share one thread and one loop (as Twisted's
/// asyncio reactor lives inside asyncio's loop). Available when torsion is built with
/// Asio (the "asio" backend is then in Reactor::availableBackends()).
///
/// The io_context drives everything: readiness of torsion's descriptors, torsion's
/// timers (through an asio::steady_timer) and callFromThread (through the reactor's
/// waker descriptor). Each of these runs one pass of the reactor as an Asio handler.
///
/// - **Starting.** The reactor starts running (the "startup" event fires, calls given
///   to callWhenRunning run) the first time the io_context runs a handler after this
///   call. Reactor::run() on it also works: it runs the io_context (your handlers too)
///   until the reactor stops, then returns, leaving your pending work queued.
/// - **Stopping.** Reactor::stop() lets the current pass finish, fires "shutdown", runs
///   one last pass, then withdraws every operation torsion had pending on the
///   io_context: io_context::run() returns as soon as your own work is done.
///   Connections stay open but unserviced until the reactor runs again (Reactor::run()).
///   While the reactor runs, torsion always has work pending, so io_context::run() does
///   not return by itself.
/// - **Stopping the io_context** (io_context::stop()) only pauses torsion: nothing is
///   lost, and running the io_context again resumes it. The shutdown triggers do not
///   fire; call Reactor::stop() first for a clean shutdown. If Reactor::run() was
///   driving the io_context, it stops the reactor and returns.
/// - **Lifetime.** The io_context must outlive the reactor. Destroying the reactor
///   closes its connections (protocols see connectionLost) and releases its descriptors
///   without closing anything of yours; handlers it left queued become no-ops.
/// - **Threads.** Run the io_context on one thread: that thread is the reactor's thread.
///   No signal handlers are installed (unless you call Reactor::run(true)); use an
///   asio::signal_set that calls Reactor::stop() instead.
///
/// @param context the io_context to live on; it must outlive the returned reactor.
/// @return the reactor; its backendName() is "asio".
/// @throws std::system_error if the reactor's waker descriptor cannot be registered.
///
/// @code
/// asio::io_context context;
/// auto reactor = torsion::attachToIoContext(context);
/// reactor->listenTCP(8000, torsion::Factory::forProtocol<Echo>());
/// asio::steady_timer timer(context, std::chrono::seconds(10));
/// timer.async_wait([&](auto) { reactor->stop(); });   // torsion withdraws ...
/// context.run();                                       // ... so this returns
/// @endcode
std::unique_ptr<Reactor> attachToIoContext(asio::io_context& context);

}  // namespace torsion

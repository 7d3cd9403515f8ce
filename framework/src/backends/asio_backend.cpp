// asio: the readiness half of the Asio backend (see asio_backend.hpp): watching
// descriptors with async_wait, gathering completions, and handing them to the reactor.
#include "asio_backend.hpp"

#include <poll.h>
#include <asio/post.hpp>

#include <algorithm>
#include <stdexcept>

namespace torsion::detail {

AsioBackend::AsioBackend()
    : owned_(std::make_unique<asio::io_context>(1)),
      context_(*owned_),
      guard_(asio::make_work_guard(*owned_)),
      mode_(Mode::own),
      phase_(Phase::idle) {}

AsioBackend::AsioBackend(asio::io_context& context)
    : context_(context), mode_(Mode::attached), phase_(Phase::withdrawn) {}

AsioBackend::~AsioBackend() {
  life_->backend = nullptr;  // handlers still queued on a user's io_context do nothing
  for (auto& watch : watches_) {
    if (watch.descriptor) watch.descriptor->release();
  }
  timer_.cancel();
}

void AsioBackend::add(int fd, std::uint8_t interest) {
  const auto index = static_cast<std::size_t>(fd);
  if (index >= watches_.size()) watches_.resize(std::max(index + 1, watches_.size() * 2));
  Watch& watch = watches_[index];
  watch.descriptor.emplace(context_, fd);  // throws system_error
  watch.generation = ++lastGeneration_;
  watch.added = ++addCount_;
  if (mode_ == Mode::attached) postFence();
  watch.interest = interest;
  watch.armed = 0;
  watch.ready = 0;
  arm(fd, watch);
}

void AsioBackend::modify(int fd, std::uint8_t, std::uint8_t interest) {
  Watch& watch = watches_[static_cast<std::size_t>(fd)];
  watch.interest = interest;
  arm(fd, watch);  // a bit dropped keeps its wait; the completion is ignored then
}

void AsioBackend::remove(int fd, std::uint8_t) {
  Watch& watch = watches_[static_cast<std::size_t>(fd)];
  watch.generation = 0;  // pending completions (now cancelled) are stale
  watch.interest = watch.armed = watch.ready = 0;
  if (watch.descriptor) {
    watch.descriptor->release();  // the reactor's owner closes the descriptor, not Asio
    watch.descriptor.reset();
  }
}

void AsioBackend::wait(int timeoutMs, std::vector<ReadyEvent>& out) {
  // Own loop, or Reactor::iterate on an attached reactor; not a pass the driver runs.
  const bool byHand = phase_ != Phase::passing;
  if (inCollect()) {  // one of the user's Asio handlers, run by this very wait
    throw std::logic_error("torsion: Reactor::iterate called from inside the same reactor's iterate");
  }
  if (byHand && phase_ == Phase::withdrawn) resume();
  rearmDelivered();
  if (byHand) collect(timeoutMs);
  takeReady(out);
  // Reactor::iterate on a stopped attached reactor: leave the io_context to its owner.
  if (byHand && mode_ == Mode::attached && !driver_->running() && !driver_->stopRequested()) withdraw();
  // Reactor::iterate on a running attached reactor: no pass of the io_context follows
  // by itself, yet this one may leave work for it (a thread call queued from the loop's
  // own thread, the watches it delivered to re-arm). Post one, as a completed wait would.
  if (byHand && mode_ == Mode::attached && driver_->running()) postPass();
}

void AsioBackend::arm(int fd, Watch& watch) {
  if (phase_ == Phase::withdrawn || !watch.descriptor) return;
  const std::uint8_t missing = watch.interest & ~watch.armed;
  if (missing & kReadable) startWait(fd, watch, kReadable);
  if (missing & kWritable) startWait(fd, watch, kWritable);
}

void AsioBackend::startWait(int fd, Watch& watch, std::uint8_t bit) {
  watch.armed |= bit;
  const auto kind =
      bit == kReadable ? asio::posix::stream_descriptor::wait_read : asio::posix::stream_descriptor::wait_write;
  auto handler = [life = life_, fd, generation = watch.generation, bit](const asio::error_code& error) {
    if (AsioBackend* self = life->backend) self->completed(fd, generation, bit, error);
  };
  watch.descriptor->async_wait(kind, recycled(std::move(handler)));
}

void AsioBackend::completed(int fd, std::uint64_t generation, std::uint8_t bit, const asio::error_code& error) {
  const auto index = static_cast<std::size_t>(fd);
  if (index >= watches_.size()) return;
  Watch& watch = watches_[index];
  if (watch.generation != generation) return;  // removed or withdrawn since it was armed
  watch.armed &= static_cast<std::uint8_t>(~bit);
  if (error == asio::error::operation_aborted || !(watch.interest & bit)) return;
  if (!error && mode_ == Mode::attached && watch.added > safeUpTo_ && !reallyReady(fd, bit)) {
    arm(fd, watch);  // a predecessor's readiness (see asio_backend.hpp): wait on
    return;
  }
  // Any other error (say, a descriptor epoll cannot watch) is "ready" for both, as
  // poll would say: the handler's read or write meets the error itself.
  watch.ready |= error ? (kReadable | kWritable) : bit;
  if (!watch.queued) {
    watch.queued = true;
    ready_.push_back(fd);
  }
  if (mode_ == Mode::attached) needPass();
}

bool AsioBackend::reallyReady(int fd, std::uint8_t bit) {
  pollfd probe{fd, static_cast<short>(bit == kReadable ? POLLIN : POLLOUT), 0};
  return ::poll(&probe, 1, 0) != 0;  // ready, an error or a hang-up; or poll failed: let the handler see
}

// Every completion queued before this handler runs has run when it does: the
// registrations made before it was posted are safe from a predecessor's readiness.
void AsioBackend::postFence() {
  if (fenceCovers_) return;  // the fence posted already runs after this registration's waits
  fenceCovers_ = addCount_;
  asio::post(context_, recycled([life = life_] {
               if (AsioBackend* self = life->backend) self->fenceReached(*self->fenceCovers_);
             }));
}

void AsioBackend::fenceReached(std::uint64_t upTo) {
  fenceCovers_.reset();
  safeUpTo_ = upTo;
  if (addCount_ > safeUpTo_) postFence();
}

void AsioBackend::takeReady(std::vector<ReadyEvent>& out) {
  for (int fd : ready_) {
    Watch& watch = watches_[static_cast<std::size_t>(fd)];
    watch.queued = false;
    if (watch.ready == 0) continue;  // removed since
    out.push_back({fd, watch.ready});
    watch.ready = 0;
    delivered_.push_back(fd);
  }
  ready_.clear();
}

// Level-triggered: wait again for what was handed over, once it has been dispatched.
void AsioBackend::rearmDelivered() {
  for (int fd : delivered_) arm(fd, watches_[static_cast<std::size_t>(fd)]);
  delivered_.clear();
}

// Runs the io_context until a wait completes, something wakes us, or the timeout.
void AsioBackend::collect(int timeoutMs) {
  PhaseScope collecting(*this, Phase::collecting);
  if (!ready_.empty()) timeoutMs = 0;
  if (timeoutMs != 0) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeoutMs);
    while (ready_.empty() && phase_ == Phase::collecting) {
      const std::size_t ran = timeoutMs < 0 ? context_.run_one() : context_.run_one_until(deadline);
      if (ran == 0) break;  // the deadline passed, or a user's io_context was stopped
    }
  }
  context_.poll();  // take whatever else is ready now, in the same batch
}

std::unique_ptr<Backend> makeAsioBackend() { return std::make_unique<AsioBackend>(); }

}  // namespace torsion::detail

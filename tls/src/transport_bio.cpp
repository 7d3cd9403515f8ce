#include "transport_bio.hpp"

#include <algorithm>
#include <cstring>
#include <new>

namespace torsion::tls::detail {

namespace {

// One method table for every connection, made on first use and kept for the process.
const BIO_METHOD* transportBioMethod(BIO_METHOD* (*make)()) {
  static const BIO_METHOD* const method = make();
  return method;
}

}  // namespace

BIO* TransportBio::newBio() {
  const BIO_METHOD* method = transportBioMethod([] {
    BIO_METHOD* made = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "torsion transport");
    if (made == nullptr) throw std::bad_alloc();
    BIO_meth_set_read(made, &TransportBio::read);
    BIO_meth_set_write(made, &TransportBio::write);
    BIO_meth_set_ctrl(made, &TransportBio::control);
    return made;
  });
  BIO* bio = BIO_new(method);
  if (bio == nullptr) throw std::bad_alloc();
  BIO_set_data(bio, this);
  BIO_set_init(bio, 1);
  return bio;
}

void TransportBio::feed(Bytes data) {
  if (source_ == InputSource::transport) {
    view_ = data;  // the usual case: nothing was left over, nothing is copied
    return;
  }
  // Some of an earlier delivery is still unread: the new bytes go after it.
  kept_.erase(0, kept_.size() - view_.size());
  kept_.append(data);
  view_ = kept_;
}

void TransportBio::keepUnread() {
  if (source_ == InputSource::kept || view_.empty()) return;
  kept_.assign(view_);
  view_ = kept_;
  source_ = InputSource::kept;
}

Bytes TransportBio::takeOutgoing() noexcept {
  handedOn_.clear();
  handedOn_.swap(outgoing_);
  return handedOn_;
}

int TransportBio::read(BIO* bio, char* out, int size) {
  auto* self = static_cast<TransportBio*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (self->view_.empty()) {
    BIO_set_retry_read(bio);  // "wait for more", not end of file
    return -1;
  }
  const std::size_t taken = std::min(self->view_.size(), static_cast<std::size_t>(std::max(size, 0)));
  std::memcpy(out, self->view_.data(), taken);
  self->view_.remove_prefix(taken);
  if (self->view_.empty() && self->source_ == InputSource::kept) {
    self->kept_.clear();
    self->source_ = InputSource::transport;
  }
  return static_cast<int>(taken);
}

int TransportBio::write(BIO* bio, const char* in, int size) {
  auto* self = static_cast<TransportBio*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  if (size <= 0) return 0;
  self->outgoing_.append(in, static_cast<std::size_t>(size));
  return size;
}

long TransportBio::control(BIO* bio, int command, long /*number*/, void* /*pointer*/) {
  const auto* self = static_cast<const TransportBio*>(BIO_get_data(bio));
  switch (command) {
    case BIO_CTRL_FLUSH: return 1;  // what was written is handed on after the SSL call
    case BIO_CTRL_PENDING: return static_cast<long>(self->view_.size());
    case BIO_CTRL_WPENDING: return static_cast<long>(self->outgoing_.size());
    default: return 0;  // no kTLS, no push/pop, no datagram controls
  }
}

}  // namespace torsion::tls::detail

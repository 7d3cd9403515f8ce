// Public. Selectable: a descriptor the reactor can watch for you (Twisted's
// IReadDescriptor / IWriteDescriptor).
#pragma once

#include <torsion/failure.hpp>

namespace torsion {

/// A file descriptor with read and write handlers, for Reactor::addReader and
/// Reactor::addWriter: the way to put your own descriptor (a pipe, a device) on the
/// loop. The reactor does not own it: remove it (removeAll) before destroying it.
///
/// Thread safety: its methods are called on the thread that runs the reactor it is added to.
class Selectable {
 public:
  virtual ~Selectable() = default;

  /// The descriptor to watch; must stay the same while registered.
  virtual int fileno() const = 0;

  /// The descriptor is readable (or has an error or hang-up pending).
  virtual void doRead() {}

  /// The descriptor is writable.
  virtual void doWrite() {}

  /// doRead or doWrite threw: the reactor has already removed this selectable and
  /// logged the error; `reason` holds the exception.
  virtual void connectionLost(const Failure& reason) { (void)reason; }
};

}  // namespace torsion

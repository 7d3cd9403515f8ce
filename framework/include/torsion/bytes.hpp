// Public. The byte-view type that carries network data through torsion.
#pragma once

#include <string_view>

namespace torsion {

/// A read-only view of bytes, as handed to Protocol::dataReceived and taken by
/// Transport::write.
///
/// A view passed *to* user code (dataReceived) points into the reactor's reusable
/// read buffer and is valid only for the duration of that call: copy what you need to
/// keep. A view passed *from* user code (write) is copied or sent before write returns,
/// so the caller's buffer may be reused at once.
using Bytes = std::string_view;

}  // namespace torsion

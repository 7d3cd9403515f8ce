// Public. The policies' names for the framework's ProtocolWrapper and WrappingFactory,
// which live in <torsion/protocol_wrapper.hpp> because TLS uses them too.
#pragma once

#include <torsion/protocol_wrapper.hpp>

namespace torsion::protocols {

/// The framework's torsion::ProtocolWrapper, under the name the policies have always used.
using ProtocolWrapper = torsion::ProtocolWrapper;

/// The framework's torsion::WrappingFactory, under the name the policies have always used.
using WrappingFactory = torsion::WrappingFactory;

}  // namespace torsion::protocols

// Public. The common set of torsion headers in one include.
#pragma once

#include <torsion/address.hpp>
#include <torsion/bytes.hpp>
#include <torsion/delayed_call.hpp>
#include <torsion/errors.hpp>
#include <torsion/factory.hpp>
#include <torsion/failure.hpp>
#include <torsion/log.hpp>
#include <torsion/producer.hpp>
#include <torsion/protocol.hpp>
#include <torsion/reactor.hpp>
#include <torsion/selectable.hpp>
#include <torsion/transport.hpp>
#include <torsion/udp.hpp>

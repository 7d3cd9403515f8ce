// Public. The framing protocols of Twisted's `twisted.protocols.basic`, in one include.
#pragma once

#include <torsion/protocols/int_n_string_receiver.hpp>
#include <torsion/protocols/line_receiver.hpp>
#include <torsion/protocols/netstring_receiver.hpp>
#include <torsion/protocols/pausable_receiver.hpp>

// Public. The common set of torsion headers in one include.
#pragma once

#include <torsion/address.hpp>
#include <torsion/bytes.hpp>
#include <torsion/deferred.hpp>
#include <torsion/deferred_later.hpp>
#include <torsion/deferred_list.hpp>
#include <torsion/deferred_lock.hpp>
#include <torsion/deferred_queue.hpp>
#include <torsion/deferred_race.hpp>
#include <torsion/deferred_thread.hpp>
#include <torsion/delayed_call.hpp>
#include <torsion/endpoints.hpp>
#include <torsion/errors.hpp>
#include <torsion/factory.hpp>
#include <torsion/failure.hpp>
#include <torsion/log.hpp>
#include <torsion/producer.hpp>
#include <torsion/protocol.hpp>
#include <torsion/reactor.hpp>
#include <torsion/reactor_interfaces.hpp>
#include <torsion/reconnecting_client_factory.hpp>
#include <torsion/result.hpp>
#include <torsion/selectable.hpp>
#include <torsion/task.hpp>
#include <torsion/transport.hpp>
#include <torsion/udp.hpp>

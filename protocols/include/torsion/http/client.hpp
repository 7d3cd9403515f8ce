// Public. The whole HTTP client: Agent, the pool, getPage, downloadPage, readBody.
#pragma once

#include <torsion/http/agent.hpp>
#include <torsion/http/body_producer.hpp>
#include <torsion/http/client_protocol.hpp>
#include <torsion/http/connect_function.hpp>
#include <torsion/http/connection_pool.hpp>
#include <torsion/http/errors.hpp>
#include <torsion/http/get_page.hpp>
#include <torsion/http/headers.hpp>
#include <torsion/http/proxy.hpp>
#include <torsion/http/proxy_tunnel.hpp>
#include <torsion/http/response.hpp>
#include <torsion/http/tls_connect.hpp>
#include <torsion/http/url.hpp>
#include <torsion/tls/errors.hpp>

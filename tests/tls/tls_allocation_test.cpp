// torsion::tls: no allocation per message in steady state. This executable counts both
// operator new (allocation_counter.hpp replaces it) and OpenSSL's own allocations (its
// CRYPTO_malloc family, pointed at counting functions before OpenSSL allocates anything),
// and echoes 1 KiB messages over TLS after a warm-up, on every backend. torsion's share
// must be zero; OpenSSL's is bounded per record (see the test).
#include <openssl/crypto.h>
#include <torsion/reactor.hpp>
#include <torsion/tls.hpp>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "allocation_counter.hpp"
#include "scripted_protocols.hpp"
#include "test_reactor.hpp"
#include "tls_names.hpp"

namespace {

std::atomic<std::uint64_t> openSslAllocations{0};

void* countedMalloc(std::size_t size, const char*, int) {
  openSslAllocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(size);
}

void* countedRealloc(void* memory, std::size_t size, const char*, int) {
  openSslAllocations.fetch_add(1, std::memory_order_relaxed);
  return std::realloc(memory, size);
}

void countedFree(void* memory, const char*, int) { std::free(memory); }

// Static initialisation runs before main, so before OpenSSL's first allocation; OpenSSL
// refuses new functions once it has allocated (then the test below fails).
const bool openSslCounted = CRYPTO_set_mem_functions(countedMalloc, countedRealloc, countedFree) == 1;

class TlsAllocation : public BackendTest {};

using torsion_test::EchoServer;
using torsion_test::PingClient;

struct Counted {
  std::uint64_t operatorNew = 0;
  std::uint64_t openSsl = 0;
};

// Echoes `warmUp` round trips of 1 KiB over TLS (the handshake and the session tickets
// happen there), then counts the allocations of the next `measured` ones.
Counted allocationsPerTlsEcho(const std::string& backend, long warmUp, long measured) {
  const std::string message(1024, 'm');
  long roundTrips = 0;
  std::shared_ptr<PingClient> client;
  auto owner = torsion_test::makeReactor(backend);
  torsion::Reactor& reactor = *owner;
  auto port = torsion::tls::listenSSL(reactor, 0, torsion::Factory::forProtocol<EchoServer>(),
                                      torsion_test::serverOptions(), 50, "127.0.0.1");
  auto factory = std::make_shared<torsion::ClientFactory>();
  factory->protocol = [&] { return client = std::make_shared<PingClient>(&message, &roundTrips); };
  torsion::tls::connectSSL(reactor, "127.0.0.1", port->getHost().port, factory, torsion_test::clientOptions());
  EXPECT_TRUE(runUntil(
      reactor, [&] { return roundTrips >= warmUp; }, 20, "the warm-up round trips"));
  const torsion_test::AllocationCounter counter;
  const std::uint64_t openSslBefore = openSslAllocations.load();
  const long target = roundTrips + measured;
  const bool finished = runUntil(
      reactor, [&] { return roundTrips >= target; }, 30, "the measured round trips");
  const Counted counted{counter.count(), openSslAllocations.load() - openSslBefore};
  EXPECT_TRUE(finished);
  EXPECT_EQ(client->mismatches, 0);
  return counted;
}

TEST(TlsAllocationCounter, SeesOpenSslAllocations) {
  ASSERT_TRUE(openSslCounted) << "OpenSSL allocated before the counting functions were installed";
  const std::uint64_t before = openSslAllocations.load();
  OPENSSL_free(OPENSSL_malloc(64));
  EXPECT_EQ(openSslAllocations.load() - before, 1u);
}

// torsion allocates nothing per message over TLS. OpenSSL 3.0 does, inside its record
// layer, and no setting avoids it: each record written takes three 40-byte blocks (the
// WPACKET sub-packet bookkeeping of the record and of the TLS 1.3 nonce/AAD) and each
// record read one (the AAD). A round trip here is two records written and two read, so
// OpenSSL's share is at most 8 per round trip (4 per message per endpoint). With
// SSL_MODE_RELEASE_BUFFERS (before the record buffers were kept for the connection) it
// was 12: the read buffer was freed and allocated again for every record.
TEST_P(TlsAllocation, EchoRoundTripsAllocateOnlyOpenSslsRecordBookkeeping) {
  ASSERT_TRUE(openSslCounted);
  constexpr long kMeasured = 500;
  constexpr std::uint64_t kOpenSslPerRoundTrip = 8;
  const Counted counted = allocationsPerTlsEcho(backend(), 200, kMeasured);
  EXPECT_EQ(counted.operatorNew, 0u);
  EXPECT_LE(counted.openSsl, kOpenSslPerRoundTrip * kMeasured);
}

TORSION_INSTANTIATE_FOR_EVERY_BACKEND(TlsAllocation);

}  // namespace

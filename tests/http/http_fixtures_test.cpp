// The test fixtures themselves, with plain sockets: the nginx fixture serves what it
// promises and its access log tells connections apart, and the hostile server runs its
// scripts. The client's tests rely on both.
#include "hostile_http_server.hpp"
#include "nginx_server.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace torsion_test {
namespace {

// Sends `request` on `fd` and reads until `complete(received)` or 5 s.
template <class Complete>
std::string exchange(int fd, const std::string& request, Complete complete) {
  sendAll(fd, request);
  std::string received;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!complete(received) && std::chrono::steady_clock::now() < deadline) {
    pollfd entry{fd, POLLIN, 0};
    ::poll(&entry, 1, 20);
    if (!drain(fd, received)) break;
  }
  return received;
}

bool endsWith(const std::string& text, const std::string& tail) {
  return text.size() >= tail.size() && text.compare(text.size() - tail.size(), tail.size(), tail) == 0;
}

TEST(NginxFixture, ServesFilesAndLogsConnectionNumbers) {
  if (auto reason = NginxServer::unavailableReason()) GTEST_SKIP() << *reason;
  NginxServer nginx;
  nginx.writeFile("hello.txt", "hello\n");
  Fd fd = connectLoopback(nginx.port());
  const std::string request = "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";
  const auto first = exchange(fd.get(), request, [](const std::string& r) { return endsWith(r, "hello\n"); });
  ASSERT_TRUE(endsWith(first, "\r\n\r\nhello\n")) << first;
  const auto second = exchange(fd.get(), request, [](const std::string& r) { return endsWith(r, "hello\n"); });
  ASSERT_TRUE(endsWith(second, "\r\n\r\nhello\n")) << second;
  const auto log = nginx.waitForAccessLog(2);
  ASSERT_EQ(log.size(), 2u) << nginx.errorLog();
  EXPECT_EQ(log[0].connection, log[1].connection);
  EXPECT_EQ(log[0].connectionRequests, 1u);
  EXPECT_EQ(log[1].connectionRequests, 2u);
  EXPECT_EQ(log[1].uri, "/hello.txt");
  EXPECT_EQ(log[1].status, 200);
}

TEST(NginxFixture, RedirectsAndMethodEcho) {
  if (auto reason = NginxServer::unavailableReason()) GTEST_SKIP() << *reason;
  NginxServer nginx;
  Fd fd = connectLoopback(nginx.port());
  const auto redirect = exchange(fd.get(), "GET /r/303 HTTP/1.1\r\nHost: localhost\r\n\r\n",
                                 [](const std::string& r) { return endsWith(r, "</html>\r\n"); });
  EXPECT_EQ(redirect.rfind("HTTP/1.1 303 ", 0), 0u) << redirect;
  EXPECT_NE(redirect.find("/r/307\r\n"), std::string::npos) << redirect;
  const auto method = exchange(fd.get(), "DELETE /method HTTP/1.1\r\nHost: localhost\r\n\r\n",
                               [](const std::string& r) { return endsWith(r, "DELETE\n"); });
  EXPECT_TRUE(endsWith(method, "\r\n\r\nDELETE\n")) << method;
}

TEST(NginxFixture, GzipIsChunked) {
  if (auto reason = NginxServer::unavailableReason()) GTEST_SKIP() << *reason;
  NginxServer nginx;
  nginx.writeFile("text.txt", std::string(10000, 'a'));
  Fd fd = connectLoopback(nginx.port());
  const auto response = exchange(fd.get(), "GET /text.txt HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n\r\n",
                                 [](const std::string& r) { return endsWith(r, "\r\n0\r\n\r\n"); });
  EXPECT_NE(response.find("Content-Encoding: gzip\r\n"), std::string::npos) << response;
  EXPECT_NE(response.find("Transfer-Encoding: chunked\r\n"), std::string::npos) << response;
}

TEST(HostileServer, RunsAScriptPerConnection) {
  HostileHttpServer server([](HostileConnection& connection, int index) {
    if (connection.readRequest().empty()) return;
    connection.send(HostileHttpServer::okResponse("connection " + std::to_string(index)));
    connection.close();
  });
  for (int i = 0; i < 2; ++i) {
    Fd fd = connectLoopback(server.port());
    const auto response = exchange(fd.get(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n", [&](const std::string& r) {
      return endsWith(r, "connection " + std::to_string(i));
    });
    EXPECT_TRUE(endsWith(response, "\r\n\r\nconnection " + std::to_string(i))) << response;
  }
  EXPECT_EQ(server.connections(), 2);
}

}  // namespace
}  // namespace torsion_test

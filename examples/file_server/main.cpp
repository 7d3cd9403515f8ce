// file_server: the classic FTP-like homework on one event loop. Users log in with an
// HMAC-SHA256 challenge, each inside a home it cannot leave, and transfer files that
// resume where they stopped. See docs/file_server.md for the protocol.
#include <torsion/torsion.hpp>

#include <fcntl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>

#include "cli.hpp"
#include "server_session.hpp"

int main(int argc, char** argv) {
  std::string root;
  std::string usersFile;
  std::uint16_t port = 8021;
  std::string interface = "127.0.0.1";

  torsion_examples::CommandLine cli("file_server",
                                    "Serves each user of the users file a home directory DIR/NAME (created on first\n"
                                    "login): ls, mkdir, rm, and resumable put and get, until SIGINT or SIGTERM.");
  cli.option("--root", "DIR", "directory holding the users' homes (required)",
             [&](std::string_view v) { root = std::string(v); });
  cli.option("--users", "FILE", "users file, one name:secret per line (required)",
             [&](std::string_view v) { usersFile = std::string(v); });
  cli.option("--port", "PORT", "port to listen on; 0 lets the system pick (default 8021)",
             [&](std::string_view v) { port = torsion_examples::parseNumber<std::uint16_t>(v, 0, 65535); });
  cli.option("--interface", "ADDRESS", "numeric address to bind (default 127.0.0.1)",
             [&](std::string_view v) { interface = std::string(v); });
  cli.parse(argc, argv);
  if (root.empty()) cli.fail("--root is required");
  if (usersFile.empty()) cli.fail("--users is required");

  try {
    auto config = std::make_shared<file_transfer::ServerConfig>();
    config->users = file_transfer::Users::load(usersFile);
    config->root = file_transfer::UniqueFd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!config->root) throw std::runtime_error("cannot open root directory '" + root + "': " + std::strerror(errno));

    torsion::Reactor reactor;
    auto factory = std::make_shared<torsion::Factory>();
    std::shared_ptr<const file_transfer::ServerConfig> shared = config;
    factory->protocol = [shared] { return std::make_shared<file_transfer::ServerSession>(shared); };
    auto listening = reactor.listenTCP(port, factory, 128, interface);
    // Announced once running, when SIGTERM already stops the reactor cleanly.
    reactor.callWhenRunning([&listening] {
      std::printf("listening on %s\n", listening->getHost().toString().c_str());
      std::fflush(stdout);
    });
    reactor.run();
  } catch (const std::exception& error) {
    std::cerr << "file_server: " << error.what() << "\n";
    return 1;
  }
  return 0;
}

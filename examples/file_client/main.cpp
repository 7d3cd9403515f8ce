// file_client: logs in to a file_server with an HMAC-SHA256 challenge and runs one
// command: ls, mkdir, rm, put or get (the transfers resumable with --resume).
// Exit status: 0 on success, 1 with "error: MESSAGE" on stderr, 2 on bad usage.
#include <torsion/torsion.hpp>

#include <cstring>
#include <fstream>
#include <iostream>
#include <limits>
#include <set>

#include "cli.hpp"
#include "client_session.hpp"

namespace {

// The last component of `path`, the default name at the other end of a transfer.
std::string baseName(const std::string& path) {
  std::string trimmed = path;
  while (trimmed.size() > 1 && trimmed.back() == '/') trimmed.pop_back();
  const std::size_t slash = trimmed.rfind('/');
  return slash == std::string::npos ? trimmed : trimmed.substr(slash + 1);
}

// Splits argv into the options (with their values) and the command that follows them.
int commandStart(int argc, char** argv) {
  static const std::set<std::string> takesValue = {"--host", "--port", "--user", "--secret", "--secret-file", "--rate"};
  int i = 1;
  while (i < argc && std::strncmp(argv[i], "-", 1) == 0) i += takesValue.count(argv[i]) != 0 ? 2 : 1;
  return std::min(i, argc);
}

// Reports a connection attempt that failed, which no protocol hears about.
class ConnectFactory : public torsion::ClientFactory {
 public:
  explicit ConnectFactory(std::function<void(const std::string&)> failed) : failed_(std::move(failed)) {}
  void clientConnectionFailed(torsion::Connector&, const torsion::Failure& reason) override {
    failed_(reason.getErrorMessage());
  }

 private:
  std::function<void(const std::string&)> failed_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8021;
  std::string secretFile;
  bool secretGiven = false;
  file_client::Options options;

  torsion_examples::CommandLine cli("file_client",
                                    "Logs in to a file_server and runs one COMMAND [ARGS] given after the options:\n"
                                    "  ls [PATH]                 list a directory of the home (default: the home)\n"
                                    "  mkdir PATH                create a directory\n"
                                    "  rm PATH                   remove a file or an empty directory\n"
                                    "  put LOCAL [REMOTE]        upload a file (REMOTE defaults to LOCAL's name)\n"
                                    "  get REMOTE [LOCAL]        download a file (LOCAL defaults to REMOTE's name)\n"
                                    "Exits 0 on success, 1 with 'error: MESSAGE' on failure, 2 on bad usage.");
  cli.option("--host", "HOST", "server address (default 127.0.0.1)",
             [&](std::string_view v) { host = std::string(v); });
  cli.option("--port", "PORT", "server port (default 8021)",
             [&](std::string_view v) { port = torsion_examples::parseNumber<std::uint16_t>(v, 1, 65535); });
  cli.option("--user", "NAME", "user name (required)", [&](std::string_view v) { options.user = std::string(v); });
  cli.option("--secret", "SECRET", "the user's secret", [&](std::string_view v) {
    options.secret = std::string(v);
    secretGiven = true;
  });
  cli.option("--secret-file", "FILE", "read the secret from the first line of FILE",
             [&](std::string_view v) { secretFile = std::string(v); });
  cli.flag("--resume", "continue an interrupted put or get where it stopped", [&] { options.resume = true; });
  cli.option("--rate", "BYTES_PER_S", "throttle put's sending or get's reading", [&](std::string_view v) {
    options.rate = static_cast<double>(torsion_examples::parseNumber<long long>(v, 1, std::numeric_limits<int>::max()));
  });
  const int start = commandStart(argc, argv);
  cli.parse(start, argv);

  if (options.user.empty()) cli.fail("--user is required");
  if (secretGiven == !secretFile.empty()) cli.fail("give exactly one of --secret and --secret-file");
  if (start >= argc) cli.fail("no command given");
  options.command = argv[start];
  options.arguments.assign(argv + start + 1, argv + argc);
  const std::size_t count = options.arguments.size();
  const auto& command = options.command;
  if (command == "ls") {
    if (count > 1) cli.fail("ls takes at most one PATH");
  } else if (command == "mkdir" || command == "rm") {
    if (count != 1) cli.fail(command + " takes one PATH");
  } else if (command == "put" || command == "get") {
    if (count < 1 || count > 2) cli.fail(command + " takes a source and an optional destination");
    if (count == 1) options.arguments.push_back(baseName(options.arguments[0]));
  } else {
    cli.fail("unknown command '" + command + "' (ls, mkdir, rm, put, get)");
  }
  if (!secretFile.empty()) {
    std::ifstream file(secretFile);
    if (!file || !std::getline(file, options.secret) || options.secret.empty()) {
      std::cerr << "error: cannot read a secret from " << secretFile << "\n";
      return 1;
    }
  }

  std::optional<std::string> error = "the client stopped before the command ended";
  try {
    torsion::Reactor reactor;
    auto factory = std::make_shared<ConnectFactory>([&](const std::string& why) {
      error = "cannot connect to " + host + ":" + std::to_string(port) + ": " + why;
      reactor.stop();
    });
    factory->protocol = [&] {
      return std::make_shared<file_client::ClientSession>(options, [&](std::optional<std::string> outcome) {
        error = std::move(outcome);
        reactor.stop();
      });
    };
    reactor.connectTCP(host, port, factory, 10);
    reactor.run();
  } catch (const std::exception& failure) {
    error = failure.what();
  }
  if (error) {
    std::cerr << "error: " << *error << "\n";
    return 1;
  }
  return 0;
}

// examples/fetch: the command line. Parsed by hand rather than with examples/common's
// CommandLine, because fetch takes positional URLs and a repeatable -H.
#pragma once

#include <torsion/http/client.hpp>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <unistd.h>

namespace fetch_example {

/// How the URLs are fetched.
enum class Mode {
  sequential,  ///< one after another, each waiting for the previous
  concurrent,  ///< all at once
  both,        ///< sequentially, then concurrently
};

/// Everything the command line says.
struct FetchOptions {
  std::optional<Mode> mode;  ///< unset: concurrent with URLs, both without
  double timeout = 30;       ///< seconds per URL (connect and whole request)
  std::uint64_t maxBody = torsion::http::defaultMaxBodyBytes;
  bool compressed = false;
  std::string cafile;
  std::optional<torsion::http::ProxyConfig> proxy;  ///< --proxy: for http:// and https://
  std::string method;                               ///< empty: GET, or POST with --data
  torsion::http::Headers headers;
  std::optional<std::string> data;
  std::string outputDir;
  std::vector<std::string> urls;
  int pages = 5;         ///< offline mode: pages served
  double delayMs = 200;  ///< offline mode: the server's delay per page
};

inline const char* usageText() {
  return "usage: fetch [--sequential | --concurrent | --both] [--timeout S] [--max-body BYTES] [--compressed]\n"
         "             [--cafile PEM] [--proxy URL] [-X METHOD] [-H 'Name: value']... [--data STRING] [--output DIR] "
         "URL...\n"
         "       fetch [--pages N] [--delay-ms D] [--sequential | --concurrent | --both]\n"
         "\n"
         "Fetches each URL with torsion's HTTP client and prints one line per URL, in the order given:\n"
         "  <status> <body bytes> <sha256 of the body, hex> <url>     or     error <url>: <message>\n"
         "Total times and the lesson go to stderr, so stdout holds only those lines.\n"
         "Exit status: 0 if every URL got a response (any status), 1 if any failed, 2 on bad usage.\n"
         "\n"
         "  --sequential         fetch one URL after another\n"
         "  --concurrent         fetch all URLs at once (the default with URLs)\n"
         "  --both               sequentially, then concurrently (the default without URLs); the lines\n"
         "                       printed are the sequential pass's, and a URL failing in either pass fails\n"
         "  --timeout S          seconds allowed per URL, connecting included (default 30)\n"
         "  --max-body BYTES     the most body bytes accepted per URL (default 16777216)\n"
         "  --compressed         ask for gzip/deflate and decode it (the hash is of the decoded body)\n"
         "  --cafile PEM         trust only the CA certificates in PEM for https:// (default: the\n"
         "                       system's trust store)\n"
         "  --proxy URL          send every request through the HTTP proxy at URL (http://host:port):\n"
         "                       http:// in absolute form, https:// through a CONNECT tunnel (TLS to\n"
         "                       the server itself, verified against its name)\n"
         "  -X METHOD            the request method (default GET, or POST with --data)\n"
         "  -H 'Name: value'     a request header (repeatable)\n"
         "  --data STRING        the request body\n"
         "  --output DIR         also save each body in DIR (streamed with downloadPage), named after\n"
         "                       the URL's last path segment\n"
         "\n"
         "Without URLs, fetch serves N pages on 127.0.0.1 itself, each answered after D ms, and fetches\n"
         "them both ways: sequentially it takes about N x D, concurrently about D.\n"
         "  --pages N            pages to serve and fetch (default 5, at most 1000)\n"
         "  --delay-ms D         the server's delay per page, in milliseconds (default 200)\n"
         "  --help               show this help\n";
}

/// Prints `message` and the usage on stderr and exits with status 2.
[[noreturn]] inline void usageError(const std::string& message) {
  std::cerr << "fetch: " << message << "\n\n" << usageText();
  std::exit(2);
}

inline double parsePositive(std::string_view option, std::string_view text, double max) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !(value > 0) || value > max) {
    usageError(std::string(option) + " needs a positive number up to " + std::to_string(static_cast<long long>(max)) +
               ", not '" + std::string(text) + "'");
  }
  return value;
}

inline std::uint64_t parseCount(std::string_view option, std::string_view text, std::uint64_t max) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value == 0 || value > max) {
    usageError(std::string(option) + " needs a whole number from 1 to " + std::to_string(max) + ", not '" +
               std::string(text) + "'");
  }
  return value;
}

/// Parses the command line; exits with 0 after --help, with 2 on bad usage.
inline FetchOptions parseOptions(int argc, char** argv) {
  FetchOptions options;
  bool offlineOptions = false;
  auto setMode = [&](Mode mode) {
    if (options.mode && *options.mode != mode) usageError("choose one of --sequential, --concurrent and --both");
    options.mode = mode;
  };
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> std::string_view {
      if (i + 1 >= argc) usageError(std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << usageText();
      std::exit(0);
    } else if (arg == "--sequential") {
      setMode(Mode::sequential);
    } else if (arg == "--concurrent") {
      setMode(Mode::concurrent);
    } else if (arg == "--both") {
      setMode(Mode::both);
    } else if (arg == "--timeout") {
      options.timeout = parsePositive(arg, value(), 86400);
    } else if (arg == "--max-body") {
      options.maxBody = parseCount(arg, value(), std::uint64_t{1} << 40);
    } else if (arg == "--compressed") {
      options.compressed = true;
    } else if (arg == "--cafile") {
      options.cafile = value();
      if (::access(options.cafile.c_str(), R_OK) != 0) usageError("--cafile: cannot read '" + options.cafile + "'");
    } else if (arg == "--proxy") {
      const std::string url(value());
      try {
        options.proxy = torsion::http::ProxyConfig::fromValues(url, "");
      } catch (const torsion::http::InvalidUrlError& error) {
        usageError(std::string("--proxy: ") + error.what());
      }
      if (!options.proxy) usageError("--proxy needs a URL such as http://127.0.0.1:3128");
      options.proxy->schemes = {"http", "https"};
    } else if (arg == "-X") {
      options.method = value();
    } else if (arg == "-H") {
      const std::string header(value());
      const auto colon = header.find(':');
      if (colon == std::string::npos || colon == 0) usageError("-H needs 'Name: value', not '" + header + "'");
      std::string fieldValue = header.substr(colon + 1);
      fieldValue.erase(0, fieldValue.find_first_not_of(" \t") == std::string::npos
                              ? fieldValue.size()
                              : fieldValue.find_first_not_of(" \t"));
      try {
        options.headers.add(header.substr(0, colon), fieldValue);
      } catch (const torsion::http::InvalidHeaderError& error) {
        usageError(std::string("-H: ") + error.what());
      }
    } else if (arg == "--data") {
      options.data = std::string(value());
    } else if (arg == "--output") {
      options.outputDir = value();
    } else if (arg == "--pages") {
      options.pages = static_cast<int>(parseCount(arg, value(), 1000));
      offlineOptions = true;
    } else if (arg == "--delay-ms") {
      options.delayMs = parsePositive(arg, value(), 60000);
      offlineOptions = true;
    } else if (arg.starts_with("-") && arg != "-") {
      usageError("unknown option '" + std::string(arg) + "'");
    } else {
      options.urls.emplace_back(arg);
    }
  }
  if (offlineOptions && !options.urls.empty()) usageError("--pages and --delay-ms are for the offline mode (no URL)");
  if (options.method.empty()) options.method = options.data ? "POST" : "GET";
  try {
    torsion::http::validateHeaderName(options.method);  // a method is a token, as a field name is
  } catch (const torsion::http::InvalidHeaderError&) {
    usageError("-X needs a method such as GET or POST, not '" + options.method + "'");
  }
  return options;
}

}  // namespace fetch_example

// examples/fetch: the tiny HTTP server that the offline mode fetches from. It answers
// `GET /page/N` with a small page after a fixed delay, the way a slow server would, so
// that fetching N pages one after another takes about N delays and fetching them at once
// about one. It keeps connections alive and answers one request at a time per
// connection, in order; it is an example, not a web server.
#pragma once

#include <torsion/torsion.hpp>

#include <string>
#include <string_view>

namespace fetch_example {

/// One connection to the page server.
class PageServerProtocol : public torsion::Protocol {
 public:
  explicit PageServerProtocol(double delaySeconds) : delay_(delaySeconds) {}

  void dataReceived(torsion::Bytes data) override {
    received_.append(data);
    answerNext();
  }

 private:
  // Takes the next complete request head, if any, and answers it after the delay; the
  // next one waits until this answer is written (HTTP/1.1 answers in order).
  void answerNext() {
    if (answering_) return;
    const auto end = received_.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (received_.size() > 16 * 1024) transport().loseConnection();  // not a request we serve
      return;
    }
    const std::string head = received_.substr(0, end);
    received_.erase(0, end + 4);  // the client's GETs carry no body
    answering_ = true;
    callLater(delay_, [this, head] {
      transport().write(responseTo(head));
      answering_ = false;
      answerNext();
    });
  }

  static std::string responseTo(const std::string& head) {
    // "GET /page/3 HTTP/1.1": the path is the second word of the request line.
    const auto lineEnd = head.find("\r\n");
    const std::string requestLine = head.substr(0, lineEnd);
    const auto first = requestLine.find(' ');
    const auto second = requestLine.find(' ', first + 1);
    const std::string path =
        first == std::string::npos
            ? ""
            : requestLine.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
    if (path.rfind("/page/", 0) != 0) {
      return "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nnot found\n";
    }
    const std::string body =
        "<html><body><h1>Page " + path.substr(6) + "</h1>" + std::string(200, '.') + "</body></html>\n";
    return "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" +
           body;
  }

  double delay_;
  std::string received_;
  bool answering_ = false;
};

/// Listens on 127.0.0.1 (a port the system picks) and serves pages after `delaySeconds`.
/// @return the listening port; stopListening on it when done.
inline std::shared_ptr<torsion::ListeningPort> listenPages(torsion::IReactorTCP& reactor, double delaySeconds) {
  return reactor.listenTCP(0, torsion::Factory::forProtocol<PageServerProtocol>(delaySeconds), 50, "127.0.0.1");
}

}  // namespace fetch_example

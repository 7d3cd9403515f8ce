// The example of the Deferred issue, as a user writes it: it must compile.
#include <torsion/deferred.hpp>
#include <torsion/deferred_later.hpp>
#include <torsion/reactor.hpp>

#include <string>

struct Page {
  std::string body;
  static Page empty() { return {}; }
};

torsion::Deferred<Page> fetchMore(const std::string& s) { return torsion::succeed(Page{s}); }
torsion::Deferred<Page> fetch(torsion::Reactor& r, const std::string& name) {
  return torsion::deferLater(r, 0.1, [name] { return Page{name}; });
}
Page merge(const Page& a, const Page& b) { return Page{a.body + b.body}; }

torsion::Deferred<Page> crawl(torsion::Reactor& r) {  // a coroutine, like inlineCallbacks / ensureDeferred
  auto a = co_await fetch(r, "a");
  auto b = co_await fetch(r, "b");
  co_return merge(a, b);
}

int main() {
  torsion::Reactor reactor;
  torsion::Deferred<int> d;
  d.addCallback([](int n) { return std::to_string(n * 2); })              // Deferred<std::string> from here on
      .addCallback([](const std::string& s) { return fetchMore(s); })     // returns Deferred<Page>: the chain waits
      .addErrback([](const torsion::Failure&) { return Page::empty(); })  // recovers
      .addBoth([&](const torsion::Result<Page>&) { reactor.stop(); });
  d.callback(21);
  crawl(reactor);
}

// Url: strict parsing, the parts a request needs, and RFC 3986 §5.2 reference resolution.
#include <torsion/http/url.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using torsion::http::InvalidUrlError;
using torsion::http::UnsupportedSchemeError;
using torsion::http::Url;

TEST(Url, ParsesTheParts) {
  const auto url = Url::parse("HTTP://Example.COM:8080/a/b%20c;p?x=1&y=%2F#frag");
  EXPECT_EQ(url.scheme(), "http");
  EXPECT_EQ(url.host(), "example.com");
  EXPECT_EQ(url.port(), 8080);
  EXPECT_EQ(url.path(), "/a/b%20c;p");
  EXPECT_EQ(url.query(), "x=1&y=%2F");
  EXPECT_EQ(url.authority(), "example.com:8080");
  EXPECT_EQ(url.requestTarget(), "/a/b%20c;p?x=1&y=%2F");
  EXPECT_EQ(url.toString(), "http://example.com:8080/a/b%20c;p?x=1&y=%2F");
}

TEST(Url, DefaultPortsAreLeftOutOfTheAuthority) {
  EXPECT_EQ(Url::parse("http://h/").port(), 80);
  EXPECT_EQ(Url::parse("https://h/").port(), 443);
  EXPECT_EQ(Url::parse("http://h:80/").authority(), "h");
  EXPECT_EQ(Url::parse("https://h:443/").authority(), "h");
  EXPECT_EQ(Url::parse("https://h:80/").authority(), "h:80");
  EXPECT_EQ(Url::parse("http://h:/").port(), 80);  // an empty port is the default
  EXPECT_EQ(Url::parse("http://h:065535/").port(), 65535);
}

TEST(Url, EmptyPathIsSlashInTheRequestTarget) {
  const auto url = Url::parse("http://h");
  EXPECT_EQ(url.path(), "");
  EXPECT_EQ(url.requestTarget(), "/");
  EXPECT_EQ(Url::parse("http://h?q").requestTarget(), "/?q");
  EXPECT_EQ(Url::parse("http://h/?").query(), "");
  EXPECT_EQ(Url::parse("http://h/?").requestTarget(), "/?");
  EXPECT_EQ(Url::parse("http://h/").query(), std::nullopt);
}

TEST(Url, HostsIPv4AndIPv6) {
  EXPECT_EQ(Url::parse("http://127.0.0.1:8000/").host(), "127.0.0.1");
  const auto v6 = Url::parse("http://[::1]:8080/x");
  EXPECT_EQ(v6.host(), "::1");
  EXPECT_TRUE(v6.hostIsIPv6());
  EXPECT_EQ(v6.authority(), "[::1]:8080");
  EXPECT_EQ(v6.toString(), "http://[::1]:8080/x");
  EXPECT_EQ(Url::parse("https://[2001:DB8::A]/").authority(), "[2001:db8::a]");
  EXPECT_EQ(Url::parse("http://[::ffff:1.2.3.4]/").host(), "::ffff:1.2.3.4");
  EXPECT_EQ(Url::parse("http://my_host-1.example./").host(), "my_host-1.example.");
}

TEST(Url, FragmentIsDropped) {
  EXPECT_EQ(Url::parse("http://h/p#a?b/c").toString(), "http://h/p");
  EXPECT_EQ(Url::parse("http://h/p?q#f").requestTarget(), "/p?q");
}

TEST(Url, OtherSchemesAreUnsupported) {
  EXPECT_THROW(Url::parse("ftp://h/"), UnsupportedSchemeError);
  EXPECT_THROW(Url::parse("file:///etc/passwd"), UnsupportedSchemeError);
  EXPECT_THROW(Url::parse("javascript:alert(1)"), UnsupportedSchemeError);
  try {
    Url::parse("gopher://h/");
    FAIL();
  } catch (const UnsupportedSchemeError& error) {
    EXPECT_NE(std::string(error.what()).find("gopher"), std::string::npos) << error.what();
  }
}

TEST(Url, RefusesWhatIsNotAStrictUrl) {
  const char* bad[] = {
      "",                   // nothing
      "example.com/path",   // no scheme
      "/path",              // relative
      "http:/h/",           // no authority
      "http:h",             // no authority
      "http://",            // empty host
      "http:///p",          // empty host
      "http://user:pw@h/",  // userinfo
      "http://@h/",         // userinfo
      "http://h:0/",        // port 0
      "http://h:65536/",    // port too large
      "http://h:99999999999999999999/",
      "http://h:8a/",              // port not a number
      "http://h:-1/",              //
      "http://h /",                // space
      "http://h/a b",              // space in path
      "http://h/a\tb",             // control
      "http://h/\x7f",             // DEL
      "http://h/caf\xc3\xa9",      // non-ASCII
      "http://h/a<b>",             // not allowed anywhere
      "http://h/a\\b",             //
      "http://h/{x}",              //
      "http://h/%",                // bad escape
      "http://h/%2",               //
      "http://h/%zz",              //
      "http://h/[x]",              // brackets outside the host
      "http://h/?a#b#c",           // second '#'
      "http://[::1/",              // unclosed bracket
      "http://[::1]x/",            // text after the literal
      "http://[fe80::1%25eth0]/",  // zone id
      "http://[v1.x]/",            // IPvFuture
      "http://[1.2.3.4]/",         // IPv4 in brackets
      "http://h%41/",              // escapes in the host
      "http://a..b/",              // empty label
      "http://.a/",                //
      "http://256.1.1.1/",         // numeric host that is no IPv4 address
      "http://1.2.3/",             //
      "http://01.2.3.4/",          // leading zero (octal in some parsers)
      "http://123/",               //
      "http://h!/",                // sub-delims in the host
      "1http://h/",                // bad scheme
      "ht tp://h/",                //
  };
  for (const char* text : bad) EXPECT_THROW(Url::parse(text), InvalidUrlError) << '"' << text << '"';
  EXPECT_THROW(Url::parse(std::string("http://h/\0", 10)), InvalidUrlError);
  EXPECT_THROW(Url::parse("http://h/\r\nX: y"), InvalidUrlError);
}

TEST(Url, ErrorsQuoteTheUrlAndSayWhy) {
  try {
    Url::parse("http://h:70000/");
    FAIL();
  } catch (const InvalidUrlError& error) {
    const std::string what = error.what();
    EXPECT_NE(what.find("http://h:70000/"), std::string::npos) << what;
    EXPECT_NE(what.find("1..65535"), std::string::npos) << what;
  }
}

// RFC 3986 §5.4: every normal and abnormal example, resolved against its base (those
// with a non-http scheme, "g:h", are unsupported here).
TEST(Url, ResolvesTheRfc3986Examples) {
  const auto base = Url::parse("http://a/b/c/d;p?q");
  const std::pair<const char*, const char*> cases[] = {
      {"g", "http://a/b/c/g"},
      {"./g", "http://a/b/c/g"},
      {"g/", "http://a/b/c/g/"},
      {"/g", "http://a/g"},
      {"//g", "http://g"},
      {"?y", "http://a/b/c/d;p?y"},
      {"g?y", "http://a/b/c/g?y"},
      {"#s", "http://a/b/c/d;p?q"},
      {"g#s", "http://a/b/c/g"},
      {"g?y#s", "http://a/b/c/g?y"},
      {";x", "http://a/b/c/;x"},
      {"g;x", "http://a/b/c/g;x"},
      {"g;x?y#s", "http://a/b/c/g;x?y"},
      {"", "http://a/b/c/d;p?q"},
      {".", "http://a/b/c/"},
      {"./", "http://a/b/c/"},
      {"..", "http://a/b/"},
      {"../", "http://a/b/"},
      {"../g", "http://a/b/g"},
      {"../..", "http://a/"},
      {"../../", "http://a/"},
      {"../../g", "http://a/g"},
      // abnormal examples
      {"../../../g", "http://a/g"},
      {"../../../../g", "http://a/g"},
      {"/./g", "http://a/g"},
      {"/../g", "http://a/g"},
      {"g.", "http://a/b/c/g."},
      {".g", "http://a/b/c/.g"},
      {"g..", "http://a/b/c/g.."},
      {"..g", "http://a/b/c/..g"},
      {"./../g", "http://a/b/g"},
      {"./g/.", "http://a/b/c/g/"},
      {"g/./h", "http://a/b/c/g/h"},
      {"g/../h", "http://a/b/c/h"},
      {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
      {"g;x=1/../y", "http://a/b/c/y"},
      {"g?y/./x", "http://a/b/c/g?y/./x"},
      {"g?y/../x", "http://a/b/c/g?y/../x"},
      {"g#s/./x", "http://a/b/c/g"},
      {"g#s/../x", "http://a/b/c/g"},
      {"http:g", nullptr},  // strict parsers: an absolute URL without authority
      {"https://other:8443/x?y", "https://other:8443/x?y"},
      {"HTTPS://Other/../x", "https://other/x"},
      {"//[::1]:81/z", "http://[::1]:81/z"},
  };
  for (const auto& [reference, expected] : cases) {
    if (expected == nullptr) {
      EXPECT_THROW(base.resolve(reference), InvalidUrlError) << reference;
    } else {
      EXPECT_EQ(base.resolve(reference).toString(), expected) << reference;
    }
  }
}

TEST(Url, ResolveKeepsTheBasePortAndRefusesBadTargets) {
  const auto base = Url::parse("http://h:8080/dir/page");
  EXPECT_EQ(base.resolve("other").toString(), "http://h:8080/dir/other");
  EXPECT_EQ(Url::parse("http://h").resolve("x").toString(), "http://h/x");
  EXPECT_THROW(base.resolve("ftp://h/"), UnsupportedSchemeError);
  EXPECT_THROW(base.resolve("mailto:a@b"), UnsupportedSchemeError);
  EXPECT_THROW(base.resolve("a b"), InvalidUrlError);
  EXPECT_THROW(base.resolve("//user@h/"), InvalidUrlError);
  EXPECT_THROW(base.resolve("//h:0/"), InvalidUrlError);
}

}  // namespace

// Headers: order and repeated fields kept, lookups ignore case, what the user gives is
// validated.
#include <torsion/http/headers.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using torsion::http::Headers;
using torsion::http::InvalidHeaderError;
using torsion::http::validateHeaderName;
using torsion::http::validateHeaderValue;

TEST(Headers, KeepsOrderCaseAndRepeatedFields) {
  Headers headers;
  headers.add("Set-Cookie", "a=1");
  headers.add("Content-Type", "text/plain");
  headers.add("set-cookie", "b=2");
  ASSERT_EQ(headers.size(), 3u);
  std::string seen;
  for (const auto& field : headers) seen += field.name + "=" + field.value + ";";
  EXPECT_EQ(seen, "Set-Cookie=a=1;Content-Type=text/plain;set-cookie=b=2;");
  EXPECT_EQ(headers.get("SET-COOKIE"), "a=1");
  EXPECT_EQ(headers.getAll("Set-cookie"), (std::vector<std::string>{"a=1", "b=2"}));
  EXPECT_TRUE(headers.has("content-type"));
  EXPECT_FALSE(headers.has("Content-Length"));
  EXPECT_EQ(headers.get("Content-Length"), std::nullopt);
  EXPECT_TRUE(headers.getAll("X").empty());
}

TEST(Headers, SetReplacesEveryFieldWhereTheFirstWas) {
  Headers headers;
  headers.add("A", "1");
  headers.add("B", "2");
  headers.add("a", "3");
  headers.set("A", "4");
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers.begin()->name, "A");
  EXPECT_EQ(headers.begin()->value, "4");
  EXPECT_EQ(headers.getAll("a"), std::vector<std::string>{"4"});
  headers.set("C", "5");
  EXPECT_EQ((headers.end() - 1)->name, "C");
}

TEST(Headers, RemoveTakesEveryFieldOfTheName) {
  Headers headers;
  headers.add("A", "1");
  headers.add("B", "2");
  headers.add("a", "3");
  EXPECT_EQ(headers.remove("A"), 2u);
  EXPECT_EQ(headers.size(), 1u);
  EXPECT_EQ(headers.remove("A"), 0u);
  EXPECT_FALSE(headers.empty());
}

TEST(Headers, EqualityIgnoresNameCaseButNotOrderOrValues) {
  Headers a;
  Headers b;
  a.add("X-A", "1");
  b.add("x-a", "1");
  EXPECT_EQ(a, b);
  b.add("X-B", "2");
  EXPECT_NE(a, b);
  a.add("X-B", "3");
  EXPECT_NE(a, b);
}

TEST(Headers, NamesMustBeTokens) {
  EXPECT_NO_THROW(validateHeaderName("X-Custom_Header.1!#$%&'*+^`|~"));
  for (const char* bad : {"", "Bad Name", "Bad:Name", "Bad\rName", "Bad\nName", "(comment)", "a\"b", "\xc3\xa9"}) {
    EXPECT_THROW(validateHeaderName(bad), InvalidHeaderError) << bad;
  }
  EXPECT_THROW(validateHeaderName(std::string("a\0b", 3)), InvalidHeaderError);
}

TEST(Headers, ValuesMayNotHoldCrLfOrNul) {
  EXPECT_NO_THROW(validateHeaderValue(""));
  EXPECT_NO_THROW(validateHeaderValue("text/html; q=0.9, \t*/*"));
  EXPECT_NO_THROW(validateHeaderValue("caf\xc3\xa9 \x80\xff"));  // obs-text
  EXPECT_THROW(validateHeaderValue("a\r\nSet-Cookie: evil=1"), InvalidHeaderError);
  EXPECT_THROW(validateHeaderValue("a\nb"), InvalidHeaderError);
  EXPECT_THROW(validateHeaderValue("a\rb"), InvalidHeaderError);
  EXPECT_THROW(validateHeaderValue(std::string("a\0b", 3)), InvalidHeaderError);
}

TEST(Headers, AddAndSetValidate) {
  Headers headers;
  EXPECT_THROW(headers.add("Host", "example.com\r\nX-Injected: 1"), InvalidHeaderError);
  EXPECT_THROW(headers.set("Bad Name", "x"), InvalidHeaderError);
  EXPECT_TRUE(headers.empty());
  try {
    headers.add("X", "a\nb");
    FAIL() << "no error";
  } catch (const InvalidHeaderError& error) {
    EXPECT_NE(std::string(error.what()).find("LF"), std::string::npos) << error.what();
  }
}

}  // namespace

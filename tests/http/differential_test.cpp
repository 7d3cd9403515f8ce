// placeholder
#include <gtest/gtest.h>
TEST(HttpDifferential, Placeholder) { GTEST_SKIP(); }

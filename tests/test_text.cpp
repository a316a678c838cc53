#include <gtest/gtest.h>

#include "paddlex/core/text.h"

namespace {

TEST(Text, AsciiLowerLeavesNonLettersAlone) {
  EXPECT_EQ(paddlex::ascii_lower("EADDRINUSE: Address Already In Use .JPG"),
            "eaddrinuse: address already in use .jpg");
  EXPECT_EQ(paddlex::ascii_lower("\xC3\x89t\xC3\xA9"), "\xC3\x89t\xC3\xA9");  // UTF-8 bytes unchanged
}

TEST(Text, CountAgreesInNumber) {
  EXPECT_EQ(paddlex::count(1, "thread"), "1 thread");
  EXPECT_EQ(paddlex::count(0, "thread"), "0 threads");
  EXPECT_EQ(paddlex::count(2, "process"), "2 processes");
  EXPECT_EQ(paddlex::count(1, "class"), "1 class");
  EXPECT_EQ(paddlex::count(10, "class"), "10 classes");
}

}  // namespace

#include "data/row_fingerprint.h"

#include <gtest/gtest.h>

namespace cairn::data {
namespace {

TEST(FingerprintCsvRows, SameRowsSameFingerprintsWhateverTheColumnOrder) {
  auto a = FingerprintCsvRows("x,y\n1,a\n2,b\n1,a\n");
  auto b = FingerprintCsvRows("y,x\nb,2\na,1\n\"a\",1\n");
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_EQ(a->size(), 3u);
  EXPECT_EQ((*a)[0], (*a)[2]);  // duplicate rows are one identity
  EXPECT_NE((*a)[0], (*a)[1]);
  EXPECT_EQ((*a)[0], (*b)[1]);  // quoting does not matter, the value does
  EXPECT_EQ((*a)[1], (*b)[0]);
}

TEST(FingerprintCsvRows, FieldBoundariesAndValuesMatter) {
  auto a = FingerprintCsvRows("x,y\nab,c\na,bc\n1,c\n1.0,c\n");
  ASSERT_TRUE(a.ok());
  EXPECT_NE((*a)[0], (*a)[1]);
  EXPECT_NE((*a)[2], (*a)[3]);
}

TEST(FingerprintCsvRows, ParserErrorsNameTheLine) {
  auto bad = FingerprintCsvRows("x,y\n1,2\n3\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 3"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace cairn::data

#include "slicenav/error.hpp"

#include <gtest/gtest.h>

#include <string>

namespace slicenav {

TEST(Error, CarriesStatusAndMessage) {
  try {
    fail(Status::not_found, "'x.nii' does not exist");
    FAIL() << "fail() returned";
  } catch (const Error& e) {
    EXPECT_EQ(e.status(), Status::not_found);
    EXPECT_STREQ(e.what(), "'x.nii' does not exist");
  }
}

TEST(Error, StatusValuesAreStableAndNamed) {
  EXPECT_EQ(static_cast<int>(Status::invalid_argument), -1);
  EXPECT_EQ(static_cast<int>(Status::internal), -9);
  for (int s = -9; s <= 0; ++s) {
    EXPECT_NE(std::string(status_name(static_cast<Status>(s))), "unknown status") << s;
  }
  EXPECT_STREQ(status_name(static_cast<Status>(-100)), "unknown status");
}

}  // namespace slicenav

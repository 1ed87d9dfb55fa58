#define BOOST_TEST_MODULE esink transport
#include <boost/test/unit_test.hpp>

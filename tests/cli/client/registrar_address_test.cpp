// parse_registrar_address: the one -r ADDR[:PORT[/UDPPORT]] syntax of poolreg-pe, poolreg-pu and
// poolgen (cli/client/registrar_address.hpp): every accepted form, and a clear error for each
// malformed one.
#include "cli/client/registrar_address.hpp"

#include <gtest/gtest.h>

namespace poolreg::client {
namespace {

TEST(RegistrarAddress, AcceptsEveryForm) {
  auto a = parse_registrar_address("127.0.0.1");
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->address, IpAddress::v4(0x7f000001u));
  EXPECT_EQ(a->port, 3863);
  EXPECT_FALSE(a->udp_port);

  a = parse_registrar_address("10.0.0.1:4000");
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->address, IpAddress::v4(0x0a000001u));
  EXPECT_EQ(a->port, 4000);
  EXPECT_FALSE(a->udp_port);

  a = parse_registrar_address("10.0.0.1:4000/9899");
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->port, 4000);
  ASSERT_TRUE(a->udp_port);
  EXPECT_EQ(*a->udp_port, 9899);

  a = parse_registrar_address("::1");
  ASSERT_TRUE(a) << a.error();
  EXPECT_FALSE(a->address.is_v4());
  EXPECT_TRUE(a->address.is_loopback());
  EXPECT_EQ(a->port, 3863);

  a = parse_registrar_address("[fd00::5]:3865/9897");
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->address, *IpAddress::parse("fd00::5"));
  EXPECT_EQ(a->port, 3865);
  EXPECT_EQ(a->udp_port.value_or(0), 9897);

  a = parse_registrar_address("[::1]");
  ASSERT_TRUE(a) << a.error();
  EXPECT_EQ(a->port, 3863);
}

TEST(RegistrarAddress, RefusesMalformedTextWithAReason) {
  struct Case {
    const char* text;
    const char* reason;
  };
  for (const Case& c : {Case{"", "bad address"}, Case{"localhost", "bad address"}, Case{"127.0.0.1:", "bad ASAP port"},
                        Case{"127.0.0.1:0", "bad ASAP port"}, Case{"127.0.0.1:65536", "bad ASAP port"},
                        Case{"127.0.0.1:12a", "bad ASAP port"}, Case{"127.0.0.1:3863/", "bad UDP"},
                        Case{"127.0.0.1:3863/0", "bad UDP"}, Case{"127.0.0.1:3863/99999", "bad UDP"},
                        Case{"[::1:3863", "missing ']'"}, Case{"[::1]3863", "expected ':PORT'"},
                        Case{"1.2.3.4.5", "bad address"}}) {
    const auto a = parse_registrar_address(c.text);
    ASSERT_FALSE(a) << c.text;
    EXPECT_NE(a.error().find(c.reason), std::string::npos) << c.text << ": " << a.error();
    EXPECT_NE(a.error().find(std::string("'") + c.text + "'"), std::string::npos) << "names the text: " << a.error();
  }
}

}  // namespace
}  // namespace poolreg::client

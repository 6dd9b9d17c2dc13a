#include <kurer/engine/cli.hpp>

#include <boost/test/unit_test.hpp>

#include <array>

BOOST_AUTO_TEST_SUITE(cli)

BOOST_AUTO_TEST_CASE(version_and_help_exit_zero_other_commands_pass_through) {
    char prog[] = "kurer", version[] = "--version", help[] = "--help", run[] = "run";
    std::array<char*, 2> v{prog, version}, h{prog, help}, r{prog, run};
    std::array<char*, 1> none{prog};
    BOOST_TEST(kurer::engine::handle_common_options("kurer", "usage\n", v).value() == 0);
    BOOST_TEST(kurer::engine::handle_common_options("kurer", "usage\n", h).value() == 0);
    BOOST_TEST(!kurer::engine::handle_common_options("kurer", "usage\n", r).has_value());
    BOOST_TEST(kurer::engine::handle_common_options("kurer", "usage\n", none).value() == 2);
}

BOOST_AUTO_TEST_SUITE_END()

// A tiny "--name value" parser shared by the subcommands.
#pragma once

#include "bench.hpp"

#include <charconv>
#include <iostream>
#include <map>
#include <optional>
#include <string>

namespace kurer::bench {

class options {
public:
    // Accepts only the names in `known`; prints `usage` and returns nullopt on --help or an error.
    static std::optional<options> parse(arguments args, std::initializer_list<std::string_view> known,
                                        std::string_view usage) {
        options o;
        for (std::size_t i = 0; i < args.size(); ++i) {
            const std::string_view a = args[i];
            if (a == "--help" || a == "-h") {
                std::cout << usage;
                return std::nullopt;
            }
            bool ok = a.starts_with("--") && i + 1 < args.size();
            if (ok) {
                ok = false;
                for (auto k : known)
                    ok |= a.substr(2) == k;
            }
            if (!ok) {
                std::cerr << "unknown or incomplete option '" << a << "'\n" << usage;
                return std::nullopt;
            }
            o.values_[std::string(a.substr(2))] = args[++i];
        }
        return o;
    }

    std::optional<std::string> text(const std::string& name) const {
        auto it = values_.find(name);
        if (it == values_.end())
            return std::nullopt;
        return it->second;
    }

    // A positive integer option, or `fallback`; false (after saying why) when malformed.
    bool number(const std::string& name, std::size_t& out, std::size_t fallback) const {
        out = fallback;
        auto it = values_.find(name);
        if (it == values_.end())
            return true;
        const auto& v = it->second;
        const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
        if (ec != std::errc() || end != v.data() + v.size() || out == 0) {
            std::cerr << "--" << name << ": '" << v << "' is not a positive integer\n";
            return false;
        }
        return true;
    }

private:
    std::map<std::string, std::string> values_;
};

} // namespace kurer::bench

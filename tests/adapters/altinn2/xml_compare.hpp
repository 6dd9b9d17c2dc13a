// Compares two XML trees by meaning: namespaces and local names (not prefixes), attributes,
// trimmed text, children in order. Whitespace-only text between elements is ignored.
#pragma once

#include <kurer/core/xml.hpp>

#include <algorithm>
#include <string>
#include <string_view>

namespace kurer::testing {

inline std::string_view trimmed_text(std::string_view s) {
    const auto first = s.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos)
        return {};
    return s.substr(first, s.find_last_not_of(" \t\r\n") - first + 1);
}

// Empty when equal; otherwise where and how they differ.
inline std::string tree_difference(const xml::element& a, const xml::element& b,
                                   const std::string& path = "") {
    const std::string here = path + "/{" + a.ns + "}" + a.local;
    if (a.ns != b.ns || a.local != b.local)
        return here + ": element differs from {" + b.ns + "}" + b.local;
    auto attrs = [](const xml::element& e) {
        std::vector<std::string> out;
        for (const auto& at : e.attributes)
            out.push_back("{" + at.ns + "}" + at.local + "=" + at.value);
        std::sort(out.begin(), out.end());
        return out;
    };
    if (attrs(a) != attrs(b))
        return here + ": attributes differ";
    if (trimmed_text(a.text) != trimmed_text(b.text))
        return here + ": text '" + std::string(trimmed_text(a.text)) + "' vs '" +
               std::string(trimmed_text(b.text)) + "'";
    if (a.children.size() != b.children.size())
        return here + ": " + std::to_string(a.children.size()) + " vs " + std::to_string(b.children.size()) +
               " children";
    for (std::size_t i = 0; i < a.children.size(); ++i)
        if (auto d = tree_difference(a.children[i], b.children[i], here); !d.empty())
            return d;
    return {};
}

inline std::string document_difference(std::string_view a, std::string_view b) {
    auto ta = xml::parse(a);
    auto tb = xml::parse(b);
    if (!ta)
        return "first document: " + ta.error().message;
    if (!tb)
        return "second document: " + tb.error().message;
    return tree_difference(*ta, *tb);
}

} // namespace kurer::testing

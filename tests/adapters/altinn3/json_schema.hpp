// A JSON-schema checker for the subset the Altinn broker's OpenAPI document uses: $ref into
// #/components/schemas, type (with OpenAPI 3.0's nullable), required, enum, pattern,
// minLength/maxLength, properties, additionalProperties (false or a schema), patternProperties,
// maxProperties, items and minItems. `format` is an annotation and not checked. A keyword the
// checker does not know is reported, so a schema it cannot judge never passes silently.
#pragma once

#include <boost/json.hpp>

#include <regex>
#include <set>
#include <string>
#include <vector>

namespace kurer::test {

class json_schema_checker {
public:
    // `document` is the whole OpenAPI document (for $ref).
    explicit json_schema_checker(boost::json::object document)
        : document_(std::move(document)) {}

    // Every violation of `schema` by `value`, each naming the JSON path; empty when valid.
    std::vector<std::string> check(const boost::json::value& value, const boost::json::object& schema,
                                   const std::string& path = "$") const {
        std::vector<std::string> out;
        visit(value, schema, path, out);
        return out;
    }

    const boost::json::object& schema(std::string_view name) const {
        return document_.at("components").at("schemas").at(name).as_object();
    }

private:
    static const std::set<std::string>& known_keywords() {
        static const std::set<std::string> k{"$ref",
                                             "type",
                                             "nullable",
                                             "required",
                                             "enum",
                                             "pattern",
                                             "minLength",
                                             "maxLength",
                                             "properties",
                                             "additionalProperties",
                                             "patternProperties",
                                             "maxProperties",
                                             "items",
                                             "minItems",
                                             "format",
                                             "description",
                                             "example",
                                             "readOnly"};
        return k;
    }

    const boost::json::object& resolve(const std::string& ref) const {
        constexpr std::string_view prefix = "#/components/schemas/";
        if (!std::string_view(ref).starts_with(prefix))
            throw std::runtime_error("unsupported $ref " + ref);
        return schema(std::string_view(ref).substr(prefix.size()));
    }

    static bool has_type(const boost::json::value& v, std::string_view type) {
        if (type == "string")
            return v.is_string();
        if (type == "integer")
            return v.is_int64() || v.is_uint64() ||
                   (v.is_double() &&
                    v.as_double() == static_cast<double>(static_cast<long long>(v.as_double())));
        if (type == "number")
            return v.is_number();
        if (type == "boolean")
            return v.is_bool();
        if (type == "object")
            return v.is_object();
        if (type == "array")
            return v.is_array();
        return false;
    }

    void visit(const boost::json::value& v, const boost::json::object& s, const std::string& path,
               std::vector<std::string>& out) const {
        for (const auto& kv : s)
            if (!known_keywords().contains(std::string(kv.key())))
                out.push_back(path + ": the checker does not know the keyword " + std::string(kv.key()));
        if (const auto* ref = s.if_contains("$ref")) {
            visit(v, resolve(std::string(ref->as_string())), path, out);
            return;
        }
        if (v.is_null()) {
            const auto* nullable = s.if_contains("nullable");
            if (s.contains("type") && !(nullable && nullable->as_bool()))
                out.push_back(path + ": null is not allowed");
            return;
        }
        if (const auto* type = s.if_contains("type"); type && !has_type(v, type->as_string())) {
            out.push_back(path + ": expected " + std::string(type->as_string()));
            return;
        }
        if (const auto* e = s.if_contains("enum")) {
            const auto& values = e->as_array();
            if (std::find(values.begin(), values.end(), v) == values.end())
                out.push_back(path + ": not one of the enum values");
        }
        if (v.is_string()) {
            const std::string text(v.as_string());
            if (const auto* min = s.if_contains("minLength");
                min && text.size() < min->to_number<std::size_t>())
                out.push_back(path + ": shorter than minLength");
            if (const auto* max = s.if_contains("maxLength");
                max && text.size() > max->to_number<std::size_t>())
                out.push_back(path + ": longer than maxLength");
            if (const auto* p = s.if_contains("pattern");
                p && !std::regex_search(text, std::regex(std::string(p->as_string()))))
                out.push_back(path + ": does not match " + std::string(p->as_string()));
        }
        if (v.is_array()) {
            const auto& a = v.as_array();
            if (const auto* min = s.if_contains("minItems"); min && a.size() < min->to_number<std::size_t>())
                out.push_back(path + ": fewer items than minItems");
            if (const auto* items = s.if_contains("items"))
                for (std::size_t i = 0; i < a.size(); ++i)
                    visit(a[i], items->as_object(), path + "[" + std::to_string(i) + "]", out);
        }
        if (v.is_object()) {
            const auto& o = v.as_object();
            if (const auto* required = s.if_contains("required"))
                for (const auto& r : required->as_array())
                    if (!o.contains(r.as_string()))
                        out.push_back(path + ": lacks the required " + std::string(r.as_string()));
            if (const auto* max = s.if_contains("maxProperties");
                max && o.size() > max->to_number<std::size_t>())
                out.push_back(path + ": more properties than maxProperties");
            const auto* properties = s.if_contains("properties");
            const auto* patterns = s.if_contains("patternProperties");
            const auto* additional = s.if_contains("additionalProperties");
            for (const auto& kv : o) {
                const std::string key(kv.key());
                const auto member = path + "." + key;
                bool matched = false;
                if (properties)
                    if (const auto* ps = properties->as_object().if_contains(key)) {
                        matched = true;
                        visit(kv.value(), ps->as_object(), member, out);
                    }
                if (patterns)
                    for (const auto& pp : patterns->as_object())
                        if (std::regex_search(key, std::regex(std::string(pp.key())))) {
                            matched = true;
                            visit(kv.value(), pp.value().as_object(), member, out);
                        }
                if (matched || !additional)
                    continue;
                if (additional->is_bool()) {
                    if (!additional->as_bool())
                        out.push_back(member + ": additional property not allowed");
                } else {
                    visit(kv.value(), additional->as_object(), member, out);
                }
            }
        }
    }

    boost::json::object document_;
};

} // namespace kurer::test

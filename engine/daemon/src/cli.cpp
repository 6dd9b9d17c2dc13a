#include <kurer/core/version.hpp>
#include <kurer/engine/cli.hpp>

#include <charconv>
#include <iostream>
#include <memory>

namespace kurer::engine::cli {
namespace {

// CLI11's help with kurer's layout: "<program> <version>" (top level only), the synopsis (the
// hand-written one of the App it was made for, else CLI11's line), the description, positionals,
// options, sub-commands, then the footer (the longer explanation).
class formatter : public CLI::Formatter {
public:
    formatter(const CLI::App* owner, std::string synopsis)
        : owner_(owner)
        , synopsis_(std::move(synopsis)) {
        label("Usage", "usage");
        column_width(32);
        if (!synopsis_.empty() && synopsis_.back() != '\n')
            synopsis_ += '\n';
    }

    std::string make_usage(const CLI::App* app, std::string name) const override {
        if (app == owner_ && !synopsis_.empty())
            return synopsis_;
        return CLI::Formatter::make_usage(app, std::move(name));
    }

    std::string make_help(const CLI::App* app, std::string name, CLI::AppFormatMode mode) const override {
        if (mode == CLI::AppFormatMode::Sub)
            return make_expanded(app);
        std::string out;
        if (app->get_parent() == nullptr)
            out += app->get_name() + " " + std::string(kurer::version()) + "\n\n";
        out += make_usage(app, std::move(name));
        if (const auto& d = app->get_description(); !d.empty())
            out += "\n" + d + "\n";
        out += make_positionals(app);
        out += make_groups(app, mode);
        out += make_subcommands(app, mode);
        if (const auto f = app->get_footer(); !f.empty())
            out += "\n" + f + (f.back() == '\n' ? "" : "\n");
        // A hidden option's group (an empty name) leaves a blank line of its own.
        for (auto at = out.find("\n\n\n"); at != std::string::npos; at = out.find("\n\n\n", at))
            out.erase(at, 1);
        return out;
    }

    // A positional is named by its name alone: "FILE ...", not "FILE TEXT ...".
    std::string make_option_opts(const CLI::Option* opt) const override {
        if (!opt->get_positional())
            return CLI::Formatter::make_option_opts(opt);
        std::string out;
        if (opt->get_expected_max() == CLI::detail::expected_max_vector_size)
            out += " ...";
        if (opt->get_required())
            out += " " + get_label("REQUIRED");
        return out;
    }

private:
    const CLI::App* owner_;
    std::string synopsis_;
};

const CLI::App& root_of(const CLI::App& app) {
    const CLI::App* a = &app;
    while (a->get_parent() != nullptr)
        a = a->get_parent();
    return *a;
}

// The last sub-command given on the command line (`app` itself when none was).
const CLI::App& deepest(const CLI::App& app) {
    const CLI::App* a = &app;
    while (!a->get_subcommands().empty())
        a = a->get_subcommands().front();
    return *a;
}

// "kurerctl inbox take": the names from the top down to `app`.
std::string path_of(const CLI::App& app) {
    std::string path = app.get_name();
    for (const CLI::App* a = app.get_parent(); a != nullptr; a = a->get_parent())
        path = a->get_name() + " " + path;
    return path;
}

bool has_subcommands(const CLI::App& app) {
    return !app.get_subcommands([](const CLI::App* s) { return !s->get_name().empty(); }).empty();
}

std::string usage_of(const CLI::App& app) {
    const auto f = std::dynamic_pointer_cast<CLI::Formatter>(app.get_formatter());
    return f ? f->make_usage(&app, path_of(app)) : std::string();
}

int report(const CLI::App& at, std::string_view message) {
    const auto& root = root_of(at);
    std::cerr << root.get_name() << ": " << message << "\n"
              << usage_of(at) << "run '" << path_of(at) << " --help' for "
              << (has_subcommands(at) ? "the commands" : "its options") << "\n";
    return usage_exit;
}

std::string_view after(std::string_view text, std::string_view prefix) {
    return text.substr(prefix.size());
}

// CLI11's messages, said the way kurer's tools always said them.
std::string describe(const CLI::App& app, const CLI::App& at, const CLI::ParseError& e) {
    const std::string_view what = e.what();
    // CLI11 checks required options before it complains about arguments it did not expect;
    // `--confg x` is better answered with "unknown option --confg" than "--config is required".
    const bool extras =
        dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr ||
        (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && !app.remaining(true).empty());
    if (extras) {
        const auto extras = app.remaining(true);
        if (extras.empty())
            return std::string(what);
        const std::string& first = extras.front();
        if (first.starts_with("-") && first.size() > 1)
            return "unknown option " + first.substr(0, first.find('='));
        if (has_subcommands(at) && at.get_subcommands().empty())
            return "unknown command '" + first + "'";
        return "unexpected argument '" + first + "'";
    }
    if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) != nullptr) {
        const auto colon = what.find(": ");
        const auto name = std::string(what.substr(0, colon));
        if (colon != std::string_view::npos && what.ends_with(" missing"))
            return name + " needs a value";
        if (colon != std::string_view::npos && what.find("At Most") != std::string_view::npos)
            return name + " may be given only once";
    }
    if (dynamic_cast<const CLI::ConversionError*>(&e) != nullptr && what.starts_with("Could not convert: ")) {
        const auto rest = after(what, "Could not convert: ");
        const auto eq = rest.find(" = ");
        if (eq != std::string_view::npos)
            return std::string(rest.substr(0, eq)) + ": '" + std::string(rest.substr(eq + 3)) +
                   "' is not a valid value";
    }
    return std::string(what);
}

} // namespace

void configure(CLI::App& app, std::string text) {
    app.set_help_flag("-h,--help", "print this help and exit");
    app.set_version_flag("--version", app.get_name() + " " + std::string(kurer::version()),
                         "print the version and exit");
    app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    app.require_subcommand(0, 1);
    synopsis(app, std::move(text));
}

void synopsis(CLI::App& app, std::string text) {
    app.formatter(std::make_shared<formatter>(&app, std::move(text)));
}

std::optional<int> parse(CLI::App& app, int argc, const char* const* argv) {
    if (argc < 2 && has_subcommands(app)) {
        std::cerr << app.help();
        return usage_exit;
    }
    try {
        app.parse(argc, argv);
        return std::nullopt;
    } catch (const CLI::CallForHelp&) {
        std::cout << app.help();
        return 0;
    } catch (const CLI::CallForVersion& e) {
        std::cout << e.what() << "\n";
        return 0;
    } catch (const CLI::ParseError& e) {
        const auto& at = deepest(app);
        return report(at, describe(app, at, e));
    }
}

int usage_error(const CLI::App& app, std::string_view message) {
    return report(deepest(app), message);
}

CLI::Validator whole_number(unsigned long long min) {
    return CLI::Validator(
        [min](std::string& v) {
            unsigned long long n = 0;
            const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            if (ec == std::errc() && end == v.data() + v.size() && !v.empty() && n >= min)
                return std::string();
            if (min == 1)
                return "'" + v + "' is not a positive integer";
            if (min == 0)
                return "'" + v + "' is not a whole number";
            return "'" + v + "' is not a whole number of at least " + std::to_string(min);
        },
        "");
}

} // namespace kurer::engine::cli

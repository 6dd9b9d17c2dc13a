#include <kurer/statemachine/outcome.hpp>
#include <kurer/statemachine/states.hpp>

#include <array>
#include <utility>

namespace kurer::statemachine {
namespace {

constexpr std::array outgoing_names{
    std::pair{outgoing_state::created, std::string_view{"Created"}},
    std::pair{outgoing_state::authorized, std::string_view{"Authorized"}},
    std::pair{outgoing_state::resolved, std::string_view{"Resolved"}},
    std::pair{outgoing_state::packed, std::string_view{"Packed"}},
    std::pair{outgoing_state::upload_initiated, std::string_view{"UploadInitiated"}},
    std::pair{outgoing_state::uploaded, std::string_view{"Uploaded"}},
    std::pair{outgoing_state::delivered, std::string_view{"Delivered"}},
    std::pair{outgoing_state::received, std::string_view{"Received"}},
    std::pair{outgoing_state::failed, std::string_view{"Failed"}},
    std::pair{outgoing_state::expired, std::string_view{"Expired"}},
};

constexpr std::array incoming_names{
    std::pair{incoming_state::listed, std::string_view{"Listed"}},
    std::pair{incoming_state::downloaded, std::string_view{"Downloaded"}},
    std::pair{incoming_state::stored, std::string_view{"Stored"}},
    std::pair{incoming_state::confirmed, std::string_view{"Confirmed"}},
    std::pair{incoming_state::queued, std::string_view{"Queued"}},
    std::pair{incoming_state::locked, std::string_view{"Locked"}},
    std::pair{incoming_state::taken, std::string_view{"Taken"}},
    std::pair{incoming_state::levert_sent, std::string_view{"LevertSent"}},
    std::pair{incoming_state::routed, std::string_view{"Routed"}},
    std::pair{incoming_state::duplicate, std::string_view{"Duplicate"}},
    std::pair{incoming_state::rejected, std::string_view{"Rejected"}},
    std::pair{incoming_state::expired, std::string_view{"Expired"}},
};

constexpr std::array status_names{
    std::pair{eformidling_status::opprettet, std::string_view{"OPPRETTET"}},
    std::pair{eformidling_status::sendt, std::string_view{"SENDT"}},
    std::pair{eformidling_status::mottatt, std::string_view{"MOTTATT"}},
    std::pair{eformidling_status::levert, std::string_view{"LEVERT"}},
    std::pair{eformidling_status::lest, std::string_view{"LEST"}},
    std::pair{eformidling_status::feil, std::string_view{"FEIL"}},
    std::pair{eformidling_status::levetid_utlopt, std::string_view{"LEVETID_UTLOPT"}},
    std::pair{eformidling_status::innkommende_mottatt, std::string_view{"INNKOMMENDE_MOTTATT"}},
    std::pair{eformidling_status::innkommende_levert, std::string_view{"INNKOMMENDE_LEVERT"}},
};

constexpr std::array action_names{
    std::pair{action::none, std::string_view{"none"}},
    std::pair{action::authorize, std::string_view{"authorize"}},
    std::pair{action::resolve, std::string_view{"resolve"}},
    std::pair{action::pack, std::string_view{"pack"}},
    std::pair{action::initiate_upload, std::string_view{"initiate_upload"}},
    std::pair{action::upload, std::string_view{"upload"}},
    std::pair{action::await_receipts, std::string_view{"await_receipts"}},
    std::pair{action::download, std::string_view{"download"}},
    std::pair{action::open_package, std::string_view{"open_package"}},
    std::pair{action::confirm_download, std::string_view{"confirm_download"}},
    std::pair{action::send_mottatt, std::string_view{"send_mottatt"}},
    std::pair{action::send_levert, std::string_view{"send_levert"}},
    std::pair{action::await_end_system, std::string_view{"await_end_system"}},
};

template <class Table, class Enum>
std::string_view name_of(const Table& table, Enum value) noexcept {
    for (const auto& [v, name] : table)
        if (v == value)
            return name;
    return "?";
}

template <class Enum, class Table>
std::optional<Enum> value_of(const Table& table, std::string_view name) noexcept {
    for (const auto& [v, n] : table)
        if (n == name)
            return v;
    return std::nullopt;
}

} // namespace

std::string_view to_string(outgoing_state s) noexcept {
    return name_of(outgoing_names, s);
}

std::optional<outgoing_state> outgoing_state_from_string(std::string_view name) noexcept {
    return value_of<outgoing_state>(outgoing_names, name);
}

std::string_view to_string(incoming_state s) noexcept {
    return name_of(incoming_names, s);
}

std::optional<incoming_state> incoming_state_from_string(std::string_view name) noexcept {
    return value_of<incoming_state>(incoming_names, name);
}

std::string_view to_string(eformidling_status s) noexcept {
    return name_of(status_names, s);
}

std::optional<eformidling_status> eformidling_status_from_string(std::string_view name) noexcept {
    return value_of<eformidling_status>(status_names, name);
}

std::string_view to_string(action a) noexcept {
    return name_of(action_names, a);
}

std::optional<action> action_from_string(std::string_view name) noexcept {
    return value_of<action>(action_names, name);
}

std::string_view to_string(verdict v) noexcept {
    switch (v) {
    case verdict::accepted:
        return "accepted";
    case verdict::ignored:
        return "ignored";
    case verdict::rejected:
        return "rejected";
    }
    return "?";
}

eformidling_status reported_status(outgoing_state s) noexcept {
    switch (s) {
    case outgoing_state::created:
    case outgoing_state::authorized:
    case outgoing_state::resolved:
    case outgoing_state::packed:
    case outgoing_state::upload_initiated:
        return eformidling_status::opprettet;
    case outgoing_state::uploaded:
        return eformidling_status::sendt;
    case outgoing_state::delivered:
        return eformidling_status::mottatt;
    case outgoing_state::received:
        return eformidling_status::levert;
    case outgoing_state::failed:
        return eformidling_status::feil;
    case outgoing_state::expired:
        return eformidling_status::levetid_utlopt;
    }
    return eformidling_status::feil;
}

bool is_terminal(outgoing_state s) noexcept {
    return s == outgoing_state::received || s == outgoing_state::failed || s == outgoing_state::expired;
}

bool is_terminal(incoming_state s) noexcept {
    return s == incoming_state::levert_sent || s == incoming_state::routed ||
           s == incoming_state::duplicate || s == incoming_state::rejected || s == incoming_state::expired;
}

} // namespace kurer::statemachine

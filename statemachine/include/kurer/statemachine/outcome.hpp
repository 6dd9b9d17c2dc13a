// What a machine answers when it is handed an event: the verdict, the next action for the
// engine, and the eFormidling statuses to record. Shared by the outgoing and incoming machines.
#pragma once

#include <kurer/statemachine/states.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace kurer::statemachine {

// The side effect the engine performs next for a message. Persisted values.
enum class action : std::uint8_t {
    none = 0,             // finished: nothing more will happen
    authorize = 1,        // get a Maskinporten token
    resolve = 2,          // look the receiver up in the Service Registry
    pack = 3,             // write the package file (sbd.zip; a status SBD for status messages)
    initiate_upload = 4,  // open a broker transfer, yielding its reference
    upload = 5,           // upload the package to that reference
    await_receipts = 6,   // nothing to do but wait for MOTTATT/LEVERT or the deadline
    download = 7,         // fetch the listed broker file into a package file
    open_package = 8,     // read the package: kind, messageId, deadline, ...
    confirm_download = 9, // tell the broker the file was received
    send_mottatt = 10,    // submit a MOTTATT status message back to the sender
    send_levert = 11,     // submit a LEVERT status message back to the sender
    await_end_system = 12 // queued or locked: wait for the end system (or the deadline)
};

std::string_view to_string(action a) noexcept;
std::optional<action> action_from_string(std::string_view name) noexcept;

// Whether the action waits for the outside world rather than doing something.
constexpr bool is_waiting(action a) noexcept {
    return a == action::none || a == action::await_receipts || a == action::await_end_system;
}

enum class verdict : std::uint8_t {
    accepted, // the event was applied: persist the outcome, then perform the next action
    ignored,  // valid but changes nothing (a duplicate receipt, a stale result): nothing to persist
    rejected, // makes no sense in this state (an engine bug or a forged message): log it
};

std::string_view to_string(verdict v) noexcept;

// The statuses a conversation has recorded. The reference records each status at most once per
// conversation; the outgoing machine keeps the same rule, so duplicates are detected here.
class status_set {
public:
    constexpr status_set() noexcept = default;
    constexpr explicit status_set(std::uint16_t bits) noexcept
        : bits_(bits) {}

    constexpr bool contains(eformidling_status s) const noexcept { return (bits_ & bit(s)) != 0; }
    constexpr void insert(eformidling_status s) noexcept {
        bits_ = static_cast<std::uint16_t>(bits_ | bit(s));
    }
    constexpr void erase(eformidling_status s) noexcept {
        bits_ = static_cast<std::uint16_t>(bits_ & ~bit(s));
    }
    constexpr std::uint16_t bits() const noexcept { return bits_; }
    friend constexpr bool operator==(status_set, status_set) noexcept = default;

private:
    static constexpr std::uint16_t bit(eformidling_status s) noexcept {
        return static_cast<std::uint16_t>(1u << static_cast<unsigned>(s));
    }
    std::uint16_t bits_ = 0;
};

// One status to record. `implied` marks a status that was not received but follows from one that
// was (LEVERT before MOTTATT implies MOTTATT; a receipt for a message not yet recorded as uploaded
// implies SENDT).
struct status_record {
    eformidling_status status;
    bool implied = false;
    friend constexpr bool operator==(const status_record&, const status_record&) noexcept = default;
};

// The statuses one transition records, in order (at most three: SENDT, MOTTATT implied, LEVERT).
class status_list {
public:
    constexpr void push_back(status_record r) noexcept { items_[size_++] = r; }
    constexpr const status_record* begin() const noexcept { return items_.data(); }
    constexpr const status_record* end() const noexcept { return items_.data() + size_; }
    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }
    constexpr const status_record& operator[](std::size_t i) const noexcept { return items_[i]; }

private:
    std::array<status_record, 4> items_{};
    std::uint8_t size_ = 0;
};

} // namespace kurer::statemachine

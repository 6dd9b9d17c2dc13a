#include "codec.hpp"

#include <kurer/storage/database.hpp>
#include <kurer/storage/records.hpp>

namespace kurer::storage {
namespace {

using detail::reader;
using detail::writer;
namespace sm = statemachine;

constexpr std::uint8_t outgoing_tag = 'O';
constexpr std::uint8_t incoming_tag = 'I';
constexpr std::uint8_t history_tag = 'H';

void put_time(writer& w, time_point t) {
    w.i64(t.time_since_epoch().count());
}
time_point get_time(reader& r) {
    return time_point(std::chrono::milliseconds(r.i64()));
}

void put_file(writer& w, const file_ref& f) {
    w.string(f.path);
    w.varint(f.size);
    w.string(f.sha256);
}
file_ref get_file(reader& r) {
    file_ref f;
    f.path = r.string();
    f.size = r.varint();
    f.sha256 = r.string();
    return f;
}

// Checks the tag and version (1 to `newest`); on success the reader is positioned after them
// and the version is returned.
result<std::uint8_t> check_header(reader& r, std::uint8_t tag, std::string_view what,
                                  std::uint8_t newest = record_version) {
    const auto t = r.u8();
    const auto version = r.u8();
    if (!r.ok() || t != tag)
        return make_error(errc::corrupt_record, std::string(what) + " is not a record of that kind");
    if (version < 1 || version > newest)
        return make_error(errc::unknown_record_version,
                          std::string(what) + " has format version " + std::to_string(version) +
                              ", this kurer reads versions up to " + std::to_string(newest) +
                              " (written by a newer kurer?)");
    return version;
}

result<void> check_end(const reader& r, std::string_view what) {
    if (!r.ok() || !r.at_end())
        return make_error(errc::corrupt_record, std::string(what) + " is truncated or malformed");
    return {};
}

template <class Enum>
Enum get_enum(reader& r, std::uint8_t max, bool& bad) {
    const auto v = r.u8();
    if (v > max)
        bad = true;
    return static_cast<Enum>(v);
}

bool known(sm::outgoing_state s) {
    for (const auto k : sm::all_outgoing_states)
        if (k == s)
            return true;
    return false;
}

} // namespace

std::string encode(const outgoing_record& r) {
    writer w;
    w.u8(outgoing_tag);
    w.u8(record_version);
    w.string(r.id);
    w.string(r.message_id);
    w.string(r.conversation_id);
    w.u8(static_cast<std::uint8_t>(r.machine.state));
    w.u8(static_cast<std::uint8_t>(r.machine.kind));
    w.varint(r.machine.recorded.bits());
    w.string(r.sender);
    w.string(r.receiver);
    w.string(r.process);
    w.string(r.document_type);
    w.string(r.senders_reference);
    w.string(r.message_channel);
    put_time(w, r.created);
    put_time(w, r.deadline);
    put_time(w, r.updated);
    w.varint(r.attempt);
    w.varint(r.history_size);
    w.string(r.content_digest);
    w.string(r.business_message);
    w.varint(r.documents.size());
    for (const auto& d : r.documents) {
        w.string(d.name);
        w.string(d.mime_type);
        w.boolean(d.primary);
        put_file(w, d.file);
    }
    w.string(r.service_identifier);
    w.string(r.receiver_certificate);
    put_file(w, r.package);
    w.string(r.broker_reference);
    w.u8(static_cast<std::uint8_t>(r.status_value));
    w.string(r.original_sbd);
    w.string(r.last_error);
    return w.take();
}

result<outgoing_record> decode_outgoing(std::string_view bytes, std::string_view what) {
    reader rd(bytes);
    if (auto h = check_header(rd, outgoing_tag, what); !h)
        return h.error();
    outgoing_record r;
    bool bad = false;
    r.id = rd.string();
    r.message_id = rd.string();
    r.conversation_id = rd.string();
    r.machine.state = static_cast<sm::outgoing_state>(rd.u8());
    bad |= !known(r.machine.state);
    r.machine.kind = get_enum<sm::outgoing_kind>(rd, 1, bad);
    r.machine.recorded = sm::status_set(static_cast<std::uint16_t>(rd.varint()));
    r.sender = rd.string();
    r.receiver = rd.string();
    r.process = rd.string();
    r.document_type = rd.string();
    r.senders_reference = rd.string();
    r.message_channel = rd.string();
    r.created = get_time(rd);
    r.deadline = get_time(rd);
    r.updated = get_time(rd);
    r.attempt = rd.u32();
    r.history_size = rd.u32();
    r.content_digest = rd.string();
    r.business_message = rd.string();
    const auto documents = rd.varint();
    if (documents > bytes.size())
        bad = true;
    for (std::uint64_t i = 0; i < documents && rd.ok() && !bad; ++i) {
        document_ref d;
        d.name = rd.string();
        d.mime_type = rd.string();
        d.primary = rd.boolean();
        d.file = get_file(rd);
        r.documents.push_back(std::move(d));
    }
    r.service_identifier = rd.string();
    r.receiver_certificate = rd.string();
    r.package = get_file(rd);
    r.broker_reference = rd.string();
    r.status_value = get_enum<sm::eformidling_status>(rd, 8, bad);
    r.original_sbd = rd.string();
    r.last_error = rd.string();
    if (bad)
        return make_error(errc::corrupt_record,
                          std::string(what) + " holds a value this kurer does not know");
    if (auto e = check_end(rd, what); !e)
        return e.error();
    return r;
}

std::string encode(const incoming_record& r) {
    writer w;
    w.u8(incoming_tag);
    w.u8(incoming_record_version);
    w.string(r.reference);
    w.u8(static_cast<std::uint8_t>(r.machine.state));
    w.boolean(r.machine.confirm_done);
    w.string(r.senders_reference);
    w.varint(r.listed_size);
    put_time(w, r.sent);
    put_time(w, r.listed);
    put_time(w, r.updated);
    w.varint(r.attempt);
    w.varint(r.history_size);
    put_file(w, r.package);
    put_file(w, r.payload);
    w.u8(static_cast<std::uint8_t>(r.kind));
    w.string(r.message_id);
    w.string(r.conversation_id);
    w.string(r.sender);
    w.string(r.receiver);
    w.string(r.process);
    w.string(r.document_type);
    w.string(r.message_channel);
    w.string(r.sbd);
    w.boolean(r.deadline.has_value());
    if (r.deadline)
        put_time(w, *r.deadline);
    w.string(r.related_message_id);
    w.string(r.receipt_value);
    w.string(r.queue_key);
    w.boolean(r.lock_until.has_value());
    if (r.lock_until)
        put_time(w, *r.lock_until);
    w.string(r.last_error);
    w.string(r.listed_sender);
    w.string(r.listed_recipient);
    w.string(r.signer);
    w.string(r.rejection);
    return w.take();
}

result<incoming_record> decode_incoming(std::string_view bytes, std::string_view what) {
    reader rd(bytes);
    auto version = check_header(rd, incoming_tag, what, incoming_record_version);
    if (!version)
        return version.error();
    incoming_record r;
    bool bad = false;
    r.reference = rd.string();
    r.machine.state =
        get_enum<sm::incoming_state>(rd, static_cast<std::uint8_t>(sm::incoming_state::expired), bad);
    r.machine.confirm_done = rd.boolean();
    r.senders_reference = rd.string();
    r.listed_size = rd.varint();
    r.sent = get_time(rd);
    r.listed = get_time(rd);
    r.updated = get_time(rd);
    r.attempt = rd.u32();
    r.history_size = rd.u32();
    r.package = get_file(rd);
    r.payload = get_file(rd);
    r.kind = get_enum<package_kind>(rd, 3, bad);
    r.message_id = rd.string();
    r.conversation_id = rd.string();
    r.sender = rd.string();
    r.receiver = rd.string();
    r.process = rd.string();
    r.document_type = rd.string();
    r.message_channel = rd.string();
    r.sbd = rd.string();
    if (rd.boolean())
        r.deadline = get_time(rd);
    r.related_message_id = rd.string();
    r.receipt_value = rd.string();
    r.queue_key = rd.string();
    if (rd.boolean())
        r.lock_until = get_time(rd);
    r.last_error = rd.string();
    if (*version >= 2) {
        r.listed_sender = rd.string();
        r.listed_recipient = rd.string();
        r.signer = rd.string();
        r.rejection = rd.string();
    }
    if (bad)
        return make_error(errc::corrupt_record,
                          std::string(what) + " holds a value this kurer does not know");
    if (auto e = check_end(rd, what); !e)
        return e.error();
    return r;
}

std::string encode(const history_entry& e) {
    writer w;
    w.u8(history_tag);
    w.u8(record_version);
    w.varint(e.seq);
    put_time(w, e.time);
    w.u8(e.from);
    w.u8(e.to);
    w.string(e.event);
    w.varint(e.attempt);
    w.string(e.detail);
    w.varint(e.statuses.size());
    for (const auto& s : e.statuses) {
        w.u8(static_cast<std::uint8_t>(s.status));
        w.boolean(s.implied);
    }
    return w.take();
}

result<history_entry> decode_history(std::string_view bytes, std::string_view what) {
    reader rd(bytes);
    if (auto h = check_header(rd, history_tag, what); !h)
        return h.error();
    history_entry e;
    bool bad = false;
    e.seq = rd.u32();
    e.time = get_time(rd);
    e.from = rd.u8();
    e.to = rd.u8();
    e.event = rd.string();
    e.attempt = rd.u32();
    e.detail = rd.string();
    const auto n = rd.varint();
    if (n > 8)
        bad = true;
    for (std::uint64_t i = 0; i < n && rd.ok() && !bad; ++i) {
        sm::status_record s;
        s.status = get_enum<sm::eformidling_status>(rd, 8, bad);
        s.implied = rd.boolean();
        e.statuses.push_back(s);
    }
    if (bad)
        return make_error(errc::corrupt_record,
                          std::string(what) + " holds a value this kurer does not know");
    if (auto c = check_end(rd, what); !c)
        return c.error();
    return e;
}

} // namespace kurer::storage

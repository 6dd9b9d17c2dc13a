// The outgoing direction for the driver (driver.hpp): an end system's message, or a status
// message this engine sends back. Its actions: token, lookup, pack, initiate, upload.
#include "driver.hpp"

#include <kurer/core/files.hpp>
#include <kurer/storage/kill_point.hpp>

namespace kurer::engine {
namespace {

namespace ev = sm::out_event;

std::string kill_point_name(std::string_view when, sm::action a) {
    return std::string(when) + "." + std::string(sm::to_string(a));
}

outgoing_message message_of(const storage::outgoing_record& r) {
    return {r.message_id,    r.conversation_id, r.sender,   r.receiver,         r.process,
            r.document_type, r.message_channel, r.deadline, r.business_message, r.senders_reference};
}

} // namespace

sm::control outgoing_traits::control_of(const record& r) {
    sm::control c;
    c.deadline = r.deadline;
    c.attempt = r.attempt;
    return c;
}

void outgoing_traits::set_control(record& r, const sm::control& c) {
    if (c.deadline)
        r.deadline = *c.deadline;
    r.attempt = c.attempt;
}

sm::step<sm::outgoing_event> outgoing_traits::next_step(const runtime& rt, const record& r,
                                                        const sm::control& c, time_point now) {
    return sm::next_step(r.machine, c, now, rt.paused);
}

result<std::optional<storage::outgoing_record>> outgoing_traits::load(const storage::store& s,
                                                                      const std::string& id) {
    return s.find_outgoing(id);
}

void outgoing_traits::finished(runtime& rt, const record& r) {
    // A Failed message the broker never had may be retried: keep its documents for that.
    const bool may_retry = r.machine.state == sm::outgoing_state::failed &&
                           !r.machine.recorded.contains(sm::eformidling_status::sendt);
    std::error_code ignored;
    if (!r.package.path.empty())
        std::filesystem::remove(rt.store->absolute(r.package), ignored);
    if (!may_retry)
        rt.store->remove_outgoing_files(r);
}

asio::awaitable<void> outgoing_traits::perform(outgoing_actor& self, sm::action a) {
    runtime& rt = self.rt;
    const auto& record = self.record;
    // Every argument of a co_await expression below is a named variable: GCC 12 mishandles
    // temporaries with destructors (capturing lambdas above all) inside co_await expressions.
    storage::kill_point(kill_point_name("before", a));
    sm::outgoing_event event;
    std::string detail;
    outgoing_mutation mutate;

    switch (a) {
    case sm::action::authorize: {
        auto op = rt.ports.token->get_token(rt.config.scopes);
        auto token = co_await guarded(&rt, std::move(op), "get_token");
        self.release_slot();
        if (!token) {
            co_await self.fail(a, token.error());
            co_return;
        }
        event = ev::token_obtained{};
        detail = "token valid until " + format_time(token->expires_at);
        break;
    }
    case sm::action::resolve: {
        auto op = rt.ports.resolver->resolve(record.receiver, record.process, record.document_type);
        auto found = co_await guarded(&rt, std::move(op), "resolve");
        self.release_slot();
        if (!found) {
            co_await self.fail(a, found.error());
            co_return;
        }
        event = ev::record_resolved{};
        detail = "service " + found->service_identifier;
        mutate = [service = found->service_identifier,
                  certificate = found->receiver_certificate_pem](storage::outgoing_record& r) {
            r.service_identifier = service;
            r.receiver_certificate = certificate;
        };
        break;
    }
    case sm::action::pack: {
        const auto relative = rt.store->outgoing_package_file(record.id);
        const auto path = rt.store->data_dir() / relative;
        std::vector<document> documents;
        for (const auto& d : record.documents)
            documents.push_back({d.name, d.mime_type, d.primary, rt.store->absolute(d.file)});
        auto job = [packer = rt.ports.packer, path, documents = std::move(documents),
                    message = message_of(record), certificate = record.receiver_certificate,
                    kind = record.machine.kind, status = record.status_value,
                    sbd = record.original_sbd]() -> result<package_info> {
            try {
                auto info = kind == sm::outgoing_kind::status
                                ? packer->pack_status(sbd, status, path)
                                : packer->pack(message, documents, certificate, path);
                if (!info)
                    return info;
                // On disk before Packed is recorded: recovery never finds Packed without its file.
                if (auto synced = sync_file_and_directory(path); !synced)
                    return synced.error();
                return info;
            } catch (const std::exception& e) {
                return make_error(make_error_code(boost::system::errc::io_error),
                                  std::string("the packer threw: ") + e.what(), retry::yes);
            }
        };
        auto packed = co_await rt.offload(std::move(job));
        self.release_slot();
        if (!packed) {
            co_await self.fail(a, packed.error());
            co_return;
        }
        event = ev::packed{};
        detail = std::to_string(packed->size) + " bytes";
        mutate = [relative, info = *packed](storage::outgoing_record& r) {
            r.package = {relative, info.size, info.sha256};
            r.receiver_certificate.clear(); // needed no more; keeps live records small
        };
        break;
    }
    case sm::action::initiate_upload: {
        transfer_request request{record.sender,
                                 record.receiver,
                                 record.senders_reference,
                                 "sbd.zip",
                                 record.package.size,
                                 record.package.sha256,
                                 rt.store->data_dir() / record.package.path};
        auto op = rt.ports.broker->initiate(std::move(request));
        auto reference = co_await guarded(&rt, std::move(op), "initiate");
        self.release_slot();
        if (!reference) {
            co_await self.fail(a, reference.error());
            co_return;
        }
        event = ev::upload_initiated{};
        detail = "broker reference " + *reference;
        mutate = [ref = *reference](storage::outgoing_record& r) {
            r.broker_reference = ref;
        };
        break;
    }
    case sm::action::upload: {
        auto op = rt.ports.broker->upload(record.broker_reference, rt.store->absolute(record.package));
        auto uploaded = co_await guarded(&rt, std::move(op), "upload");
        self.release_slot();
        if (!uploaded) {
            co_await self.fail(a, uploaded.error());
            co_return;
        }
        event = ev::uploaded{};
        if (*uploaded == upload_result::already_uploaded)
            detail = "the broker already had the file: a repeat after a crash";
        break;
    }
    default:
        self.release_slot();
        rt.log(log_level::error, "an outgoing message asked for an action it cannot have",
               {{"id", self.id}, {"action", sm::to_string(a)}});
        self.not_before = now_ms() + rt.backoff(1);
        co_return;
    }

    storage::kill_point(kill_point_name("after", a));
    // The result of an action that could not be recorded is simply produced again later.
    auto applied = co_await self.apply(std::move(event), std::move(detail), std::move(mutate));
    self.record_outcome(applied);
}

template struct actor<outgoing_traits>;

} // namespace kurer::engine

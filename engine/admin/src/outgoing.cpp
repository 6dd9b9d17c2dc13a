// /api/messages/out: create (POST), upload (PUT), send (POST /{id}), create-and-send (multipart),
// list, show and delete outgoing messages, as the reference's NextMoveMessageOutController.
#include "internal.hpp"
#include "multipart.hpp"

#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/core/xml.hpp>
#include <kurer/dpo/errors.hpp>
#include <kurer/dpo/mime.hpp>
#include <kurer/dpo/sbd.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <fstream>

namespace kurer::engine::admin {
namespace {

namespace fs = std::filesystem;
constexpr std::string_view exceptions = "no.difi.meldingsutveksling.exceptions.";
constexpr std::string_view arkivmelding_file = "arkivmelding.xml";
constexpr std::string_view arkivmelding_ns = "http://www.arkivverket.no/standarder/noark5/arkivmelding";

api_error bad(std::string exception, std::string message, unsigned status = 400) {
    return {status, std::string(exceptions) + exception, std::move(message)};
}
api_error invalid(std::string message) {
    return {400, "javax.validation.ConstraintViolationException", std::move(message)};
}
api_error not_found(const std::string& id) {
    return bad("MessageNotFoundException", "no outgoing message " + id, 404);
}

bool is_json(std::string_view content_type) {
    const auto semi = content_type.find(';');
    auto base = content_type.substr(0, semi);
    while (!base.empty() && base.back() == ' ')
        base.remove_suffix(1);
    return base == "application/json" || base.ends_with("+json");
}

bool unsent(sm::outgoing_state s) {
    return s == sm::outgoing_state::created || s == sm::outgoing_state::authorized ||
           s == sm::outgoing_state::resolved || s == sm::outgoing_state::packed ||
           s == sm::outgoing_state::upload_initiated;
}

storage::time_point to_ms(const dpo::date_time& t) {
    return std::chrono::floor<std::chrono::milliseconds>(t.utc);
}

// ---------------------------------------------------------------------------------------------
// completing an SBD as the reference's NextMoveOutMessageFactory does

struct completed {
    dpo::sbd document;
    std::string digest; // of the request as sent (member order and whitespace do not matter)
    bool conversation_given = false;
    bool deadline_given = false;
};

std::variant<completed, api_error> complete(const state& st, std::string_view body) {
    dpo::limits lim;
    lim.max_sbd_bytes = 0; // the body limit applies already
    auto parsed = dpo::parse_sbd(body, lim);
    boost::system::error_code ec;
    auto raw = json::parse(body, ec);
    if (!parsed && parsed.error().code == dpo::errc::sbd_missing_field && !ec && raw.is_object() &&
        parsed.error().message.starts_with("standardBusinessDocumentHeader.documentIdentification."
                                           "instanceIdentifier")) {
        // The reference generates a missing messageId; dpo's reader insists on one.
        auto filled = raw;
        filled.at("standardBusinessDocumentHeader")
            .at("documentIdentification")
            .as_object()["instanceIdentifier"] = random_uuid();
        parsed = dpo::parse_sbd(json::serialize(filled), lim);
    }
    if (!parsed)
        return invalid(parsed.error().message);
    completed out;
    out.digest = sha256_hex(canonical_json(raw));
    auto& d = parsed->header;
    const auto now = now_ms();
    const auto now_oslo = dpo::date_time::in_oslo(
        dpo::instant{std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch())});

    if (d.header_version.empty())
        d.header_version = "1.0";
    if (d.sender.empty())
        d.sender.push_back({iso6523(st.ctx.organization)});
    for (auto* partners : {&d.sender, &d.receiver})
        for (auto& p : *partners) {
            if (auto n = dpo::normalize_organization(p.identifier))
                p.identifier = *n;
            if (p.authority.empty())
                p.authority = std::string(dpo::iso6523_authority);
        }
    if (!d.sender.empty() && d.sender.front().identifier != iso6523(st.ctx.organization))
        return invalid("standardBusinessDocumentHeader.sender[0].identifier.value: kurer sends as " +
                       iso6523(st.ctx.organization) + ", not " + d.sender.front().identifier +
                       " (sending on behalf of another organisation is not supported)");
    if (!d.document.creation_date_and_time)
        d.document.creation_date_and_time = now_oslo;
    // Whether the client chose the conversationId (a repeat then must carry the same one); a
    // generated one differs on every repeat and is not compared.
    if (const auto* given = parsed->find_scope("ConversationId"))
        out.conversation_given = given->instance_identifier && !given->instance_identifier->empty();
    for (auto& s : d.scopes)
        if (!s.instance_identifier || s.instance_identifier->empty())
            s.instance_identifier = random_uuid();
    auto* conversation = const_cast<dpo::scope*>(parsed->find_scope("ConversationId"));
    if (conversation == nullptr) {
        dpo::scope s;
        s.type = "ConversationId";
        s.instance_identifier = random_uuid();
        d.scopes.insert(d.scopes.begin(), std::move(s));
        conversation = &d.scopes.front();
    }
    if (!conversation->identifier || conversation->identifier->empty())
        conversation->identifier = st.ctx.default_process;
    if (conversation->scope_information.empty())
        conversation->scope_information.emplace_back();
    auto& deadline = conversation->scope_information.front().expected_response_date_time;
    out.deadline_given = deadline.has_value();
    if (!deadline)
        deadline = dpo::date_time::in_oslo(
            now_oslo.utc + std::chrono::duration_cast<std::chrono::nanoseconds>(st.ctx.default_ttl));
    if (!st.ctx.message_channel.empty()) {
        auto* channel = const_cast<dpo::scope*>(parsed->find_scope("MessageChannel"));
        if (channel == nullptr) {
            dpo::scope s;
            s.type = "MessageChannel";
            s.instance_identifier = random_uuid();
            s.identifier = st.ctx.message_channel;
            d.scopes.push_back(std::move(s));
        } else if (!channel->identifier || channel->identifier->empty()) {
            channel->identifier = st.ctx.message_channel;
        }
    }
    if (auto valid = dpo::validate(*parsed); !valid)
        return invalid(valid.error().message);
    const auto type = parsed->type();
    if (type != "arkivmelding" && type != "arkivmelding_kvittering" && type != "avtalt")
        return bad("UnknownNextMoveDocumentTypeException",
                   "standardBusinessDocumentHeader.documentIdentification.type: kurer sends arkivmelding, "
                   "arkivmelding_kvittering and avtalt; '" +
                       type + "' messages are made by the engine itself");
    if (to_ms(*parsed->expected_response()) <= now)
        return bad("TimeToLiveException",
                   "expectedResponseDateTime " + dpo::format_date_time(*parsed->expected_response()) +
                       " has passed; a message must be created with a deadline in the future");
    out.document = std::move(*parsed);
    return out;
}

// Whether a message the runner already has is the one this request describes.
std::optional<std::string> differs_from(const completed& c, const storage::outgoing_record& r) {
    const auto& d = c.document;
    if (r.receiver != org_number(d.receiver_identifier().value_or("")).value_or(""))
        return "receiver";
    if (r.process != d.process().value_or(""))
        return "process";
    if (r.document_type != d.header.document.standard)
        return "documentIdentification.standard";
    if (c.conversation_given && r.conversation_id != d.conversation_id().value_or(""))
        return "conversationId";
    if (c.deadline_given && r.deadline != to_ms(*d.expected_response()))
        return "expectedResponseDateTime";
    boost::system::error_code ec;
    const auto stored = json::parse(r.business_message, ec);
    if (ec || canonical_json(stored) != canonical_json(d.business_message))
        return d.type();
    return std::nullopt;
}

api_error conflict(const std::string& id, std::string_view what) {
    return bad("MessageAlreadyExistsException",
               "message " + id + " exists with different content (" + std::string(what) +
                   " differs); use a new messageId for a new message",
               409);
}

// ---------------------------------------------------------------------------------------------
// the receiver check (the reference asks the Service Registry on create)

asio::awaitable<std::optional<api_error>> check_receiver(std::shared_ptr<state> st, dpo::sbd d) {
    if (!st->ctx.check_receiver || !st->ctx.capabilities)
        co_return std::nullopt;
    const auto receiver = *org_number(d.receiver_identifier().value_or(""));
    const auto process = d.process().value_or("");
    auto found = co_await lookup_capabilities(st, receiver, process);
    if (!found || !*found) {
        st->log(log_level::warning, "the receiver could not be checked; the message is created regardless",
                {{"receiver", receiver},
                 {"error", !found ? std::string("timed out") : (*found).error().message}});
        co_return std::nullopt;
    }
    bool process_ok = false;
    for (const auto& c : **found) {
        if (c.service_identifier != "DPO" || c.process != process)
            continue;
        process_ok = true;
        if (std::find(c.document_types.begin(), c.document_types.end(), d.header.document.standard) !=
            c.document_types.end())
            co_return std::nullopt;
    }
    if (!process_ok)
        co_return bad("ReceiverDoesNotAcceptProcessException",
                      "receiver " + receiver + " does not receive DPO messages for process " + process);
    co_return bad("ReceiverDoNotAcceptDocumentStandard",
                  "receiver " + receiver + " does not accept document type " + d.header.document.standard +
                      " for process " + process);
}

// ---------------------------------------------------------------------------------------------
// sending a draft: the checks the reference makes (NextMoveValidator), then the runner

std::optional<api_error> check_arkivmelding(const fs::path& file, const draft& d) {
    auto text = read_small_file(file, 16 * 1024 * 1024);
    if (!text)
        return bad("UnmarshalArkivmeldingException",
                   "arkivmelding.xml cannot be read: " + text.error().message);
    auto doc = xml::parse(*text);
    if (!doc)
        return bad("UnmarshalArkivmeldingException",
                   "arkivmelding.xml is not well-formed XML: " + doc.error().message);
    if (doc->local != "arkivmelding" || doc->ns != arkivmelding_ns)
        return bad("UnmarshalArkivmeldingException", "arkivmelding.xml: the root element is not {" +
                                                         std::string(arkivmelding_ns) + "}arkivmelding");
    std::vector<std::string> missing;
    std::vector<const xml::element*> todo{&*doc};
    while (!todo.empty()) {
        const auto* e = todo.back();
        todo.pop_back();
        if (e->local == "referanseDokumentfil") {
            std::string name = e->text;
            name.erase(0, name.find_first_not_of(" \t\r\n"));
            name.erase(name.find_last_not_of(" \t\r\n") + 1);
            if (d.file(name) == nullptr && std::find(missing.begin(), missing.end(), name) == missing.end())
                missing.push_back(name);
        }
        for (const auto& c : e->children)
            todo.push_back(&c);
    }
    if (!missing.empty()) {
        std::string names;
        for (const auto& m : missing)
            names += (names.empty() ? "" : ", ") + m;
        return bad("MissingArkivmeldingFileException",
                   "arkivmelding.xml refers to files that were not uploaded: " + names);
    }
    return std::nullopt;
}

std::optional<api_error> check_before_send(const state& st, const draft& d, const dpo::sbd& sbd) {
    if (to_ms(*sbd.expected_response()) <= now_ms())
        return bad("TimeToLiveException", "expectedResponseDateTime " +
                                              dpo::format_date_time(*sbd.expected_response()) +
                                              " has passed; send it again as a new message");
    if (sbd.type() != "arkivmelding_kvittering" && d.files.empty())
        return bad("MissingFileException",
                   "message " + d.message_id + " has no files: upload at least one first");
    if (sbd.type() == "arkivmelding") {
        const auto* f = d.file(arkivmelding_file);
        if (f == nullptr)
            return bad("MissingArkivmeldingException",
                       "an arkivmelding message must have a file named arkivmelding.xml; upload it first");
        if (auto problem = check_arkivmelding(st.drafts.file_path(d, *f), d))
            return problem;
    }
    if (auto primary = sbd.business_string("hoveddokument"); primary && d.file(*primary) == nullptr)
        return bad("MissingPrimaryDocumentException",
                   sbd.type() + ".hoveddokument names '" + *primary + "', which was not uploaded");
    return std::nullopt;
}

submit_request to_submit(const state& st, const draft& d, const dpo::sbd& sbd) {
    submit_request r;
    r.message_id = d.message_id;
    r.conversation_id = sbd.conversation_id().value_or("");
    r.receiver = org_number(sbd.receiver_identifier().value_or("")).value_or("");
    r.process = sbd.process().value_or("");
    r.document_type = sbd.header.document.standard;
    r.deadline = to_ms(*sbd.expected_response());
    r.business_message = json::serialize(sbd.business_message);
    const auto primary = sbd.business_string("hoveddokument");
    for (const auto& f : d.files)
        r.documents.push_back(
            {f.name, f.mime_type, primary && *primary == f.name, {}, st.drafts.file_path(d, f)});
    return r;
}

// Validates, hands the draft to the runner and removes it. The caller holds the message's lock.
asio::awaitable<std::optional<api_error>> send_draft(std::shared_ptr<state> st, draft d) {
    auto check_job = [st, d]() -> std::variant<submit_request, api_error> {
        auto sbd = dpo::parse_sbd(d.sbd);
        if (!sbd)
            return api_error{500, "kurer.InternalErrorException",
                             "the draft's SBD is damaged: " + sbd.error().message};
        if (auto problem = check_before_send(*st, d, *sbd))
            return *problem;
        return to_submit(*st, d, *sbd);
    };
    auto checked = co_await st->offload(std::move(check_job));
    if (auto* e = std::get_if<api_error>(&checked))
        co_return *e;
    auto submit = st->ctx.engine.submit(std::move(std::get<submit_request>(checked)));
    auto submitted = co_await std::move(submit);
    if (!submitted)
        co_return to_api_error(submitted.error());
    auto remove_job = [st, id = d.message_id] {
        return st->drafts.remove(id);
    };
    if (auto removed = co_await st->offload(std::move(remove_job)); !removed)
        st->log(log_level::warning, "a sent draft could not be removed; it is removed at the next start",
                {{"messageId", d.message_id}, {"error", removed.error().message}});
    co_return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// handlers

asio::awaitable<answer> create(std::shared_ptr<state> st, exchange ex) {
    if (const auto ct = ex.header("content-type"); !is_json(ct))
        co_return answer::fail(415, "org.springframework.web.HttpMediaTypeNotSupportedException",
                               "Content-Type '" + ct +
                                   "' is not supported: send the SBD as application/json");
    auto body = co_await ex.read_body(st->config.max_json_bytes);
    if (!body)
        co_return answer::fail(to_api_error(body.error()));
    auto filled = complete(*st, *body);
    if (auto* e = std::get_if<api_error>(&filled))
        co_return answer::fail(*e);
    auto c = std::move(std::get<completed>(filled));
    const auto id = c.document.message_id();

    auto guard = co_await st->locks.lock(id);
    auto lookup_job = [st, id]() -> result<std::pair<std::optional<draft>, std::optional<outgoing_view>>> {
        auto d = st->drafts.find(id);
        if (!d)
            return d.error();
        auto o = st->ctx.engine.find_outgoing(id);
        if (!o)
            return o.error();
        return std::pair{std::move(*d), std::move(*o)};
    };
    auto existing = co_await st->offload(std::move(lookup_job));
    if (!existing)
        co_return answer::fail(to_api_error(existing.error()));
    if (const auto& d = existing->first) {
        if (d->request_digest != c.digest)
            co_return answer::fail(bad(
                "MessageAlreadyExistsException",
                "message " + id + " was created before with different content; use a new messageId", 409));
        co_return answer::json(d->sbd);
    }
    if (const auto& o = existing->second) {
        if (auto what = differs_from(c, o->record))
            co_return answer::fail(conflict(id, *what));
        co_return answer::json(dpo::to_json(*dpo::parse_sbd(json::serialize(sbd_of(o->record)))));
    }
    auto incoming = co_await st->ctx.engine.async_find_incoming_by_message_id(id);
    if (incoming && *incoming)
        co_return answer::fail(bad("MessageAlreadyExistsException",
                                   "messageId " + id + " belongs to a message this organisation received",
                                   409));
    if (auto refused = co_await check_receiver(st, c.document))
        co_return answer::fail(*refused);

    draft d;
    d.message_id = id;
    d.sbd = dpo::to_json(c.document);
    d.request_digest = c.digest;
    d.created = now_ms();
    auto save_job = [st, d] {
        return st->drafts.save(d);
    };
    if (auto saved = co_await st->offload(std::move(save_job)); !saved)
        co_return answer::fail(to_api_error(saved.error()));
    co_return answer::json(d.sbd);
}

asio::awaitable<answer> upload(std::shared_ptr<state> st, exchange ex) {
    const auto id = ex.param("messageId");
    const auto disposition_header = ex.header("content-disposition");
    if (disposition_header.empty())
        co_return answer::fail(bad("MissingHttpHeaderException",
                                   "the Content-Disposition header is required: attachment; name=<title>; "
                                   "filename=<file name>"));
    auto disposition = parse_content_disposition(disposition_header);
    if (!disposition)
        co_return answer::fail(invalid(disposition.error().message));
    if (!disposition->filename)
        co_return answer::fail(bad("MissingFilenameException", "Content-Disposition names no filename"));
    const auto name = *disposition->filename;
    if (auto why = bad_document_name(name))
        co_return answer::fail(invalid("Content-Disposition filename: " + *why));
    const auto title = ex.query("title").value_or(disposition->name.value_or(""));
    const auto mime = dpo::document_mime_type(name, ex.header("content-type"));

    auto find_job = [st, id] {
        return st->drafts.find(id);
    };
    auto found = co_await st->offload(std::move(find_job));
    if (!found)
        co_return answer::fail(to_api_error(found.error()));
    if (!*found) {
        auto sent = co_await st->ctx.engine.async_find_outgoing(id);
        if (sent && *sent)
            co_return answer::fail(bad("MessageAlreadyExistsException",
                                       "message " + id + " was already sent; files cannot be added to it",
                                       409));
        co_return answer::fail(not_found(id));
    }
    const auto& d = **found;
    if (d.files.size() >= st->config.max_files && d.file(name) == nullptr)
        co_return answer::fail(invalid("message " + id + " already has " + std::to_string(d.files.size()) +
                                       " files, the most one message may have"));
    std::uint64_t limit = st->config.max_file_bytes;
    if (st->config.max_message_bytes != 0) {
        const auto used = d.total_bytes();
        const auto left = used >= st->config.max_message_bytes ? 0 : st->config.max_message_bytes - used;
        limit = limit == 0 ? left : std::min(limit, left);
        if (left == 0)
            co_return answer::fail(413, "org.springframework.web.multipart.MaxUploadSizeExceededException",
                                   "message " + id + " already holds " + std::to_string(used) +
                                       " bytes of files, the most one message may have");
    }
    const auto temp = st->drafts.upload_path(id);
    struct remove_temp {
        fs::path p;
        ~remove_temp() {
            std::error_code ignored;
            fs::remove(p, ignored);
        }
    } cleanup{temp};
    auto size = co_await ex.read_body_to_file(temp, limit);
    if (!size) {
        if (size.error().code == http::errc::message_too_large)
            co_return answer::fail(413, "org.springframework.web.multipart.MaxUploadSizeExceededException",
                                   name + " is larger than the " + std::to_string(limit) +
                                       " bytes this message may still take");
        co_return answer::fail(to_api_error(size.error()));
    }

    auto guard = co_await st->locks.lock(id);
    auto adopt_job = [st, id, temp, name, mime, title, size = *size]() -> std::optional<api_error> {
        auto current = st->drafts.find(id);
        if (!current)
            return to_api_error(current.error());
        if (!*current)
            return bad("MessageNotFoundException", "message " + id + " was sent or deleted during the upload",
                       409);
        auto& d = **current;
        if (const auto* existing = d.file(name)) {
            // A repeated upload (a client retrying after a timeout) is harmless; new content is not.
            auto a = sha256_file(st->drafts.file_path(d, *existing));
            auto b = sha256_file(temp);
            if (!a || !b)
                return to_api_error(!a ? a.error() : b.error());
            if (*a != *b)
                return bad("DuplicateFilenameException",
                           "message " + id + " already has a file named " + name + " with different content",
                           409);
            return std::nullopt;
        }
        if (st->config.max_message_bytes != 0 && d.total_bytes() + size > st->config.max_message_bytes)
            return api_error{413, "org.springframework.web.multipart.MaxUploadSizeExceededException",
                             "the files of message " + id + " would exceed " +
                                 std::to_string(st->config.max_message_bytes) + " bytes"};
        if (d.files.size() >= st->config.max_files)
            return invalid("message " + id + " already has the most files one message may have");
        if (auto adopted = st->drafts.adopt(d, temp, {name, mime, title, {}, size}); !adopted)
            return to_api_error(adopted.error());
        return std::nullopt;
    };
    if (auto problem = co_await st->offload(std::move(adopt_job)))
        co_return answer::fail(*problem);
    co_return answer::empty(200);
}

asio::awaitable<answer> send(std::shared_ptr<state> st, exchange ex) {
    const auto id = ex.param("messageId");
    auto guard = co_await st->locks.lock(id);
    auto find_job = [st, id] {
        return st->drafts.find(id);
    };
    auto found = co_await st->offload(std::move(find_job));
    if (!found)
        co_return answer::fail(to_api_error(found.error()));
    if (!*found) {
        auto sent = co_await st->ctx.engine.async_find_outgoing(id);
        if (sent && *sent)
            co_return answer::empty(200); // sent before: a client repeating the request
        co_return answer::fail(not_found(id));
    }
    if (auto problem = co_await send_draft(st, std::move(**found)))
        co_return answer::fail(*problem);
    co_return answer::empty(200);
}

// multipart/form-data: part "sbd" (the SBD JSON) and one part per file (its filename is the
// document's name, its Content-Type the MIME type). Created and sent in one request: a failure
// anywhere leaves nothing behind.
asio::awaitable<answer> create_and_send(std::shared_ptr<state> st, exchange ex) {
    const auto boundary = multipart_boundary(ex.header("content-type"));
    if (!boundary)
        co_return answer::fail(415, "org.springframework.web.HttpMediaTypeNotSupportedException",
                               "expected Content-Type multipart/form-data with a boundary");
    auto staging_job = [st] {
        return st->drafts.make_staging();
    };
    auto staging = co_await st->offload(std::move(staging_job));
    if (!staging)
        co_return answer::fail(to_api_error(staging.error()));
    struct remove_staging {
        fs::path p;
        ~remove_staging() {
            std::error_code ignored;
            fs::remove_all(p, ignored);
        }
    } cleanup{*staging};

    struct staged {
        draft_file meta;
        fs::path path;
    };
    std::vector<staged> files;
    std::string sbd_text;
    bool sbd_seen = false;
    bool in_sbd = false;
    std::ofstream out;
    std::optional<api_error> refused;
    const auto stop = [&](api_error e) -> result<void> {
        refused = std::move(e);
        return make_error(make_error_code(boost::system::errc::operation_canceled), "refused");
    };
    multipart_parser::handlers h;
    h.begin = [&](const multipart_parser::part_head& head) -> result<void> {
        const auto& disp = head.disposition;
        if (disp.name == "sbd" && !sbd_seen) {
            in_sbd = sbd_seen = true;
            return {};
        }
        in_sbd = false;
        if (!disp.filename)
            return stop(
                bad("MissingFilenameException",
                    "part '" + disp.name.value_or("") + "' has no filename; every part but 'sbd' is a file"));
        if (auto why = bad_document_name(*disp.filename))
            return stop(invalid("part '" + disp.name.value_or("") + "': " + *why));
        for (const auto& f : files)
            if (f.meta.name == *disp.filename)
                return stop(bad("DuplicateFilenameException", "two parts are named " + *disp.filename));
        if (files.size() >= st->config.max_files)
            return stop(invalid("more than " + std::to_string(st->config.max_files) + " files"));
        staged s;
        s.meta.name = *disp.filename;
        s.meta.title = disp.name.value_or("");
        s.meta.mime_type = dpo::document_mime_type(s.meta.name, head.content_type);
        s.path = *staging / ("p" + std::to_string(files.size()));
        out.close();
        out.clear();
        out.open(s.path, std::ios::binary | std::ios::trunc);
        std::error_code mode_ec;
        fs::permissions(s.path, fs::perms::owner_read | fs::perms::owner_write, fs::perm_options::replace,
                        mode_ec); // a document: the owner's only, whatever the process umask
        if (!out || mode_ec)
            return make_error(make_error_code(boost::system::errc::io_error),
                              "cannot create " + s.path.string(), retry::yes);
        files.push_back(std::move(s));
        return {};
    };
    std::uint64_t total = 0;
    h.data = [&](std::string_view bytes) -> result<void> {
        if (in_sbd) {
            if (sbd_text.size() + bytes.size() > st->config.max_json_bytes)
                return stop(
                    {413, "org.springframework.web.multipart.MaxUploadSizeExceededException",
                     "the sbd part is larger than " + std::to_string(st->config.max_json_bytes) + " bytes"});
            sbd_text.append(bytes);
            return {};
        }
        auto& f = files.back();
        f.meta.size += bytes.size();
        total += bytes.size();
        if (st->config.max_file_bytes != 0 && f.meta.size > st->config.max_file_bytes)
            return stop(
                {413, "org.springframework.web.multipart.MaxUploadSizeExceededException",
                 f.meta.name + " is larger than " + std::to_string(st->config.max_file_bytes) + " bytes"});
        if (st->config.max_message_bytes != 0 && total > st->config.max_message_bytes)
            return stop({413, "org.springframework.web.multipart.MaxUploadSizeExceededException",
                         "the files are larger than " + std::to_string(st->config.max_message_bytes) +
                             " bytes together"});
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        if (!out)
            return make_error(make_error_code(boost::system::errc::io_error),
                              "cannot write " + f.path.string(), retry::yes);
        return {};
    };
    h.end = [&]() -> result<void> {
        if (!in_sbd) {
            out.close();
            if (!out)
                return make_error(make_error_code(boost::system::errc::io_error),
                                  "cannot write " + files.back().path.string(), retry::yes);
        }
        in_sbd = false;
        return {};
    };
    multipart_parser parser(*boundary, std::move(h));
    auto on_chunk = [&parser](std::string_view chunk) {
        return parser.feed(chunk);
    };
    auto read = co_await ex.read_body_chunks(std::move(on_chunk));
    if (refused)
        co_return answer::fail(*refused);
    if (!read)
        co_return answer::fail(to_api_error(read.error()));
    if (auto done = parser.finish(); !done)
        co_return answer::fail(invalid(done.error().message));
    if (!sbd_seen)
        co_return answer::fail(invalid("the multipart body has no part named 'sbd' (the SBD as JSON)"));

    auto filled = complete(*st, sbd_text);
    if (auto* e = std::get_if<api_error>(&filled))
        co_return answer::fail(*e);
    auto c = std::move(std::get<completed>(filled));
    const auto id = c.document.message_id();
    auto guard = co_await st->locks.lock(id);

    // Sent before (a client repeating the request): the same message, the same files.
    auto sent = co_await st->ctx.engine.async_find_outgoing(id);
    if (!sent)
        co_return answer::fail(to_api_error(sent.error()));
    if (*sent) {
        if (auto what = differs_from(c, (*sent)->record))
            co_return answer::fail(conflict(id, *what));
        auto compare_job = [files, record = (*sent)->record]() -> std::optional<std::string> {
            if (files.size() != record.documents.size())
                return "the number of files";
            for (std::size_t i = 0; i < files.size(); ++i) {
                const auto& doc = record.documents[i];
                auto hash = sha256_file(files[i].path);
                if (doc.name != files[i].meta.name || !hash || *hash != doc.file.sha256)
                    return "file " + files[i].meta.name;
            }
            return std::nullopt;
        };
        if (auto what = co_await st->offload(std::move(compare_job)))
            co_return answer::fail(conflict(id, *what));
        co_return answer::value(sbd_of((*sent)->record));
    }

    auto prepare_job = [st, id, c, files]() -> std::variant<std::pair<draft, bool>, api_error> {
        auto existing = st->drafts.find(id);
        if (!existing)
            return to_api_error(existing.error());
        draft d;
        bool created = false;
        if (*existing) {
            if ((*existing)->request_digest != c.digest)
                return bad("MessageAlreadyExistsException",
                           "message " + id + " was created before with different content", 409);
            d = std::move(**existing);
        } else {
            d.message_id = id;
            d.sbd = dpo::to_json(c.document);
            d.request_digest = c.digest;
            d.created = now_ms();
            if (auto saved = st->drafts.save(d); !saved)
                return to_api_error(saved.error());
            created = true;
        }
        for (const auto& f : files) {
            if (const auto* have = d.file(f.meta.name)) {
                auto a = sha256_file(st->drafts.file_path(d, *have));
                auto b = sha256_file(f.path);
                if (a && b && *a == *b)
                    continue;
                if (created)
                    (void)st->drafts.remove(id);
                return bad("DuplicateFilenameException",
                           "message " + id + " already has a file named " + f.meta.name +
                               " with different content",
                           409);
            }
            if (auto adopted = st->drafts.adopt(d, f.path, f.meta); !adopted) {
                if (created)
                    (void)st->drafts.remove(id);
                return to_api_error(adopted.error());
            }
        }
        return std::pair{std::move(d), created};
    };
    auto prepared = co_await st->offload(std::move(prepare_job));
    if (auto* e = std::get_if<api_error>(&prepared))
        co_return answer::fail(*e);
    auto [d, created] = std::move(std::get<std::pair<draft, bool>>(prepared));
    if (auto problem = co_await send_draft(st, d)) {
        if (created) {
            auto remove_job = [st, id] {
                return st->drafts.remove(id);
            };
            (void)co_await st->offload(std::move(remove_job));
        }
        co_return answer::fail(*problem);
    }
    co_return answer::json(d.sbd);
}

// What the list and show endpoints know about an outgoing message not yet handed to the broker.
struct listed_message {
    storage::time_point created;
    json::value sbd;
};

bool matches_filters(const exchange& ex, const json::value& sbd) {
    auto parsed = dpo::parse_sbd(json::serialize(sbd));
    if (!parsed)
        return false;
    const auto want = [&](std::string_view q, const std::optional<std::string>& have) {
        const auto v = ex.query(q);
        return !v ||
               (have && (*v == *have || org_number(*v).value_or("-") == org_number(*have).value_or("+")));
    };
    const auto service = ex.query("serviceIdentifier");
    return want("messageId", parsed->message_id()) && want("conversationId", parsed->conversation_id()) &&
           want("receiverIdentifier", parsed->receiver_identifier()) &&
           want("senderIdentifier", parsed->sender_identifier()) &&
           want("processIdentifier", parsed->process()) && want("process", parsed->process()) &&
           (!service || *service == "DPO");
}

asio::awaitable<answer> list(std::shared_ptr<state> st, exchange ex) {
    page_request p;
    if (auto e = read_page_request(ex, st->config.max_page_size, {"created"}, p))
        co_return answer::fail(*e);
    auto collect_job = [st]() -> result<std::vector<listed_message>> {
        std::vector<listed_message> out;
        auto drafts = st->drafts.list();
        if (!drafts)
            return drafts.error();
        for (const auto& d : *drafts) {
            boost::system::error_code ec;
            auto v = json::parse(d.sbd, ec);
            if (!ec)
                out.push_back({d.created, std::move(v)});
        }
        for (const auto s : sm::all_outgoing_states) {
            if (!unsent(s))
                continue;
            auto ids = st->ctx.engine.list_outgoing(s);
            if (!ids)
                return ids.error();
            for (const auto& id : *ids) {
                auto v = st->ctx.engine.find_outgoing(id);
                if (v && *v && (*v)->record.machine.kind == sm::outgoing_kind::message)
                    out.push_back({(*v)->record.created, sbd_of((*v)->record)});
            }
        }
        return out;
    };
    auto all = co_await st->offload(std::move(collect_job));
    if (!all)
        co_return answer::fail(to_api_error(all.error()));
    std::stable_sort(all->begin(), all->end(), [&](const auto& a, const auto& b) {
        return p.descending ? b.created < a.created : a.created < b.created;
    });
    json::array items;
    for (auto& m : *all)
        if (matches_filters(ex, m.sbd))
            items.push_back(std::move(m.sbd));
    co_return answer::value(make_page(std::move(items), p));
}

asio::awaitable<answer> show(std::shared_ptr<state> st, exchange ex) {
    const auto id = ex.param("messageId");
    auto find_job = [st, id] {
        return st->drafts.find(id);
    };
    auto found = co_await st->offload(std::move(find_job));
    if (!found)
        co_return answer::fail(to_api_error(found.error()));
    if (*found)
        co_return answer::json((*found)->sbd);
    auto o = co_await st->ctx.engine.async_find_outgoing(id);
    if (!o)
        co_return answer::fail(to_api_error(o.error()));
    if (!*o || (*o)->record.machine.kind != sm::outgoing_kind::message)
        co_return answer::fail(not_found(id));
    if (!unsent((*o)->record.machine.state))
        co_return answer::fail(bad("MessageNotFoundException",
                                   "message " + id + " is no longer waiting to be sent (it is " +
                                       std::string(sm::to_string((*o)->record.machine.state)) +
                                       "); follow it at /api/statuses/" + id,
                                   404));
    co_return answer::json(dpo::to_json(*dpo::parse_sbd(json::serialize(sbd_of((*o)->record)))));
}

asio::awaitable<answer> remove(std::shared_ptr<state> st, exchange ex) {
    const auto id = ex.param("messageId");
    auto guard = co_await st->locks.lock(id);
    auto job = [st, id]() -> result<bool> {
        auto d = st->drafts.find(id);
        if (!d)
            return d.error();
        if (!*d)
            return false;
        if (auto r = st->drafts.remove(id); !r)
            return r.error();
        return true;
    };
    auto removed = co_await st->offload(std::move(job));
    if (!removed)
        co_return answer::fail(to_api_error(removed.error()));
    if (*removed)
        co_return answer::empty(200);
    auto o = co_await st->ctx.engine.async_find_outgoing(id);
    if (o && *o)
        co_return answer::fail(bad("MessageAlreadyExistsException",
                                   "message " + id + " was handed to the engine (it is " +
                                       std::string(sm::to_string((*o)->record.machine.state)) +
                                       ") and can no longer be deleted",
                                   409));
    co_return answer::fail(not_found(id));
}

} // namespace

void add_outgoing_routes(route_table& routes, std::shared_ptr<state> st) {
    // The literal "multipart" before the {messageId} pattern it would otherwise match.
    routes.add(verb::post, "/api/messages/out/multipart",
               [st](exchange ex) { return create_and_send(st, ex); });
    routes.add(verb::post, "/api/messages/out", [st](exchange ex) { return create(st, ex); });
    routes.add(verb::get, "/api/messages/out", [st](exchange ex) { return list(st, ex); });
    routes.add(verb::put, "/api/messages/out/{messageId}", [st](exchange ex) { return upload(st, ex); });
    routes.add(verb::post, "/api/messages/out/{messageId}", [st](exchange ex) { return send(st, ex); });
    routes.add(verb::get, "/api/messages/out/{messageId}", [st](exchange ex) { return show(st, ex); });
    routes.add(verb::delete_, "/api/messages/out/{messageId}", [st](exchange ex) { return remove(st, ex); });
}

} // namespace kurer::engine::admin

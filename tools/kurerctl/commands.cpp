// kurerctl's commands: each turns into one or a few admin-socket requests.
#include "ctl.hpp"

#include <kurer/core/files.hpp>
#include <kurer/core/uuid.hpp>
#include <kurer/dpo/asic.hpp>
#include <kurer/http/error.hpp>
#include <kurer/http/percent.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <unistd.h>

namespace kurer::ctl {

namespace fs = std::filesystem;
namespace json = boost::json;
using boost::beast::http::verb;

// ---------------------------------------------------------------------------------------------
// output

void print_table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
    std::vector<std::size_t> width(header.size());
    for (std::size_t i = 0; i < header.size(); ++i)
        width[i] = header[i].size();
    for (const auto& r : rows)
        for (std::size_t i = 0; i < r.size() && i < width.size(); ++i)
            width[i] = std::max(width[i], r[i].size());
    const auto line = [&](const std::vector<std::string>& cells) {
        std::string out;
        for (std::size_t i = 0; i < cells.size(); ++i) {
            out += cells[i];
            if (i + 1 < cells.size())
                out += std::string(width[i] - cells[i].size() + 2, ' ');
        }
        std::cout << out << "\n";
    };
    line(header);
    for (const auto& r : rows)
        line(r);
}

namespace {

void pretty(std::string& out, const json::value& v, int indent) {
    const std::string pad(static_cast<std::size_t>(indent) * 2, ' ');
    if (v.is_object()) {
        const auto& o = v.get_object();
        if (o.empty()) {
            out += "{}";
            return;
        }
        out += "{\n";
        std::size_t i = 0;
        for (const auto& kv : o) {
            out += pad + "  " + json::serialize(json::value(kv.key())) + ": ";
            pretty(out, kv.value(), indent + 1);
            out += ++i < o.size() ? ",\n" : "\n";
        }
        out += pad + "}";
    } else if (v.is_array()) {
        const auto& a = v.get_array();
        if (a.empty()) {
            out += "[]";
            return;
        }
        out += "[\n";
        for (std::size_t i = 0; i < a.size(); ++i) {
            out += pad + "  ";
            pretty(out, a[i], indent + 1);
            out += i + 1 < a.size() ? ",\n" : "\n";
        }
        out += pad + "]";
    } else {
        out += json::serialize(v);
    }
}

} // namespace

void print_json(const json::value& v) {
    std::string out;
    pretty(out, v, 0);
    std::cout << out << "\n";
}

std::string str(const json::value& v, std::string_view key) {
    if (!v.is_object())
        return {};
    const auto* m = v.get_object().if_contains(key);
    if (m == nullptr)
        return {};
    if (m->is_string())
        return std::string(m->get_string());
    if (m->is_null())
        return {};
    return json::serialize(*m);
}

std::string human_bytes(std::uint64_t n) {
    char buf[32];
    if (n < 1024)
        std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
    else if (n < 1024 * 1024)
        std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(n) / 1024);
    else if (n < 1024ull * 1024 * 1024)
        std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(n) / (1024 * 1024));
    else
        std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(n) / (1024.0 * 1024 * 1024));
    return buf;
}

// ---------------------------------------------------------------------------------------------
// requests

engine::admin_response session::call(engine::admin_request r, std::vector<unsigned> also_ok) const {
    const auto what = std::string(boost::beast::http::to_string(r.method)) + " " + r.target;
    auto answer = client_.send(std::move(r));
    if (!answer) {
        if (answer.error().code == http::errc::connect_failed)
            throw failure(not_running, "the engine is not running: " + answer.error().message +
                                           " (start it with 'kurer run --config FILE', or point --socket or "
                                           "KURER_SOCKET at its admin_socket)");
        throw failure(failed, what + ": " + answer.error().message);
    }
    const auto status = answer->status;
    if ((status >= 200 && status < 300) || std::find(also_ok.begin(), also_ok.end(), status) != also_ok.end())
        return std::move(*answer);
    boost::system::error_code ec;
    const auto body = json::parse(answer->body, ec);
    if (json_ && !ec)
        print_json(body);
    std::string message = !ec ? str(body, "message") : answer->body.substr(0, 300);
    throw failure(failed, message + " (HTTP " + std::to_string(status) + " from " + what + ")");
}

json::value session::call_json(verb method, std::string target) const {
    engine::admin_request r;
    r.method = method;
    r.target = std::move(target);
    auto answer = call(std::move(r));
    boost::system::error_code ec;
    auto v = json::parse(answer.body, ec);
    if (ec)
        throw failure(failed, "the engine's answer to " + r.target + " is not JSON");
    return v;
}

namespace {

std::string require_arg(const invocation& inv, std::size_t i, std::string_view what) {
    if (inv.args.size() <= i)
        throw failure(usage, inv.command + " needs " + std::string(what));
    return inv.args[i];
}

std::string option(const invocation& inv, const std::string& name, std::string fallback = {}) {
    auto it = inv.options.find(name);
    return it == inv.options.end() ? fallback : it->second;
}

// Percent-encodes a query or path value (unreserved characters and ':' as they are, so that
// "0192:<orgnr>" stays readable in the admin server's logs).
std::string encode(std::string_view s) {
    return http::percent_encode(s, http::unreserved_chars + ':');
}

std::string quoted(std::string_view s) {
    std::string out = "\"";
    for (const char c : s) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + "\"";
}

// Content-Disposition for an upload: the plain filename for ASCII names, filename* (RFC 6266)
// as well for the others.
std::string disposition(std::string_view title, std::string_view name) {
    std::string out = "attachment; name=" + quoted(title) + "; filename=" + quoted(name);
    if (std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
        out += "; filename*=UTF-8''" + encode(name);
    return out;
}

// A one-line progress bar on stderr, when it is a terminal, for uploads of 1 MiB or more.
class progress_bar {
public:
    progress_bar(std::string name, std::uint64_t total)
        : name_(std::move(name))
        , total_(total)
        , on_(total >= 1024 * 1024 && ::isatty(STDERR_FILENO) == 1) {}
    ~progress_bar() {
        if (on_ && drawn_)
            std::cerr << "\n";
    }
    void update(std::uint64_t done) {
        if (!on_)
            return;
        const auto now = std::chrono::steady_clock::now();
        if (done < total_ && now - last_ < std::chrono::milliseconds(100))
            return;
        last_ = now;
        const int width = 30;
        const int filled = total_ == 0 ? width : static_cast<int>(width * done / total_);
        std::cerr << "\r  " << name_ << " [" << std::string(static_cast<std::size_t>(filled), '#')
                  << std::string(static_cast<std::size_t>(width - filled), '.') << "] "
                  << (total_ == 0 ? 100 : done * 100 / total_) << "%  " << human_bytes(done) << " / "
                  << human_bytes(total_) << std::flush;
        drawn_ = true;
    }

private:
    std::string name_;
    std::uint64_t total_;
    bool on_;
    bool drawn_ = false;
    std::chrono::steady_clock::time_point last_{};
};

std::string xml_escape(std::string_view s) {
    std::string out;
    for (const char c : s) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

std::string now_local_iso() {
    const auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

bool finished_state(bool outgoing, std::string_view s) {
    if (outgoing)
        return s == "Received" || s == "Failed" || s == "Expired";
    return s == "LevertSent" || s == "Routed" || s == "Duplicate" || s == "Rejected" || s == "Expired";
}

std::string statuses_text(const json::value& list) {
    std::string out;
    if (!list.is_array())
        return out;
    for (const auto& s : list.get_array()) {
        const auto name = s.is_string() ? std::string(s.get_string()) : str(s, "status");
        const bool implied = s.is_object() && s.get_object().contains("implied") && s.at("implied").as_bool();
        out += (out.empty() ? "" : " ") + name + (implied ? "(implied)" : "");
    }
    return out;
}

void print_event_line(const json::value& e) {
    std::string line = str(e, "time") + "  " + str(e, "direction") + "  " + str(e, "id") + "  " +
                       str(e, "from") + " -> " + str(e, "to") + "  " + str(e, "event");
    const auto statuses = statuses_text(e.at("statuses"));
    if (!statuses.empty())
        line += "  [" + statuses + "]";
    const auto detail = str(e, "detail");
    if (!detail.empty())
        line += "  " + detail;
    std::cout << line << std::endl;
}

} // namespace

std::string make_arkivmelding(const std::string& title, const std::vector<std::string>& files) {
    const auto t = xml_escape(title);
    std::string docs;
    for (std::size_t i = 0; i < files.size(); ++i) {
        const auto n = xml_escape(files[i]);
        docs += "      <dokumentbeskrivelse>\n"
                "        <systemID>" +
                random_uuid() +
                "</systemID>\n"
                "        <dokumenttype>Brev</dokumenttype>\n"
                "        <dokumentstatus>Dokumentet er ferdigstilt</dokumentstatus>\n"
                "        <tittel>" +
                n +
                "</tittel>\n"
                "        <tilknyttetRegistreringSom>" +
                (i == 0 ? "Hoveddokument" : "Vedlegg") +
                "</tilknyttetRegistreringSom>\n"
                "        <dokumentnummer>" +
                std::to_string(i + 1) +
                "</dokumentnummer>\n"
                "        <dokumentobjekt>\n"
                "          <versjonsnummer>1</versjonsnummer>\n"
                "          <variantformat>Produksjonsformat</variantformat>\n"
                "          <referanseDokumentfil>" +
                n +
                "</referanseDokumentfil>\n"
                "        </dokumentobjekt>\n"
                "      </dokumentbeskrivelse>\n";
    }
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<arkivmelding xmlns=\"http://www.arkivverket.no/standarder/noark5/arkivmelding\" "
           "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
           "  <system>kurerctl</system>\n"
           "  <meldingId>" +
           random_uuid() +
           "</meldingId>\n"
           "  <tidspunkt>" +
           now_local_iso() +
           "</tidspunkt>\n"
           "  <antallFiler>" +
           std::to_string(files.size()) +
           "</antallFiler>\n"
           "  <mappe xsi:type=\"saksmappe\">\n"
           "    <systemID>" +
           random_uuid() +
           "</systemID>\n"
           "    <tittel>" +
           t +
           "</tittel>\n"
           "    <basisregistrering xsi:type=\"journalpost\">\n"
           "      <systemID>" +
           random_uuid() + "</systemID>\n" + docs + "      <tittel>" + t +
           "</tittel>\n      <offentligTittel>" + t +
           "</offentligTittel>\n"
           "      <journalposttype>Utgående dokument</journalposttype>\n"
           "      <journalstatus>Journalført</journalstatus>\n"
           "    </basisregistrering>\n"
           "  </mappe>\n"
           "</arkivmelding>\n";
}

// ---------------------------------------------------------------------------------------------
// send

int cmd_send(const invocation& inv) {
    session s(inv);
    const auto to = option(inv, "to");
    if (to.empty())
        throw failure(usage, "send needs --to 0192:ORG (the receiver)");
    if (inv.args.empty())
        throw failure(usage, "send needs at least one FILE");
    std::vector<fs::path> files;
    bool has_arkivmelding = false;
    for (const auto& a : inv.args) {
        std::error_code ec;
        if (!fs::is_regular_file(a, ec))
            throw failure(usage, a + " is not a readable file");
        files.emplace_back(a);
        has_arkivmelding |= fs::path(a).filename() == "arkivmelding.xml";
    }
    // arkivmelding.xml first: the reference's documentation asks for it, and it is the main document.
    std::stable_partition(files.begin(), files.end(),
                          [](const fs::path& p) { return p.filename() == "arkivmelding.xml"; });
    std::vector<std::string> names;
    for (const auto& f : files)
        if (f.filename() != "arkivmelding.xml")
            names.push_back(f.filename().string());
    const auto title = option(inv, "title", names.empty() ? std::string("kurerctl") : names.front());

    json::object conversation{{"type", "ConversationId"}};
    if (auto p = option(inv, "process"); !p.empty())
        conversation["identifier"] = p;
    if (auto c = option(inv, "conversation"); !c.empty())
        conversation["instanceIdentifier"] = c;
    json::object identification{{"standard", "urn:no:difi:arkivmelding:xsd::arkivmelding"},
                                {"typeVersion", "2.0"},
                                {"type", "arkivmelding"}};
    if (auto id = option(inv, "id"); !id.empty())
        identification["instanceIdentifier"] = id;
    const json::object sbd{
        {"standardBusinessDocumentHeader",
         {{"headerVersion", "1.0"},
          {"receiver",
           json::array{json::object{{"identifier", {{"value", to}, {"authority", "iso6523-actorid-upis"}}}}}},
          {"documentIdentification", identification},
          {"businessScope", {{"scope", json::array{conversation}}}}}},
        {"arkivmelding", {{"hoveddokument", "arkivmelding.xml"}}}};

    engine::admin_request create;
    create.method = verb::post;
    create.target = "/api/messages/out";
    create.headers.set(boost::beast::http::field::content_type, "application/json");
    create.body = json::serialize(sbd);
    auto created = s.call(std::move(create));
    const auto completed = json::parse(created.body);
    const auto id = str(completed.at("standardBusinessDocumentHeader").at("documentIdentification"),
                        "instanceIdentifier");
    try {
        const auto upload = [&](const std::string& name, const std::string& content_type,
                                std::optional<fs::path> file, std::string bytes) {
            engine::admin_request put;
            put.method = verb::put;
            put.target = "/api/messages/out/" + encode(id);
            put.headers.set(boost::beast::http::field::content_type, content_type);
            put.headers.set(boost::beast::http::field::content_disposition,
                            disposition(name == "arkivmelding.xml" ? "Arkivmelding" : name, name));
            put.body = std::move(bytes);
            put.body_file = std::move(file);
            std::uint64_t total = put.body_file ? fs::file_size(*put.body_file) : put.body.size();
            progress_bar bar(name, total);
            put.progress = [&bar](std::uint64_t done, std::uint64_t) {
                bar.update(done);
            };
            s.call(std::move(put));
        };
        if (!has_arkivmelding)
            upload("arkivmelding.xml", "application/xml", std::nullopt, make_arkivmelding(title, names));
        for (const auto& f : files)
            upload(f.filename().string(),
                   f.filename() == "arkivmelding.xml" ? "application/xml" : "application/octet-stream", f,
                   {});
        engine::admin_request send;
        send.method = verb::post;
        send.target = "/api/messages/out/" + encode(id);
        s.call(std::move(send));
    } catch (const failure&) {
        // Nothing half-created stays behind: the draft goes (best effort; it may not exist).
        engine::admin_request del;
        del.method = verb::delete_;
        del.target = "/api/messages/out/" + encode(id);
        (void)s.client().send(std::move(del));
        throw;
    }
    if (s.json()) {
        print_json(completed);
    } else {
        std::cout << id << "\n";
    }
    return ok;
}

// ---------------------------------------------------------------------------------------------
// status, list

int cmd_status(const invocation& inv) {
    session s(inv);
    const auto id = require_arg(inv, 0, "a messageId");
    const auto m = s.call_json(verb::get, "/admin/messages/" + encode(id));
    if (s.json()) {
        print_json(m);
        return ok;
    }
    const bool out = str(m, "direction") == "outgoing";
    std::cout << "message   " << str(m, "messageId") << "  (" << str(m, "direction") << ", "
              << str(m, "kind");
    if (out && !str(m, "receiver").empty())
        std::cout << ", to 0192:" << str(m, "receiver");
    if (!out)
        std::cout << ", from 0192:" << str(m, "sender");
    std::cout << ")\n";
    std::cout << "state     " << str(m, "state");
    if (const auto st = statuses_text(m.as_object().contains("statuses") ? m.at("statuses") : json::value());
        !st.empty())
        std::cout << "   statuses: " << st;
    std::cout << "\n";
    if (!str(m, "deadline").empty())
        std::cout << "deadline  " << str(m, "deadline") << "\n";
    if (!str(m, "lastError").empty())
        std::cout << "error     " << str(m, "lastError") << "\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& h : m.at("history").as_array())
        rows.push_back({str(h, "time"), str(h, "from") + " -> " + str(h, "to"), str(h, "event"),
                        statuses_text(h.at("statuses")), str(h, "detail")});
    if (!rows.empty()) {
        std::cout << "\n";
        print_table({"TIME", "TRANSITION", "EVENT", "STATUSES", "DETAIL"}, rows);
    }
    return ok;
}

int cmd_list(const invocation& inv) {
    session s(inv);
    std::string target = "/admin/messages?limit=" + encode(option(inv, "limit", "100"));
    if (auto st = option(inv, "state"); !st.empty())
        target += "&state=" + encode(st);
    if (auto d = option(inv, "direction"); !d.empty())
        target += "&direction=" + encode(d);
    const auto answer = s.call_json(verb::get, target);
    if (s.json()) {
        print_json(answer);
        return ok;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& m : answer.at("messages").as_array()) {
        const bool out = str(m, "direction") == "outgoing";
        rows.push_back({str(m, "direction"), str(m, "state"), str(m, "id"),
                        out ? "to " + str(m, "receiver") : "from " + str(m, "sender"), str(m, "updated")});
    }
    print_table({"DIRECTION", "STATE", "ID", "PARTY", "UPDATED"}, rows);
    return ok;
}

// ---------------------------------------------------------------------------------------------
// watch

int cmd_watch(const invocation& inv) {
    session s(inv);
    const auto id = inv.args.empty() ? std::string() : inv.args[0];
    std::string primary_id; // the record whose end ends the watch
    bool primary_out = true;
    std::uint32_t printed_seq = 0;
    bool printed_any = false;
    bool finished = false;
    std::optional<failure> problem;
    const auto on_line = [&](std::string_view line) -> bool {
        boost::system::error_code ec;
        const auto e = json::parse(line, ec);
        if (ec || !e.is_object())
            return true;
        const auto type = str(e, "type");
        if (type == "subscribed") {
            if (id.empty())
                return true;
            // Subscribed first, then the history: nothing falls between the two.
            try {
                const auto m = s.call_json(verb::get, "/admin/messages/" + encode(id));
                primary_id = str(m, "id");
                primary_out = str(m, "direction") == "outgoing";
                for (const auto& h : m.at("history").as_array()) {
                    json::object ev{{"time", h.at("time")},     {"direction", m.at("direction")},
                                    {"id", primary_id},         {"from", h.at("from")},
                                    {"to", h.at("to")},         {"event", h.at("event")},
                                    {"detail", h.at("detail")}, {"statuses", h.at("statuses")},
                                    {"seq", h.at("seq")}};
                    if (s.json())
                        std::cout << json::serialize(ev) << std::endl;
                    else
                        print_event_line(ev);
                    printed_seq = static_cast<std::uint32_t>(h.at("seq").to_number<std::int64_t>());
                    printed_any = true;
                }
                if (finished_state(primary_out, str(m, "state")) && str(m, "state") != "Draft") {
                    finished = true;
                    return false;
                }
            } catch (const failure& f) {
                problem = f;
                return false;
            }
            return true;
        }
        if (type == "dropped") {
            problem = failure(failed, "the engine dropped this watch: " + str(e, "reason"));
            return false;
        }
        if (type != "transition")
            return true;
        const auto seq = static_cast<std::uint32_t>(e.at("seq").to_number<std::int64_t>());
        if (!primary_id.empty() && str(e, "id") == primary_id && printed_any && seq <= printed_seq)
            return true; // already shown from the history
        if (s.json())
            std::cout << line << std::endl;
        else
            print_event_line(e);
        if (!primary_id.empty() && str(e, "id") == primary_id && finished_state(primary_out, str(e, "to"))) {
            finished = true;
            return false;
        }
        return true;
    };
    const auto target = "/admin/events" + (id.empty() ? std::string() : "?messageId=" + encode(id));
    auto status = s.client().stream_lines(target, on_line);
    if (problem)
        throw *problem;
    if (!status) {
        if (status.error().code == http::errc::connect_failed)
            throw failure(not_running, "the engine is not running: " + status.error().message);
        throw failure(failed, "watching " + target + ": " + status.error().message);
    }
    if (*status != 200)
        throw failure(failed, "the engine answered HTTP " + std::to_string(*status) + " to " + target);
    if (!finished && !id.empty())
        throw failure(failed, "the event stream ended before message " + id + " was finished");
    return ok;
}

// ---------------------------------------------------------------------------------------------
// inbox

int cmd_inbox_take(const invocation& inv) {
    session s(inv);
    const auto out_dir = option(inv, "out");
    if (out_dir.empty())
        throw failure(usage, "inbox take needs --out DIR (where the documents go)");
    const auto id = inv.args.empty() ? std::string() : inv.args[0];
    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec)
        throw failure(failed, "cannot create " + out_dir + ": " + ec.message());

    engine::admin_request peek;
    peek.target = "/api/messages/in/peek" + (id.empty() ? std::string() : "?messageId=" + encode(id));
    auto peeked = s.call(std::move(peek));
    if (peeked.status == 204)
        throw failure(failed, id.empty() ? "no message is waiting"
                                         : "message " + id + " is not waiting on the queue");
    const auto sbd = json::parse(peeked.body);
    const auto& header = sbd.at("standardBusinessDocumentHeader");
    const auto message_id = str(header.at("documentIdentification"), "instanceIdentifier");

    const fs::path dir(out_dir);
    const auto asic = dir / "asic.zip";
    const auto sbd_file = dir / "sbd.json";
    for (const auto& p : {asic, sbd_file})
        if (fs::exists(p))
            throw failure(failed, p.string() + " exists already; take each message into its own directory");
    engine::admin_request pop;
    pop.target = "/api/messages/in/pop/" + encode(message_id);
    pop.save_to = dir / ".asic.zip.part";
    auto popped = s.call(std::move(pop));
    std::vector<std::string> written;
    if (popped.status == 200) {
        fs::rename(dir / ".asic.zip.part", asic, ec);
        if (ec)
            throw failure(failed, "cannot write " + asic.string() + ": " + ec.message());
        written.push_back(asic.string());
        char magic[2] = {};
        std::ifstream(asic, std::ios::binary).read(magic, 2);
        if (magic[0] == 'P' && magic[1] == 'K') { // a real ASiC-E: its documents as files
            auto extracted = dpo::extract_documents(asic, dir);
            if (!extracted)
                throw failure(failed, "cannot unpack " + asic.string() + ": " + extracted.error().message +
                                          " (the message stays on the queue)");
            for (const auto& p : *extracted)
                written.push_back(p.string());
        }
    }
    if (auto w = write_file_durably(sbd_file, json::serialize(sbd)); !w)
        throw failure(failed, w.error().message);
    written.push_back(sbd_file.string());
    // The documents are safely on disk before the engine is told the end system has them.
    for (const auto& p : written)
        if (auto synced = sync_file_and_directory(p); !synced)
            throw failure(failed, synced.error().message);
    engine::admin_request del;
    del.method = verb::delete_;
    del.target = "/api/messages/in/" + encode(message_id);
    s.call(std::move(del));
    if (s.json()) {
        json::array files;
        for (const auto& p : written)
            files.push_back(json::value(p));
        print_json(json::object{{"messageId", message_id}, {"files", std::move(files)}, {"sbd", sbd}});
    } else {
        std::cout << "took " << message_id << " from "
                  << str(header.at("sender").at(0).at("identifier"), "value") << "\n";
        for (const auto& p : written)
            std::cout << "  " << p << "\n";
    }
    return ok;
}

int cmd_inbox(const invocation& inv) {
    session s(inv);
    std::string target = "/api/messages/in?size=2000";
    if (auto p = option(inv, "process"); !p.empty())
        target += "&process=" + encode(p);
    const auto page = s.call_json(verb::get, target);
    if (s.json()) {
        print_json(page);
        return ok;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& sbd : page.at("content").as_array()) {
        const auto& h = sbd.at("standardBusinessDocumentHeader");
        const auto& di = h.at("documentIdentification");
        std::string conversation;
        for (const auto& scope : h.at("businessScope").at("scope").as_array())
            if (str(scope, "type") == "ConversationId")
                conversation = str(scope, "instanceIdentifier");
        rows.push_back({str(di, "instanceIdentifier"), str(h.at("sender").at(0).at("identifier"), "value"),
                        str(di, "type"), conversation, str(di, "creationDateAndTime")});
    }
    print_table({"MESSAGE", "SENDER", "TYPE", "CONVERSATION", "CREATED"}, rows);
    return ok;
}

// ---------------------------------------------------------------------------------------------
// the rest

int cmd_capabilities(const invocation& inv) {
    session s(inv);
    const auto receiver = require_arg(inv, 0, "a receiver (0192:ORG)");
    std::string target = "/api/capabilities/" + encode(receiver);
    if (auto p = option(inv, "process"); !p.empty())
        target += "?process=" + encode(p);
    const auto answer = s.call_json(verb::get, target);
    if (s.json()) {
        print_json(answer);
        return ok;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : answer.at("capabilities").as_array()) {
        std::string types;
        for (const auto& t : c.at("documentTypes").as_array())
            types += (types.empty() ? "" : ", ") + str(t, "type");
        rows.push_back({str(c, "serviceIdentifier"), str(c, "process"), types});
    }
    print_table({"SERVICE", "PROCESS", "DOCUMENT TYPES"}, rows);
    return ok;
}

int cmd_health(const invocation& inv) {
    session s(inv);
    const auto h = s.call_json(verb::get, "/admin/health");
    if (s.json()) {
        print_json(h);
        return ok;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& kv : h.as_object())
        rows.push_back({std::string(kv.key()), kv.value().is_string() ? std::string(kv.value().get_string())
                                                                      : json::serialize(kv.value())});
    print_table({"FIELD", "VALUE"}, rows);
    return ok;
}

int cmd_metrics(const invocation& inv) {
    session s(inv);
    engine::admin_request r;
    r.target = "/admin/metrics";
    std::cout << s.call(std::move(r)).body;
    return ok;
}

int cmd_retry(const invocation& inv) {
    session s(inv);
    const auto id = require_arg(inv, 0, "a messageId");
    const auto m = s.call_json(verb::post, "/admin/messages/" + encode(id) + "/retry");
    if (s.json())
        print_json(m);
    else
        std::cout << "retrying " << id << ": now " << str(m, "state") << "\n";
    return ok;
}

int cmd_pause(const invocation& inv, bool pause) {
    session s(inv);
    const auto m = s.call_json(verb::post, pause ? "/admin/pause" : "/admin/resume");
    if (s.json())
        print_json(m);
    else
        std::cout << (pause ? "sending paused (receipts still flow)\n" : "sending resumed\n");
    return ok;
}

} // namespace kurer::ctl

// What `kurer-bench e2e` and `kurer-bench torture` share: the cluster's executables found next
// to kurer-bench, submitting a message through an engine's admin socket, an end system polling
// its engine's queue over that socket, and peak RSS of a process.
#pragma once

#include <kurer/core/uuid.hpp>
#include <kurer/engine/admin_client.hpp>
#include <kurer/testing/cluster.hpp>

#include <boost/json.hpp>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

namespace kurer::bench::e2e {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using verb = boost::beast::http::verb;

inline constexpr const char* org_a = "910077473";
inline constexpr const char* org_b = "910075918";

// The cluster finds kurer and kurer-sandbox through KURER_BIN_DIR: default it to our own folder.
inline void find_executables_next_to_me() {
    if (std::getenv("KURER_BIN_DIR") != nullptr)
        return;
    char self[4096] = {};
    const auto len = ::readlink("/proc/self/exe", self, sizeof self - 1);
    const auto dir = fs::path(std::string(self, len > 0 ? static_cast<std::size_t>(len) : 0)).parent_path();
    ::setenv("KURER_BIN_DIR", dir.c_str(), 1);
}

inline fs::path socket_of(testing::cluster& c, const std::string& org) {
    return c.config_file(org).parent_path() / "kurer.sock";
}

inline engine::admin_request request(verb method, std::string target, std::string body = {}) {
    engine::admin_request r;
    r.method = method;
    r.target = std::move(target);
    r.body = std::move(body);
    return r;
}

inline std::optional<json::value> get_json(const fs::path& socket, const std::string& target) {
    engine::admin_client client({.socket = socket}, 10s);
    auto r = client.send(request(verb::get, target));
    if (!r || r->status != 200)
        return std::nullopt;
    boost::system::error_code ec;
    auto v = json::parse(r->body, ec);
    if (ec)
        return std::nullopt;
    return v;
}

inline std::string state_of(const fs::path& socket, const std::string& id) {
    auto m = get_json(socket, "/admin/messages/" + id);
    if (!m || !m->is_object() || !m->as_object().contains("state"))
        return {};
    return std::string(m->at("state").as_string());
}

// A small arkivmelding naming the attachment (data.bin) when there is one.
inline std::string arkivmelding(const std::string& id, bool with_attachment) {
    const std::string document =
        with_attachment ? "      <dokumentbeskrivelse>\n"
                          "        <systemID>" +
                              random_uuid() +
                              "</systemID>\n"
                              "        <dokumenttype>Brev</dokumenttype>\n"
                              "        <dokumentstatus>Dokumentet er ferdigstilt</dokumentstatus>\n"
                              "        <tittel>data.bin</tittel>\n"
                              "        <tilknyttetRegistreringSom>Hoveddokument</tilknyttetRegistreringSom>\n"
                              "        <dokumentnummer>1</dokumentnummer>\n"
                              "        <dokumentobjekt>\n"
                              "          <versjonsnummer>1</versjonsnummer>\n"
                              "          <variantformat>Produksjonsformat</variantformat>\n"
                              "          <referanseDokumentfil>data.bin</referanseDokumentfil>\n"
                              "        </dokumentobjekt>\n"
                              "      </dokumentbeskrivelse>\n"
                        : std::string();
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<arkivmelding xmlns=\"http://www.arkivverket.no/standarder/noark5/arkivmelding\" "
           "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
           "  <system>kurer-bench</system>\n"
           "  <meldingId>" +
           id +
           "</meldingId>\n"
           "  <tidspunkt>2026-01-01T12:00:00+01:00</tidspunkt>\n"
           "  <antallFiler>" +
           std::string(with_attachment ? "1" : "0") +
           "</antallFiler>\n"
           "  <mappe xsi:type=\"saksmappe\">\n"
           "    <systemID>" +
           random_uuid() +
           "</systemID>\n"
           "    <tittel>kurer-bench</tittel>\n"
           "    <basisregistrering xsi:type=\"journalpost\">\n"
           "      <systemID>" +
           random_uuid() + "</systemID>\n" + document +
           "      <tittel>kurer-bench</tittel>\n"
           "      <offentligTittel>kurer-bench</offentligTittel>\n"
           "      <journalposttype>Utgående dokument</journalposttype>\n"
           "      <journalstatus>Journalført</journalstatus>\n"
           "    </basisregistrering>\n"
           "  </mappe>\n"
           "</arkivmelding>\n";
}

// The end system's way in, as kurerctl send does it: create the draft (POST), upload
// arkivmelding.xml and the attachment (PUT), send (POST). Returns the error's description.
inline std::optional<std::string> submit(const fs::path& socket, const std::string& id, const std::string& to,
                                         const std::string& attachment) {
    engine::admin_client client({.socket = socket}, 60s);
    const json::object sbd{
        {"standardBusinessDocumentHeader",
         {{"headerVersion", "1.0"},
          {"receiver",
           json::array{json::object{
               {"identifier", {{"value", "0192:" + to}, {"authority", "iso6523-actorid-upis"}}}}}},
          {"documentIdentification",
           {{"standard", "urn:no:difi:arkivmelding:xsd::arkivmelding"},
            {"typeVersion", "2.0"},
            {"type", "arkivmelding"},
            {"instanceIdentifier", id}}},
          {"businessScope", {{"scope", json::array{json::object{{"type", "ConversationId"}}}}}}}},
        {"arkivmelding", {{"hoveddokument", "arkivmelding.xml"}}}};
    const auto call = [&](engine::admin_request r) -> std::optional<std::string> {
        auto a = client.send(std::move(r));
        if (!a)
            return a.error().describe();
        if (a->status / 100 != 2)
            return std::to_string(a->status) + " " + a->body.substr(0, 300);
        return std::nullopt;
    };
    auto create = request(verb::post, "/api/messages/out", json::serialize(sbd));
    create.headers.set(boost::beast::http::field::content_type, "application/json");
    if (auto e = call(std::move(create)))
        return "create: " + *e;
    const auto put = [&](const std::string& name, const std::string& type, std::string body) {
        auto r = request(verb::put, "/api/messages/out/" + id, std::move(body));
        r.headers.set(boost::beast::http::field::content_type, type);
        r.headers.set(boost::beast::http::field::content_disposition,
                      "attachment; name=\"" + name + "\"; filename=\"" + name + "\"");
        return call(std::move(r));
    };
    if (auto e = put("arkivmelding.xml", "application/xml", arkivmelding(id, !attachment.empty())))
        return "arkivmelding.xml: " + *e;
    if (!attachment.empty())
        if (auto e = put("data.bin", "application/octet-stream", attachment))
            return "data.bin: " + *e;
    if (auto e = call(request(verb::post, "/api/messages/out/" + id)))
        return "send: " + *e;
    return std::nullopt;
}

// An end system polling its engine's queue over the admin socket: peek, pop, DELETE. Its engine
// may die under it at any moment (the torture run); every failed step is tried again.
class polling_end_system {
public:
    explicit polling_end_system(fs::path socket)
        : socket_(std::move(socket))
        , thread_([this] { run(); }) {}
    ~polling_end_system() {
        stop_ = true;
        thread_.join();
    }
    std::map<std::string, int> taken() const {
        std::lock_guard lock(mutex_);
        return taken_;
    }
    std::set<std::string> deletes_unanswered() const {
        std::lock_guard lock(mutex_);
        return unanswered_;
    }

private:
    void run() {
        // After a failed pop or DELETE (the engine died) the locked message is fetched again by
        // id: its lock outlives the engine and a peek would not offer it until the lock expires.
        std::string locked;
        while (!stop_) {
            engine::admin_client client({.socket = socket_}, 10s);
            if (locked.empty()) {
                auto peeked = client.send(request(verb::get, "/api/messages/in/peek"));
                if (!peeked || peeked->status != 200) {
                    std::this_thread::sleep_for(20ms); // nothing waiting, or the engine is down
                    continue;
                }
                boost::system::error_code ec;
                const auto sbd = json::parse(peeked->body, ec);
                if (ec)
                    continue;
                locked = std::string(sbd.at("standardBusinessDocumentHeader")
                                         .at("documentIdentification")
                                         .at("instanceIdentifier")
                                         .as_string());
            }
            const auto id = locked;
            auto popped = client.send(request(verb::get, "/api/messages/in/pop/" + id));
            if (!popped) {
                std::this_thread::sleep_for(50ms);
                continue;
            }
            if (popped->status != 200 && popped->status != 204) {
                locked.clear();
                continue;
            }
            {
                std::lock_guard lock(mutex_);
                unanswered_.insert(id);
            }
            auto deleted = client.send(request(verb::delete_, "/api/messages/in/" + id));
            if (!deleted) {
                std::this_thread::sleep_for(50ms);
                continue;
            }
            locked.clear();
            if (deleted->status != 200)
                continue; // taken by a DELETE whose answer was lost: counted at the end
            std::lock_guard lock(mutex_);
            unanswered_.erase(id);
            ++taken_[id];
        }
    }

    fs::path socket_;
    std::atomic<bool> stop_{false};
    mutable std::mutex mutex_;
    std::map<std::string, int> taken_;
    std::set<std::string> unanswered_;
    std::thread thread_;
};

// VmHWM of a process in KiB (0 when unknown).
inline std::uint64_t peak_rss_kib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("VmHWM:", 0) == 0)
            return std::stoull(line.substr(6));
    return 0;
}

// CPU time (user + system) a process has used so far, from /proc/PID/stat (fields 14 and 15,
// counted after the command name, which may hold spaces). pid 0: this process.
inline double cpu_seconds(pid_t pid) {
    std::ifstream in(pid == 0 ? std::string("/proc/self/stat") : "/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close == std::string::npos)
        return 0;
    std::istringstream rest(text.substr(close + 2));
    std::string field;
    unsigned long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {
        if (i == 14)
            utime = std::stoull(field);
        if (i == 15)
            stime = std::stoull(field);
    }
    return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

} // namespace kurer::bench::e2e

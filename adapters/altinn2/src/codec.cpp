#include "soap.hpp"

#include <kurer/altinn2/codec.hpp>
#include <kurer/altinn2/mtom.hpp>
#include <kurer/altinn2/namespaces.hpp>
#include <kurer/core/uuid.hpp>

namespace kurer::altinn2 {

using detail::order;
using detail::reading;
using detail::xml_writer;

namespace {

// ---- writing helpers

constexpr std::string_view body_open = "<s:Body>";
constexpr std::string_view body_close = "</s:Body>";

std::string open_tag(std::string_view local,
                     std::initializer_list<std::pair<std::string_view, std::string_view>> xmlns) {
    std::string out = "<";
    out += local;
    for (const auto& [prefix, uri] : xmlns) {
        out += prefix.empty() ? " xmlns=\"" : " xmlns:";
        if (!prefix.empty()) {
            out += prefix;
            out += "=\"";
        }
        out += uri;
        out += '"';
    }
    out += '>';
    return out;
}

void write_credentials(xml_writer& w, const credentials& c) {
    w.leaf("systemUserName", "systemUserName", c.system_user);
    w.leaf("systemPassword", "systemPassword", c.system_password);
}

std::string_view status_name(file_status s) noexcept {
    return s == file_status::uploaded ? "Uploaded" : "Downloaded";
}

// A request whose body is one operation element in the service namespace holding the
// credentials and then `rest`.
template <class Rest>
result<std::string> simple_request(std::string_view operation,
                                   std::initializer_list<std::pair<std::string_view, std::string_view>> xmlns,
                                   const credentials& c, Rest&& rest) {
    xml_writer w;
    w.raw(detail::envelope_open).raw(body_open).raw(open_tag(operation, xmlns));
    write_credentials(w, c);
    rest(w);
    w.raw("</").raw(operation).raw(">").raw(body_close).raw(detail::envelope_close);
    return w.finish();
}

result<std::string> file_request_envelope(std::string_view operation, const file_request& r) {
    return simple_request(operation, {{"", ns::service}}, r.account, [&](xml_writer& w) {
        w.leaf("fileReference", "fileReference", r.file_reference);
        w.leaf("reportee", "reportee", r.reportee);
    });
}

std::string wrap_body(std::string_view content) {
    std::string out;
    out.reserve(content.size() + 128);
    out += detail::envelope_open;
    out += body_open;
    out += content;
    out += body_close;
    out += detail::envelope_close;
    return out;
}

// ---- reading helpers

reading response(std::string_view what) {
    return reading{what, retry::yes};
}
reading request(std::string_view what) {
    return reading{what, retry::no};
}

result<xml::element> response_element(std::string_view envelope, std::string_view ns_uri,
                                      std::string_view local) {
    const auto ctx = response(local);
    auto env = detail::parse_envelope(envelope, ctx);
    if (!env)
        return env.error();
    return detail::take_body_child(*env, ns_uri, local, ctx);
}

result<xml::element> request_element(std::string_view envelope, std::string_view local) {
    const auto ctx = request(local);
    auto env = detail::parse_envelope(envelope, ctx);
    if (!env)
        return env.error();
    return detail::take_body_child(*env, ns::service, local, ctx);
}

// Operation parameters (systemUserName, fileReference, ...) are not data-contract members:
// WCF passes an absent one on as null, and Altinn answers with a business fault. Read them as
// empty so the sandbox can do the same.
std::string parameter(const xml::element* e) {
    return detail::optional_text(e).value_or(std::string());
}

// A data-contract member WCF requires (no minOccurs="0"): absent is a deserialisation
// failure; nil is allowed and reads as empty.
result<std::string> required_member(const xml::element* e, std::string_view path, const reading& ctx) {
    if (e == nullptr)
        return ctx.malformed(std::string(path) + " is missing");
    return detail::optional_text(e).value_or(std::string());
}

result<file_status> parse_status(const xml::element* e, std::string_view path, const reading& ctx) {
    if (e == nullptr || detail::is_nil(*e))
        return ctx.malformed(std::string(path) + " is missing");
    if (e->text == "Uploaded")
        return file_status::uploaded;
    if (e->text == "Downloaded")
        return file_status::downloaded;
    return ctx.malformed(std::string(path) + " is neither Uploaded nor Downloaded: '" +
                         e->text.substr(0, 40) + "'");
}

result<std::optional<service_id>> optional_service(const xml::element* code, const xml::element* edition,
                                                   std::string_view path, const reading& ctx) {
    auto ed = detail::optional_int32(edition, std::string(path) + "/ExternalServiceEditionCode", ctx);
    if (!ed)
        return ed.error();
    auto c = detail::optional_text(code);
    if (!c && !*ed)
        return std::optional<service_id>{};
    return std::optional<service_id>{service_id{c.value_or(std::string()), ed->value_or(0)}};
}

result<std::string> include_href(const xml::element& holder, std::string_view path, const reading& ctx) {
    const auto* include = holder.child(ns::xop, "Include");
    if (include == nullptr)
        return ctx.malformed(std::string(path) + " holds no xop:Include (inline data is not taken)");
    const auto href = include->attr("href");
    if (!href)
        return ctx.malformed(std::string(path) + "/xop:Include has no href");
    auto id = mtom::content_id_from_href(*href);
    if (!id)
        return ctx.malformed(std::string(path) + "/xop:Include: " + id.error().message);
    return id;
}

} // namespace

// ---- client: requests -------------------------------------------------------------------

result<std::string> write_initiate_request(const initiate_request& r) {
    return simple_request(
        "InitiateBrokerServiceBasic", {{"", ns::service}, {"b", ns::contracts}}, r.account,
        [&](xml_writer& w) {
            w.raw("<brokerServiceInitiation><b:Manifest>");
            w.leaf("b:ExternalServiceCode", "ExternalServiceCode", r.service.code);
            w.leaf("b:ExternalServiceEditionCode", "ExternalServiceEditionCode",
                   detail::to_string(r.service.edition));
            if (!r.file_names.empty()) {
                w.raw("<b:FileList>");
                for (const auto& name : r.file_names)
                    w.raw("<b:File>").leaf("b:FileName", "FileName", name).raw("</b:File>");
                w.raw("</b:FileList>");
            }
            w.leaf("b:Reportee", "Reportee", r.reportee);
            w.leaf("b:SendersReference", "SendersReference", r.senders_reference);
            w.raw("</b:Manifest><b:RecipientList>");
            for (const auto& party : r.recipients)
                w.raw("<b:Recipient>").leaf("b:PartyNumber", "PartyNumber", party).raw("</b:Recipient>");
            w.raw("</b:RecipientList></brokerServiceInitiation>");
        });
}

result<std::string> write_check_request(const check_request& r) {
    return simple_request("CheckIfAvailableFilesBasic",
                          {{"", ns::service}, {"p", ns::poll}, {"a", ns::arrays}}, r.account,
                          [&](xml_writer& w) {
                              w.raw("<pollParameters>");
                              if (r.service) {
                                  w.leaf("p:ExternalServiceCode", "ExternalServiceCode", r.service->code);
                                  w.leaf("p:ExternalServiceEditionCode", "ExternalServiceEditionCode",
                                         detail::to_string(r.service->edition));
                              }
                              w.raw("<p:Recipients>");
                              for (const auto& recipient : r.recipients)
                                  w.leaf("a:string", "Recipients", recipient);
                              w.raw("</p:Recipients></pollParameters>");
                          });
}

result<std::string> write_list_request(const list_request& r) {
    return simple_request("GetAvailableFilesBasic", {{"", ns::service}, {"b", ns::contracts}}, r.account,
                          [&](xml_writer& w) {
                              w.raw("<searchParameters>");
                              if (r.service) {
                                  w.leaf("b:ExternalServiceCode", "ExternalServiceCode", r.service->code);
                                  w.leaf("b:ExternalServiceEditionCode", "ExternalServiceEditionCode",
                                         detail::to_string(r.service->edition));
                              }
                              w.leaf("b:FileStatus", "FileStatus", status_name(r.status));
                              if (r.max_sent)
                                  w.leaf("b:MaxSentDateTime", "MaxSentDateTime", *r.max_sent);
                              if (r.min_sent)
                                  w.leaf("b:MinSentDateTime", "MinSentDateTime", *r.min_sent);
                              w.leaf("b:Reportee", "Reportee", r.reportee);
                              w.raw("</searchParameters>");
                          });
}

result<std::string> write_download_request(const download_request& r) {
    return file_request_envelope("DownloadFileStreamedBasic", r);
}

result<std::string> write_confirm_request(const confirm_request& r) {
    return file_request_envelope("ConfirmDownloadedBasic", r);
}

result<std::string> write_upload_envelope(const upload_request& r, std::string_view attachment_content_id) {
    xml_writer w;
    w.raw(detail::envelope_open).raw("<s:Header>");
    const std::string xmlns = " xmlns=\"" + std::string(ns::service) + "\">";
    auto header = [&](std::string_view name, std::string_view value) {
        w.raw("<").raw(name).raw(xmlns).text(name, value).raw("</").raw(name).raw(">");
    };
    // The WSDL's (alphabetical) order, as the reference client sends them; order does not matter.
    header("FileName", r.file_name);
    header("Reference", r.reference);
    header("Reportee", r.reportee);
    header("SystemPassword", r.account.system_password);
    header("SystemUserName", r.account.system_user);
    w.raw("</s:Header>").raw(body_open).raw(open_tag("StreamedPayloadBasicBE", {{"", ns::service}}));
    w.raw("<DataStream><xop:Include xmlns:xop=\"").raw(ns::xop).raw("\" href=\"");
    w.attribute_value("attachment Content-ID", mtom::cid_href(attachment_content_id));
    w.raw("\"/></DataStream></StreamedPayloadBasicBE>").raw(body_close).raw(detail::envelope_close);
    return w.finish();
}

// ---- client: responses ------------------------------------------------------------------

result<std::string> read_initiate_response(std::string_view envelope) {
    auto el = response_element(envelope, ns::service, "InitiateBrokerServiceBasicResponse");
    if (!el)
        return el.error();
    const auto ctx = response("InitiateBrokerServiceBasicResponse");
    const auto m = detail::members(*el, ns::service, {"InitiateBrokerServiceBasicResult"}, order::any);
    auto reference = detail::required_text(m[0], "InitiateBrokerServiceBasicResult", ctx);
    if (!reference)
        return reference.error();
    std::string value(*reference);
    const auto first = value.find_first_not_of(" \t\r\n");
    value = first == std::string::npos ? std::string()
                                       : value.substr(first, value.find_last_not_of(" \t\r\n") - first + 1);
    if (!is_uuid(value))
        return ctx.malformed("InitiateBrokerServiceBasicResult is not a GUID: '" + value.substr(0, 60) + "'");
    return value;
}

result<bool> read_check_response(std::string_view envelope) {
    auto el = response_element(envelope, ns::service, "CheckIfAvailableFilesBasicResponse");
    if (!el)
        return el.error();
    const auto ctx = response("CheckIfAvailableFilesBasicResponse");
    const auto m = detail::members(*el, ns::service, {"CheckIfAvailableFilesBasicResult"}, order::any);
    auto value = detail::optional_bool(m[0], "CheckIfAvailableFilesBasicResult", ctx);
    if (!value)
        return value.error();
    if (!*value)
        return ctx.malformed("CheckIfAvailableFilesBasicResult is missing");
    return **value;
}

result<std::vector<available_file>> read_list_response(std::string_view envelope) {
    auto el = response_element(envelope, ns::service, "GetAvailableFilesBasicResponse");
    if (!el)
        return el.error();
    const auto ctx = response("GetAvailableFilesBasicResponse");
    std::vector<available_file> files;
    const auto* list = el->child(ns::service, "GetAvailableFilesBasicResult");
    if (list == nullptr || detail::is_nil(*list))
        return files;
    for (const auto* item : list->children_named(ns::contracts, "BrokerServiceAvailableFile")) {
        if (detail::is_nil(*item))
            continue;
        const std::string path = "BrokerServiceAvailableFile[" + std::to_string(files.size()) + "]/";
        const auto m = detail::members(*item, ns::contracts,
                                       {"ExternalServiceCode", "ExternalServiceEditionCode", "FileName",
                                        "FileReference", "FileSize", "FileStatus", "IsSftpDownloadOnly",
                                        "ReceiptID", "Reportee", "SendersReference", "SentDate"},
                                       order::any);
        available_file f;
        f.service_code = detail::optional_text(m[0]);
        auto edition = detail::optional_int32(m[1], path + "ExternalServiceEditionCode", ctx);
        if (!edition)
            return edition.error();
        f.service_edition = *edition;
        f.file_name = detail::optional_text(m[2]);
        f.file_reference = detail::optional_text(m[3]);
        if (f.file_reference && !is_uuid(*f.file_reference))
            return ctx.malformed(path + "FileReference is not a GUID: '" + f.file_reference->substr(0, 60) +
                                 "'");
        auto size = detail::optional_int64(m[4], path + "FileSize", ctx);
        if (!size)
            return size.error();
        f.file_size = *size;
        if (m[5] != nullptr && !detail::is_nil(*m[5])) {
            auto status = parse_status(m[5], path + "FileStatus", ctx);
            if (!status)
                return status.error();
            f.status = *status;
        }
        auto sftp = detail::optional_bool(m[6], path + "IsSftpDownloadOnly", ctx);
        if (!sftp)
            return sftp.error();
        f.sftp_download_only = *sftp;
        auto receipt = detail::optional_int32(m[7], path + "ReceiptID", ctx);
        if (!receipt)
            return receipt.error();
        f.receipt_id = *receipt;
        f.reportee = detail::optional_text(m[8]);
        f.senders_reference = detail::optional_text(m[9]);
        f.sent_date = detail::optional_text(m[10]);
        files.push_back(std::move(f));
    }
    return files;
}

result<upload_receipt> read_upload_response(std::string_view envelope) {
    auto el = response_element(envelope, ns::service, "ReceiptExternalStreamedBE");
    if (!el)
        return el.error();
    const auto ctx = response("ReceiptExternalStreamedBE");
    const auto m = detail::members(*el, ns::service,
                                   {"LastChanged", "ParentReceiptId", "ReceiptHistory", "ReceiptId",
                                    "ReceiptStatusCode", "ReceiptText", "ReceiptTypeName"},
                                   order::any);
    upload_receipt r;
    r.last_changed = detail::optional_text(m[0]);
    auto parent = detail::optional_int32(m[1], "ParentReceiptId", ctx);
    if (!parent)
        return parent.error();
    r.parent_receipt_id = *parent;
    r.receipt_history = detail::optional_text(m[2]);
    auto id = detail::optional_int32(m[3], "ReceiptId", ctx);
    if (!id)
        return id.error();
    r.receipt_id = *id;
    r.status_code = detail::optional_text(m[4]);
    r.text = detail::optional_text(m[5]);
    r.type_name = detail::optional_text(m[6]);
    if (!r.status_code)
        return ctx.malformed("ReceiptStatusCode is missing, so the upload's outcome is unknown");
    if (*r.status_code != "OK") {
        // UnExpectedError is Altinn's own trouble; ValidationFailed and Rejected judge the file.
        const bool transient = *r.status_code == "UnExpectedError";
        return make_error(errc::receipt_not_ok,
                          "upload receipt " + std::to_string(r.receipt_id.value_or(0)) + " has status " +
                              r.status_code->substr(0, 60) +
                              (r.text ? ": " + r.text->substr(0, 500) : std::string()),
                          transient ? retry::yes : retry::no);
    }
    return r;
}

result<std::string> read_download_response(std::string_view envelope) {
    auto el = response_element(envelope, ns::service, "DownloadFileStreamedBasicResponse");
    if (!el)
        return el.error();
    const auto ctx = response("DownloadFileStreamedBasicResponse");
    const auto* result_el = el->child(ns::service, "DownloadFileStreamedBasicResult");
    if (result_el == nullptr)
        return ctx.malformed("DownloadFileStreamedBasicResult is missing");
    return include_href(*result_el, "DownloadFileStreamedBasicResult", ctx);
}

result<void> read_confirm_response(std::string_view envelope) {
    auto el = response_element(envelope, ns::service, "ConfirmDownloadedBasicResponse");
    if (!el)
        return el.error();
    return {};
}

std::optional<soap_fault> parse_fault(std::string_view envelope) {
    auto doc = xml::parse(envelope);
    if (!doc || doc->ns != ns::soap || doc->local != "Envelope")
        return std::nullopt;
    return detail::fault_of(*doc);
}

// ---- server: requests -------------------------------------------------------------------

result<initiate_request> read_initiate_request(std::string_view envelope) {
    auto el = request_element(envelope, "InitiateBrokerServiceBasic");
    if (!el)
        return el.error();
    const auto ctx = request("InitiateBrokerServiceBasic");
    const auto m = detail::members(
        *el, ns::service, {"systemUserName", "systemPassword", "brokerServiceInitiation"}, order::wcf);
    initiate_request r;
    r.account = {parameter(m[0]), parameter(m[1])};
    if (m[2] == nullptr || detail::is_nil(*m[2]))
        return ctx.malformed("brokerServiceInitiation is missing");
    const auto init = detail::members(*m[2], ns::contracts, {"Manifest", "RecipientList"}, order::wcf);
    if (init[0] == nullptr || detail::is_nil(*init[0]))
        return ctx.malformed("brokerServiceInitiation/Manifest is missing");
    const auto manifest = detail::members(*init[0], ns::contracts,
                                          {"ExternalServiceCode", "ExternalServiceEditionCode", "FileList",
                                           "PropertyList", "Reportee", "SendersReference"},
                                          order::wcf);
    const std::string mp = "brokerServiceInitiation/Manifest/";
    auto code = required_member(manifest[0], mp + "ExternalServiceCode", ctx);
    if (!code)
        return code.error();
    if (manifest[1] == nullptr)
        return ctx.malformed(mp + "ExternalServiceEditionCode is missing");
    auto edition = detail::optional_int32(manifest[1], mp + "ExternalServiceEditionCode", ctx);
    if (!edition)
        return edition.error();
    r.service = {*code, edition->value_or(0)};
    if (manifest[2] != nullptr && !detail::is_nil(*manifest[2])) {
        for (const auto* file : manifest[2]->children_named(ns::contracts, "File")) {
            const auto f = detail::members(*file, ns::contracts, {"CheckSum", "FileName"}, order::wcf);
            auto name = required_member(f[1], mp + "FileList/File/FileName", ctx);
            if (!name)
                return name.error();
            r.file_names.push_back(*name);
        }
    }
    auto reportee = required_member(manifest[4], mp + "Reportee", ctx);
    if (!reportee)
        return reportee.error();
    r.reportee = *reportee;
    auto reference = required_member(manifest[5], mp + "SendersReference", ctx);
    if (!reference)
        return reference.error();
    r.senders_reference = *reference;
    if (init[1] == nullptr)
        return ctx.malformed("brokerServiceInitiation/RecipientList is missing");
    if (!detail::is_nil(*init[1])) {
        for (const auto* recipient : init[1]->children_named(ns::contracts, "Recipient")) {
            const auto p = detail::members(*recipient, ns::contracts, {"PartyNumber"}, order::wcf);
            auto party =
                required_member(p[0], "brokerServiceInitiation/RecipientList/Recipient/PartyNumber", ctx);
            if (!party)
                return party.error();
            r.recipients.push_back(*party);
        }
    }
    return r;
}

result<check_request> read_check_request(std::string_view envelope) {
    auto el = request_element(envelope, "CheckIfAvailableFilesBasic");
    if (!el)
        return el.error();
    const auto ctx = request("CheckIfAvailableFilesBasic");
    const auto m =
        detail::members(*el, ns::service, {"systemUserName", "systemPassword", "pollParameters"}, order::wcf);
    check_request r;
    r.account = {parameter(m[0]), parameter(m[1])};
    if (m[2] == nullptr || detail::is_nil(*m[2]))
        return ctx.malformed("pollParameters is missing");
    const auto p = detail::members(
        *m[2], ns::poll, {"ExternalServiceCode", "ExternalServiceEditionCode", "Recipients"}, order::wcf);
    auto service = optional_service(p[0], p[1], "pollParameters", ctx);
    if (!service)
        return service.error();
    r.service = *service;
    if (p[2] == nullptr)
        return ctx.malformed("pollParameters/Recipients is missing");
    if (!detail::is_nil(*p[2]))
        for (const auto* s : p[2]->children_named(ns::arrays, "string"))
            r.recipients.push_back(detail::optional_text(s).value_or(std::string()));
    return r;
}

result<list_request> read_list_request(std::string_view envelope) {
    auto el = request_element(envelope, "GetAvailableFilesBasic");
    if (!el)
        return el.error();
    const auto ctx = request("GetAvailableFilesBasic");
    const auto m = detail::members(*el, ns::service, {"systemUserName", "systemPassword", "searchParameters"},
                                   order::wcf);
    list_request r;
    r.account = {parameter(m[0]), parameter(m[1])};
    if (m[2] == nullptr || detail::is_nil(*m[2]))
        return ctx.malformed("searchParameters is missing");
    const auto s = detail::members(*m[2], ns::contracts,
                                   {"ExternalServiceCode", "ExternalServiceEditionCode", "FileStatus",
                                    "MaxSentDateTime", "MinSentDateTime", "Reportee"},
                                   order::wcf);
    auto service = optional_service(s[0], s[1], "searchParameters", ctx);
    if (!service)
        return service.error();
    r.service = *service;
    auto status = parse_status(s[2], "searchParameters/FileStatus", ctx);
    if (!status)
        return status.error();
    r.status = *status;
    r.max_sent = detail::optional_text(s[3]);
    r.min_sent = detail::optional_text(s[4]);
    auto reportee = required_member(s[5], "searchParameters/Reportee", ctx);
    if (!reportee)
        return reportee.error();
    r.reportee = *reportee;
    return r;
}

namespace {

result<file_request> read_file_request(std::string_view envelope, std::string_view operation) {
    auto el = request_element(envelope, operation);
    if (!el)
        return el.error();
    const auto m = detail::members(
        *el, ns::service, {"systemUserName", "systemPassword", "fileReference", "reportee"}, order::wcf);
    return file_request{{parameter(m[0]), parameter(m[1])}, parameter(m[2]), parameter(m[3])};
}

} // namespace

result<download_request> read_download_request(std::string_view envelope) {
    return read_file_request(envelope, "DownloadFileStreamedBasic");
}

result<confirm_request> read_confirm_request(std::string_view envelope) {
    return read_file_request(envelope, "ConfirmDownloadedBasic");
}

result<upload_envelope> read_upload_envelope(std::string_view envelope) {
    const auto ctx = request("UploadFileStreamedBasic");
    auto env = detail::parse_envelope(envelope, ctx);
    if (!env)
        return env.error();
    upload_envelope out;
    if (const auto* header = env->child(ns::soap, "Header")) {
        const auto h = detail::members(
            *header, ns::service, {"FileName", "Reference", "Reportee", "SystemPassword", "SystemUserName"},
            order::any);
        out.headers.file_name = parameter(h[0]);
        out.headers.reference = parameter(h[1]);
        out.headers.reportee = parameter(h[2]);
        out.headers.account = {parameter(h[4]), parameter(h[3])};
    }
    auto payload = detail::take_body_child(*env, ns::service, "StreamedPayloadBasicBE", ctx);
    if (!payload)
        return payload.error();
    const auto* data = payload->child(ns::service, "DataStream");
    if (data != nullptr && data->child(ns::xop, "Include") != nullptr) {
        auto id = include_href(*data, "StreamedPayloadBasicBE/DataStream", ctx);
        if (!id)
            return id.error();
        out.attachment_content_id = std::move(*id);
    }
    return out;
}

// ---- server: responses ------------------------------------------------------------------

result<std::string> write_initiate_response(std::string_view reference) {
    xml_writer w;
    w.raw(detail::envelope_open)
        .raw(body_open)
        .raw(open_tag("InitiateBrokerServiceBasicResponse", {{"", ns::service}}));
    w.leaf("InitiateBrokerServiceBasicResult", "InitiateBrokerServiceBasicResult", reference);
    w.raw("</InitiateBrokerServiceBasicResponse>").raw(body_close).raw(detail::envelope_close);
    return w.finish();
}

std::string write_check_response(bool available) {
    return wrap_body(open_tag("CheckIfAvailableFilesBasicResponse", {{"", ns::service}}) +
                     "<CheckIfAvailableFilesBasicResult>" + (available ? "true" : "false") +
                     "</CheckIfAvailableFilesBasicResult></CheckIfAvailableFilesBasicResponse>");
}

result<std::string> write_list_response(const std::vector<available_file>& files) {
    xml_writer w;
    w.raw(detail::envelope_open)
        .raw(body_open)
        .raw(open_tag("GetAvailableFilesBasicResponse", {{"", ns::service}}));
    w.raw(open_tag("GetAvailableFilesBasicResult", {{"a", ns::contracts}, {"i", ns::xsi}}));
    auto string_member = [&w](std::string_view qname, std::string_view field,
                              const std::optional<std::string>& v) {
        if (v)
            w.leaf(qname, field, *v);
        else
            w.nil(qname);
    };
    auto value_member = [&w](std::string_view qname, const std::optional<std::string>& v) {
        if (v)
            w.leaf(qname, qname, *v);
    };
    auto number = [](const auto& v) {
        return v ? std::optional<std::string>(detail::to_string(*v)) : std::optional<std::string>();
    };
    for (const auto& f : files) {
        w.raw("<a:BrokerServiceAvailableFile>");
        string_member("a:ExternalServiceCode", "ExternalServiceCode", f.service_code);
        value_member("a:ExternalServiceEditionCode", number(f.service_edition));
        string_member("a:FileName", "FileName", f.file_name);
        value_member("a:FileReference", f.file_reference);
        value_member("a:FileSize", number(f.file_size));
        if (f.status)
            w.leaf("a:FileStatus", "FileStatus", status_name(*f.status));
        if (f.sftp_download_only)
            w.leaf("a:IsSftpDownloadOnly", "IsSftpDownloadOnly", *f.sftp_download_only ? "true" : "false");
        value_member("a:ReceiptID", number(f.receipt_id));
        string_member("a:Reportee", "Reportee", f.reportee);
        string_member("a:SendersReference", "SendersReference", f.senders_reference);
        value_member("a:SentDate", f.sent_date);
        w.raw("</a:BrokerServiceAvailableFile>");
    }
    w.raw("</GetAvailableFilesBasicResult></GetAvailableFilesBasicResponse>")
        .raw(body_close)
        .raw(detail::envelope_close);
    return w.finish();
}

result<std::string> write_upload_response(const upload_receipt& r) {
    xml_writer w;
    w.raw(detail::envelope_open)
        .raw(body_open)
        .raw(open_tag("ReceiptExternalStreamedBE", {{"", ns::service}, {"i", ns::xsi}}));
    auto string_member = [&w](std::string_view name, const std::optional<std::string>& v) {
        if (v)
            w.leaf(name, name, *v);
        else
            w.nil(name);
    };
    auto int_member = [&w](std::string_view name, const std::optional<std::int32_t>& v) {
        if (v)
            w.leaf(name, name, detail::to_string(*v));
    };
    string_member("LastChanged", r.last_changed);
    int_member("ParentReceiptId", r.parent_receipt_id);
    string_member("ReceiptHistory", r.receipt_history);
    int_member("ReceiptId", r.receipt_id);
    string_member("ReceiptStatusCode", r.status_code);
    string_member("ReceiptText", r.text);
    string_member("ReceiptTypeName", r.type_name);
    w.raw("</ReceiptExternalStreamedBE>").raw(body_close).raw(detail::envelope_close);
    return w.finish();
}

result<std::string> write_download_response(std::string_view attachment_content_id) {
    xml_writer w;
    w.raw(detail::envelope_open)
        .raw(body_open)
        .raw(open_tag("DownloadFileStreamedBasicResponse", {{"", ns::service}}));
    w.raw("<DownloadFileStreamedBasicResult><xop:Include xmlns:xop=\"").raw(ns::xop).raw("\" href=\"");
    w.attribute_value("attachment Content-ID", mtom::cid_href(attachment_content_id));
    w.raw("\"/></DownloadFileStreamedBasicResult></DownloadFileStreamedBasicResponse>");
    w.raw(body_close).raw(detail::envelope_close);
    return w.finish();
}

std::string write_confirm_response() {
    return wrap_body("<ConfirmDownloadedBasicResponse xmlns=\"" + std::string(ns::service) + "\"/>");
}

result<std::string> write_fault(const soap_fault& fault) {
    xml_writer w;
    w.raw(detail::envelope_open).raw(body_open).raw("<s:Fault><faultcode>");
    const std::string code = fault.code.empty() ? "Server" : fault.code;
    if (code.find(':') == std::string::npos)
        w.raw("s:");
    w.text("faultcode", code);
    w.raw("</faultcode><faultstring xml:lang=\"nb-NO\">")
        .text("faultstring", fault.text)
        .raw("</faultstring>");
    if (fault.detail) {
        const auto& d = *fault.detail;
        w.raw("<detail>").raw(open_tag("AltinnFault", {{"", ns::fault}, {"i", ns::xsi}}));
        auto member = [&w](std::string_view name, const std::optional<std::string>& v) {
            if (v)
                w.leaf(name, name, *v);
            else
                w.nil(name);
        };
        member("AltinnErrorMessage", d.error_message);
        member("AltinnExtendedErrorMessage", d.extended_error_message);
        member("AltinnLocalizedErrorMessage", d.localized_error_message);
        member("ErrorGuid", d.error_guid);
        if (d.error_id)
            w.leaf("ErrorID", "ErrorID", detail::to_string(*d.error_id));
        member("UserGuid", d.user_guid);
        member("UserId", d.user_id);
        w.raw("</AltinnFault></detail>");
    }
    w.raw("</s:Fault>").raw(body_close).raw(detail::envelope_close);
    return w.finish();
}

soap_fault make_fault(int error_id, std::string message) {
    altinn_fault d;
    d.error_message = message;
    d.extended_error_message = "No information available";
    d.localized_error_message = message;
    d.error_guid = random_uuid();
    d.error_id = error_id;
    d.user_guid = "-no value-";
    d.user_id = "0";
    return soap_fault{"Client", std::move(message), std::move(d)};
}

} // namespace kurer::altinn2

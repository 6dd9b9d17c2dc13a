#include <kurer/altinn2/messages.hpp>

namespace kurer::altinn2 {

initiate_request initiate_for(const config& c, std::string reportee, std::string senders_reference,
                              std::string recipient, std::string file_name) {
    initiate_request r;
    r.account = c.account;
    r.service = c.service;
    r.reportee = std::move(reportee);
    r.senders_reference = std::move(senders_reference);
    r.recipients.push_back(std::move(recipient));
    r.file_names.push_back(std::move(file_name));
    return r;
}

upload_request upload_for(const config& c, std::string reference, std::string reportee,
                          std::string file_name) {
    upload_request r;
    r.account = c.account;
    r.file_name = std::move(file_name);
    r.reference = std::move(reference);
    r.reportee = std::move(reportee);
    return r;
}

check_request check_for(const config& c, std::string recipient) {
    check_request r;
    r.account = c.account;
    r.service = c.service; // without it Altinn looks only at files stored in Altinn 2 itself
    r.recipients.push_back(std::move(recipient));
    return r;
}

list_request list_for(const config& c, std::string recipient) {
    list_request r;
    r.account = c.account;
    r.service = c.service;
    r.status = file_status::uploaded;
    r.reportee = std::move(recipient);
    return r;
}

file_request file_request_for(const config& c, std::string file_reference, std::string recipient) {
    return file_request{c.account, std::move(file_reference), std::move(recipient)};
}

} // namespace kurer::altinn2

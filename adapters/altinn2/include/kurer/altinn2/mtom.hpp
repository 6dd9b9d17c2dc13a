// MTOM/XOP framing (multipart/related) for the streamed broker service, without any I/O of
// its own: the writer describes a body as pieces the HTTP layer sends one after another (or
// pulls through body_reader), and the parser is fed whatever chunks arrive.
//
// Writing: a root part (the SOAP envelope, application/xop+xml; type="text/xml") and
// attachments whose bytes come from memory or are streamed from a file range, never loaded
// whole. The total length is known up front (files are measured when the body is described).
//
// Reading: the parser takes the HTTP Content-Type (multipart/related, or a plain text/xml SOAP
// answer such as a non-MTOM fault), finds the boundary, reads each part's headers, keeps the
// root part in memory up to a limit and streams every other part to a part_sink (a file)
// without buffering it. Its own buffer never holds more than one fed chunk plus a boundary.
#pragma once

#include <kurer/core/error.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace kurer::altinn2::mtom {

// ---- media types and Content-IDs --------------------------------------------------------

// A Content-Type value: lower-cased type/subtype and its parameters (names lower-cased,
// quoted values unquoted).
struct media_type {
    std::string type;
    std::vector<std::pair<std::string, std::string>> parameters;

    std::optional<std::string_view> parameter(std::string_view name) const noexcept;
};
result<media_type> parse_media_type(std::string_view value);

// "cid:" + the Content-ID percent-encoded where RFC 2392 asks for it.
std::string cid_href(std::string_view content_id);
// The Content-ID a cid: URL names (percent-decoded); an error for anything but a cid: URL.
result<std::string> content_id_from_href(std::string_view href);
// A Content-ID header value without its angle brackets and surrounding blanks.
std::string_view bare_content_id(std::string_view header_value) noexcept;

// ---- writing ----------------------------------------------------------------------------

struct file_range {
    std::filesystem::path path;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};
// One stretch of the body: bytes in memory, or a range of a file to stream.
using piece = std::variant<std::string, file_range>;

struct attachment {
    std::string content_id; // without angle brackets
    std::string content_type = "application/octet-stream";
    std::variant<std::string, std::filesystem::path> source; // the bytes, or a file to stream
};

struct writer_options {
    std::string boundary;        // empty: "uuid:" + a fresh UUID
    std::string root_content_id; // empty: a fresh "<uuid>@kurer"
};

struct message {
    std::string content_type; // the HTTP Content-Type header value
    std::vector<piece> pieces;
    std::uint64_t content_length = 0;
    std::string root_content_id;
};

// Describes a multipart/related body: the root envelope, then the attachments. An attachment
// file is measured now and read later; the file must not change until the body is sent.
result<message> write(std::string root_envelope, std::vector<attachment> attachments,
                      const writer_options& options = {});

// A fresh Content-ID for an attachment ("<uuid>@kurer").
std::string make_content_id();

// Pulls a message's bytes in order into caller buffers; files are read with pread, one
// buffer at a time. Blocking (file reads): run it off the I/O threads.
class body_reader {
public:
    explicit body_reader(const message& m); // `m` must outlive the reader
    ~body_reader();
    body_reader(body_reader&&) noexcept;
    body_reader& operator=(body_reader&&) noexcept;
    body_reader(const body_reader&) = delete;
    body_reader& operator=(const body_reader&) = delete;

    // Fills `out` as far as possible; 0 once the whole body has been read. A file that has
    // become shorter than when the message was described is an errc::file_error.
    result<std::size_t> read(std::span<char> out);
    std::uint64_t bytes_read() const noexcept { return total_; }

private:
    void close_file() noexcept;

    const message* message_;
    std::size_t piece_ = 0;
    std::uint64_t offset_ = 0; // within the current piece
    std::uint64_t total_ = 0;
    int fd_ = -1;
};

// ---- reading ----------------------------------------------------------------------------

struct part_headers {
    std::string content_id;        // without angle brackets; empty when the part has none
    std::string content_type;      // as sent
    std::string transfer_encoding; // lower-cased; empty when not sent
};

// Where the parser puts every part except the root, as it arrives.
class part_sink {
public:
    virtual ~part_sink() = default;
    virtual result<void> open(const part_headers& part) = 0;
    virtual result<void> write(std::string_view bytes) = 0;
    virtual result<void> close() = 0; // the part's closing boundary was seen
};

// Writes the one attachment a response carries to a file (created 0600, truncated), and
// fsyncs it on close when asked. A second attachment is an error. On failure the partial
// file stays for the caller to remove.
class file_sink final : public part_sink {
public:
    explicit file_sink(std::filesystem::path path, bool sync_on_close = false);
    ~file_sink() override;
    file_sink(const file_sink&) = delete;
    file_sink& operator=(const file_sink&) = delete;

    result<void> open(const part_headers& part) override;
    result<void> write(std::string_view bytes) override;
    result<void> close() override;

    std::uint64_t bytes_written() const noexcept { return written_; }
    const std::filesystem::path& path() const noexcept { return path_; }

private:
    std::filesystem::path path_;
    bool sync_;
    int fd_ = -1;
    bool used_ = false;
    std::uint64_t written_ = 0;
};

// Keeps parts in memory up to a total size: for tests and small attachments.
class memory_sink final : public part_sink {
public:
    explicit memory_sink(std::size_t max_total_bytes = 16 * 1024 * 1024)
        : max_(max_total_bytes) {}

    result<void> open(const part_headers& part) override;
    result<void> write(std::string_view bytes) override;
    result<void> close() override;

    struct part {
        part_headers headers;
        std::string body;
        bool closed = false;
    };
    const std::vector<part>& parts() const noexcept { return parts_; }

private:
    std::size_t max_;
    std::size_t total_ = 0;
    std::vector<part> parts_;
};

struct limits {
    std::size_t max_root_bytes = 4 * 1024 * 1024; // the SOAP envelope
    std::size_t max_header_bytes = 16 * 1024;     // one part's header block
    std::size_t max_parts = 8;
    std::uint64_t max_attachment_bytes = 0; // per part; 0 = no limit
};

struct received_part {
    part_headers headers;
    std::uint64_t size = 0;
};

class parser {
public:
    // `content_type` is the HTTP Content-Type: multipart/related (MTOM) or text/xml (a plain
    // SOAP message, kept whole as the root). Non-root parts go to `sink`; with no sink they
    // are counted and dropped. The sink must outlive the parser.
    static result<parser> create(std::string_view content_type, part_sink* sink, const limits& lim = {});

    // Feeds the next bytes of the body. After an error every call returns that error again.
    result<void> feed(std::string_view bytes);
    // The body has ended: a missing closing boundary or a missing root part is an error.
    result<void> finish();

    bool is_multipart() const noexcept { return multipart_; }
    // The root part is complete (all of it has arrived), e.g. for a sink to look at it.
    bool root_complete() const noexcept { return root_complete_; }
    const std::string& root() const noexcept { return root_; }
    const part_headers& root_headers() const noexcept { return root_headers_; }
    // The non-root parts seen so far, in order.
    const std::vector<received_part>& attachments() const noexcept { return attachments_; }
    const received_part* find_attachment(std::string_view content_id) const noexcept;
    // The most bytes the parser held at once (its own buffer, not counting the root part).
    std::size_t buffer_high_water() const noexcept { return high_water_; }

private:
    enum class state { preamble, boundary_line, headers, body, epilogue };
    enum class part_kind { root, attachment, dropped };

    parser() = default;
    result<void> process();
    result<void> start_part();
    result<void> end_part();
    result<void> emit(std::string_view bytes);
    result<void> fail(error e);

    bool multipart_ = false;
    limits limits_;
    part_sink* sink_ = nullptr;
    std::string delimiter_; // CRLF "--" boundary
    std::string start_;     // the root's Content-ID from the start parameter; empty = first part
    state state_ = state::preamble;
    std::string buffer_;
    std::size_t high_water_ = 0;
    std::string header_block_;
    part_headers current_;
    part_kind kind_ = part_kind::dropped;
    std::uint64_t part_size_ = 0;
    std::size_t parts_ = 0;
    bool root_seen_ = false;
    bool root_complete_ = false;
    std::string root_;
    part_headers root_headers_;
    std::vector<received_part> attachments_;
    std::optional<error> failure_;
};

} // namespace kurer::altinn2::mtom

// Reading what clients upload: Content-Disposition, document names, and multipart/form-data
// bodies parsed as they stream in (a part's data goes straight to its sink, never whole in memory).
#pragma once

#include <kurer/core/error.hpp>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace kurer::engine::admin {

struct content_disposition {
    std::string type;                // "attachment", "form-data", ... (lower case)
    std::optional<std::string> name; // the title (PUT) or the form field (multipart)
    std::optional<std::string>
        filename; // filename*= (RFC 5987/6266, UTF-8 or ISO-8859-1) wins over filename=
};

// `attachment; name="Brev"; filename="brev.pdf"`: parameters in any order, tokens or quoted
// strings, case-insensitive names. The error says what is malformed.
result<content_disposition> parse_content_disposition(std::string_view header);

// The boundary of a multipart/form-data Content-Type; nullopt when it is not one.
std::optional<std::string> multipart_boundary(std::string_view content_type);

// Why `name` cannot be a document's name in the ASiC-E, or nullopt when it can: empty, longer
// than 255 bytes, not UTF-8, control characters, a path (/ or \), ".", "..", a leading dot,
// META-INF/..., or a name the container itself uses (mimetype, manifest.xml).
std::optional<std::string> bad_document_name(std::string_view name);

// Incremental multipart/form-data parser (RFC 7578 over RFC 2046 framing).
class multipart_parser {
public:
    struct part_head {
        content_disposition disposition;
        std::string content_type; // "" when the part has none
    };
    struct handlers {
        std::function<result<void>(const part_head&)> begin;
        std::function<result<void>(std::string_view)> data; // any number of calls per part
        std::function<result<void>()> end;
    };
    struct limits {
        std::size_t max_header_bytes = 16 * 1024; // one part's header block
        std::size_t max_parts = 1000;
    };

    multipart_parser(std::string boundary, handlers h, limits lim);
    multipart_parser(std::string boundary, handlers h)
        : multipart_parser(std::move(boundary), std::move(h), limits{}) {}

    // Feeds the next bytes of the body; a handler's error stops parsing and is returned.
    result<void> feed(std::string_view bytes);
    // The body is complete: an error unless the closing boundary was seen.
    result<void> finish();

    std::size_t parts() const noexcept { return parts_; }

private:
    enum class stage { preamble, after_delimiter, headers, data, done };
    result<void> run();
    result<void> start_part(std::string_view header_block);

    std::string delimiter_; // "\r\n--" + boundary
    handlers h_;
    limits lim_;
    stage stage_ = stage::preamble;
    std::string buffer_;
    std::size_t parts_ = 0;
};

} // namespace kurer::engine::admin

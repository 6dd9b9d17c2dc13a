// Beast Body types behind body_source and the file/callback sinks (internal).
#pragma once

#include <kurer/http/body.hpp>
#include <kurer/http/error.hpp>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kurer::http::detail {

// body_source with every file length fixed, as sent.
struct resolved_source {
    struct file_part {
        std::filesystem::path path;
        std::uint64_t offset = 0;
        std::uint64_t length = 0;
    };
    using part = std::variant<std::string, file_part>;
    std::vector<part> parts;
    body_source::generator generator;
    std::optional<std::uint64_t> length; // nullopt: generator without declared length
    bool chunked = false;
    bool empty = true;
};

// Measures files (moving the memory parts, not copying them); fails when a file is missing or
// shorter than its range.
result<resolved_source> resolve(body_source body);

// Sends a resolved_source. Files are read 64 KiB at a time with pread.
struct source_body {
    struct value_type {
        std::shared_ptr<const resolved_source> source;
        std::shared_ptr<std::string> failure = std::make_shared<std::string>(); // why a read failed
    };

    class writer {
    public:
        using const_buffers_type = boost::asio::const_buffer;

        template <bool isRequest, class Fields>
        writer(const boost::beast::http::header<isRequest, Fields>&, const value_type& v)
            : body_(v) {}
        ~writer();
        writer(const writer&) = delete;
        writer& operator=(const writer&) = delete;

        void init(boost::system::error_code& ec);
        boost::optional<std::pair<const_buffers_type, bool>> get(boost::system::error_code& ec);

    private:
        void fail(boost::system::error_code& ec, std::string why);

        const value_type& body_;
        std::size_t part_ = 0;
        std::uint64_t done_in_part_ = 0;
        int fd_ = -1;
        std::unique_ptr<char[]> buffer_;
    };
};

// Receives a body into an open file descriptor, refusing more than `limit` bytes.
struct fd_sink_body {
    struct value_type {
        value_type() = default;
        value_type(value_type&& other) noexcept;
        value_type& operator=(value_type&& other) noexcept;
        ~value_type();
        int fd = -1;
        std::uint64_t limit = 0; // 0: unlimited
        std::uint64_t written = 0;
        std::string path;    // for messages
        std::string failure; // why a write failed
    };

    class reader {
    public:
        template <bool isRequest, class Fields>
        reader(boost::beast::http::header<isRequest, Fields>&, value_type& v)
            : body_(v) {}
        void init(const boost::optional<std::uint64_t>& length, boost::system::error_code& ec);
        template <class ConstBufferSequence>
        std::size_t put(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
            std::size_t n = 0;
            for (auto it = boost::asio::buffer_sequence_begin(buffers);
                 it != boost::asio::buffer_sequence_end(buffers); ++it) {
                const boost::asio::const_buffer b = *it;
                if (!write(static_cast<const char*>(b.data()), b.size(), ec))
                    return n;
                n += b.size();
            }
            return n;
        }
        void finish(boost::system::error_code& ec) { ec = {}; }

    private:
        bool write(const char* data, std::size_t size, boost::system::error_code& ec);
        value_type& body_;
    };
};

// Hands each received chunk to a callback.
struct callback_sink_body {
    struct value_type {
        std::function<result<void>(std::string_view)> on_chunk;
        std::uint64_t limit = 0; // 0: unlimited
        std::uint64_t received = 0;
        std::optional<error> failure;
    };

    class reader {
    public:
        template <bool isRequest, class Fields>
        reader(boost::beast::http::header<isRequest, Fields>&, value_type& v)
            : body_(v) {}
        void init(const boost::optional<std::uint64_t>&, boost::system::error_code& ec) { ec = {}; }
        template <class ConstBufferSequence>
        std::size_t put(const ConstBufferSequence& buffers, boost::system::error_code& ec) {
            std::size_t n = 0;
            for (auto it = boost::asio::buffer_sequence_begin(buffers);
                 it != boost::asio::buffer_sequence_end(buffers); ++it) {
                const boost::asio::const_buffer b = *it;
                if (!deliver(static_cast<const char*>(b.data()), b.size(), ec))
                    return n;
                n += b.size();
            }
            return n;
        }
        void finish(boost::system::error_code& ec) { ec = {}; }

    private:
        bool deliver(const char* data, std::size_t size, boost::system::error_code& ec);
        value_type& body_;
    };
};

// Opens (creating 0600) a file for a sink body.
result<int> open_sink_file(const std::filesystem::path& path, bool append);

} // namespace kurer::http::detail

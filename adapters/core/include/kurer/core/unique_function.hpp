// A move-only callable: std::function wants copyable targets, and completion handlers are not.
// (std::move_only_function is C++23.)
#pragma once

#include <memory>
#include <utility>

namespace kurer {

template <class Signature>
class unique_function;

template <class R, class... Args>
class unique_function<R(Args...)> {
public:
    unique_function() = default;
    template <class F>
    requires(!std::is_same_v<std::decay_t<F>, unique_function>) unique_function(F f)
        : impl_(std::make_unique<model<F>>(std::move(f))) {}
    R operator()(Args... args) { return impl_->call(std::forward<Args>(args)...); }
    explicit operator bool() const noexcept { return impl_ != nullptr; }

private:
    struct base {
        virtual ~base() = default;
        virtual R call(Args... args) = 0;
    };
    template <class F>
    struct model final : base {
        explicit model(F fn)
            : f(std::move(fn)) {}
        R call(Args... args) override { return f(std::forward<Args>(args)...); }
        F f;
    };
    std::unique_ptr<base> impl_;
};

} // namespace kurer

// Errors reported by libweft.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <system_error>

namespace weft {

// A failed netlink exchange or system call. code() carries the errno; for a
// rejection by the kernel the extended ACK is kept too: the kernel's message,
// the name of the attribute at the error offset and the name of a missing
// attribute, each empty when the kernel did not report it.
//
// what() reads like iproute2's error lines, for example
//   "Numerical result out of range: integer out of range (attribute WEFT_DEV_A_VNI)".
class Error : public std::system_error {
public:
    // A kernel rejection (from the extended ACK); `offset` is the ACK's
    // NLMSGERR_ATTR_OFFS into the request, if it carried one.
    Error(int errnum, std::string kernel_message, std::string attribute,
          std::string missing_attribute, std::optional<std::uint32_t> offset = std::nullopt);
    // A local failure: "context: strerror", or strerror alone if context is empty.
    Error(int errnum, const std::string& context);

    int errnum() const noexcept { return code().value(); }
    const std::string& kernel_message() const noexcept { return kernel_message_; }
    const std::string& attribute() const noexcept { return attribute_; }
    const std::string& missing_attribute() const noexcept { return missing_attribute_; }
    std::optional<std::uint32_t> offset() const noexcept { return offset_; }

    const char* what() const noexcept override { return text_.c_str(); }

protected:
    // An error whose what() is `text` as given.
    struct Verbatim {};
    Error(Verbatim, int errnum, std::string text);

private:
    std::string kernel_message_;
    std::string attribute_;
    std::string missing_attribute_;
    std::optional<std::uint32_t> offset_;
    std::string text_;
};

// A bulk request (several WEFT_A_ROUTE nests) failed at one of its items.
// index() counts from the first item the caller passed: the items before it
// were applied, the ones after it were not looked at.
class BulkError : public Error {
public:
    BulkError(const Error& error, std::size_t index) : Error(error), index_(index) {}
    std::size_t index() const noexcept { return index_; }

private:
    std::size_t index_;
};

// The generic netlink family "weft" is not registered: the module is not
// loaded (or the netns is not the one the caller meant).
class FamilyNotFound : public Error {
public:
    FamilyNotFound();
};

// A reply from the kernel that does not follow the UAPI (truncated or
// mis-sized attributes, missing header). Its errno is EBADMSG.
class MalformedMessage : public Error {
public:
    explicit MalformedMessage(const std::string& detail);
};

} // namespace weft

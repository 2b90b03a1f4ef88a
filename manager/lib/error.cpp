// weft::Error and its kinds.
#include <cerrno>
#include <cstring>

#include <weft/error.hpp>

namespace weft {

namespace {

std::string kernel_text(int errnum, const std::string& message, const std::string& attribute,
                        const std::string& missing) {
    std::string text = std::strerror(errnum);
    if (!message.empty()) {
        text += ": " + message;
    }
    if (!attribute.empty()) {
        text += " (attribute " + attribute + ")";
    }
    if (!missing.empty()) {
        text += " (missing attribute " + missing + ")";
    }
    return text;
}

} // namespace

Error::Error(int errnum, std::string kernel_message, std::string attribute,
             std::string missing_attribute, std::optional<std::uint32_t> offset)
    : std::system_error(errnum, std::generic_category()),
      kernel_message_(std::move(kernel_message)), attribute_(std::move(attribute)),
      missing_attribute_(std::move(missing_attribute)), offset_(offset),
      text_(kernel_text(errnum, kernel_message_, attribute_, missing_attribute_)) {}

Error::Error(int errnum, const std::string& context)
    : std::system_error(errnum, std::generic_category()),
      text_(context.empty() ? std::string(std::strerror(errnum))
                            : context + ": " + std::strerror(errnum)) {}

Error::Error(Verbatim, int errnum, std::string text)
    : std::system_error(errnum, std::generic_category()), text_(std::move(text)) {}

FamilyNotFound::FamilyNotFound()
    : Error(Verbatim{}, ENOENT,
            "the weft generic netlink family is not available: is weft.ko loaded?") {}

MalformedMessage::MalformedMessage(const std::string& detail)
    : Error(EBADMSG, "malformed netlink message: " + detail) {}

} // namespace weft

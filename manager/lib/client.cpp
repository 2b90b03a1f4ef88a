// The typed client of the weft family.
#include <cerrno>

#include <linux/weft.h>

#include <weft/client.hpp>

namespace weft {

DeviceInfo Client::dev_get(const DevRef& dev) {
    Bytes request = encode_dev_get(socket_.family_id(), dev);
    std::optional<DeviceInfo> info;
    socket_.transact(request,
                     [&](std::span<const std::uint8_t> message) { info = parse_device(message); });
    if (!info) {
        throw MalformedMessage("WEFT_CMD_DEV_GET was acknowledged without a device message");
    }
    return std::move(*info);
}

std::vector<DeviceInfo> Client::dev_dump() {
    Bytes request = encode_dev_dump(socket_.family_id());
    for (int attempt = 0; attempt < dump_tries; ++attempt) {
        std::vector<DeviceInfo> devices;
        bool consistent = socket_.dump(request, [&](std::span<const std::uint8_t> message) {
            devices.push_back(parse_device(message));
        });
        if (consistent) {
            return devices;
        }
    }
    throw Error(EAGAIN, "the device dump changed under " + std::to_string(dump_tries) +
                            " attempts in a row (NLM_F_DUMP_INTR)");
}

void Client::dev_set(const DevSetRequest& request) {
    Bytes message = encode_dev_set(socket_.family_id(), request);
    socket_.transact(message);
}

} // namespace weft

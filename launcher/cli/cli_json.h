// The tools' one JSON library: nlohmann-json, with keys kept in the order
// they are added (ordered_json), so replies read in a stable order.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace ckpt::cli {

using Json = nlohmann::ordered_json;

// Compact JSON text. Program names and paths are bytes, not necessarily
// UTF-8: invalid sequences become U+FFFD instead of an exception.
inline std::string json_text(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace ckpt::cli

// What ckpt_info and ckpt_restart --info print about images: one JSON shape
// (an array of image objects, always) and a human summary with the same
// information. Every section is decoded through its kind's schema
// (section_schema.h).
#pragma once

#include <string>

#include "image_reader.h"
#include "section_schema.h"

namespace ckpt::image {

// One image: file facts (with the header fields' offsets, so tools can find
// things without a copy of the layout), process, threads, regions, decoded
// sections, totals.
Json image_json(const ImageReader& img);

// The entry of an image that could not be read: {"image": path, "error": why}.
Json image_error_json(const std::string& path, const std::string& error);

// JSON as printed: indented, bytes that are not UTF-8 replaced, a final newline.
std::string json_text(const Json& value);

// The human summary of one image.
std::string image_summary(const ImageReader& img);

}  // namespace ckpt::image

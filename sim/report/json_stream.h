#pragma once
// Writing a large JSON document without holding it: the same bytes as nlohmann's dump() of the whole document, but
// one top-level array (a run's ops, a trace's events) is produced element by element straight into the file. A
// million-op run then never holds its ops as JSON objects, nor the text of the file, at once.
#include <nlohmann/json.hpp>

#include <functional>
#include <string>

namespace xpu {

// Creates the missing folders of `path` (results usually go to a fresh out/ folder); throws InputError if it cannot.
void make_parent_dirs(const std::string& path);

// Writes `j` to `path` as j.dump(indent) does, serialized straight into the file. Invalid UTF-8 in strings (names
// come from user files) is replaced rather than losing the whole result. indent -1 writes one line: a large trace
// is then about a third of the size. Throws InputError naming the path when the file cannot be created or written
// completely.
void write_json_file(const std::string& path, const nlohmann::json& j, int indent = 2);

// Hands array elements to the writer, which serializes each at once.
using JsonEmit = std::function<void(const nlohmann::json& element)>;

// Writes `head` (an object) to `path` with the member `array_key` added, its elements produced by `fill`. Creates
// missing folders, replaces invalid UTF-8 and reports failures as write_json_file does. indent -1: one line.
void write_json_file_streamed(const std::string& path, const nlohmann::json& head, const std::string& array_key,
                              const std::function<void(const JsonEmit&)>& fill, int indent = 2);

}  // namespace xpu

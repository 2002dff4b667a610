// Compressed files as plain FILE* streams, chosen by name: FILE.gz, .bz2, .xz and .zst
// are read and written through libarchive (its raw format: one stream, no archive
// around it), so that every command takes compressed input and writes compressed
// output, as PATHspider's campaigns store results (results.ndjson.bz2).
#pragma once

#include <cstdio>
#include <string>

namespace pspdr {

// Whether `path`'s name says it is compressed (.gz, .bz2, .xz, .zst).
bool compressed_name(const std::string& path);

// Opens `path` (named as compressed_name says) for reading its decompressed bytes, or
// for writing bytes it compresses; fclose() ends the stream. nullptr with errno set (and
// `error` saying why, when libarchive knows) if it cannot.
FILE* open_compressed(const std::string& path, bool write, std::string& error);

// A trace file compressed whatever its name (gzip, bzip2, xz or zstd magic): its
// decompressed bytes in an anonymous memory file, for mapping; -1 for a file that is not
// compressed. Throws std::runtime_error naming the file when it cannot be decompressed.
int decompressed_copy(const std::string& path);

}  // namespace pspdr

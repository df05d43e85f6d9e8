// http/static_files.hpp — serving a directory of built front-end files (the abuse desk) under a URL prefix.
//
// Purpose: `portwarden serve` hands the browser the desk's HTML, JS, CSS and images from one directory
// (the output of `make web`) through the same router as the JSON API, so the pages and the API share an
// origin and the Content-Security-Policy can be 'self'.
// Guarantees: only GET is answered (other methods get the router's 405). A request path is resolved
// inside the root or refused: a tail containing NUL is 400; an empty segment (`//`, a leading `/`),
// any segment starting with '.' (`..`, `.`, dotfiles) or a file whose canonical path (symlinks
// resolved) leaves the canonical root is 404, like a file that does not exist, so probing tells
// nothing. A directory serves its `index.html`. Only known extensions are served (html, js, mjs, css,
// svg, png, ico, json, txt, woff2), each with its content type; others are 404. Every answer carries
// `Cache-Control: no-cache` (the files are not content-hashed, so the browser revalidates) and
// `X-Content-Type-Options: nosniff`; HTML and SVG also carry the desk's Content-Security-Policy and
// `Referrer-Policy: no-referrer`. The exact prefix without its slash (`/desk`) redirects to
// `<prefix>index.html`: the router gives a prefix route only non-empty tails, so `/desk/` itself is
// not routable here.
// Ownership: the routes copy the canonical root path; files are read per request, so a rebuilt front
// end is served without a restart.
// Thread-safety: the handlers are const and may run on many threads at once.
// Untrusted input: the path tail comes from the network (already percent-decoded by the server; it is
// not decoded again, so `%252e%252e` stays a literal name). The root itself is trusted: someone who can
// swap symlinks inside it between the check and the open can make a file outside it readable.
// Failure modes and limits: a file larger than `max_file_bytes` is a 500 (a deployment error, not a
// client one); a read error is a 500 with a generic message. Nothing throws.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "common/result.hpp"
#include "http/router.hpp"

namespace pw::http {

struct static_site {
  std::string url_prefix;                 // "/desk/": starts and ends with '/', at least one character between
  std::filesystem::path root;             // an existing directory (the `make web` output)
  std::size_t max_file_bytes = 4u << 20;  // the chart library is ~50 KB; this leaves ample room
};

// Adds `GET <prefix>` (prefix route) and `GET <prefix without '/'>` (redirect) to `routes`.
// Fails with invalid_config when the prefix is malformed or the root is not a directory.
result<void> add_static_routes(router& routes, const static_site& site);

}  // namespace pw::http

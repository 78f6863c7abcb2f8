// The key of the per-token rate limits: a SHA-256 of the request's bearer token.
//
// The gateway cannot verify a token's signature here (njs 0.7's js_set is synchronous and has no
// RSA/ECDSA verification), so it must not trust anything inside the token: keying by the "sub"
// claim let a forged token that names another user spend that user's budget. Keyed by the hash
// of the whole token, a forged token only drains its own bucket (and the services refuse it).
// The per-subject limit, which needs a verified subject, is checked inside the services after
// the signature (PFDO_RATE_PER_SUBJECT, pfdo_plumbing.auth.ratelimit); see deploy/OPERATIONS.md.
//
// The scheme is case-insensitive (RFC 9110 §11.1: "bearer", "BEARER" are the same scheme, and the
// services accept them), and the spelling of the header does not open a new budget for the same
// token. No bearer token (or one too long to be real) yields "" (not limited per token; the
// per-address limit still applies).

var crypto = require("crypto");

var BEARER = /^[Bb][Ee][Aa][Rr][Ee][Rr][ \t]+([^ \t]+)[ \t]*$/;
var MAX_HEADER = 8192;

function key(r) {
    var header = r.headersIn.Authorization;
    if (!header || header.length > MAX_HEADER) {
        return "";
    }
    var parts = BEARER.exec(header);
    if (!parts) {
        return "";
    }
    return crypto.createHash("sha256").update(parts[1]).digest("base64url");
}

export default { key };

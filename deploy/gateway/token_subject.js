// The subject ("sub" claim) of the request's bearer JWT, as the key of per-subject rate limits.
//
// The payload is only decoded here, never verified: the services verify every token's signature,
// so a forged "sub" buys nothing but a share of that subject's own budget. Anything that is not a
// well-formed bearer JWT with a short string "sub" yields "" (not limited per subject; the
// per-client limit still applies).

var BEARER = /^Bearer +([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]*)$/;
var MAX_SUB = 256;

function subject(r) {
    var header = r.headersIn.Authorization;
    if (!header || header.length > 8192) {
        return "";
    }
    var parts = BEARER.exec(header);
    if (!parts) {
        return "";
    }
    var claims;
    try {
        claims = JSON.parse(Buffer.from(parts[2], "base64url").toString());
    } catch (e) {
        return "";
    }
    if (claims === null || typeof claims !== "object" || typeof claims.sub !== "string") {
        return "";
    }
    var sub = claims.sub;
    if (sub.length === 0 || sub.length > MAX_SUB) {
        return "";
    }
    return sub;
}

export default { subject };

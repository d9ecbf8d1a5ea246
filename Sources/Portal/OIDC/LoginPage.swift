import Foundation
import HTTPTypes
import Hummingbird
import IAM
import NIOCore

/// The realm's sign-in page for the authorization code flow: plain HTML, no script, a strict Content-Security-Policy,
/// the checked authorization request carried in hidden fields.
enum LoginPage {
    static func escaped(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// The cookie that pairs a sign-in form with the browser it was shown to (double submit): a form posted from
    /// anywhere else lacks it, so nobody can sign a victim into an account of theirs (login CSRF).
    static let csrfCookie = "mp_signin"

    static func form(realm: String, action: String, request: IdentityService.AuthorizationRequest, csrf: String, username: String = "",
                     error: String? = nil) -> String {
        let hidden = [("csrf_token", csrf as String?), ("client_id", request.clientID), ("redirect_uri", request.redirectURI), ("response_type", request.responseType),
                      ("scope", request.scope), ("state", request.state), ("nonce", request.nonce), ("code_challenge", request.codeChallenge),
                      ("code_challenge_method", request.codeChallengeMethod)]
            .compactMap { name, value in value.map { #"<input type="hidden" name="\#(name)" value="\#(escaped($0))">"# } }.joined(separator: "\n    ")
        let alert = error.map { #"<p class="error" role="alert">\#(escaped($0))</p>"# } ?? ""
        return document(title: "Sign in to \(realm)", body: """
            <h1>Sign in to \(escaped(realm))</h1>
            <p>\(escaped(request.clientID)) asks you to sign in.</p>
            \(alert)
            <form method="post" action="\(escaped(action))">
                \(hidden)
                <label>Username <input name="username" autocomplete="username" required value="\(escaped(username))"></label>
                <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
                <button type="submit">Sign in</button>
            </form>
            """)
    }

    static func failure(_ message: String) -> String {
        document(title: "Sign-in refused", body: "<h1>Sign-in refused</h1>\n<p class=\"error\" role=\"alert\">\(escaped(message))</p>")
    }

    static func document(title: String, body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escaped(title))</title>
        <style>body{font:16px system-ui,sans-serif;max-width:24rem;margin:4rem auto;padding:0 1rem}label{display:block;margin:.75rem 0}
        input{display:block;width:100%;padding:.4rem;box-sizing:border-box}button{padding:.5rem 1rem}.error{color:#a40000}</style>
        </head><body>
        \(body)
        </body></html>
        """
    }

    /// The sign-in cookie's value in the request, if any.
    static func csrfCookieValue(_ request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0] == csrfCookie { return String(parts[1]) }
            }
        }
        return nil
    }

    /// `Set-Cookie` for a fresh sign-in form: HttpOnly, SameSite=Lax, Secure when the controller is served over TLS,
    /// scoped to the realm's OIDC path.
    static func csrfSetCookie(_ value: String, path: String, secure: Bool) -> String {
        "\(csrfCookie)=\(value); Path=\(path); HttpOnly; SameSite=Lax; Max-Age=1800" + (secure ? "; Secure" : "")
    }

    /// An HTML answer with the headers every page carries: no caching, no framing, no script.
    static func response(_ html: String, status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                                           .contentSecurityPolicy: "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
                                           HTTPField.Name("X-Frame-Options")!: "DENY", HTTPField.Name("Referrer-Policy")!: "no-referrer"],
                 body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}

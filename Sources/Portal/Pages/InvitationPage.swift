import Core
import Cryptography
import Foundation
import HTTPTypes
import Hummingbird
import Tenancy

/// Accepting an invitation from its link: the invited person chooses a password, then signs in through their realm.
/// Nobody is signed in yet, so the form is paired with the browser by a cookie of its own (double submit).
enum InvitationPage {
    static let path = "/portal/invitation"
    static let cookie = "mp_invite"

    static func register(on router: Router<PortalContext>, pages: PortalPages) {
        router.get(RouterPath(path)) { request, context in
            let token = OIDCRoutes.queryFields(request)["token"] ?? ""
            let csrf = SecureRandom.token(byteCount: 24)
            var response = pages.render(form(token: token), status: .ok, session: nil, request: request, context: context, csrf: csrf)
            response.headers.append(HTTPField(name: .setCookie, value: PortalCookies.set(cookie, csrf, path: path, maxAge: 1800, secure: pages.sessions.secure)))
            return response
        }
        router.post(RouterPath(path)) { request, context in
            let fields = (try? await JSONBody.form(from: request, context: context)) ?? [:]
            let token = fields["token"] ?? ""
            guard let sent = fields["csrf_token"], let expected = PortalCookies.values(request)[cookie], !sent.isEmpty,
                  Digest.constantTimeEqual(Array(sent.utf8), Array(expected.utf8)) else {
                var page = PageModel("Not allowed")
                page.error = PortalPages.describe(PortalPageError.csrfTokenMissing, requestID: context.requestID)
                return pages.render(page, status: .forbidden, session: nil, request: request, context: context)
            }
            // The API's own open route accepts it, with its checks and its audit record.
            do {
                guard let password = fields["password"], password == fields["confirm"] else {
                    throw PortalPageError.invalidField(name: "Password", reason: "and its confirmation differ")
                }
                let accepted = try await pages.api.call("invitations.accept", body: ["token": .string(token), "password": .string(password)],
                                                        token: "", context: context)
                let realm = accepted["realm"].text
                let page = PageModel("Welcome, \(accepted["username"].text)", [
                    .text("Your account in \(realm) is active."),
                    .links([("Sign in to \(realm)", "/portal/signin?realm=\(realm)")]),
                ])
                return pages.render(page, status: .ok, session: nil, request: request, context: context)
            } catch {
                let domain = ErrorMapping.domainError(from: error, path: request.uri.path)
                var page = form(token: token)
                page.error = PortalPages.describe(domain, requestID: context.requestID)
                return pages.render(page, status: ErrorMapping.status(for: domain.kind), session: nil, request: request, context: context, csrf: expected)
            }
        }
    }

    static func form(token: String) -> PageModel {
        PageModel("Accept your invitation", [
            .text("Choose the password you will sign in with."),
            .form(.init(action: path, submit: "Activate my account", fields: [
                .hidden("token", token),
                .password("password", "Password"), .password("confirm", "Password again"),
            ])),
        ])
    }
}

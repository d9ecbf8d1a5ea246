import Core
import Foundation
import HTTPTypes
import Hummingbird
import IAM
import Logging
import Mustache
import NIOCore

/// What a page's code gets: the request, the signed-in session, a posted form (its CSRF token already checked), and the
/// API to read and act through as that user.
struct PageCall: Sendable {
    let request: Request
    let context: PortalContext
    let session: PortalSession
    let form: [String: String]
    let api: PortalAPI

    /// A path parameter of the page's route.
    func parameter(_ name: String) -> String { context.parameters.get(name) ?? "" }

    /// A query parameter, nil when absent or empty.
    func query(_ name: String) -> String? {
        guard let value = OIDCRoutes.queryFields(request)[name], !value.isEmpty else { return nil }
        return value
    }

    /// A form field, trimmed; nil when empty.
    func field(_ name: String) -> String? {
        guard let value = form[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    /// Calls the API as the signed-in user.
    @discardableResult
    func api(_ operationID: String, _ parameters: [String: String] = [:], query: [(String, String)] = [], body: JSONValue? = nil) async throws -> JSONValue {
        try await api.call(operationID, parameters, query: query, body: body, token: session.accessToken, context: context)
    }

    /// The API's answer, or `fallback` when the user may not read it (a page shows what its user may read, and no more).
    func optional(_ operationID: String, _ parameters: [String: String] = [:], query: [(String, String)] = []) async -> JSONValue {
        (try? await api(operationID, parameters, query: query)) ?? .null
    }

    /// Whether the user is the platform's (super-admin views) rather than a tenant's.
    var isPlatform: Bool { session.principal.tenantID == nil }
}

/// What an action did: a confirmation, and blocks to show once above the page (a new key's secret).
struct ActionResult: Sendable {
    var notice: String
    var shownOnce: [PageModel.Block] = []
    /// Where the page goes after the action when it is not the page the form was on.
    var location: String?
}

extension PageModel.Block: @unchecked Sendable {}

/// The web portal: server-rendered pages over the REST API, signed in through each realm's authorization code flow.
///
/// Every page works without script (htmx only refreshes the cluster page's live part), carries a strict
/// Content-Security-Policy, and every form carries the session's CSRF token.
struct PortalPages: Sendable {
    typealias Builder = @Sendable (PageCall) async throws -> PageModel
    typealias Action = @Sendable (PageCall) async throws -> ActionResult

    let api: PortalAPI
    let sessions: PortalSessions
    let library: MustacheLibrary

    init(api: PortalAPI, sessions: PortalSessions) {
        self.api = api
        self.sessions = sessions
        var library = MustacheLibrary()
        for (name, template) in PageTemplates.all {
            // The templates are constants of this binary: a parse failure is a programming error caught by every page test.
            try! library.register(template, named: name)
        }
        self.library = library
    }

    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

    func register(on router: Router<PortalContext>) {
        router.get("/portal/assets/portal.css") { _, _ in asset(PageTemplates.stylesheet, type: "text/css; charset=utf-8") }
        router.get("/portal/assets/htmx.min.js") { _, _ in asset(VendoredHTMX.script, type: "text/javascript; charset=utf-8") }
        router.get("/portal") { request, context in await home(request, context) }
        router.get("/portal/signin") { request, context in signIn(request, context) }
        router.get("/portal/callback") { request, context in await callback(request, context) }
        router.post("/portal/signout") { request, context in await signOut(request, context) }
        InvitationPage.register(on: router, pages: self)
        AdminPages.register(on: self, router: router)
        TenantPages.register(on: self, router: router)
        ClusterPage.register(on: self, router: router)
        AccountPage.register(on: self, router: router)
    }

    // MARK: Registering pages

    /// A page shown by GET.
    func view(_ path: String, on router: Router<PortalContext>, _ build: @escaping Builder) {
        router.get(RouterPath(path)) { request, context in
            await serve(request, context, form: [:]) { call in (try await build(call), .ok) }
        }
    }

    /// A form posted to `path`: the action runs, then `render` shows the page again with its outcome; a refusal shows
    /// the page with the API's error (status, reason, request id) and changes nothing.
    func action(_ path: String, on router: Router<PortalContext>, render: @escaping Builder, _ act: @escaping Action) {
        router.post(RouterPath(path)) { request, context in
            let form = (try? await JSONBody.form(from: request, context: context)) ?? [:]
            return await serve(request, context, form: form) { call in
                guard PortalSessions.formIsGenuine(form, session: call.session) else { throw PortalPageError.csrfTokenMissing }
                do {
                    let result = try await act(call)
                    if let location = result.location { throw Redirect(location: location) }
                    var page = try await render(call)
                    page.notice = result.notice
                    page.blocks.insert(contentsOf: result.shownOnce, at: 0)
                    return (page, .ok)
                } catch let error as any DomainError where error.kind != .notFound && error.kind != .unauthenticated {
                    var page = try await render(call)
                    page.error = Self.describe(error, requestID: context.requestID)
                    return (page, ErrorMapping.status(for: error.kind))
                }
            }
        }
    }

    /// A file the API answers (a report's PDF), passed to the browser as it is, for the signed-in user.
    func download(_ path: String, on router: Router<PortalContext>, _ fetch: @escaping @Sendable (PageCall) async throws -> (HTTPFields, ByteBuffer)) {
        router.get(RouterPath(path)) { request, context in
            guard let session = await sessions.resume(request, source: context.sourceAddress) else { return redirect("/portal") }
            do {
                let (headers, body) = try await fetch(PageCall(request: request, context: context, session: session, form: [:], api: api))
                var response = Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
                response.headers[.cacheControl] = "no-store"
                for cookie in session.setCookies { response.headers.append(HTTPField(name: .setCookie, value: cookie)) }
                return response
            } catch let error as any DomainError {
                var page = PageModel(error.kind == .notFound ? "Not found" : "Refused")
                page.error = Self.describe(error, requestID: context.requestID)
                return render(page, status: ErrorMapping.status(for: error.kind), session: session, request: request, context: context)
            } catch {
                return render(PageModel("Something went wrong"), status: .internalServerError, session: session, request: request, context: context)
            }
        }
    }

    /// A page's live part alone, for htmx's polling.
    func fragment(_ path: String, on router: Router<PortalContext>, _ build: @escaping Builder) {
        router.get(RouterPath(path)) { request, context in
            await serve(request, context, form: [:], template: "live") { call in (try await build(call), .ok) }
        }
    }

    struct Redirect: Error { var location: String }

    private func serve(_ request: Request, _ context: PortalContext, form: [String: String], template: String = "layout",
                       _ body: @Sendable (PageCall) async throws -> (PageModel, HTTPResponse.Status)) async -> Response {
        let started = ContinuousClock.now
        guard let session = await sessions.resume(request, source: context.sourceAddress) else {
            if request.method == .post {
                return render(PageModel("Signed out", [.text("Your session ended; sign in again.")]), status: .unauthorized, session: nil, request: request, context: context)
            }
            return redirect("/portal/signin?" + "next=" + (request.uri.path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/portal")
                            + (Self.realmHint(request.uri.path).map { "&realm=" + $0 } ?? ""))
        }
        let call = PageCall(request: request, context: context, session: session, form: form, api: api)
        var response: Response
        do {
            let (page, status) = try await body(call)
            response = render(page, status: status, session: session, request: request, context: context, template: template)
        } catch let redirect as Redirect {
            response = self.redirect(redirect.location)
        } catch let error as any DomainError {
            let status = ErrorMapping.status(for: error.kind)
            let title = switch error.kind {
            case .notFound: "Not found"
            case .forbidden: "Not allowed"
            default: "Refused"
            }
            // A page the user may not see is one that does not exist for them (404), as in the API.
            var page = PageModel(title, [.text(error.kind == .notFound ? "There is no such page for you." : "")])
            page.error = Self.describe(error, requestID: context.requestID)
            response = render(page, status: status, session: session, request: request, context: context)
        } catch {
            context.logger.error("portal page failed: \(error)")
            var page = PageModel("Something went wrong")
            page.error = "The controller could not show this page (request \(context.requestID)); its log says why."
            response = render(page, status: .internalServerError, session: session, request: request, context: context)
        }
        for cookie in session.setCookies { response.headers.append(HTTPField(name: .setCookie, value: cookie)) }
        // The server's time for the page (the session check, its API calls, the rendering): the page bench reads it.
        let elapsed = ContinuousClock.now - started
        let millis = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        response.headers[HTTPField.Name("Server-Timing")!] = String(format: "page;dur=%.2f", millis)
        return response
    }

    /// The realm a signed-out visitor of `path` most likely signs in to: the tenant's for tenant pages, the platform's for admin pages.
    static func realmHint(_ path: String) -> String? {
        let parts = path.split(separator: "/").map(String.init)
        if parts.count >= 3, parts[0] == "portal", parts[1] == "t" { return parts[2] }
        if parts.count >= 3, parts[0] == "account", parts[1] == "cluster" { return parts[2] }
        if parts.count >= 2, parts[0] == "portal", parts[1] == "admin" { return "platform" }
        return nil
    }

    static func describe(_ error: any DomainError, requestID: String) -> String {
        "\(error.message) (\(error.code), request \(requestID))"
    }

    // MARK: Rendering

    func render(_ page: PageModel, status: HTTPResponse.Status, session: PortalSession?, request: Request, context: PortalContext,
                template: String = "layout", csrf: String? = nil) -> Response {
        let model = page.context(user: session?.principal.name, realm: session?.realm, csrf: csrf ?? session?.csrf,
                                 nav: session.map(Self.navigation) ?? [], path: request.uri.path)
        let html = library.render(model, withTemplate: template) ?? ""
        return Response(status: status, headers: Self.pageHeaders(), body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static func pageHeaders() -> HTTPFields {
        [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .contentSecurityPolicy: contentSecurityPolicy,
         HTTPField.Name("X-Frame-Options")!: "DENY", HTTPField.Name("Referrer-Policy")!: "same-origin",
         HTTPField.Name("X-Content-Type-Options")!: "nosniff"]
    }

    /// The menu: the platform's views for the super-admin, the tenant's for its users.
    static func navigation(_ session: PortalSession) -> [(label: String, href: String)] {
        if session.principal.tenantID == nil {
            return [("Overview", "/portal/admin"), ("Tenants", "/portal/admin/tenants"), ("Nodes", "/portal/admin/nodes"),
                    ("Pools", "/portal/admin/pools"), ("Incidents", "/portal/admin/incidents"), ("Backups", "/portal/admin/backups"),
                    ("Audit log", "/portal/admin/audit"), ("Account", AccountPage.path)]
        }
        let slug = session.realm
        return [("Overview", "/portal/t/\(slug)"), ("Users", "/portal/t/\(slug)/users"), ("Nodes", "/portal/t/\(slug)/nodes"),
                ("Usage", "/portal/t/\(slug)/usage"), ("Cluster", "/account/cluster/\(slug)"), ("Account", AccountPage.path)]
    }

    func redirect(_ location: String, cookies: [String] = []) -> Response {
        var response = Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
        for cookie in cookies { response.headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return response
    }

    private func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=86400", HTTPField.Name("X-Content-Type-Options")!: "nosniff"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: Signing in and out

    private func home(_ request: Request, _ context: PortalContext) async -> Response {
        if let session = await sessions.resume(request, source: context.sourceAddress) {
            let target = session.principal.tenantID == nil ? "/portal/admin" : "/portal/t/\(session.realm)"
            return redirect(target, cookies: session.setCookies)
        }
        let page = PageModel("Sign in", [
            .text("Platform operators sign in to the platform realm; a tenant's people sign in to their tenant's realm (its slug)."),
            .form(.init(action: "/portal/signin", submit: "Continue to sign-in", fields: [
                .text("realm", "Realm", value: "platform", pattern: "[a-z0-9-]{1,63}", hint: "platform, or your tenant's slug"),
            ], method: "get")),
        ])
        return render(page, status: .ok, session: nil, request: request, context: context)
    }

    private func signIn(_ request: Request, _ context: PortalContext) -> Response {
        let fields = OIDCRoutes.queryFields(request)
        guard let realm = fields["realm"], realm.range(of: "^[a-z0-9-]{1,63}$", options: .regularExpression) != nil else {
            return redirect("/portal")
        }
        let start = sessions.signIn(realm: realm, next: fields["next"] ?? "/portal")
        return redirect(start.location, cookies: [start.cookie])
    }

    private func callback(_ request: Request, _ context: PortalContext) async -> Response {
        let fields = OIDCRoutes.queryFields(request)
        do {
            guard let code = fields["code"], let state = fields["state"] else { throw PortalPageError.signInExpired }
            let done = try await sessions.complete(code: code, state: state, request: request, source: context.sourceAddress)
            return redirect(done.next, cookies: done.cookies)
        } catch {
            let domain = ErrorMapping.domainError(from: error, path: request.uri.path)
            var page = PageModel("Sign-in failed", [.links([("Sign in again", "/portal")])])
            page.error = Self.describe(domain, requestID: context.requestID)
            return render(page, status: ErrorMapping.status(for: domain.kind), session: nil, request: request, context: context)
        }
    }

    private func signOut(_ request: Request, _ context: PortalContext) async -> Response {
        guard let session = await sessions.resume(request, source: context.sourceAddress) else { return redirect("/portal") }
        let form = (try? await JSONBody.form(from: request, context: context)) ?? [:]
        guard PortalSessions.formIsGenuine(form, session: session) else {
            var page = PageModel("Not allowed")
            page.error = Self.describe(PortalPageError.csrfTokenMissing, requestID: context.requestID)
            return render(page, status: .forbidden, session: session, request: request, context: context)
        }
        return redirect("/portal", cookies: await sessions.signOut(session))
    }
}

import HTTPTypes
import Core
import Foundation
import Hummingbird
import IAM
import Logging
import Provisioner
import Storage
import Tenancy
import NIOCore

/// Registers route specs on the router, wrapping each handler in the central checks:
/// authentication, authorization over the resolved scope, idempotency, and the audit record.
struct RouteRegistrar: Sendable {
    let identity: IdentityService
    let tenants: TenantService
    let agents: AgentService
    let auditLog: AuditLog
    let idempotency: IdempotencyStore
    let clock: WallClock

    func register(_ specs: [RouteSpec], on router: Router<PortalContext>) {
        for spec in specs {
            router.on(RouterPath(spec.path), method: spec.method) { request, context in
                try await handle(spec, request: request, context: context)
            }
        }
    }

    /// Runs one route with every central check; the portal's pages call it in process, so a page can do only what the API lets its user do.
    func handle(_ spec: RouteSpec, request: Request, context: PortalContext) async throws -> Response {
        let note = AuditNote(target: ["id", "project", "org", "tenant", "realm"].lazy.compactMap { context.parameters.get($0) }.first)
        var context = context
        do {
            var realm: Realm?
            var tenant: Tenant?
            var agent: AgentCaller?
            if case .agent = spec.access {
                let session = try await agents.authenticate(sessionToken: try BearerCredential.parse(request.headers[.authorization]))
                agent = AgentCaller(agentID: session.agentID, sessionID: session.sessionID)
                context.logger[metadataKey: "agent"] = .string(session.agentID)
            }
            if case .projectAPIKey = spec.access {
                let principal = try await authenticate(request)
                try principal.requireInference()
                context.principal = principal
                context.logger[metadataKey: "actor"] = .string(principal.name)
            }
            if case .authenticated(let permission, let source) = spec.access {
                let principal = try await authenticate(request)
                context.principal = principal
                context.logger[metadataKey: "actor"] = .string(principal.name)
                (realm, tenant) = try await authorize(principal, permission, source: source, context: context)
            }
            let call = RouteSpec.Call(request: request, context: context, principal: context.principal, realm: realm, tenant: tenant, agent: agent, audit: note)
            let response = try await spec.idempotent ? runIdempotent(spec, call) : spec.handler(call)
            if spec.isMutating { await audit(spec, context: context, realm: realm, note: note, status: Int(response.status.code)) }
            return response
        } catch {
            if spec.isMutating {
                let status = ErrorMapping.status(for: ErrorMapping.domainError(from: error, path: request.uri.path).kind)
                await audit(spec, context: context, realm: nil, note: note, status: Int(status.code))
            }
            throw error
        }
    }

    private func authenticate(_ request: Request) async throws -> Principal {
        try await identity.authenticate(bearer: try BearerCredential.parse(request.headers[.authorization]))
    }

    /// Resolves where the target sits and asks the Authorizer; hidden or unknown targets answer 404.
    private func authorize(_ principal: Principal, _ permission: Permission, source: RouteSpec.ScopeSource,
                           context: PortalContext) async throws -> (Realm?, Tenant?) {
        var realm: Realm?
        var tenant: Tenant?
        let path: ScopePath
        switch source {
        case .platform:
            path = .platform
        case .caller:
            return (identity.realm(id: principal.realmID), nil)
        case .callerRealm:
            realm = identity.realm(id: principal.realmID)
            path = realm?.scopePath ?? .platform
        case .realmParameter:
            guard let name = context.parameters.get("realm"), let found = try? identity.realm(named: name) else { throw IAMError.notVisible }
            realm = found
            path = found.scopePath
        case .apiKey:
            guard let found = identity.realm(id: principal.realmID), let id = context.parameters.get("id"),
                  let key = try? await identity.apiKey(id, in: found) else { throw IAMError.notVisible }
            realm = found
            path = await APIKeyScopes.path(of: key, in: found, tenants: tenants)
        case .callerProject(let scopedPath):
            guard let projectID = principal.projectID, let tenantID = principal.tenantID,
                  let project = try? await tenants.project(projectID, in: tenantID) else {
                throw PortalError.projectCredentialRequired(scopedPath: scopedPath)
            }
            tenant = try? await tenants.tenant(tenantID)
            realm = identity.realm(id: principal.realmID)
            path = ScopePath(tenantID: tenantID, orgID: project.orgId, projectID: projectID)
        case .tenant, .org, .project, .orgParent, .projectParent:
            guard let reference = context.parameters.get("tenant"), let found = try? await tenants.tenant(reference) else { throw IAMError.notVisible }
            tenant = found
            realm = try? identity.realm(named: found.slug)
            path = try await tenantPath(source, tenant: found, context: context)
        }
        switch Authorizer.decide(principal, permission, at: path) {
        case .allowed: return (realm, tenant)
        // A key the caller cannot use is one it should not know of.
        case .forbidden where source == .apiKey: throw IAMError.notVisible
        case .forbidden: throw IAMError.forbidden(permission: permission.rawValue)
        case .hidden: throw IAMError.notVisible
        }
    }

    /// The scope path of a tenant-tree route; an org or project outside the tenant is hidden.
    private func tenantPath(_ source: RouteSpec.ScopeSource, tenant: Tenant, context: PortalContext) async throws -> ScopePath {
        switch source {
        case .org, .orgParent:
            guard let id = context.parameters.get("org"), (try? await tenants.org(id, in: tenant.id)) != nil else { throw IAMError.notVisible }
            return source == .org ? ScopePath(tenantID: tenant.id, orgID: id) : ScopePath(tenantID: tenant.id)
        case .project, .projectParent:
            guard let id = context.parameters.get("project"), let project = try? await tenants.project(id, in: tenant.id) else { throw IAMError.notVisible }
            return source == .project ? ScopePath(tenantID: tenant.id, orgID: project.orgId, projectID: id)
                                      : ScopePath(tenantID: tenant.id, orgID: project.orgId)
        default:
            return ScopePath(tenantID: tenant.id)
        }
    }

    /// Replays the stored answer of a repeated `Idempotency-Key`, or runs and stores the first one.
    private func runIdempotent(_ spec: RouteSpec, _ call: RouteSpec.Call) async throws -> Response {
        guard let header = call.request.headers[.idempotencyKey] else { return try await spec.handler(call) }
        guard (1...255).contains(header.utf8.count), header.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw PortalError.invalidHeader(name: "Idempotency-Key", reason: "must be 1–255 visible ASCII characters")
        }
        let key = (call.principal?.id ?? "anonymous") + "|" + spec.operationID + "|" + header
        let body = try await JSONBody.bytes(of: call.request, context: call.context)
        let hash = IdempotencyStore.requestHash(method: spec.method.rawValue, path: call.request.uri.path, body: body)
        if let stored = try await idempotency.lookup(key) {
            guard stored.requestHash == hash else { throw PortalError.idempotencyKeyReused }
            guard stored.status == IdempotencyStore.reservedStatus else { return replay(stored) }
            // Reserved with its change, but no answer recorded: running now, or the answer was lost in a crash.
            throw idempotency.isInFlight(key) ? PortalError.idempotencyKeyInFlight : PortalError.idempotencyAnswerLost
        }
        guard idempotency.begin(key) else { throw PortalError.idempotencyKeyInFlight }
        defer { idempotency.end(key) }
        var call = call
        call.request.body = RequestBody(buffer: body)
        let reservation = idempotency.reservation(key, requestHash: hash)
        let response = try await WriteAttachment.$current.withValue(reservation) { try await spec.handler(call) }
        guard response.status.code < 500 else { return response }
        let collector = CollectingBodyWriter()
        try await response.body.write(collector)
        let text = String(buffer: collector.collected)
        try await idempotency.store(key, .init(requestHash: hash, status: Int(response.status.code), body: text, etag: response.headers[.eTag]))
        var copy = response
        copy.body = .init(byteBuffer: collector.collected)
        return copy
    }

    private func replay(_ stored: IdempotencyStore.Stored) -> Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        headers[HTTPField.Name("Idempotent-Replayed")!] = "true"
        if let etag = stored.etag { headers[.eTag] = etag }
        return Response(status: .init(code: stored.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: stored.body)))
    }

    private func audit(_ spec: RouteSpec, context: PortalContext, realm: Realm?, note: AuditNote, status: Int) async {
        let principal = context.principal
        let now = clock.nowMillis()
        let record = AuditRecord(
            id: Identifier.make("aud", at: now), at: now,
            actorKind: principal?.kind.rawValue ?? "anonymous", actorId: principal?.id ?? "-",
            actorName: principal?.name ?? note.actorName ?? "anonymous",
            realmId: realm?.id ?? principal?.realmID ?? note.realmID, tenantId: realm?.tenantID ?? principal?.tenantID,
            action: spec.operationID, target: note.target, result: status < 400 ? "success" : "failure", status: status,
            requestId: context.requestID, source: context.sourceAddress)
        do {
            try await auditLog.append(record)
        } catch {
            context.logger.error("audit record not written: \(error)", metadata: ["action": .string(spec.operationID)])
        }
    }
}

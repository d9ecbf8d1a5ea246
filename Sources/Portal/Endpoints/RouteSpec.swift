import NIOCore
import HTTPTypes
import Core
import Hummingbird
import IAM
import Tenancy

/// One route, declared once: path, method, who may call it, how it is audited and documented.
///
/// The registrar enforces `access` and audits from this declaration, and the OpenAPI document
/// is built from the same list, so a route cannot exist without its permission and its docs.
public struct RouteSpec: Sendable {
    /// Who may call a route.
    public enum Access: Sendable {
        /// Anyone (health, discovery, the token endpoint).
        case open
        /// An authenticated caller holding `permission` over the scope the route resolves.
        case authenticated(Permission, ScopeSource)
        /// A node agent, by the session token its registration returned.
        case agent
        /// A project's API key: the OpenAI-compatible router.
        case projectAPIKey
    }

    /// How the scope of the target resource is found.
    public enum ScopeSource: Sendable, Equatable {
        /// The resource belongs to the platform (platform-only routes: 403 to others).
        case platform
        /// The caller's own realm.
        case callerRealm
        /// The realm named by the `{realm}` path parameter.
        case realmParameter
        /// Any authenticated caller: the route only reads the caller itself.
        case caller
        /// The tenant named by `{tenant}` (id or slug).
        case tenant
        /// The org `{org}` of tenant `{tenant}`.
        case org
        /// The project `{project}` of tenant `{tenant}`.
        case project
        /// The tenant of `{tenant}`, after checking `{org}` is one of its orgs: actions an org may not take on itself (its quota).
        case orgParent
        /// The org above `{project}`: actions a project may not take on itself (its quota).
        case projectParent
        /// The API key `{id}` of the caller's realm, where it sits (its project, or the realm).
        case apiKey
        /// The one project the caller's credential names (a project API key): the runbook's root
        /// paths. Any other credential gets 400 naming `scopedPath`, the project-scoped equivalent.
        case callerProject(scopedPath: String)
    }

    /// What a handler receives.
    public struct Call: Sendable {
        public var request: Request
        public var context: PortalContext
        /// The authenticated caller, for routes that are not open.
        public var principal: Principal?
        /// The realm resolved from the path or the caller.
        public var realm: Realm?
        /// The tenant resolved from `{tenant}`.
        public var tenant: Tenant?
        /// The calling agent and its session, for agent routes.
        public var agent: AgentCaller?
        /// Lets the handler name the audited target (e.g. an id it created).
        public let audit: AuditNote

        /// The project the route acts on: `{project}` in the path, else the one the caller's
        /// credential names (`callerProject` routes, where the registrar has checked it exists).
        public func projectID() throws -> String {
            if let project = context.parameters.get("project") { return project }
            guard let project = principal?.projectID else { throw PortalError.invalidQuery(parameter: "project", reason: "no project in the path or the credential") }
            return project
        }
    }

    public typealias Handler = @Sendable (Call) async throws -> Response

    public var method: HTTPRequest.Method
    /// OpenAPI-style path with `{name}` parameters.
    public var path: String
    /// Unique name, also the audited action (e.g. `apiKeys.create`).
    public var operationID: String
    public var summary: String
    public var tag: String
    public var access: Access
    /// Query parameters the route reads, with the values it accepts (the OpenAPI document shows them).
    public var query: [QueryParameter]
    /// Schema names in the OpenAPI components for the body and the answer.
    public var requestSchema: String?
    public var responseSchema: String?
    /// The success status.
    public var status: Int
    /// Whether an `Idempotency-Key` makes retries replay the first answer.
    public var idempotent: Bool
    /// Whether the handler honours `If-Match` (a stale version gets 412).
    public var conditional: Bool
    /// Request body media type.
    public var requestMediaType: String
    public var handler: Handler

    public init(_ method: HTTPRequest.Method, _ path: String, _ operationID: String, summary: String, tag: String, access: Access,
                query: [QueryParameter] = [], request: String? = nil, response: String? = nil, status: Int = 200, idempotent: Bool = false,
                conditional: Bool = false, requestMediaType: String = "application/json", handler: @escaping Handler) {
        self.method = method
        self.path = path
        self.operationID = operationID
        self.summary = summary
        self.tag = tag
        self.access = access
        self.query = query
        self.requestSchema = request
        self.responseSchema = response
        self.status = status
        self.idempotent = idempotent
        self.conditional = conditional
        self.requestMediaType = requestMediaType
        self.handler = handler
    }

    /// Whether calls change state and so are audited. Agent traffic (heartbeats, telemetry) and
    /// inference requests are not: thousands a second, recorded in the agents' state and the usage ledger instead.
    public var isMutating: Bool {
        if case .agent = access { return false }
        if case .projectAPIKey = access { return false }
        return method != .get && method != .head
    }
}

/// A node agent calling an agent route.
public struct AgentCaller: Sendable {
    public var agentID: String
    public var sessionID: String
}

/// A handler's note of what it acted on, read by the audit after the handler returns.
public final class AuditNote: @unchecked Sendable {
    private let lock = NIOLock()
    private var storedTarget: String?
    private var storedActorName: String?
    private var storedRealmID: String?

    init(target: String?) { storedTarget = target }

    /// The actor of an open route (the token endpoint names the username or client).
    public var actorName: String? {
        get { lock.withLock { storedActorName } }
        set { lock.withLock { storedActorName = newValue } }
    }

    /// The realm an open route acted in.
    public var realmID: String? {
        get { lock.withLock { storedRealmID } }
        set { lock.withLock { storedRealmID = newValue } }
    }

    /// The audited target.
    public var target: String? {
        get { lock.withLock { storedTarget } }
        set { lock.withLock { storedTarget = newValue } }
    }
}

import NIOConcurrencyHelpers

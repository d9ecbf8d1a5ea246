import Storage

/// One audited action: who did what to which target, with what result, from where.
public struct AuditRecord: Sendable, Equatable, Codable, RowDecodable {
    public var id: String
    public var at: Int64
    public var actorKind: String
    public var actorId: String
    public var actorName: String
    public var realmId: String?
    public var tenantId: String?
    public var action: String
    public var target: String?
    /// `success` or `failure`.
    public var result: String
    public var status: Int
    public var requestId: String
    public var source: String

    public init(id: String, at: Int64, actorKind: String, actorId: String, actorName: String, realmId: String?, tenantId: String?,
                action: String, target: String?, result: String, status: Int, requestId: String, source: String) {
        self.id = id
        self.at = at
        self.actorKind = actorKind
        self.actorId = actorId
        self.actorName = actorName
        self.realmId = realmId
        self.tenantId = tenantId
        self.action = action
        self.target = target
        self.result = result
        self.status = status
        self.requestId = requestId
        self.source = source
    }

    public init(row: Row) throws {
        id = try row.string("id")
        at = try row.int64("at")
        actorKind = try row.string("actor_kind")
        actorId = try row.string("actor_id")
        actorName = try row.string("actor_name")
        realmId = try row.optionalString("realm_id")
        tenantId = try row.optionalString("tenant_id")
        action = try row.string("action")
        target = try row.optionalString("target")
        result = try row.string("result")
        status = Int(try row.int64("status"))
        requestId = try row.string("request_id")
        source = try row.string("source")
    }
}

/// Filters for reading the audit log; all optional, combined with AND.
public struct AuditQuery: Sendable, Equatable {
    public var tenantID: String?
    public var realmID: String?
    public var actor: String?
    public var action: String?
    public var result: String?
    public var since: Int64?
    public var until: Int64?
    /// Records whose target is this id (an incident's timeline reads those of the incident and of its node).
    public var target: String?

    public init(tenantID: String? = nil, realmID: String? = nil, actor: String? = nil, action: String? = nil,
                result: String? = nil, since: Int64? = nil, until: Int64? = nil, target: String? = nil) {
        self.target = target
        self.tenantID = tenantID
        self.realmID = realmID
        self.actor = actor
        self.action = action
        self.result = result
        self.since = since
        self.until = until
    }
}

import Storage

/// Hierarchical quotas, platform → tenant → org → project, kept in the caller's transaction so
/// usage changes commit together with the allocation that consumes it.
///
/// A scope is a string key (`tenant:<id>`, `org:<id>`, `project:<id>`) registered with its parent
/// and a label ("org research") used in refusals. Unset limits mean "no limit at this level".
public enum QuotaLedger {
    public static let migrations: [Migration] = [
        Migration(module: "quota", version: 1, statements: [
            "CREATE TABLE quota_scopes (scope TEXT PRIMARY KEY, parent TEXT, label TEXT NOT NULL)",
            "CREATE INDEX quota_scopes_parent ON quota_scopes (parent)",
            "CREATE TABLE quota_limits (scope TEXT NOT NULL, resource TEXT NOT NULL, max_amount BIGINT NOT NULL, PRIMARY KEY (scope, resource))",
            "CREATE TABLE quota_usage (scope TEXT NOT NULL, resource TEXT NOT NULL, used BIGINT NOT NULL, PRIMARY KEY (scope, resource))",
        ]),
    ]

    /// Declares a scope under `parent` (nil for a tenant); idempotent.
    public static func register(_ scope: String, parent: String?, label: String, on connection: any SQLConnection) throws {
        try connection.execute("DELETE FROM quota_scopes WHERE scope = ?", [.text(scope)])
        try connection.execute("INSERT INTO quota_scopes (scope, parent, label) VALUES (?, ?, ?)", [.text(scope), .text(parent), .text(label)])
    }

    /// Removes a scope with its limits and usage (its usage is released from the ancestors).
    public static func remove(_ scope: String, on connection: any SQLConnection) throws {
        let usage = try self.usage(of: scope, on: connection)
        if !usage.isEmpty, let parent = try parent(of: scope, on: connection) { try release(usage, at: parent, on: connection) }
        for table in ["quota_limits", "quota_usage", "quota_scopes"] {
            try connection.execute("DELETE FROM \(table) WHERE scope = ?", [.text(scope)])
        }
    }

    /// Sets limits of a scope (resources absent from `limits` keep theirs). Refuses a limit that
    /// would push the siblings' limits past the parent's, or fall below what is used or assigned.
    public static func setLimits(_ limits: [String: Int64], for scope: String, on connection: any SQLConnection) throws {
        let label = try self.label(of: scope, on: connection)
        let parent = try self.parent(of: scope, on: connection)
        let used = try usage(of: scope, on: connection)
        for (resource, asked) in limits.sorted(by: { $0.key < $1.key }) {
            if let parent, let parentLimit = try limit(of: parent, resource, on: connection) {
                let siblings = try connection.query(
                    """
                    SELECT COALESCE(SUM(l.max_amount), 0) AS assigned, COUNT(l.max_amount) AS n FROM quota_scopes s
                    JOIN quota_limits l ON l.scope = s.scope AND l.resource = ? WHERE s.parent = ? AND s.scope <> ?
                    """, [.text(resource), .text(parent), .text(scope)]).first
                let assigned = try siblings?.int64("assigned") ?? 0
                if assigned + asked > parentLimit {
                    throw QuotaError.overAssigned(scope: label, resource: resource, asked: asked, parent: try self.label(of: parent, on: connection),
                                                  parentLimit: parentLimit, assigned: assigned, siblings: Int(try siblings?.int64("n") ?? 0))
                }
            }
            if let inUse = used[resource], inUse > asked {
                throw QuotaError.belowCommitted(scope: label, resource: resource, asked: asked, committed: inUse, what: "in use")
            }
            let children = try connection.scalarInt(
                "SELECT COALESCE(SUM(l.max_amount), 0) FROM quota_scopes s JOIN quota_limits l ON l.scope = s.scope AND l.resource = ? WHERE s.parent = ?",
                [.text(resource), .text(scope)]) ?? 0
            if children > asked {
                throw QuotaError.belowCommitted(scope: label, resource: resource, asked: asked, committed: children, what: "assigned to children")
            }
            try connection.execute("DELETE FROM quota_limits WHERE scope = ? AND resource = ?", [.text(scope), .text(resource)])
            try connection.execute("INSERT INTO quota_limits (scope, resource, max_amount) VALUES (?, ?, ?)", [.text(scope), .text(resource), .integer(asked)])
        }
    }

    /// Consumes `amounts` at `scope` and every ancestor, refusing when any level's limit would be passed.
    public static func consume(_ amounts: [String: Int64], at scope: String, on connection: any SQLConnection) throws {
        let label = try self.label(of: scope, on: connection)
        let chain = try ancestry(of: scope, on: connection)
        for (resource, amount) in amounts.sorted(by: { $0.key < $1.key }) where amount > 0 {
            for level in chain {
                let used = try usage(of: level, on: connection)[resource] ?? 0
                if let limit = try limit(of: level, resource, on: connection), used + amount > limit {
                    throw QuotaError.overUsed(scope: label, resource: resource, asked: amount, holder: try self.label(of: level, on: connection),
                                              limit: limit, used: used)
                }
            }
            for level in chain { try add(amount, resource, at: level, on: connection) }
        }
    }

    /// Gives back `amounts` at `scope` and every ancestor.
    public static func release(_ amounts: [String: Int64], at scope: String, on connection: any SQLConnection) throws {
        for level in try ancestry(of: scope, on: connection) {
            for (resource, amount) in amounts where amount > 0 { try add(-amount, resource, at: level, on: connection) }
        }
    }

    /// Limits, usage and what is assigned to children, per resource.
    public static func report(_ scope: String, on connection: any SQLConnection) throws -> [String: QuotaLine] {
        var lines: [String: QuotaLine] = [:]
        for row in try connection.query("SELECT resource, max_amount FROM quota_limits WHERE scope = ?", [.text(scope)]) {
            lines[try row.string("resource"), default: QuotaLine()].limit = try row.int64("max_amount")
        }
        for (resource, used) in try usage(of: scope, on: connection) { lines[resource, default: QuotaLine()].used = used }
        for row in try connection.query(
            "SELECT l.resource, SUM(l.max_amount) AS assigned FROM quota_scopes s JOIN quota_limits l ON l.scope = s.scope WHERE s.parent = ? GROUP BY l.resource",
            [.text(scope)]) {
            lines[try row.string("resource"), default: QuotaLine()].assignedToChildren = try row.int64("assigned")
        }
        return lines
    }

    static func usage(of scope: String, on connection: any SQLConnection) throws -> [String: Int64] {
        var usage: [String: Int64] = [:]
        for row in try connection.query("SELECT resource, used FROM quota_usage WHERE scope = ?", [.text(scope)]) {
            usage[try row.string("resource")] = try row.int64("used")
        }
        return usage
    }

    static func limit(of scope: String, _ resource: String, on connection: any SQLConnection) throws -> Int64? {
        try connection.scalarInt("SELECT max_amount FROM quota_limits WHERE scope = ? AND resource = ?", [.text(scope), .text(resource)])
    }

    static func parent(of scope: String, on connection: any SQLConnection) throws -> String? {
        try connection.query("SELECT parent FROM quota_scopes WHERE scope = ?", [.text(scope)]).first?.optionalString("parent")
    }

    static func label(of scope: String, on connection: any SQLConnection) throws -> String {
        try connection.query("SELECT label FROM quota_scopes WHERE scope = ?", [.text(scope)]).first?.string("label") ?? scope
    }

    /// The scope and its ancestors, nearest first.
    static func ancestry(of scope: String, on connection: any SQLConnection) throws -> [String] {
        var chain = [scope]
        while let parent = try parent(of: chain[chain.count - 1], on: connection), chain.count < 8 { chain.append(parent) }
        return chain
    }

    private static func add(_ delta: Int64, _ resource: String, at scope: String, on connection: any SQLConnection) throws {
        let updated = try connection.execute("UPDATE quota_usage SET used = used + ? WHERE scope = ? AND resource = ?",
                                             [.integer(delta), .text(scope), .text(resource)])
        if updated == 0 {
            try connection.execute("INSERT INTO quota_usage (scope, resource, used) VALUES (?, ?, ?)", [.text(scope), .text(resource), .integer(max(delta, 0))])
        }
    }
}

/// One resource of a quota report.
public struct QuotaLine: Sendable, Equatable, Codable {
    /// The limit at this scope; nil means unlimited here (the parent's still applies).
    public var limit: Int64?
    public var used: Int64 = 0
    public var assignedToChildren: Int64 = 0

    public init(limit: Int64? = nil, used: Int64 = 0, assignedToChildren: Int64 = 0) {
        self.limit = limit
        self.used = used
        self.assignedToChildren = assignedToChildren
    }
}

import Core
import Storage

extension IdentityService {
    /// Grants `role` over `scope` to a principal of `realm`.
    public func bind(_ role: Role, over scope: Scope, to kind: Principal.Kind, id: String, in realm: Realm) async throws -> RoleBinding {
        let now = clock.nowMillis()
        let binding = RoleBinding(id: Identifier.make("rb", at: now), role: role, scope: scope, principalKind: kind, principalID: id)
        try await database.write { connection in
            let table = switch kind { case .user: "users"; case .client: "clients"; case .apiKey: "api_keys"; case .group: "groups" }
            guard try connection.scalarInt("SELECT COUNT(*) FROM \(table) WHERE id = ? AND realm_id = ?", [.text(id), .text(realm.id)]) == 1 else {
                throw IAMError.unprocessable(field: "principalId", reason: "no \(kind.rawValue) \(id) in realm \(realm.name)")
            }
            do {
                try Self.insert(binding, realm: realm, at: now, on: connection)
            } catch StoreError.uniqueViolation {
                throw IAMError.duplicate(what: "role binding", value: "\(role.rawValue) on \(scope)")
            }
        }
        if kind == .group { await invalidateAllBindings() } else { await invalidateBindings(of: id) }
        return binding
    }

    static func insert(_ binding: RoleBinding, realm: Realm, at now: Int64, on connection: any SQLConnection) throws {
        try connection.execute(
            "INSERT INTO role_bindings (id, realm_id, principal_kind, principal_id, role, scope, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [.text(binding.id), .text(realm.id), .text(binding.principalKind.rawValue), .text(binding.principalID),
             .text(binding.role.rawValue), .text(binding.scope.description), .integer(now)])
    }

    /// A page of a realm's bindings, optionally of one principal.
    public func bindings(in realm: Realm, principalID: String?, page: PageRequest) async throws -> Page<RoleBinding> {
        var sql = "SELECT * FROM role_bindings WHERE realm_id = ?"
        var parameters: [SQLValue] = [.text(realm.id)]
        if let principalID {
            sql += " AND principal_id = ?"
            parameters.append(.text(principalID))
        }
        if let after = page.after {
            sql += " AND id > ?"
            parameters.append(.text(after))
        }
        sql += " ORDER BY id LIMIT ?"
        parameters.append(.int(page.limit + 1))
        let (query, params) = (sql, parameters)
        let rows = try await database.read { try $0.query(RoleBindingRow.self, query, params).map(\.binding) }
        return Page(fetched: rows, request: page, key: \.id)
    }

    /// Removes a binding of `realm`.
    public func unbind(_ bindingID: String, in realm: Realm) async throws {
        let principalID = try await database.write { connection -> String in
            guard let row = try connection.queryFirst(RoleBindingRow.self, "SELECT * FROM role_bindings WHERE id = ? AND realm_id = ?",
                                                      [.text(bindingID), .text(realm.id)]) else {
                throw IAMError.bindingNotFound(bindingID)
            }
            try connection.execute("DELETE FROM role_bindings WHERE id = ?", [.text(bindingID)])
            return row.binding.principalID
        }
        await invalidateAllBindings()
        _ = principalID
    }
}

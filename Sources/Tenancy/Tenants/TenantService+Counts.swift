import Core
import Storage

extension TenantService {
    /// How many tenants are in each status, in one scan.
    public func statusCounts() async throws -> [String: Int64] {
        try await database.read { connection in
            var counts: [String: Int64] = [:]
            for row in try connection.query("SELECT status, COUNT(*) AS n FROM tenants GROUP BY status", []) {
                counts[try row.string("status")] = try row.int64("n")
            }
            return counts
        }
    }
}

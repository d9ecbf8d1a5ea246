import Core
import Storage

extension NodeService {
    /// How many nodes are in each state: the fleet at a glance, one indexed scan, whatever the fleet's size.
    public func stateCounts() async throws -> [String: Int64] {
        try await database.read { connection in
            var counts: [String: Int64] = [:]
            for row in try connection.query("SELECT state, COUNT(*) AS n FROM nodes GROUP BY state", []) {
                counts[try row.string("state")] = try row.int64("n")
            }
            return counts
        }
    }
}

import Core
import Cryptography
import Foundation
import Logging
import NIOConcurrencyHelpers
import NodeContract
import Redfish
import Storage

/// Sessions: the agent's bearer token, heartbeats with the observed state.
extension AgentService {
    /// Records a pulse on the agent's liveness stream; false when the session is no longer current
    /// (the agent was marked lost, or joined again): the stream then ends and the agent rejoins.
    public func pulse(agentID: String, sessionID: String) -> Bool {
        let current = sessions.withLockedValue { $0.values.contains { $0.agentID == agentID && $0.sessionID == sessionID } }
        guard current else { return false }
        let now = clock.nowMillis()
        lastSeen.withLockedValue { $0[agentID] = now }
        pulsing.withLockedValue { _ = $0.insert(agentID) }
        return true
    }

    /// Records a heartbeat; the observed state is written only when it changed. Returns whether it did.
    @discardableResult
    public func heartbeat(agentID: String, observed: ObservedState) async throws -> Bool {
        let now = clock.nowMillis()
        lastSeen.withLockedValue { $0[agentID] = now }
        let json = String(decoding: try JSONEncoder.sorted.encode(observed), as: UTF8.self)
        let digest = Digest.sha256Hex(json)
        guard observedDigests.withLockedValue({ $0[agentID] }) != digest else { return false }
        try await database.write { connection in
            // A lost agent heard from again is online again: the node's history says when.
            if try connection.execute("UPDATE agents SET state = '\(Agent.State.online.rawValue)' WHERE id = ? AND state != '\(Agent.State.online.rawValue)'", [.text(agentID)]) > 0 {
                try NodeHistory.recordAgent(online: true, nodeID: try connection.query("SELECT node_id FROM agents WHERE id = ?", [.text(agentID)]).first?.optionalString("node_id"),
                                            at: now, on: connection)
            }
            try connection.execute("UPDATE agents SET observed = ?, last_seen_at = ?, state = '\(Agent.State.online.rawValue)' WHERE id = ?", [.text(json), .integer(now), .text(agentID)])
        }
        observedDigests.withLockedValue { $0[agentID] = digest }
        return true
    }
}

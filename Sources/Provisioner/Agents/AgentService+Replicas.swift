import Core
import Cryptography
import Foundation
import NIOConcurrencyHelpers
import Storage

/// The agents' link when several controller replicas share a store: an agent may reach any of them
/// (its replica died, or a balancer sent it elsewhere) and keeps its session. The replica holding
/// an agent's liveness stream records itself in `agents.pulse_holder` and alone watches its silence;
/// each replica renews a presence lease (`replica:<name>`), so the agents of a replica that died are
/// adopted by another and still called lost if they never come back.
extension AgentService {
    /// The signal topic that tells replicas an agent's session changed (a new join, or lost).
    public static let sessionTopic = "agent_sessions"

    /// The presence lease of a replica.
    public static func presenceLease(_ replica: String) -> String { "replica:" + replica }

    /// SQL true when the replica named in `column` has a running presence lease.
    static func presenceLive(_ column: String, _ dialect: SQLDialect) -> String {
        "EXISTS (SELECT 1 FROM leader_leases WHERE name = 'replica:' || \(column) AND expires_at > \(LeaderLease.now(dialect)))"
    }

    /// The agent and session a session token belongs to: this replica's own sessions from memory; with
    /// several replicas, one another replica started is looked up in the store (online agents only).
    public func authenticate(sessionToken: String) async throws -> (agentID: String, sessionID: String) {
        let hash = Digest.sha256Hex(sessionToken)
        if let session = sessions.withLockedValue({ $0[hash] }) { return (session.agentID, session.sessionID) }
        guard replica != nil else { throw AgentError.unknownSession }
        let row = try await database.read {
            try $0.query("SELECT id, session_id FROM agents WHERE session_token_hash = ? AND state = '\(Agent.State.online.rawValue)'", [.text(hash)]).first
        }
        guard let row else { throw AgentError.unknownSession }
        let session = Session(agentID: try row.string("id"), sessionID: try row.string("session_id"))
        sessions.withLockedValue { $0[hash] = session }
        return (session.agentID, session.sessionID)
    }

    /// The agent opened its liveness stream here: from now on this replica watches it. Written once per
    /// stream, and only with several replicas.
    public func holdPulse(agentID: String, sessionID: String) async throws {
        guard let replica, !held.withLockedValue({ $0.contains(agentID) }) else { return }
        _ = try await database.write {
            try $0.execute("UPDATE agents SET pulse_holder = ? WHERE id = ? AND session_id = ?", [.text(replica), .text(agentID), .text(sessionID)])
        }
        held.withLockedValue { _ = $0.insert(agentID) }
    }

    /// Online agents whose stream holder is gone (its presence lease ran out) start a silence allowance
    /// here: if they reach no replica within it, this one calls them lost. Returns how many it adopted.
    @discardableResult
    public func adoptOrphans() async throws -> Int {
        guard let replica else { return 0 }
        let orphans = try await database.read { connection in
            try connection.query("""
                SELECT id, session_id, session_token_hash FROM agents WHERE state = '\(Agent.State.online.rawValue)'
                AND pulse_holder IS NOT NULL AND pulse_holder <> ? AND NOT \(Self.presenceLive("pulse_holder", connection.dialect))
                """, [.text(replica)]).map { (hash: try $0.string("session_token_hash"), session: Session(agentID: try $0.string("id"), sessionID: try $0.string("session_id"))) }
        }
        let now = clock.nowMillis()
        let adopted = lastSeen.withLockedValue { seen in
            orphans.filter { orphan in
                guard seen[orphan.session.agentID] == nil else { return false }
                seen[orphan.session.agentID] = now
                return true
            }
        }
        sessions.withLockedValue { sessions in for orphan in adopted { sessions[orphan.hash] = orphan.session } }
        pulsing.withLockedValue { $0.formUnion(adopted.map(\.session.agentID)) }
        return adopted.count
    }

    /// Another replica says `agentID`'s session changed: forget this replica's copy unless it holds the
    /// agent's stream (the store is read again at the agent's next call).
    public func applySessionSignal(agentID: String) {
        guard !held.withLockedValue({ $0.contains(agentID) }) else { return }
        sessions.withLockedValue { $0 = $0.filter { $0.value.agentID != agentID } }
    }

    /// After reconnecting to the signals (some may have been lost): keep only the sessions of agents
    /// whose streams this replica holds.
    public func resyncSessions() {
        let held = held.withLockedValue { $0 }
        sessions.withLockedValue { $0 = $0.filter { held.contains($0.value.agentID) } }
    }
}

import Core
import Cryptography
import Foundation
import Logging
import NIOConcurrencyHelpers
import NodeContract
import Redfish
import Storage

/// Agents as the API lists them, and the watch that marks silent ones lost.
extension AgentService {
    /// The agent bound to an enrolled node, if one ever joined naming it.
    public func agentID(onNode nodeID: String) async throws -> String? {
        try await database.read { try $0.query("SELECT id FROM agents WHERE node_id = ? ORDER BY registered_at DESC", [.text(nodeID)]).first?.string("id") }
    }

    /// The online agents of these enrolled nodes, by node id.
    public func onlineAgents(onNodes nodeIDs: [String]) async throws -> [String: Agent] {
        guard !nodeIDs.isEmpty else { return [:] }
        let marks = Array(repeating: "?", count: nodeIDs.count).joined(separator: ", ")
        let agents = try await database.read {
            try $0.query(Agent.self, "SELECT * FROM agents WHERE state = '\(Agent.State.online.rawValue)' AND node_id IN (\(marks))", nodeIDs.map { .text($0) })
        }
        return Dictionary(agents.compactMap { agent in agent.nodeId.map { ($0, withLiveness(agent)) } }, uniquingKeysWith: { first, _ in first })
    }

    /// The enrolled node an agent runs on.
    public func nodeID(of agentID: String) async throws -> String? {
        try await database.read { try $0.query("SELECT node_id FROM agents WHERE id = ?", [.text(agentID)]).first?.optionalString("node_id") }
    }

    /// Agents by id, optionally only those in `state`.
    public func agents(state: Agent.State? = nil, page: PageRequest) async throws -> Page<Agent> {
        var sql = "SELECT * FROM agents WHERE id > ?"
        var parameters: [SQLValue] = [.text(page.after ?? "")]
        if let state { sql += " AND state = ?"; parameters.append(.text(state.rawValue)) }
        sql += " ORDER BY id LIMIT ?"
        parameters.append(.int(page.limit + 1))
        let (query, values) = (sql, parameters)
        var found = Page(fetched: try await database.read { try $0.query(Agent.self, query, values) }, request: page, key: \.id)
        found.items = found.items.map(withLiveness)
        return found
    }

    /// One agent, by its id or its current session id.
    public func agent(_ id: String) async throws -> Agent {
        guard let agent = try await database.read({ try $0.queryFirst(Agent.self, "SELECT * FROM agents WHERE id = ? OR session_id = ?", [.text(id), .text(id)]) }) else {
            throw AgentError.notFound(id)
        }
        return withLiveness(agent)
    }

    func withLiveness(_ agent: Agent) -> Agent {
        var agent = agent
        if agent.state == .online, let seen = lastSeen.withLockedValue({ $0[agent.id] }) { agent.lastSeenAt = max(agent.lastSeenAt, seen) }
        return agent
    }

    /// Marks agents silent for longer than their allowance lost and ends their sessions; returns their ids.
    /// A pulsing agent's allowance is `pulseLostAfterSeconds`, any other's `lostAfterSeconds`. With several
    /// replicas only the one holding an agent's liveness stream (or any, once that one's presence lease has
    /// run out) may call it lost; an agent whose stream another replica holds now is simply forgotten here.
    public func markLost() async -> [String] {
        let now = clock.nowMillis()
        let (slowCutoff, fastCutoff) = (now - Int64(lostAfterSeconds * 1000), now - Int64(pulseLostAfterSeconds * 1000))
        let fast = pulsing.withLockedValue { $0 }
        let silent = lastSeen.withLockedValue { seen in seen.filter { $0.value < (fast.contains($0.key) ? fastCutoff : slowCutoff) }.map(\.key) }
        guard !silent.isEmpty else { return [] }
        let replica = self.replica
        // The session each agent had when this replica last heard from it: a newer one (a join on another
        // replica since) is not this replica's to end.
        let known = sessions.withLockedValue { Dictionary($0.values.map { ($0.agentID, $0.sessionID) }, uniquingKeysWith: { first, _ in first }) }
        let marked: [String]
        do {
            marked = try await database.write { connection in
                var marked: [String] = []
                for agent in silent {
                    var sql = "UPDATE agents SET state = '\(Agent.State.lost.rawValue)', last_seen_at = ?, version = version + 1 WHERE id = ? AND state = '\(Agent.State.online.rawValue)'"
                    var parameters: [SQLValue] = [.integer(self.lastSeen.withLockedValue { $0[agent] } ?? now), .text(agent)]
                    if replica != nil, let session = known[agent] {
                        sql += " AND session_id = ?"
                        parameters.append(.text(session))
                    }
                    if let replica {
                        sql += " AND (pulse_holder IS NULL OR pulse_holder = ? OR NOT \(Self.presenceLive("pulse_holder", connection.dialect)))"
                        parameters.append(.text(replica))
                    }
                    if try connection.execute(sql, parameters) > 0 {
                        marked.append(agent)
                        try NodeHistory.recordAgent(online: false, nodeID: try connection.query("SELECT node_id FROM agents WHERE id = ?", [.text(agent)]).first?.optionalString("node_id"),
                                                    at: now, on: connection)
                    }
                }
                return marked
            }
        } catch {
            logger.error("cannot record lost agents", metadata: ["error": .string("\(error)")])
            return []
        }
        let forgotten = Set(silent)
        forget(forgotten)
        for agent in marked {
            let allowance = fast.contains(agent) ? pulseLostAfterSeconds : lostAfterSeconds
            logger.warning(fast.contains(agent) ? "agent lost: its pulses stopped" : "agent lost: no heartbeat",
                           metadata: ["agent": .string(agent), "afterSeconds": .stringConvertible(allowance)])
        }
        for agent in marked { await signals?.publish(Self.sessionTopic, agent) }
        return marked
    }

    /// Drops what this replica knows of these agents' sessions and liveness.
    func forget(_ agents: Set<String>) {
        lastSeen.withLockedValue { seen in for agent in agents { seen[agent] = nil } }
        pulsing.withLockedValue { $0.subtract(agents) }
        held.withLockedValue { $0.subtract(agents) }
        sessions.withLockedValue { $0 = $0.filter { !agents.contains($0.value.agentID) } }
    }
}

extension JSONEncoder {
    /// Sorted keys, so equal values encode to equal bytes.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }
}

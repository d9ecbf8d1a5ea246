import Core
import Cryptography
import Foundation
import Logging
import NIOConcurrencyHelpers
import NodeContract
import Redfish
import Storage

/// Registration: a join token the first time, the node credential afterwards; each registration a new session bound to its enrolled node.
extension AgentService {
    /// Registers an agent: with a join token the first time (a node credential is issued), with its
    /// credential afterwards. Every registration starts a new session with a new node id.
    public func register(_ request: RegistrationRequest) async throws -> RegistrationResponse {
        guard request.contractVersion == NodeContract.version else {
            throw AgentError.contractVersion(agent: request.contractVersion, controller: NodeContract.version)
        }
        guard (1...253).contains(request.hostname.count) else { throw AgentError.invalidField(field: "hostname", reason: "must be 1–253 characters") }
        let now = clock.nowMillis()
        let sessionID = Identifier.make("sess", at: now)
        let sessionToken = "mps_" + SecureRandom.token()
        let sessionHash = Digest.sha256Hex(sessionToken)
        let inventoryJSON = String(decoding: try JSONEncoder().encode(request.inventory), as: UTF8.self)
        let (agentID, credential, previousHash) = try await database.write { connection -> (String, String?, String?) in
            var agentID: String
            var credential: String?
            var previousHash: String?
            var joinTokenID: String?
            if let presented = request.nodeCredential,
               let row = try connection.query("SELECT id, session_token_hash FROM agents WHERE credential_hash = ?", [.text(Digest.sha256Hex(presented))]).first {
                agentID = try row.string("id")
                previousHash = try row.string("session_token_hash")
            } else if let joinToken = request.joinToken,
                      let row = try connection.query("SELECT * FROM join_tokens WHERE secret_hash = ?", [.text(Digest.sha256Hex(joinToken))]).first {
                let token = try JoinToken(row: row)
                guard !token.revoked, token.expiresAt.map({ $0 > now }) ?? true, !(token.singleUse && token.uses > 0) else {
                    throw AgentError.invalidJoinCredential
                }
                try connection.execute("UPDATE join_tokens SET uses = uses + 1 WHERE id = ?", [.text(token.id)])
                agentID = Identifier.make("agent", at: now)
                credential = "mpn_" + SecureRandom.token()
                joinTokenID = token.id
            } else {
                throw AgentError.invalidJoinCredential
            }
            let nodeID = try request.nodeName.flatMap { try self.bindNode(named: $0, inventory: request.inventory, at: now, on: connection) }
            if let credential {
                try connection.execute(
                    """
                    INSERT INTO agents (id, hostname, node_id, credential_hash, session_id, session_token_hash, state, agent_version, api_url,
                                        inventory, join_token_id, registered_at, last_seen_at, created_at, version)
                    VALUES (?, ?, ?, ?, ?, ?, '\(Agent.State.online.rawValue)', ?, ?, ?, ?, ?, ?, ?, 1)
                    """,
                    [.text(agentID), .text(request.hostname), .text(nodeID), .text(Digest.sha256Hex(credential)), .text(sessionID), .text(sessionHash),
                     .text(request.agentVersion), .text(request.nodeAPIURL), .text(inventoryJSON), .text(joinTokenID), .integer(now), .integer(now), .integer(now)])
            } else {
                try connection.execute(
                    """
                    UPDATE agents SET hostname = ?, node_id = COALESCE(?, node_id), session_id = ?, session_token_hash = ?, state = '\(Agent.State.online.rawValue)',
                        agent_version = ?, api_url = ?, inventory = ?, observed = NULL, registered_at = ?, last_seen_at = ?, version = version + 1
                    WHERE id = ?
                    """,
                    [.text(request.hostname), .text(nodeID), .text(sessionID), .text(sessionHash), .text(request.agentVersion), .text(request.nodeAPIURL),
                     .text(inventoryJSON), .integer(now), .integer(now), .text(agentID)])
            }
            try NodeHistory.recordAgent(online: true, nodeID: try connection.query("SELECT node_id FROM agents WHERE id = ?", [.text(agentID)]).first?.optionalString("node_id"),
                                        at: now, on: connection)
            // The replica that took the join watches the new session until its stream opens (here or elsewhere).
            try connection.execute("UPDATE agents SET pulse_holder = ? WHERE id = ?", [.text(self.replica), .text(agentID)])
            return (agentID, credential, previousHash)
        }
        sessions.withLockedValue { sessions in
            if let previousHash { sessions[previousHash] = nil }
            sessions[sessionHash] = Session(agentID: agentID, sessionID: sessionID)
        }
        lastSeen.withLockedValue { $0[agentID] = now }
        if replica != nil { held.withLockedValue { _ = $0.insert(agentID) } }
        observedDigests.withLockedValue { $0[agentID] = nil }
        // An agent that says it pulses is held to the pulse allowance from its join on (it opens its stream
        // at once); otherwise from its first pulse, if it ever sends one.
        pulsing.withLockedValue { if request.pulses == true { $0.insert(agentID) } else { $0.remove(agentID) } }
        await signals?.publish(Self.sessionTopic, agentID)
        logger.info("agent registered", metadata: ["agent": .string(agentID), "session": .string(sessionID), "hostname": .string(request.hostname),
                                                   "firstJoin": .stringConvertible(credential != nil)])
        return RegistrationResponse(agentId: agentID, sessionId: sessionID, sessionToken: sessionToken, nodeCredential: credential,
                                    heartbeatSeconds: heartbeatSeconds, telemetrySeconds: telemetrySeconds, pulseSeconds: pulseSeconds)
    }

    /// Links the agent to its enrolled node: records the agent's inventory beside the declared one
    /// (with notes where they differ) and completes a deploy in progress.
    func bindNode(named name: String, inventory: InventoryReport, at now: Int64, on connection: any SQLConnection) throws -> String? {
        guard let node = try connection.queryFirst(Node.self, "SELECT * FROM nodes WHERE name = ?", [.text(name)]) else {
            throw AgentError.invalidField(field: "nodeName", reason: "no enrolled node \(name)")
        }
        let notes = InventoryReconciliation.notes(declared: node.accelerators, bmcMemoryGiB: node.inventory?.memoryGiB, reported: inventory)
        var state = node.state
        if node.state == .deploying { state = try NodeLifecycle.apply(.deployed, to: node.state, node: node.name) }
        try connection.execute("UPDATE nodes SET state = ?, agent_inventory = ?, inventory_notes = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                               [.text(state.rawValue), .text(String(decoding: try JSONEncoder().encode(inventory), as: UTF8.self)),
                                .text(String(decoding: try JSONEncoder().encode(notes), as: UTF8.self)), .integer(now), .text(node.id)])
        if state != node.state { try NodeHistory.recordState(of: node.id, at: now, on: connection) }
        if state != node.state { logger.info("deploy complete: the node's agent joined", metadata: ["node": .string(node.name)]) }
        return node.id
    }
}

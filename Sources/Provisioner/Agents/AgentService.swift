import Core
import Cryptography
import Foundation
import Logging
import NIOConcurrencyHelpers
import NodeContract
import Redfish
import Storage

/// The controller's side of the node-agent link: join tokens, registration into per-session ids,
/// heartbeats, commands for the next heartbeat, and marking silent agents lost.
///
/// Liveness and session tokens live in memory (loaded from the store at start), so a heartbeat
/// costs no write unless what the agent observes changed: 10,000 agents at one heartbeat each 5 s
/// would otherwise be 2,000 writes a second. That makes this state per controller process.
public final class AgentService: Sendable {
    let database: any Database
    let clock: WallClock
    let logger: Logger
    public let heartbeatSeconds: Double
    public let telemetrySeconds: Double
    /// Silence after which an agent is lost and its instances failed.
    public let lostAfterSeconds: Double

    struct Session: Sendable {
        var agentID: String
        var sessionID: String
    }

    private let sessions = NIOLockedValueBox<[String: Session]>([:])
    private let lastSeen = NIOLockedValueBox<[String: Int64]>([:])
    private let observedDigests = NIOLockedValueBox<[String: String]>([:])
    private let pendingCommands = NIOLockedValueBox<[String: [AgentCommand]]>([:])

    public init(database: any Database, clock: WallClock, logger: Logger, heartbeatSeconds: Double = 5, telemetrySeconds: Double = 60,
                lostAfterSeconds: Double = 30) {
        self.database = database
        self.clock = clock
        self.logger = logger
        self.heartbeatSeconds = heartbeatSeconds
        self.telemetrySeconds = telemetrySeconds
        self.lostAfterSeconds = lostAfterSeconds
    }

    /// Loads the sessions of online agents; each gets a fresh silence allowance from now.
    public func start() async throws {
        let rows = try await database.read { try $0.query("SELECT id, session_id, session_token_hash FROM agents WHERE state = 'online'", []) }
        let now = clock.nowMillis()
        for row in rows {
            let session = Session(agentID: try row.string("id"), sessionID: try row.string("session_id"))
            let hash = try row.string("session_token_hash")
            sessions.withLockedValue { $0[hash] = session }
            lastSeen.withLockedValue { $0[session.agentID] = now }
        }
    }

    // MARK: Join tokens

    /// Mints a join token; its secret is returned once and stored only as a hash.
    public func mintJoinToken(_ request: JoinTokenRequest) async throws -> MintedJoinToken {
        let singleUse = request.singleUse ?? true
        if let ttl = request.ttlSeconds, !(60...31_536_000).contains(ttl) {
            throw AgentError.invalidField(field: "ttlSeconds", reason: "must be between 60 and 31536000")
        }
        guard singleUse || request.ttlSeconds != nil else {
            throw AgentError.invalidField(field: "ttlSeconds", reason: "a reusable join token needs an expiry")
        }
        if let description = request.description, description.count > 200 {
            throw AgentError.invalidField(field: "description", reason: "at most 200 characters")
        }
        let now = clock.nowMillis()
        let id = Identifier.make("jt", at: now)
        let secret = "mpj_" + SecureRandom.token()
        let expires = request.ttlSeconds.map { now + Int64($0) * 1000 }
        let token = try await database.write { connection in
            try connection.execute("INSERT INTO join_tokens (id, secret_hash, single_use, expires_at, uses, description, created_at) VALUES (?, ?, ?, ?, 0, ?, ?)",
                                   [.text(id), .text(Digest.sha256Hex(secret)), .bool(singleUse), .int(expires), .text(request.description), .integer(now)])
            return try connection.queryFirst(JoinToken.self, "SELECT * FROM join_tokens WHERE id = ?", [.text(id)])!
        }
        return MintedJoinToken(joinToken: token, token: secret)
    }

    /// Every join token, newest first.
    public func joinTokens() async throws -> [JoinToken] {
        try await database.read { try $0.query(JoinToken.self, "SELECT * FROM join_tokens ORDER BY id DESC LIMIT 1000") }
    }

    /// Revokes a join token; agents that joined with it keep their credentials.
    public func revokeJoinToken(_ id: String) async throws {
        let now = clock.nowMillis()
        let changed = try await database.write {
            try $0.execute("UPDATE join_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [.integer(now), .text(id)])
        }
        guard changed == 1 else { throw AgentError.notFound(id) }
    }

    // MARK: Registration

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
                    VALUES (?, ?, ?, ?, ?, ?, 'online', ?, ?, ?, ?, ?, ?, ?, 1)
                    """,
                    [.text(agentID), .text(request.hostname), .text(nodeID), .text(Digest.sha256Hex(credential)), .text(sessionID), .text(sessionHash),
                     .text(request.agentVersion), .text(request.nodeAPIURL), .text(inventoryJSON), .text(joinTokenID), .integer(now), .integer(now), .integer(now)])
            } else {
                try connection.execute(
                    """
                    UPDATE agents SET hostname = ?, node_id = COALESCE(?, node_id), session_id = ?, session_token_hash = ?, state = 'online',
                        agent_version = ?, api_url = ?, inventory = ?, observed = NULL, registered_at = ?, last_seen_at = ?, version = version + 1
                    WHERE id = ?
                    """,
                    [.text(request.hostname), .text(nodeID), .text(sessionID), .text(sessionHash), .text(request.agentVersion), .text(request.nodeAPIURL),
                     .text(inventoryJSON), .integer(now), .integer(now), .text(agentID)])
            }
            return (agentID, credential, previousHash)
        }
        sessions.withLockedValue { sessions in
            if let previousHash { sessions[previousHash] = nil }
            sessions[sessionHash] = Session(agentID: agentID, sessionID: sessionID)
        }
        lastSeen.withLockedValue { $0[agentID] = now }
        observedDigests.withLockedValue { $0[agentID] = nil }
        logger.info("agent registered", metadata: ["agent": .string(agentID), "session": .string(sessionID), "hostname": .string(request.hostname),
                                                   "firstJoin": .stringConvertible(credential != nil)])
        return RegistrationResponse(agentId: agentID, sessionId: sessionID, sessionToken: sessionToken, nodeCredential: credential,
                                    heartbeatSeconds: heartbeatSeconds, telemetrySeconds: telemetrySeconds)
    }

    /// Links the agent to its enrolled node: records the agent's inventory beside the declared one
    /// (with notes where they differ) and completes a deploy in progress.
    private func bindNode(named name: String, inventory: InventoryReport, at now: Int64, on connection: any SQLConnection) throws -> String? {
        guard let node = try connection.queryFirst(Node.self, "SELECT * FROM nodes WHERE name = ?", [.text(name)]) else {
            throw AgentError.invalidField(field: "nodeName", reason: "no enrolled node \(name)")
        }
        let notes = InventoryReconciliation.notes(declared: node.accelerators, bmcMemoryGiB: node.inventory?.memoryGiB, reported: inventory)
        var state = node.state
        if node.state == .deploying { state = try NodeLifecycle.apply(.deployed, to: node.state, node: node.name) }
        try connection.execute("UPDATE nodes SET state = ?, agent_inventory = ?, inventory_notes = ?, updated_at = ?, version = version + 1 WHERE id = ?",
                               [.text(state.rawValue), .text(String(decoding: try JSONEncoder().encode(inventory), as: UTF8.self)),
                                .text(String(decoding: try JSONEncoder().encode(notes), as: UTF8.self)), .integer(now), .text(node.id)])
        if state != node.state { logger.info("deploy complete: the node's agent joined", metadata: ["node": .string(node.name)]) }
        return node.id
    }

    // MARK: Sessions

    /// The agent and session a session token belongs to.
    public func authenticate(sessionToken: String) throws -> (agentID: String, sessionID: String) {
        guard let session = sessions.withLockedValue({ $0[Digest.sha256Hex(sessionToken)] }) else { throw AgentError.unknownSession }
        return (session.agentID, session.sessionID)
    }

    /// Records a heartbeat; the observed state is written only when it changed. Returns whether it did.
    @discardableResult
    public func heartbeat(agentID: String, observed: ObservedState) async throws -> Bool {
        let now = clock.nowMillis()
        lastSeen.withLockedValue { $0[agentID] = now }
        let json = String(decoding: try JSONEncoder.sorted.encode(observed), as: UTF8.self)
        let digest = Digest.sha256Hex(json)
        guard observedDigests.withLockedValue({ $0[agentID] }) != digest else { return false }
        try await database.write {
            try $0.execute("UPDATE agents SET observed = ?, last_seen_at = ?, state = 'online' WHERE id = ?", [.text(json), .integer(now), .text(agentID)])
        }
        observedDigests.withLockedValue { $0[agentID] = digest }
        return true
    }

    /// Commands waiting for the agent's next heartbeat (taken once).
    public func takeCommands(agentID: String) -> [AgentCommand] {
        pendingCommands.withLockedValue { $0.removeValue(forKey: agentID) ?? [] }
    }

    /// Queues a command for every online agent; returns how many.
    @discardableResult
    public func broadcast(_ command: AgentCommand) -> Int {
        let online = sessions.withLockedValue { Set($0.values.map(\.agentID)) }
        pendingCommands.withLockedValue { pending in
            for agent in online { pending[agent, default: []].append(command) }
        }
        return online.count
    }

    /// Queues a command for one agent.
    public func send(_ command: AgentCommand, to agentID: String) {
        pendingCommands.withLockedValue { $0[agentID, default: []].append(command) }
    }

    /// Asks the online agent on `nodeID` to wipe the node; returns the command id, or nil when no agent is online there.
    public func requestWipe(nodeID: String) async -> String? {
        guard let row = try? await database.read({ try $0.query("SELECT id FROM agents WHERE node_id = ? AND state = 'online'", [.text(nodeID)]).first }),
              let agentID = try? row.string("id"),
              lastSeen.withLockedValue({ $0[agentID] }) != nil else { return nil }
        let command = Identifier.make("wipe", at: clock.nowMillis())
        send(.wipe(id: command), to: agentID)
        return command
    }

    /// The agent bound to an enrolled node, if one ever joined naming it.
    public func agentID(onNode nodeID: String) async throws -> String? {
        try await database.read { try $0.query("SELECT id FROM agents WHERE node_id = ? ORDER BY registered_at DESC", [.text(nodeID)]).first?.string("id") }
    }

    /// The online agents of these enrolled nodes, by node id.
    public func onlineAgents(onNodes nodeIDs: [String]) async throws -> [String: Agent] {
        guard !nodeIDs.isEmpty else { return [:] }
        let marks = Array(repeating: "?", count: nodeIDs.count).joined(separator: ", ")
        let agents = try await database.read {
            try $0.query(Agent.self, "SELECT * FROM agents WHERE state = 'online' AND node_id IN (\(marks))", nodeIDs.map { .text($0) })
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

    private func withLiveness(_ agent: Agent) -> Agent {
        var agent = agent
        if agent.state == .online, let seen = lastSeen.withLockedValue({ $0[agent.id] }) { agent.lastSeenAt = max(agent.lastSeenAt, seen) }
        return agent
    }

    /// Marks agents silent for longer than `lostAfterSeconds` lost and ends their sessions; returns their ids.
    public func markLost() async -> [String] {
        let cutoff = clock.nowMillis() - Int64(lostAfterSeconds * 1000)
        let silent = lastSeen.withLockedValue { seen in seen.filter { $0.value < cutoff }.map(\.key) }
        guard !silent.isEmpty else { return [] }
        let now = clock.nowMillis()
        do {
            try await database.write { connection in
                for agent in silent {
                    try connection.execute("UPDATE agents SET state = 'lost', last_seen_at = ?, version = version + 1 WHERE id = ?",
                                           [.integer(self.lastSeen.withLockedValue { $0[agent] } ?? now), .text(agent)])
                }
            }
        } catch {
            logger.error("cannot record lost agents", metadata: ["error": .string("\(error)")])
            return []
        }
        let lost = Set(silent)
        lastSeen.withLockedValue { seen in for agent in lost { seen[agent] = nil } }
        sessions.withLockedValue { $0 = $0.filter { !lost.contains($0.value.agentID) } }
        pendingCommands.withLockedValue { pending in for agent in lost { pending[agent] = nil } }
        for agent in silent { logger.warning("agent lost: no heartbeat", metadata: ["agent": .string(agent), "afterSeconds": .stringConvertible(lostAfterSeconds)]) }
        return silent
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

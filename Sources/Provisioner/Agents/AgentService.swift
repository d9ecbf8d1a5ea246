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
/// would otherwise be 2,000 writes a second. That makes this state per controller process; with
/// several replicas (`replica` set) each watches the agents whose liveness stream it holds, takes a
/// session another replica started from the store, and keeps commands in the store
/// (`AgentService+Replicas`).
public final class AgentService: Sendable {
    let database: any Database
    let clock: WallClock
    let logger: Logger
    public let heartbeatSeconds: Double
    public let telemetrySeconds: Double
    /// Silence after which an agent that does not pulse is lost and its instances failed.
    public let lostAfterSeconds: Double
    /// How often agents pulse on their liveness stream.
    public let pulseSeconds: Double
    /// Pulse silence after which a pulsing agent is lost (a cut link or a dead node sends no FIN).
    public let pulseLostAfterSeconds: Double

    struct Session: Sendable {
        var agentID: String
        var sessionID: String
    }

    let sessions = NIOLockedValueBox<[String: Session]>([:])
    let lastSeen = NIOLockedValueBox<[String: Int64]>([:])
    let observedDigests = NIOLockedValueBox<[String: String]>([:])
    /// Agents that pulsed in their current session: they are held to the pulse allowance.
    let pulsing = NIOLockedValueBox<Set<String>>([])
    /// This replica's name among several (its presence lease is `replica:<name>`); nil when it is the only
    /// controller on its store (SQLite), which then watches every agent.
    let replica: String?
    /// Where this replica tells the others that an agent's session changed.
    let signals: (any ReplicaSignals)?
    /// Agents with commands in the store (kept only by the single controller of a SQLite store; replicas read).
    let commandsWaiting = NIOLockedValueBox<Set<String>>([])
    /// Agents whose liveness stream this replica holds, as recorded in `agents.pulse_holder`.
    let held = NIOLockedValueBox<Set<String>>([])

    public init(database: any Database, clock: WallClock, logger: Logger, heartbeatSeconds: Double = 5, telemetrySeconds: Double = 60,
                lostAfterSeconds: Double = 30, pulseSeconds: Double = 0.25, pulseLostAfterSeconds: Double = 1,
                replica: String? = nil, signals: (any ReplicaSignals)? = nil) {
        self.replica = replica
        self.signals = signals
        self.pulseSeconds = pulseSeconds
        self.pulseLostAfterSeconds = pulseLostAfterSeconds
        self.database = database
        self.clock = clock
        self.logger = logger
        self.heartbeatSeconds = heartbeatSeconds
        self.telemetrySeconds = telemetrySeconds
        self.lostAfterSeconds = lostAfterSeconds
    }

    /// Loads the sessions of online agents; each gets a fresh silence allowance from now.
    public func start() async throws {
        let rows = try await database.read { try $0.query("SELECT id, session_id, session_token_hash FROM agents WHERE state = '\(Agent.State.online.rawValue)'", []) }
        let waiting = try await database.read { try $0.query("SELECT DISTINCT agent_id FROM agent_commands", []).map { try $0.string("agent_id") } }
        commandsWaiting.withLockedValue { $0 = Set(waiting) }
        let now = clock.nowMillis()
        for row in rows {
            let session = Session(agentID: try row.string("id"), sessionID: try row.string("session_id"))
            let hash = try row.string("session_token_hash")
            sessions.withLockedValue { $0[hash] = session }
            lastSeen.withLockedValue { $0[session.agentID] = now }
        }
    }
}

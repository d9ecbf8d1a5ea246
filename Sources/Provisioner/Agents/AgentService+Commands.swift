import Core
import Cryptography
import Foundation
import Logging
import NIOConcurrencyHelpers
import NodeContract
import Redfish
import Storage

/// Commands for agents, kept in the store until the agent's next heartbeat answer takes them (on
/// whichever replica that heartbeat reaches).
extension AgentService {
    /// Commands waiting for the agent's next heartbeat (taken once). A read first: most heartbeats find none.
    public func takeCommands(agentID: String) async throws -> [AgentCommand] {
        // The only controller on its store knows whom it queued commands for: most heartbeats skip the read.
        if replica == nil, !commandsWaiting.withLockedValue({ $0.contains(agentID) }) { return [] }
        commandsWaiting.withLockedValue { _ = $0.remove(agentID) }
        let waiting = try await database.read { try $0.query("SELECT id FROM agent_commands WHERE agent_id = ? LIMIT 1", [.text(agentID)]) }
        guard !waiting.isEmpty else { return [] }
        let rows = try await database.write { connection in
            let rows = try connection.query("SELECT id, command FROM agent_commands WHERE agent_id = ? ORDER BY created_at, id", [.text(agentID)])
            _ = try connection.execute("DELETE FROM agent_commands WHERE agent_id = ?", [.text(agentID)])
            return rows
        }
        return try rows.map { try JSONDecoder().decode(AgentCommand.self, from: Data(try $0.string("command").utf8)) }
    }

    /// Queues a command for every online agent; returns how many.
    @discardableResult
    public func broadcast(_ command: AgentCommand) async throws -> Int {
        let now = clock.nowMillis()
        let json = String(decoding: try JSONEncoder.sorted.encode(command), as: UTF8.self)
        return try await database.write { connection in
            let online = try connection.query("SELECT id FROM agents WHERE state = '\(Agent.State.online.rawValue)'", []).map { try $0.string("id") }
            for agent in online { try Self.queue(json, for: agent, at: now, on: connection) }
            self.commandsWaiting.withLockedValue { $0.formUnion(online) }
            return online.count
        }
    }

    /// Queues a command for one agent.
    public func send(_ command: AgentCommand, to agentID: String) async throws {
        let now = clock.nowMillis()
        let json = String(decoding: try JSONEncoder.sorted.encode(command), as: UTF8.self)
        try await database.write { try Self.queue(json, for: agentID, at: now, on: $0) }
        commandsWaiting.withLockedValue { _ = $0.insert(agentID) }
    }

    private static func queue(_ json: String, for agentID: String, at now: Int64, on connection: any SQLConnection) throws {
        _ = try connection.execute("INSERT INTO agent_commands (id, agent_id, command, created_at) VALUES (?, ?, ?, ?)",
                                   [.text(Identifier.makeUnique("acmd", at: now)), .text(agentID), .text(json), .integer(now)])
    }

    /// Asks the online agent on `nodeID` to wipe the node; returns the command id, or nil when no agent is online there.
    public func requestWipe(nodeID: String) async -> String? {
        guard let row = try? await database.read({ try $0.query("SELECT id FROM agents WHERE node_id = ? AND state = '\(Agent.State.online.rawValue)'", [.text(nodeID)]).first }),
              let agentID = try? row.string("id") else { return nil }
        let command = Identifier.make("wipe", at: clock.nowMillis())
        guard (try? await send(.wipe(id: command), to: agentID)) != nil else { return nil }
        return command
    }
}

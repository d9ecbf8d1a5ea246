import Core
import Cryptography
import Foundation
import Logging
import NIOConcurrencyHelpers
import NodeContract
import Redfish
import Storage

/// Commands for agents, delivered with their next heartbeat answer.
extension AgentService {
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
        guard let row = try? await database.read({ try $0.query("SELECT id FROM agents WHERE node_id = ? AND state = '\(Agent.State.online.rawValue)'", [.text(nodeID)]).first }),
              let agentID = try? row.string("id"),
              lastSeen.withLockedValue({ $0[agentID] }) != nil else { return nil }
        let command = Identifier.make("wipe", at: clock.nowMillis())
        send(.wipe(id: command), to: agentID)
        return command
    }
}

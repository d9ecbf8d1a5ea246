import Foundation
import NodeContract
import Storage

/// One switch port as the switch last reported it: the port's facts (link, its address) and
/// the tenant configuration it holds. A field the report did not carry is nil.
public struct PortState: Sendable, Equatable {
    public var up: Bool?
    public var address: String?
    public var config: PortConfig?

    /// A switch's report split per port (cabled ports carry a configuration, every port its facts).
    static func split(_ observation: SwitchObservation) -> [String: PortState] {
        var states: [String: PortState] = [:]
        for facts in observation.ports { states[facts.name] = PortState(up: facts.up, address: facts.address, config: nil) }
        for port in observation.config.ports { states[port.name, default: PortState()].config = port }
        return states
    }
}

/// The last pass over each switch (`fabric_status`) and its ports' reports (`fabric_port_state`).
/// Only the ports whose report changed are written: a pass over a 10,000-port switch that
/// changes 8 ports writes 8 rows.
extension FabricService {
    /// Every port's last report for a switch.
    func portStates(of switchID: String) async throws -> [String: PortState] {
        try await database.read { connection in
            var states: [String: PortState] = [:]
            for row in try connection.query("SELECT port, up, address, config FROM fabric_port_state WHERE switch_id = ?", [.text(switchID)]) {
                states[try row.string("port")] = try Self.portState(row)
            }
            return states
        }
    }

    /// One port's last report.
    func portState(of switchID: String, port: String) async throws -> PortState? {
        try await database.read { connection in
            try connection.query("SELECT port, up, address, config FROM fabric_port_state WHERE switch_id = ? AND port = ?", [.text(switchID), .text(port)])
                .first.map(Self.portState)
        }
    }

    private static func portState(_ row: Row) throws -> PortState {
        let config = try row.optionalString("config").flatMap { try? JSONDecoder().decode(PortConfig.self, from: Data($0.utf8)) }
        return PortState(up: try row.optionalInt64("up").map { $0 == 1 }, address: try row.optionalString("address"), config: config)
    }

    /// Records a pass: its outcome, and the ports whose report differs from `previous` (the rows
    /// as stored). A failed pass (`states` nil) keeps the last report.
    func storePass(_ switchID: String, states: [String: PortState]?, previous: [String: PortState], inSync: Bool, error: String?,
                   drift: [String], repaired: Bool, at now: Int64) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var upserts: [(String, PortState, String?)] = []
        var deletes: [String] = []
        if let states {
            for (port, state) in states where previous[port] != state {
                upserts.append((port, state, try state.config.map { String(decoding: try encoder.encode($0), as: UTF8.self) }))
            }
            deletes = previous.keys.filter { states[$0] == nil }
        }
        let driftText = drift.isEmpty ? nil : String(decoding: try encoder.encode(drift), as: UTF8.self)
        try await database.write { [upserts, deletes] connection in
            try connection.execute("""
                INSERT INTO fabric_status (switch_id, observed_at, in_sync, last_error, drift, repairs, last_repair_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (switch_id) DO UPDATE SET observed_at = excluded.observed_at, in_sync = excluded.in_sync,
                    last_error = excluded.last_error, drift = COALESCE(excluded.drift, fabric_status.drift),
                    repairs = fabric_status.repairs + excluded.repairs, last_repair_at = COALESCE(excluded.last_repair_at, fabric_status.last_repair_at)
                """, [.text(switchID), .integer(now), .int(inSync ? 1 : 0), .text(error), .text(driftText),
                      .int(repaired ? 1 : 0), repaired ? .integer(now) : .null])
            for (port, state, config) in upserts {
                try connection.execute("""
                    INSERT INTO fabric_port_state (switch_id, port, up, address, config) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (switch_id, port) DO UPDATE SET up = excluded.up, address = excluded.address, config = excluded.config
                    """, [.text(switchID), .text(port), state.up.map { .int($0 ? 1 : 0) } ?? .null, .text(state.address), .text(config)])
            }
            for port in deletes {
                try connection.execute("DELETE FROM fabric_port_state WHERE switch_id = ? AND port = ?", [.text(switchID), .text(port)])
            }
        }
    }

    /// The switch's last pass, nil before its first.
    func status(of switchID: String) async throws -> SwitchStatus? {
        try await database.read { connection in
            guard let row = try connection.query("SELECT * FROM fabric_status WHERE switch_id = ?", [.text(switchID)]).first else { return nil }
            let drift = try row.optionalString("drift").flatMap { try? JSONDecoder().decode([String].self, from: Data($0.utf8)) }
            return SwitchStatus(inSync: try row.int64("in_sync") == 1, observedAt: try row.optionalInt64("observed_at"), lastError: try row.optionalString("last_error"),
                                drift: drift, repairs: try row.int64("repairs"), lastRepairAt: try row.optionalInt64("last_repair_at"))
        }
    }
}
